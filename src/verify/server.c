/* server.c - proving a migration into a Chroma server (v1 or v2 API).
 *
 * The same comparison as for a persistent directory (verify.c), with the
 * server as the only way in: the source is streamed again under the
 * migration's policies and every batch of expected records is looked up by
 * id with one get (embeddings, documents, metadatas), so memory stays at one
 * batch plus the sampled query vectors. The server's count gives the records
 * it has beyond those. Settings come from the collection the server lists:
 * its configuration is folded into hnsw:* metadata keys by the HTTP source
 * (cs_collection_from_json), so they compare as space and HNSW parameters,
 * and the other metadata keys as collection metadata.
 *
 * What a server does not show cannot be checked: its HNSW files (there is no
 * structural check; the report says so) and the dimension of an empty
 * collection. The self-query check asks the server itself: each sampled
 * record, queried with its own embedding, must come back first or be beaten
 * only by records no farther from it - the rule the directory check uses
 * too (verify_self.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../chroma/rest_verify.h"
#include "../util/mem.h"
#include "../util/strmap.h"
#include "verify_int.h"

#define GET_BATCH 100   /* ids per get: well inside every server's max_batch_size */
#define QUERY_BATCH 25  /* self-queries per request */

typedef struct samples {
    char **ids;
    size_t *id_len; /* ids may hold NUL bytes */
    float *vec;
    size_t n, cap, dim;
} samples;

static void samples_free(samples *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s->id_len);
    free(s->vec);
    memset(s, 0, sizeof *s);
}

static void samples_add(samples *s, const cm_record *r)
{
    if (s->n == s->cap)
        return;
    if (!s->ids) {
        s->ids = xcalloc(s->cap, sizeof *s->ids);
        s->id_len = xcalloc(s->cap, sizeof *s->id_len);
        s->dim = r->dim;
        size_t nf = s->cap * s->dim;
        s->vec = xmalloc((nf ? nf : 1) * sizeof *s->vec);
    }
    if (r->dim != s->dim)
        return;
    s->ids[s->n] = xmemdup0(r->id, r->id_len);
    s->id_len[s->n] = r->id_len;
    for (size_t k = 0; k < r->dim; k++)
        s->vec[s->n * s->dim + k] = (float)r->emb[k];
    s->n++;
}

/* Looks the batch's records up on the server and compares them. */
static int check_batch(cm_source *tgt, const cm_collection *tc, cm_record *b, size_t n, const cm_coll_result *cr,
                       cm_verify_coll *vc, cm_err *err)
{
    cs_str ids[GET_BATCH];
    for (size_t i = 0; i < n; i++) {
        ids[i].s = b[i].id;
        ids[i].len = b[i].id_len;
    }
    cs_batch got = {0};
    if (chroma_server_get_ids(tgt, tc, ids, n, &got, err) < 0) {
        cs_batch_free(&got);
        return -1;
    }
    strmap *at = strmap_new();
    for (size_t k = 0; k < got.n; k++)
        if (got.r[k].id) {
            int created;
            strmap_val *v = strmap_upsert(at, got.r[k].id, got.r[k].id_len, &created);
            if (created)
                v->first = (int64_t)k;
        }
    char buf[512];
    for (size_t i = 0; i < n; i++) {
        const strmap_val *v = strmap_get(at, b[i].id, b[i].id_len);
        if (!v) {
            vc->missing++;
            cm_issue_add(&vc->ex_missing, &b[i], "not in the target");
            continue;
        }
        vc->matched++;
        const char *diff = vf_record_diff(&b[i], &got.r[v->first], cr->hnsw.space, buf, sizeof buf);
        if (diff) {
            vc->different++;
            cm_issue_add(&vc->ex_different, &b[i], "%s", diff);
        }
    }
    strmap_free(at);
    cs_batch_free(&got);
    return 0;
}

static int self_queries(cm_source *tgt, const cm_collection *tc, const samples *sm, cm_space space,
                        cm_verify_coll *vc, cm_err *err)
{
    char *first[QUERY_BATCH];
    double dist[QUERY_BATCH];
    for (size_t i = 0; i < sm->n; i += QUERY_BATCH) {
        size_t nq = sm->n - i < QUERY_BATCH ? sm->n - i : QUERY_BATCH;
        if (chroma_server_nearest(tgt, tc, sm->vec + i * sm->dim, nq, sm->dim, first, dist, err) < 0)
            return -1;
        for (size_t k = 0; k < nq; k++) {
            vf_self_query sq = {.id = sm->ids[i + k], .id_len = sm->id_len[i + k],
                                .q = sm->vec + (i + k) * sm->dim, .dim = sm->dim,
                                .hit_id = first[k], .hit_len = first[k] ? strlen(first[k]) : 0,
                                .hit_dist = dist[k]};
            if (!vf_self_found(space, &sq) &&
                chroma_server_rank(tgt, tc, sq.q, sm->dim, VF_SELF_K, sq.id, sq.id_len, &sq.rank, err) < 0) {
                free(first[k]);
                return -1;
            }
            vf_self_judge(vc, space, &sq);
            free(first[k]);
        }
    }
    return 0;
}

static void batch_clear(cm_record *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cm_record_clear(&b[i]);
        cm_meta_free(&b[i].meta);
    }
}

static int verify_coll(const vf_args *a, cm_source *tgt, const cm_collection *tc, cm_coll_result *cr,
                       cm_verify_coll *vc, cm_err *err)
{
    vf_expect_collection(vc, cr, a->p);
    cm_hnsw_cfg got_cfg = cr->hnsw;
    cm_err e = {0};
    if (cm_hnsw_cfg_from_meta(tc->has_meta ? &tc->meta : NULL, &got_cfg, &e) < 0) {
        vf_add_line(&vc->settings, "the server's configuration: %s", e.msg);
        got_cfg.space = cr->hnsw.space;
    }
    if (a->pr && a->pr->phase)
        a->pr->phase(a->pr->ctx, "verifying", vc->name, cr->st.records);
    cm_reader *rd = a->src->ops->open(a->src, &cr->src, err);
    if (!rd)
        return -1;
    int64_t records = cr->st.records > 0 ? cr->st.records : 1;
    int64_t step = a->sample > 0 && records > a->sample ? records / a->sample : 1;
    samples sm = {.cap = a->sample > 0 ? (size_t)a->sample : 0};
    cm_record b[GET_BATCH], r = {0};
    memset(b, 0, sizeof b);
    size_t nb = 0;
    int64_t idx = 0;
    int rc;
    while ((rc = vf_next_expected(a, rd, cr, &idx, &r, err)) == 1) {
        if (sm.cap && vc->expected % step == 0 && r.emb)
            samples_add(&sm, &r);
        vc->expected++;
        cm_record t = b[nb];
        b[nb++] = r;
        r = t;
        if (nb == GET_BATCH) {
            rc = check_batch(tgt, tc, b, nb, cr, vc, err);
            nb = 0;
            if (rc < 0)
                break;
        }
    }
    a->src->ops->close(rd);
    cm_record_clear(&r);
    cm_meta_free(&r.meta);
    if (rc == 0 && nb)
        rc = check_batch(tgt, tc, b, nb, cr, vc, err);
    batch_clear(b, GET_BATCH);
    if (rc == 0) {
        vf_settings_check(vc, cr, &got_cfg, VF_DIM_UNKNOWN, tc->has_meta ? &tc->meta : NULL, 1);
        vc->target_count = chroma_server_count(tgt, tc, err);
        rc = vc->target_count < 0 ? -1 : 0;
    }
    if (rc == 0) {
        vf_note_extra(vc);
        rc = self_queries(tgt, tc, &sm, got_cfg.space, vc, err); /* distances in the server's own space */
    }
    samples_free(&sm);
    if (rc < 0)
        return cm_err_prefix(err, "collection '%s'", vc->name);
    return 0;
}

typedef struct server_target {
    cm_source *tgt;
    cm_collection *tcs;
} server_target;

static int server_one(void *target, size_t j, const vf_args *a, cm_coll_result *cr, cm_verify_coll *vc,
                      cm_err *err)
{
    server_target *t = target;
    vc->structure_na = 1;
    return verify_coll(a, t->tgt, &t->tcs[j], cr, vc, err);
}

static const char *server_name(void *target, size_t j)
{
    return ((server_target *)target)->tcs[j].name;
}

int cm_verify_server(cm_source *src, cm_source *tgt, const cm_policy *p, int64_t sample, const cm_progress *pr,
                     cm_verify *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    const vf_args a = {.src = src, .p = p, .sample = sample, .pr = pr};
    server_target t = {.tgt = tgt};
    size_t nt = 0;
    int rc = tgt->ops->list(tgt, &t.tcs, &nt, err);
    /* a server's other collections may be anyone's: listed, not counted */
    if (rc == 0)
        rc = vf_run(&a, nt, server_name, server_one, &t, 0, out, err);
    cm_collections_free(t.tcs, nt);
    return rc;
}
