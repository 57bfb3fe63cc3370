/* verify.c - proving a migration record by record: the shared driver and the persistent-directory
 * target (see verify.h; the server target is server.c, the self-query rule self_query.c). */
#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../chroma/dir_reader.h"
#include "../util/mem.h"
#include "verify_int.h"

double vf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vf_add_line(char **buf, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = *buf ? strlen(*buf) : 0, n = strlen(line);
    *buf = xrealloc(*buf, old + n + 2);
    memcpy(*buf + old, line, n);
    (*buf)[old + n] = '\n';
    (*buf)[old + n + 1] = '\0';
}

static void issue_free(cm_issue *is)
{
    for (size_t i = 0; i < is->nex; i++) {
        free(is->ex[i].id);
        free(is->ex[i].detail);
    }
}

void cm_verify_free(cm_verify *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->c[i].name);
        free(v->c[i].settings);
        free(v->c[i].structure);
        issue_free(&v->c[i].ex_missing);
        issue_free(&v->c[i].ex_extra);
        issue_free(&v->c[i].ex_different);
        issue_free(&v->c[i].ex_self);
    }
    free(v->c);
    for (size_t i = 0; i < v->nextra; i++)
        free(v->extra_collections[i]);
    free(v->extra_collections);
    memset(v, 0, sizeof *v);
}

/* Metadata equal as sets of (key, type, value); order does not matter. */
const char *vf_meta_diff(const cm_record *a, const cm_record *b, char *buf, size_t cap)
{
    size_t na = a->has_meta ? a->meta.n : 0, nb = b->has_meta ? b->meta.n : 0;
    if (na != nb) {
        snprintf(buf, cap, "metadata has %zu keys, expected %zu", nb, na);
        return buf;
    }
    for (size_t i = 0; i < na; i++) {
        const cm_mval *x = &a->meta.v[i];
        const cm_mval *y = cm_meta_find(&b->meta, x->key);
        if (!y) {
            snprintf(buf, cap, "metadata key '%s' is missing", x->key);
            return buf;
        }
        if (x->type != y->type) {
            snprintf(buf, cap, "metadata key '%s' is a %s, expected a %s", x->key, cm_mtype_name(y->type),
                     cm_mtype_name(x->type));
            return buf;
        }
        int same = 1;
        switch (x->type) {
        case CM_M_STR: same = x->s_len == y->s_len && memcmp(x->s, y->s, x->s_len) == 0; break;
        case CM_M_INT: same = x->i == y->i; break;
        case CM_M_FLOAT: same = memcmp(&x->f, &y->f, sizeof x->f) == 0 || x->f == y->f; break;
        case CM_M_BOOL: same = !x->b == !y->b; break;
        default: break;
        }
        if (!same) {
            snprintf(buf, cap, "metadata key '%s' has another value", x->key);
            return buf;
        }
    }
    return NULL;
}

/* Within a few float32 ulps of the expected value, scaled to the vector. */
static int close_f32(float want, float got, float scale)
{
    if (want == got)
        return 1;
    float tol = 8.0f * 1.1920929e-07f * (fabsf(want) > scale ? fabsf(want) : scale);
    return fabsf(want - got) <= tol;
}

const char *vf_record_diff(const cm_record *want, const cm_record *got, cm_space space, char *buf, size_t cap)
{
    if ((want->doc == NULL) != (got->doc == NULL) ||
        (want->doc && (want->doc_len != got->doc_len || memcmp(want->doc, got->doc, want->doc_len) != 0))) {
        snprintf(buf, cap, "document differs%s", got->doc ? "" : " (missing)");
        return buf;
    }
    const char *m = vf_meta_diff(want, got, buf, cap);
    if (m)
        return m;
    if (!got->emb || got->dim != want->dim) {
        snprintf(buf, cap, "embedding %s", got->emb ? "has another dimension" : "is missing");
        return buf;
    }
    float scale = 0;
    if (space == CM_SPACE_COSINE) {
        double n2 = 0;
        for (size_t i = 0; i < want->dim; i++)
            n2 += want->emb[i] * want->emb[i];
        scale = (float)sqrt(n2 / (double)(want->dim ? want->dim : 1));
    }
    for (size_t i = 0; i < want->dim; i++) {
        float w = (float)want->emb[i], g = (float)got->emb[i];
        if (space == CM_SPACE_COSINE ? !close_f32(w, g, scale) : memcmp(&w, &g, sizeof w) != 0) {
            snprintf(buf, cap, "embedding value %zu is %.9g, expected %.9g", i, (double)g, (double)w);
            return buf;
        }
    }
    return NULL;
}

/* Copies m without the hnsw:* keys (a server reports its configuration
 * there; those are compared as settings). */
static void meta_without_hnsw(cm_meta *dst, const cm_meta *src)
{
    cm_meta_copy(dst, src);
    for (size_t i = dst->n; i-- > 0;)
        if (strncmp(dst->v[i].key, "hnsw:", 5) == 0)
            cm_meta_remove(dst, i);
}

void vf_settings_check(cm_verify_coll *vc, const cm_coll_result *cr, const cm_hnsw_cfg *b, int64_t got_dim,
                       const cm_meta *got_meta, int hnsw_keys_are_settings)
{
    const cm_hnsw_cfg *a = &cr->hnsw;
    if (a->space != b->space)
        vf_add_line(&vc->settings, "distance space is %s, expected %s", cm_space_name(b->space),
                 cm_space_name(a->space));
    if (a->M != b->M || a->ef_construction != b->ef_construction || a->ef_search != b->ef_search)
        vf_add_line(&vc->settings, "HNSW parameters M=%ld ef_construction=%ld ef_search=%ld, expected %ld/%ld/%ld",
                 b->M, b->ef_construction, b->ef_search, a->M, a->ef_construction, a->ef_search);
    int64_t want_dim = cr->written > 0 ? cr->st.dim : -1;
    if (got_dim != VF_DIM_UNKNOWN && got_dim != want_dim && !(want_dim < 0 && got_dim < 0))
        vf_add_line(&vc->settings, "dimension is %lld, expected %lld", (long long)got_dim, (long long)want_dim);
    /* Collection metadata: the source's, after the metadata policy. */
    cm_record want = {0}, got = {0};
    char buf[256];
    if (hnsw_keys_are_settings) {
        meta_without_hnsw(&want.meta, &cr->src.meta);
        if (got_meta)
            meta_without_hnsw(&got.meta, got_meta);
    } else {
        cm_meta_copy(&want.meta, &cr->src.meta);
        if (got_meta)
            cm_meta_copy(&got.meta, got_meta);
    }
    want.has_meta = want.meta.n > 0;
    got.has_meta = got.meta.n > 0;
    const char *d = vf_meta_diff(&want, &got, buf, sizeof buf);
    if (d)
        vf_add_line(&vc->settings, "collection %s", d);
    cm_meta_free(&want.meta);
    cm_meta_free(&got.meta);
}

/* label -> id, pointing into v->label_of's keys (NULL: no id has it). */
typedef struct id_of_label {
    const char **id;
    size_t *len;
    int64_t n;
} id_of_label;

static void note_label(void *ctx, const char *key, size_t len, const strmap_val *val)
{
    id_of_label *m = ctx;
    if (val->first >= 0 && val->first < m->n) {
        m->id[val->first] = key;
        m->len[val->first] = len;
    }
}

static void self_query(cm_verify_coll *vc, const cdr_vec *v, cm_space space, int64_t sample)
{
    size_t n = hnsw_count(v->h), dim = hnsw_dim(v->h);
    if (!n || sample <= 0 || !v->label_of)
        return;
    id_of_label ids = {.n = v->max_label + 1};
    ids.id = xcalloc((size_t)ids.n, sizeof *ids.id);
    ids.len = xcalloc((size_t)ids.n, sizeof *ids.len);
    strmap_each(v->label_of, note_label, &ids);
    size_t step = (size_t)sample >= n ? 1 : n / (size_t)sample;
    for (size_t i = 0; i < n && vc->sampled < sample; i += step) {
        uint64_t lab[2], own = hnsw_label(v->h, i);
        float dist[2];
        if (hnsw_is_deleted(v->h, i) || own >= (uint64_t)ids.n || !ids.id[own])
            continue; /* a tombstone: searches pass over it by design (an unmapped label is a structure problem) */
        const float *q = hnsw_vector(v->h, i);
        size_t got = hnsw_search(v->h, q, 1, 100, lab, dist);
        vf_self_query sq = {.id = ids.id[own], .id_len = ids.len[own], .q = q, .dim = dim, .hit_dist = NAN};
        if (got) {
            int mapped = lab[0] < (uint64_t)ids.n && ids.id[lab[0]];
            sq.hit_id = mapped ? ids.id[lab[0]] : "(a label no id maps to)";
            sq.hit_len = mapped ? ids.len[lab[0]] : strlen(sq.hit_id);
            sq.hit_dist = dist[0];
        }
        if (!vf_self_found(space, &sq)) {
            uint64_t labs[VF_SELF_K];
            float ds[VF_SELF_K];
            size_t k = hnsw_search(v->h, q, VF_SELF_K, 100, labs, ds);
            for (size_t j = 1; j < k && !sq.rank; j++)
                if (labs[j] == own)
                    sq.rank = (int)j + 1;
        }
        vf_self_judge(vc, space, &sq);
    }
    free(ids.id);
    free(ids.len);
}

void vf_expect_collection(cm_verify_coll *vc, cm_coll_result *cr, const cm_policy *p)
{
    cm_err e = {0};
    cm_meta cmeta = {0};
    cm_meta_copy(&cmeta, &cr->src.meta);
    cm_meta_apply(&cmeta, p->meta, NULL);
    cm_meta_free(&cr->src.meta);
    cr->src.meta = cmeta;
    cr->src.has_meta = cmeta.n > 0;
    if (cm_hnsw_cfg_from_meta(cr->src.has_meta ? &cr->src.meta : NULL, &cr->hnsw, &e) < 0)
        vf_add_line(&vc->settings, "%s", e.msg);
}

void vf_note_extra(cm_verify_coll *vc)
{
    vc->extra = vc->target_count - vc->matched;
    if (vc->extra > 0) {
        cm_record ex = {0};
        ex.id = xstrdup("(ids not in the source)");
        ex.id_len = strlen(ex.id);
        cm_issue_add(&vc->ex_extra, &ex, "%lld records in the target are not expected", (long long)vc->extra);
        cm_record_clear(&ex);
    }
}

static int verify_one(const vf_args *a, cdr *d, const cdr_coll *tc, cm_coll_result *cr, cm_verify_coll *vc,
                      cm_err *err)
{
    cdr_vec v;
    if (cdr_load_vectors(d, tc, &v, err) < 0)
        return -1;
    if (v.problems)
        vc->structure = xstrdup(v.problems);
    vf_expect_collection(vc, cr, a->p);
    if (a->pr && a->pr->phase)
        a->pr->phase(a->pr->ctx, "verifying", vc->name, cr->st.records);
    cm_source *src = a->src;
    cm_reader *rd = src->ops->open(src, &cr->src, err);
    if (!rd) {
        cdr_vec_free(&v);
        return -1;
    }
    cm_record r = {0}, t = {0};
    int64_t idx = 0;
    int rc;
    char buf[512];
    while ((rc = vf_next_expected(a, rd, cr, &idx, &r, err)) == 1) {
        vc->expected++;
        int found = cdr_get(d, tc, &v, r.id, r.id_len, &t, err);
        if (found < 0) {
            rc = -1;
            break;
        }
        if (!found) {
            vc->missing++;
            cm_issue_add(&vc->ex_missing, &r, "not in the target");
            continue;
        }
        vc->matched++;
        const char *diff = vf_record_diff(&r, &t, cr->hnsw.space, buf, sizeof buf);
        if (diff) {
            vc->different++;
            cm_issue_add(&vc->ex_different, &r, "%s", diff);
        }
    }
    src->ops->close(rd);
    cm_record_clear(&r);
    cm_meta_free(&r.meta);
    cm_record_clear(&t);
    cm_meta_free(&t.meta);
    if (rc < 0) {
        cdr_vec_free(&v);
        return -1;
    }
    vf_settings_check(vc, cr, &tc->hnsw, tc->dim, tc->has_meta ? &tc->meta : NULL, 0);
    vc->target_count = cdr_count(d, tc, err);
    if (vc->target_count < 0) {
        cdr_vec_free(&v);
        return -1;
    }
    vf_note_extra(vc);
    if (v.h)
        self_query(vc, &v, tc->hnsw.space, a->sample);
    cdr_vec_free(&v);
    return 0;
}

/* Pairs each collection the source should have produced with the target's
 * collection of that name (name_of(target, j), j < nt) and has one()
 * compare them; the target's unpaired collections are listed as extra. */
int vf_run(const vf_args *a, size_t nt, vf_name_fn name_of, vf_one_fn one, void *target, int extras_counted,
           cm_verify *out, cm_err *err)
{
    double t0 = vf_now();
    memset(out, 0, sizeof *out);
    cm_run run;
    if (cm_run_analyze(a->src, a->p, a->pr, &run, err) < 0) {
        cm_run_free(&run);
        return -1;
    }
    int rc = 0;
    out->c = xcalloc(run.n ? run.n : 1, sizeof *out->c);
    unsigned char *seen = xcalloc(nt ? nt : 1, 1);
    for (size_t i = 0; rc == 0 && i < run.n; i++) {
        cm_verify_coll *vc = &out->c[out->n++];
        vc->name = xstrdup(run.c[i].target_name);
        size_t j = 0;
        while (j < nt && strcmp(name_of(target, j), vc->name) != 0)
            j++;
        if (j == nt) {
            vc->expected = (int64_t)strmap_size(run.c[i].st.ids);
            vc->missing = vc->expected;
            continue;
        }
        seen[j] = 1;
        vc->found = 1;
        rc = one(target, j, a, &run.c[i], vc, err);
    }
    for (size_t j = 0; rc == 0 && j < nt; j++)
        if (!seen[j] && a->p->nonly == 0) {
            out->extra_collections = xrealloc(out->extra_collections, (out->nextra + 1) * sizeof(char *));
            out->extra_collections[out->nextra++] = xstrdup(name_of(target, j));
        }
    out->extras_uncounted = !extras_counted;
    free(seen);
    cm_run_free(&run);
    if (rc < 0)
        return -1;
    vf_totals(out);
    out->seconds = vf_now() - t0;
    return 0;
}

typedef struct dir_target {
    cdr *d;
    cdr_coll *tcs;
} dir_target;

static int dir_one(void *target, size_t j, const vf_args *a, cm_coll_result *cr, cm_verify_coll *vc, cm_err *err)
{
    dir_target *t = target;
    return verify_one(a, t->d, &t->tcs[j], cr, vc, err);
}

static const char *dir_name(void *target, size_t j)
{
    return ((dir_target *)target)->tcs[j].name;
}

int cm_verify_dir(cm_source *src, const char *target, const cm_policy *p, int64_t sample, const cm_progress *pr,
                  cm_verify *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    const vf_args a = {.src = src, .p = p, .sample = sample, .pr = pr};
    dir_target t = {0};
    if (!(t.d = cdr_open(target, err)))
        return -1;
    size_t nt = 0;
    int rc = cdr_list(t.d, &t.tcs, &nt, err);
    if (rc == 0)
        rc = vf_run(&a, nt, dir_name, dir_one, &t, 1, out, err);
    cdr_colls_free(t.tcs, nt);
    cdr_close(t.d);
    return rc;
}

int vf_next_expected(const vf_args *a, cm_reader *rd, cm_coll_result *cr, int64_t *idx, cm_record *r, cm_err *err)
{
    int rc;
    while ((rc = a->src->ops->next(rd, r, err)) == 1) {
        int64_t i = (*idx)++;
        if (a->pr && a->pr->advance && (i & 1023) == 0)
            a->pr->advance(a->pr->ctx, i);
        if (cm_prepare_record(cr, a->p, r, i, NULL) == CM_KEEP) {
            cr->written++; /* what the migration should have written */
            return 1;
        }
    }
    return rc;
}

void vf_totals(cm_verify *out)
{
    for (size_t i = 0; i < out->n; i++) {
        cm_verify_coll *vc = &out->c[i];
        out->mismatches += vc->missing + (vc->extra > 0 ? vc->extra : 0) + vc->different + !vc->found;
        for (const char *s = vc->settings; s && *s; s++)
            out->mismatches += *s == '\n';
        for (const char *s = vc->structure; s && *s; s++)
            out->mismatches += *s == '\n';
        out->mismatches += vc->sampled - vc->self_first;
    }
    if (!out->extras_uncounted)
        out->mismatches += (int64_t)out->nextra;
}
