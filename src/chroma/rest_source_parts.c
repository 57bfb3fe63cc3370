/* rest_source_parts.c - the parts of the Chroma server source that need no
 * network (see rest_source.h): request bodies, turning answers into
 * records and collections, the id list of a collection, narrowing a request
 * down to the rows the server cannot send, and putting rows back into the
 * order the server listed their ids in. */
#include "rest_source.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/meta_json.h"
#include "../net/http.h"
#include "../util/base64.h"
#include "../util/mem.h"

/* ---- request bodies ---- */

static const char include_all[] = "\"include\":[\"embeddings\",\"documents\",\"metadatas\"]";

char *cs_body_get_ids(const cs_str *ids, size_t n, int with_data, size_t *len)
{
    json_out o = {0};
    jo_cstr(&o, "{\"ids\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            jo_raw(&o, ",", 1);
        jo_str(&o, ids[i].s, ids[i].len);
    }
    jo_cstr(&o, "],");
    jo_cstr(&o, with_data ? include_all : "\"include\":[]");
    jo_cstr(&o, "}");
    *len = o.len;
    return o.buf;
}

char *cs_body_get_page(long limit, long offset, int with_data, size_t *len)
{
    char head[96];
    snprintf(head, sizeof head, "{\"limit\":%ld,\"offset\":%ld,", limit, offset);
    json_out o = {0};
    jo_cstr(&o, head);
    jo_cstr(&o, with_data ? include_all : "\"include\":[]");
    jo_cstr(&o, "}");
    *len = o.len;
    return o.buf;
}

char *cs_body_get_sorted(long limit, long offset, int with_data, size_t *len)
{
    char head[128];
    if (limit < 0)
        snprintf(head, sizeof head, "{");
    else
        snprintf(head, sizeof head, "{\"sort\":\"uuid\",\"limit\":%ld,\"offset\":%ld,", limit, offset);
    json_out o = {0};
    jo_cstr(&o, head);
    jo_cstr(&o, with_data ? include_all : "\"include\":[]");
    jo_cstr(&o, "}");
    *len = o.len;
    return o.buf;
}

long cs_next_page(long cur, size_t answer_bytes, size_t records, size_t target, long lo, long hi)
{
    if (records == 0)
        return cur < lo ? lo : cur > hi ? hi : cur;
    size_t per = answer_bytes / records;
    if (per == 0)
        per = 1;
    size_t want = target / per;
    long n = want > (size_t)hi ? hi : (long)want;
    if (cur > 0 && n > cur * 4) /* grow gradually: the first records may be small */
        n = cur * 4;
    if (n < lo)
        n = lo;
    if (n > hi)
        n = hi;
    return n;
}

/* ---- JSON values into metadata ---- */

static void meta_from_obj(cm_meta *m, const jv *obj)
{
    cm_meta_clear(m);
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const jv_member *mb = &obj->u.obj.members[i];
        cm_mval_from_jv(cm_meta_add(m, mb->key, mb->key_len), mb->value);
    }
}

/* ---- collections ---- */

static void note_add(char **notes, const char *fmt, ...) CM_PRINTF(2, 3);
static void note_add(char **notes, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = *notes ? strlen(*notes) : 0, n = strlen(line);
    *notes = xrealloc(*notes, old + n + 3);
    if (old) {
        memcpy(*notes + old, "; ", 2);
        old += 2;
    }
    memcpy(*notes + old, line, n + 1);
}

static int num_of(const cm_mval *v, double *out)
{
    if (v->type == CM_M_INT)
        *out = (double)v->i;
    else if (v->type == CM_M_FLOAT)
        *out = v->f;
    else
        return 0;
    return 1;
}

static void mval_text(const cm_mval *v, char *buf, size_t cap)
{
    json_out o = {0};
    cm_mval_write(&o, v);
    snprintf(buf, cap, "%.*s", (int)(o.len > 200 ? 200 : o.len), o.buf ? o.buf : "");
    jo_free(&o);
}

/* Rust configuration_json.hnsw fields and the hnsw:* keys that say the same. */
static const struct {
    const char *cfg, *key;
    int is_space;
    double def;
} rust_hnsw[] = {
    {"space", "hnsw:space", 1, 0},
    {"ef_construction", "hnsw:construction_ef", 0, 100},
    {"ef_search", "hnsw:search_ef", 0, 100},
    {"max_neighbors", "hnsw:M", 0, 16},
    {"resize_factor", "hnsw:resize_factor", 0, 1.2},
    {"sync_threshold", "hnsw:sync_threshold", 0, 1000},
};

static cm_mval *meta_find_mut(cm_meta *m, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].key_len == len && memcmp(m->v[i].key, key, len) == 0)
            return &m->v[i];
    return NULL;
}

static void set_from_cfg(cm_mval *d, const jv *v)
{
    free(d->s);
    d->s = NULL;
    d->s_len = 0;
    cm_mval_from_jv(d, v);
}

static void map_rust_config(cm_collection *c, const jv *cfg, int spann, char **notes)
{
    for (size_t k = 0; k < sizeof rust_hnsw / sizeof rust_hnsw[0]; k++) {
        if (spann && !rust_hnsw[k].is_space)
            continue;
        const jv *v = jv_get(cfg, rust_hnsw[k].cfg);
        if (!v)
            continue;
        int ok_type = rust_hnsw[k].is_space ? v->type == JV_STRING
                                             : (v->type == JV_INT || v->type == JV_FLOAT);
        if (!ok_type)
            continue;
        double num = v->type == JV_INT ? (double)v->u.i : v->type == JV_FLOAT ? v->u.f : 0;
        cm_mval *have = c->has_meta ? meta_find_mut(&c->meta, rust_hnsw[k].key) : NULL;
        if (have) {
            double hn;
            int same = rust_hnsw[k].is_space
                           ? (have->type == CM_M_STR && have->s_len == v->u.str.len &&
                              memcmp(have->s, v->u.str.s, v->u.str.len) == 0)
                           : (num_of(have, &hn) && hn == num);
            if (same)
                continue;
            char was[256], now[256];
            mval_text(have, was, sizeof was);
            set_from_cfg(have, v);
            mval_text(have, now, sizeof now);
            note_add(notes,
                     "collection '%s': its metadata says %s %s but the server uses %s (its configuration); %s is "
                     "carried over",
                     c->name, rust_hnsw[k].key, was, now, now);
            continue;
        }
        int is_default = rust_hnsw[k].is_space ? (v->u.str.len == 2 && memcmp(v->u.str.s, "l2", 2) == 0)
                                                : num == rust_hnsw[k].def;
        if (is_default)
            continue;
        set_from_cfg(cm_meta_add(&c->meta, rust_hnsw[k].key, strlen(rust_hnsw[k].key)), v);
        c->has_meta = 1;
    }
    if (spann)
        note_add(notes,
                 "collection '%s' has a SPANN index (distributed Chroma): only its distance space is carried over, "
                 "and an HNSW index is built",
                 c->name);
}

static void compare_python_config(cm_collection *c, const jv *hc, char **notes)
{
    const jv *sp = jv_get(hc, "space");
    if (!sp || sp->type != JV_STRING || (sp->u.str.len == 2 && memcmp(sp->u.str.s, "l2", 2) == 0))
        return; /* Python keeps "l2" there when the space came with the metadata */
    const cm_mval *have = c->has_meta ? cm_meta_find(&c->meta, "hnsw:space") : NULL;
    if (have && have->type == CM_M_STR && have->s_len == sp->u.str.len &&
        memcmp(have->s, sp->u.str.s, sp->u.str.len) == 0)
        return;
    note_add(notes,
             "collection '%s': its configuration_json says space '%.*s' but its metadata, which Python Chroma "
             "searches with, says %s%s%s; the metadata is carried over",
             c->name, (int)(sp->u.str.len > 40 ? 40 : sp->u.str.len), sp->u.str.s, have ? "'" : "",
             have && have->type == CM_M_STR ? have->s : "l2 (no hnsw:space)", have ? "'" : "");
}

int cs_collection_from_json(const jv *o, cm_collection *c, char **notes, cm_err *err)
{
    memset(c, 0, sizeof *c);
    c->count_hint = -1;
    if (!o || o->type != JV_OBJECT)
        return cm_err_set(err, "a collection in the list is not a JSON object");
    const jv *name = jv_get(o, "name"), *id = jv_get(o, "id"), *meta = jv_get(o, "metadata");
    if (!name || name->type != JV_STRING || name->u.str.len == 0 || memchr(name->u.str.s, 0, name->u.str.len))
        return cm_err_set(err, "a collection in the list has no name");
    if (!id || id->type != JV_STRING || id->u.str.len == 0 || id->u.str.len > 200 ||
        memchr(id->u.str.s, 0, id->u.str.len))
        return cm_err_set(err, "collection '%.*s' has no id in the list",
                          (int)(name->u.str.len > 200 ? 200 : name->u.str.len), name->u.str.s);
    c->name = xmemdup0(name->u.str.s, name->u.str.len);
    c->id = xmemdup0(id->u.str.s, id->u.str.len);
    if (meta && meta->type == JV_OBJECT) {
        meta_from_obj(&c->meta, meta);
        c->has_meta = c->meta.n > 0; /* {} is "no metadata" for Chroma >= 0.4 */
    } else if (meta && meta->type != JV_NULL) {
        cm_err_set(err, "collection '%s': its metadata is not a JSON object", c->name);
        cm_collection_free(c);
        return -1;
    }
    const jv *cj = jv_get(o, "configuration_json");
    if (cj && cj->type == JV_OBJECT) {
        const jv *h = jv_get(cj, "hnsw"), *sp = jv_get(cj, "spann"), *hc = jv_get(cj, "hnsw_configuration");
        if (h && h->type == JV_OBJECT)
            map_rust_config(c, h, 0, notes);
        else if (sp && sp->type == JV_OBJECT)
            map_rust_config(c, sp, 1, notes);
        else if (hc && hc->type == JV_OBJECT)
            compare_python_config(c, hc, notes);
    }
    return 0;
}

/* ---- records ---- */

void cs_batch_reset(cs_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        cm_record_clear(&b->r[i]);
        cm_meta_free(&b->r[i].meta);
    }
    b->n = 0;
}

void cs_batch_free(cs_batch *b)
{
    cs_batch_reset(b);
    free(b->r);
    memset(b, 0, sizeof *b);
}

static cm_record *batch_push(cs_batch *b)
{
    b->r = xgrow(b->r, &b->cap, b->n + 1, sizeof *b->r);
    cm_record *r = &b->r[b->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static int emb_from_jv(cm_record *r, const jv *e)
{
    if (e->type == JV_NULL)
        return 0;
    if (e->type == JV_STRING)
        return cm_b64_f32_decode(e->u.str.s, e->u.str.len, &r->emb, &r->dim); /* Chroma's binary form */
    if (e->type != JV_ARRAY)
        return -1;
    size_t dim = e->u.arr.n;
    r->emb = xmalloc((dim ? dim : 1) * sizeof(double));
    r->dim = dim;
    for (size_t k = 0; k < dim; k++) {
        const jv *x = e->u.arr.items[k];
        switch (x->type) {
        case JV_FLOAT:
            r->emb[k] = x->u.f;
            break;
        case JV_INT:
            r->emb[k] = (double)x->u.i;
            break;
        case JV_BIGINT:
            r->emb[k] = strtod(x->u.str.s, NULL);
            break;
        case JV_NULL:
            r->emb[k] = NAN;
            r->emb_has_null = 1;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/* A list the answer holds for each id, or NULL when it sent null. */
static int list_of(const jv *ans, const char *key, const jv **out, size_t n, char **why)
{
    const jv *v = jv_get(ans, key);
    *out = NULL;
    if (!v || v->type == JV_NULL)
        return 0;
    if (v->type != JV_ARRAY)
        return -1;
    if (v->u.arr.n != n) {
        char buf[160];
        snprintf(buf, sizeof buf, "the server's answer lists %zu ids but %zu %s, so they cannot be matched", n,
                 v->u.arr.n, key);
        *why = xstrdup(buf);
        return 1;
    }
    *out = v;
    return 0;
}

int cs_batch_from_get(const jv *ans, cs_batch *b, char **why, cm_err *err)
{
    *why = NULL;
    const jv *ids = jv_get(ans, "ids");
    if (!ids || ids->type != JV_ARRAY)
        return cm_err_set(err, "the answer is not a get answer (no \"ids\" list)");
    size_t n = ids->u.arr.n;
    for (size_t i = 0; i < n; i++) {
        const jv *x = ids->u.arr.items[i];
        if (x->type != JV_STRING && x->type != JV_NULL)
            return cm_err_set(err, "id number %zu of the answer is not a string", i + 1);
    }
    const jv *embs, *docs, *metas;
    int rc = list_of(ans, "embeddings", &embs, n, why);
    if (rc == 1 && n > 0) {
        /* One id (or copies of it) and no embedding at all: records stored
         * without one (Python servers then send a shorter list). */
        const jv *e = jv_get(ans, "embeddings");
        int one_id = 1;
        const jv *first = ids->u.arr.items[0];
        for (size_t i = 1; i < n && one_id; i++) {
            const jv *x = ids->u.arr.items[i];
            one_id = x->type == JV_STRING && first->type == JV_STRING && x->u.str.len == first->u.str.len &&
                     memcmp(x->u.str.s, first->u.str.s, x->u.str.len) == 0;
        }
        if (one_id && e->u.arr.n == 0) {
            free(*why);
            *why = NULL;
            rc = 0;
            embs = NULL;
        }
    }
    if (rc != 0)
        return rc < 0 ? cm_err_set(err, "\"embeddings\" in the answer is not a list") : 1;
    if ((rc = list_of(ans, "documents", &docs, n, why)) != 0)
        return rc < 0 ? cm_err_set(err, "\"documents\" in the answer is not a list") : 1;
    if ((rc = list_of(ans, "metadatas", &metas, n, why)) != 0)
        return rc < 0 ? cm_err_set(err, "\"metadatas\" in the answer is not a list") : 1;
    for (size_t i = 0; i < n; i++) {
        const jv *x = ids->u.arr.items[i];
        cm_record *r = batch_push(b);
        if (x->type == JV_STRING) {
            r->id = xmemdup0(x->u.str.s, x->u.str.len);
            r->id_len = x->u.str.len;
        }
        if (embs && emb_from_jv(r, embs->u.arr.items[i]) < 0)
            return cm_err_set(err, "record '%s': its embedding is not a list of numbers", r->id ? r->id : "(no id)");
        if (docs) {
            const jv *d = docs->u.arr.items[i];
            if (d->type == JV_STRING) {
                r->doc = xmemdup0(d->u.str.s, d->u.str.len);
                r->doc_len = d->u.str.len;
            } else if (d->type != JV_NULL) {
                return cm_err_set(err, "record '%s': its document is not a string", r->id ? r->id : "(no id)");
            }
        }
        if (metas) {
            const jv *m = metas->u.arr.items[i];
            if (m->type == JV_OBJECT) {
                meta_from_obj(&r->meta, m);
                r->has_meta = 1;
            } else if (m->type != JV_NULL) {
                return cm_err_set(err, "record '%s': its metadata is not a JSON object", r->id ? r->id : "(no id)");
            }
        }
    }
    return 0;
}

/* ---- id lists ---- */

uint64_t cs_fp_add(uint64_t h, const char *s, size_t len)
{
    /* the length first, so that ["ab","c"] and ["a","bc"] differ */
    for (int k = 0; k < 8; k++) {
        h ^= (uint64_t)((len >> (8 * k)) & 0xff);
        h *= 1099511628211ULL;
    }
    for (size_t i = 0; s && i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void cs_idlist_init(cs_idlist *l)
{
    memset(l, 0, sizeof *l);
    l->m = strmap_new();
    l->fp = CS_FP_INIT;
}

void cs_idlist_free(cs_idlist *l)
{
    free(l->arena);
    free(l->off);
    free(l->len);
    free(l->occ);
    strmap_free(l->m);
    memset(l, 0, sizeof *l);
}

void cs_idlist_add(cs_idlist *l, const char *id, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        l->off = xrealloc(l->off, cap * sizeof *l->off);
        l->len = xrealloc(l->len, cap * sizeof *l->len);
        l->occ = xrealloc(l->occ, cap * sizeof *l->occ);
        l->cap = cap;
    }
    size_t i = l->n++;
    if (!id) {
        l->off[i] = 0;
        l->len[i] = CS_NULL_ID;
        l->occ[i] = 0;
        l->fp = cs_fp_add(l->fp, NULL, CS_NULL_ID);
        return;
    }
    l->arena = xgrow(l->arena, &l->arena_cap, l->arena_len + len + 1, 1);
    memcpy(l->arena + l->arena_len, id, len);
    l->arena[l->arena_len + len] = '\0';
    l->off[i] = l->arena_len;
    l->len[i] = len;
    l->arena_len += len + 1;
    int created;
    strmap_val *v = strmap_upsert(l->m, id, len, &created);
    l->occ[i] = v->count;
    if (created)
        v->first = (int64_t)i;
    v->last = (int64_t)i;
    v->count++;
    l->fp = cs_fp_add(l->fp, id, len);
}

int cs_idlist_from_json(cs_idlist *l, const jv *ids, cm_err *err)
{
    if (!ids || ids->type != JV_ARRAY)
        return cm_err_set(err, "the answer is not a get answer (no \"ids\" list)");
    for (size_t i = 0; i < ids->u.arr.n; i++) {
        const jv *x = ids->u.arr.items[i];
        if (x->type == JV_STRING)
            cs_idlist_add(l, x->u.str.s, x->u.str.len);
        else if (x->type == JV_NULL)
            cs_idlist_add(l, NULL, 0);
        else
            return cm_err_set(err, "id number %zu of the answer is not a string", i + 1);
    }
    return 0;
}

cs_str cs_idlist_get(const cs_idlist *l, size_t i)
{
    cs_str s = {NULL, 0};
    if (l->len[i] != CS_NULL_ID) {
        s.s = l->arena + l->off[i];
        s.len = l->len[i];
    }
    return s;
}

/* ---- ids the server cannot send ---- */

void cs_badset_init(cs_badset *b)
{
    memset(b, 0, sizeof *b);
    b->m = strmap_new();
}

void cs_badset_free(cs_badset *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->ids[i]);
        free(b->why[i]);
    }
    free(b->ids);
    free(b->lens);
    free(b->why);
    free(b->rows);
    strmap_free(b->m);
    memset(b, 0, sizeof *b);
}

int cs_badset_has(const cs_badset *b, const char *id, size_t len)
{
    return b->n && strmap_get(b->m, id, len) != NULL;
}

void cs_badset_add(cs_badset *b, const char *id, size_t len, const char *why)
{
    int created;
    strmap_val *v = strmap_upsert(b->m, id, len, &created);
    if (!created)
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->ids = xrealloc(b->ids, b->cap * sizeof *b->ids);
        b->lens = xrealloc(b->lens, b->cap * sizeof *b->lens);
        b->why = xrealloc(b->why, b->cap * sizeof *b->why);
        b->rows = xrealloc(b->rows, b->cap * sizeof *b->rows);
    }
    v->first = (int64_t)b->n;
    b->ids[b->n] = xmemdup0(id, len);
    b->lens[b->n] = len;
    b->why[b->n] = xstrdup(why ? why : "the server could not send it");
    b->rows[b->n] = 1;
    b->n++;
}

/* ---- narrowing ---- */

typedef struct narrow {
    cs_fetch_fn fetch;
    void *ctx;
    cs_batch *out;
    cs_badset *bad;
    size_t ok, failed_other;
    cm_err *err;
} narrow;

/* why: owned. rc_known: how the whole set failed (1 row-level, 2 other). */
static int narrow_rec(narrow *s, const cs_str *ids, size_t n, int known, char *why)
{
    if (n == 0) {
        free(why);
        return 0;
    }
    if (!known) {
        char *w = NULL;
        int rc = s->fetch(s->ctx, ids, n, s->out, &w, s->err);
        if (rc < 0) {
            free(w);
            return -1;
        }
        if (rc == 0) {
            free(w);
            s->ok += n;
            return 0;
        }
        known = rc;
        why = w;
    }
    if (n == 1) {
        cs_badset_add(s->bad, ids[0].s, ids[0].len, why);
        if (known == 2 && ++s->failed_other >= 12 && s->ok == 0) {
            cm_err_set(s->err,
                       "the server fails every request for records, even for single ids, so this is not about "
                       "some rows: %s",
                       why ? why : "(no message)");
            free(why);
            return -1;
        }
        free(why);
        return 0;
    }
    free(why);
    size_t h = n / 2;
    if (narrow_rec(s, ids, h, 0, NULL) < 0)
        return -1;
    return narrow_rec(s, ids + h, n - h, 0, NULL);
}

int cs_fetch_narrow(cs_fetch_fn fetch, void *ctx, const cs_str *ids, size_t n, int known_failed, const char *why,
                    cs_batch *out, cs_badset *bad, cm_err *err)
{
    narrow s = {fetch, ctx, out, bad, 0, 0, err};
    return narrow_rec(&s, ids, n, known_failed, known_failed ? xstrdup(why ? why : "") : NULL);
}

/* ---- putting rows in the listed order ---- */

void cs_stash_init(cs_stash *s)
{
    memset(s, 0, sizeof *s);
    s->m = strmap_new();
}

void cs_stash_free(cs_stash *s)
{
    for (size_t i = 0; i < s->nq; i++) {
        for (size_t k = s->q[i].head; k < s->q[i].n; k++) {
            cm_record_clear(&s->q[i].r[k]);
            cm_meta_free(&s->q[i].r[k].meta);
        }
        free(s->q[i].r);
    }
    free(s->q);
    strmap_free(s->m);
    memset(s, 0, sizeof *s);
}

static struct cs_queue *stash_queue(cs_stash *s, const char *id, size_t len, int create)
{
    strmap_val *v = create ? NULL : strmap_get(s->m, id, len);
    if (create) {
        int created;
        v = strmap_upsert(s->m, id, len, &created);
        if (created) {
            s->q = xgrow(s->q, &s->capq, s->nq + 1, sizeof *s->q);
            memset(&s->q[s->nq], 0, sizeof s->q[s->nq]);
            v->first = (int64_t)s->nq++;
        }
    }
    return v ? &s->q[v->first] : NULL;
}

static void placeholder(cs_batch *out, cs_str id, int64_t row)
{
    cm_record *r = batch_push(out);
    if (id.s) {
        r->id = xmemdup0(id.s, id.len);
        r->id_len = id.len;
        r->unsent = 1;
    }
    r->src_row = row;
}

int cs_assemble(const cs_idlist *l, size_t from, size_t to, cs_batch *got, const cs_badset *bad, cs_stash *stash,
                int64_t row_base, cs_batch *out, cm_err *err)
{
    int rc = 0;
    strmap *gm = strmap_new();
    size_t *next = xmalloc((got->n ? got->n : 1) * sizeof *next);
    unsigned char *used = xcalloc(got->n ? got->n : 1, 1);
    for (size_t i = 0; i < got->n; i++) {
        next[i] = (size_t)-1;
        const cm_record *r = &got->r[i];
        if (!r->id) {
            rc = cm_err_set(err, "the server sent a record without an id for a request by id");
            goto done;
        }
        int created;
        strmap_val *v = strmap_upsert(gm, r->id, r->id_len, &created);
        if (created)
            v->first = (int64_t)i;
        else
            next[v->last] = i;
        v->last = (int64_t)i;
        v->count++;
    }
    for (size_t pos = from; pos < to; pos++) {
        cs_str id = cs_idlist_get(l, pos);
        int64_t row = row_base + (int64_t)pos;
        if (!id.s || (bad && cs_badset_has(bad, id.s, id.len))) {
            placeholder(out, id, row);
            continue;
        }
        if (l->occ[pos] == 0) {
            const strmap_val *lv = strmap_get(l->m, id.s, id.len);
            strmap_val *gv = strmap_get(gm, id.s, id.len);
            uint32_t listed = lv ? lv->count : 1, sent = gv ? gv->count : 0;
            if (sent != listed) {
                rc = cm_err_set(err,
                                "record '%.*s': the server listed this id %u time%s but sent %u record%s for it; the "
                                "collection changed while it was read (stop writing to it and run again)",
                                (int)(id.len > 200 ? 200 : id.len), id.s, listed, listed == 1 ? "" : "s", sent,
                                sent == 1 ? "" : "s");
                goto done;
            }
            size_t i = (size_t)gv->first;
            cm_record *dst = batch_push(out);
            *dst = got->r[i];
            memset(&got->r[i], 0, sizeof got->r[i]);
            used[i] = 1;
            dst->src_row = row;
            if (listed > 1) {
                struct cs_queue *q = stash_queue(stash, id.s, id.len, 1);
                for (size_t k = next[i]; k != (size_t)-1; k = next[k]) {
                    q->r = xrealloc(q->r, (q->n + 1) * sizeof *q->r);
                    q->r[q->n++] = got->r[k];
                    memset(&got->r[k], 0, sizeof got->r[k]);
                    used[k] = 1;
                }
            }
        } else {
            struct cs_queue *q = stash_queue(stash, id.s, id.len, 0);
            if (!q || q->head >= q->n) {
                rc = cm_err_set(err, "record '%.*s': no row left for its copy number %u (internal error)",
                                (int)(id.len > 200 ? 200 : id.len), id.s, l->occ[pos] + 1);
                goto done;
            }
            cm_record *dst = batch_push(out);
            *dst = q->r[q->head];
            memset(&q->r[q->head], 0, sizeof q->r[q->head]);
            q->head++;
            dst->src_row = row;
            if (q->head == q->n) {
                free(q->r);
                q->r = NULL;
                q->n = q->head = 0;
            }
        }
    }
    for (size_t i = 0; i < got->n; i++)
        if (!used[i]) {
            rc = cm_err_set(err, "the server sent record '%s', which was not asked for", got->r[i].id);
            goto done;
        }
done:
    cs_batch_reset(got);
    free(next);
    free(used);
    strmap_free(gm);
    return rc;
}

size_t cs_ids_to_fetch(const cs_idlist *l, size_t from, size_t to, const cs_badset *bad, cs_str **ids)
{
    size_t n = 0;
    *ids = xmalloc((to > from ? to - from : 1) * sizeof **ids);
    for (size_t pos = from; pos < to; pos++) {
        if (l->occ[pos] != 0 || l->len[pos] == CS_NULL_ID)
            continue;
        cs_str s = cs_idlist_get(l, pos);
        if (bad && cs_badset_has(bad, s.s, s.len))
            continue;
        (*ids)[n++] = s;
    }
    return n;
}

/* ---- ids a 0.3.x server does not find by id ---- */

/* The first-listed ids of positions [from, to), not null, not in bad. */
static strmap *range_ids(const cs_idlist *l, size_t from, size_t to, const cs_badset *bad)
{
    strmap *m = strmap_new();
    for (size_t pos = from; pos < to; pos++) {
        if (l->occ[pos] != 0 || l->len[pos] == CS_NULL_ID)
            continue;
        cs_str id = cs_idlist_get(l, pos);
        if (bad && cs_badset_has(bad, id.s, id.len))
            continue;
        int created;
        strmap_val *v = strmap_upsert(m, id.s, id.len, &created);
        v->first = (int64_t)pos;
    }
    return m;
}

size_t cs_missing_ids(const cs_idlist *l, size_t from, size_t to, const cs_batch *got, const cs_badset *bad,
                      strmap *want, int *dups)
{
    strmap *gm = strmap_new();
    for (size_t i = 0; i < got->n; i++)
        if (got->r[i].id) {
            int created;
            strmap_upsert(gm, got->r[i].id, got->r[i].id_len, &created)->count++;
        }
    size_t rows = 0;
    *dups = 0;
    for (size_t pos = from; pos < to; pos++) {
        if (l->occ[pos] != 0 || l->len[pos] == CS_NULL_ID)
            continue;
        cs_str id = cs_idlist_get(l, pos);
        if ((bad && cs_badset_has(bad, id.s, id.len)) || strmap_get(gm, id.s, id.len))
            continue;
        const strmap_val *lv = strmap_get(l->m, id.s, id.len);
        int created;
        strmap_val *w = strmap_upsert(want, id.s, id.len, &created);
        w->count = lv ? lv->count : 1;
        w->first = (int64_t)pos;
        rows += w->count;
        *dups |= w->count > 1;
    }
    strmap_free(gm);
    return rows;
}

size_t cs_take_wanted(cs_batch *page, strmap *want, cs_batch *got)
{
    size_t taken = 0;
    for (size_t i = 0; i < page->n; i++) {
        cm_record *r = &page->r[i];
        strmap_val *w = r->id ? strmap_get(want, r->id, r->id_len) : NULL;
        if (!w || w->count == 0)
            continue;
        w->count--;
        *batch_push(got) = *r;
        memset(r, 0, sizeof *r);
        taken++;
    }
    cs_batch_reset(page);
    return taken;
}

void cs_keep_asked(cs_batch *got, const cs_idlist *l, size_t from, size_t to, const cs_badset *bad)
{
    strmap *m = range_ids(l, from, to, bad);
    size_t k = 0;
    for (size_t i = 0; i < got->n; i++) {
        cm_record *r = &got->r[i];
        if (r->id && strmap_get(m, r->id, r->id_len)) {
            got->r[k++] = *r;
            continue;
        }
        cm_record_clear(r);
        cm_meta_free(&r->meta);
    }
    got->n = k;
    strmap_free(m);
}
