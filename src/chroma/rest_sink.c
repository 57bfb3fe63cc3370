/* rest_sink.c - writes into a running Chroma server over HTTP, through the
 * REST client (rest.h: probe, routes, JSON requests).
 *
 * Everything here follows docs/formats.md#rest-api (0.4.24, 0.5.23, 0.6.3
 * and the Rust 1.0 server):
 *  - Generation: GET /api/v2/heartbeat answers 200 on every server that
 *    serves v2 (Rust 1.x, Python 0.5.16+), which is what we then speak (0.6.3's
 *    v1 is half broken); 404 means v1 only (0.4.x, 0.5.0-0.5.15). Tenant and
 *    database go into the v2 path, and into v1 query strings from 0.4.15 on.
 *  - Collections are created with the legacy collection metadata, whose
 *    hnsw:* keys every version honours; the Rust server also gets the same
 *    parameters as {"configuration":{"hnsw":{...}}} (Python would refuse that
 *    shape). An existing name is 409 (500 UniqueConstraintError on 0.4).
 *  - Records: add, with embeddings as base64 little-endian float32 when the
 *    pre-flight says supports_base64_encoding (exactly the float32 values the
 *    server stores, in about half the bytes), JSON numbers otherwise. Batches
 *    stay within max_batch_size and well under the Rust server's 40 MiB body
 *    limit (a 413 splits the batch).
 *  - add ignores ids that already exist on every version (checked on the
 *    Rust server: a second add of an id answers 201 and leaves the stored
 *    record as it was), so re-sending is harmless: an add whose answer was a
 *    500/502/503/504/429 or got lost is simply sent again (http.c), even if
 *    the server did store it the first time. To resume without re-sending,
 *    each batch first asks which of its ids exist (get by ids, include []),
 *    then adds only the others.
 *  - A create whose answer got lost is sent again (by http.c, or by libcurl
 *    itself on a dead kept-alive connection) and then answers "exists": a
 *    collection that is empty and has the metadata and configuration just
 *    sent is the one this run created (own_new_collection).
 *  - "written" means acknowledged: only records of add requests the server
 *    answered 2xx are counted (sink counts()); on a stop, requests still in
 *    flight get a few seconds to be answered, the rest are "in doubt".
 *  - After each collection, count must equal what was there plus what was
 *    added: servers that silently drop records are caught.
 * Several batches are in flight at once (http.c, libcurl multi); memory is
 * bounded by those batches and the one being filled. */
#include "rest_sink.h"

#include <math.h>
#include <stdarg.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "../core/meta_json.h"
#include "../format/json.h"
#include "rest.h"
#include "../util/base64.h"
#include "../util/mem.h"
#include "../util/strmap.h"

/* Request bodies stay below this (the Rust server refuses 40 MiB; a proxy
 * may refuse less: a 413 halves the batch and this limit). */
#define MAX_BODY_BYTES ((size_t)4 << 20)

typedef struct chroma_http chroma_http;

/* One record's JSON pieces, as offsets into the batch's arena. */
typedef struct frag {
    size_t id_off, id_len;
    size_t emb_off, emb_len;
    size_t doc_off, doc_len; /* doc_len 0: null */
    size_t meta_off, meta_len;
} frag;

typedef struct batch {
    chroma_http *s;
    json_out arena;
    frag *f;
    size_t n, cap;
    int any_doc, any_meta;
    unsigned char *present; /* per record, after the existence check */
    size_t nsend;           /* records in the add request */
    size_t body_len;
    char *first;            /* the first id, for messages */
    int upsert;
} batch;

struct chroma_http {
    cm_sink base;
    chroma_http_opts o;
    chroma_client cl; /* its http is this sink's; url, sent, route point into it */
    char *url;    /* normalised base URL */
    char *tenant, *database;
    char version[48];
    long max_batch;
    int base64;
    char desc[512];
    /* current collection */
    char *coll_name;
    char coll_id[64];
    int64_t dim;
    int check;        /* ask which ids exist before adding */
    int force_upsert; /* the server could not tell us: upsert */
    int64_t count_before, added, already;
    batch *cur;
    size_t body_cap;  /* request body limit (lowered after a 413) */
    long batch_cap;   /* records per request (lowered after a 413) */
    int any_written;  /* a collection was created or written to */
    int64_t inflight; /* records in add requests not answered yet */
    int64_t in_doubt; /* records of add requests dropped unanswered on abort */
    char *partial;    /* the collection being written, until it is complete */
    /* the first error of an asynchronous request */
    int failed;
    cm_err err;
    size_t since_pump;
};

static void vnote(chroma_http *s, cm_note_kind kind, cm_hint hint, const char *fmt, va_list ap)
{
    if (!s->o.log)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    cm_note n = {.kind = kind, .hint = hint, .text = msg};
    s->o.log(s->o.log_ctx, &n);
}

/* A notice (CM_NOTE_INFO: not shown when the user asked for quiet; a
 * warning is, e.g. how to finish an interrupted run), with the advice hint. */
static void note(chroma_http *s, cm_note_kind kind, cm_hint hint, const char *fmt, ...) CM_PRINTF(4, 5);
static void note(chroma_http *s, cm_note_kind kind, cm_hint hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(s, kind, hint, fmt, ap);
    va_end(ap);
}

/* A notice without advice. */
static void say(chroma_http *s, const char *fmt, ...) CM_PRINTF(2, 3);
static void say(chroma_http *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(s, CM_NOTE_INFO, CM_HINT_NONE, fmt, ap);
    va_end(ap);
}

/* "WHAT: server answered ...": for a response that is an error. */
static int response_error(chroma_http *s, cm_err *err, const http_response *r, const char *what)
{
    return chroma_answer_error(&s->cl, err, r, "%s", what);
}

/* ---- detection ---- */

static int detect(chroma_http *s, cm_err *err)
{
    chroma_server_id id;
    if (chroma_probe(&s->cl, &id, err) < 0)
        return -1;
    memcpy(s->version, id.version, sizeof id.version);
    if (id.api == CHROMA_API_03)
        return cm_err_set(err,
                          "%s is a Chroma %s server; the target must be Chroma 0.4 or later (0.3.x stores are what "
                          "this tool migrates from)",
                          s->url, s->version);
    if (!chroma_api_has_tenants(id.api) &&
        (strcmp(s->tenant, CHROMA_DEFAULT_TENANT) != 0 || strcmp(s->database, CHROMA_DEFAULT_DATABASE) != 0))
        return cm_err_set(err, "%s is a Chroma %s server, which has no tenants or databases (they came in 0.4.15)",
                          s->url, s->version),
               cm_err_mark(err, CM_ERR_TARGET_SPEC, CM_HINT_TENANT_DATABASE, NULL);
    return 0;
}

static int preflight(chroma_http *s, cm_err *err)
{
    chroma_answer a;
    char *path = chroma_path_api(&s->cl.route, "/pre-flight-checks");
    int rc = chroma_request(&s->cl, "GET", path, NULL, 0, &a, err);
    free(path);
    if (rc < 0)
        return -1;
    s->max_batch = 1000; /* servers before pre-flight-checks */
    s->base64 = 0;
    const jv *v = a.v;
    if (a.r.status == 200 && v && v->type == JV_OBJECT) {
        const jv *m = jv_get(v, "max_batch_size");
        if (m && m->type == JV_INT && m->u.i > 0)
            s->max_batch = m->u.i > 1000000 ? 1000000 : (long)m->u.i;
        const jv *b = jv_get(v, "supports_base64_encoding");
        s->base64 = b && b->type == JV_BOOL && b->u.b;
    } else if (http_status_is_auth(a.r.status)) {
        response_error(s, err, &a.r, s->url);
        chroma_answer_free(&a);
        return -1;
    } else if (a.r.status != 404) {
        response_error(s, err, &a.r, "GET pre-flight-checks");
        chroma_answer_free(&a);
        return -1;
    }
    chroma_answer_free(&a);
    return 0;
}

static int check_database(chroma_http *s, cm_err *err)
{
    if (!chroma_api_has_tenants(s->cl.route.api))
        return 0;
    char *p = chroma_path_database(&s->cl.route);
    http_response r; /* only the status matters */
    int rc = http_request(s->cl.http, "GET", p, NULL, 0, &r, err);
    free(p);
    if (rc < 0)
        return -1;
    if (r.status == 200) {
        http_response_free(&r);
        return 0;
    }
    char what[700];
    if (http_status_is_auth(r.status))
        snprintf(what, sizeof what, "%s", s->url);
    else
        snprintf(what, sizeof what, "database '%s' of tenant '%s' on %s", s->database, s->tenant, s->url);
    response_error(s, err, &r, what);
    if (!http_status_is_auth(r.status))
        cm_err_mark(err, CM_ERR_TARGET_SPEC, CM_HINT_OTHER_DATABASE, NULL);
    http_response_free(&r);
    return -1;
}

/* ---- collections ---- */

static void write_hnsw_config(json_out *o, const cm_hnsw_cfg *h)
{
    char buf[256];
    jo_cstr(o, "{\"hnsw\":{\"space\":");
    const char *sp = cm_space_name(h->space);
    jo_str(o, sp, strlen(sp));
    snprintf(buf, sizeof buf, ",\"ef_construction\":%ld,\"ef_search\":%ld,\"max_neighbors\":%ld,\"resize_factor\":",
             h->ef_construction, h->ef_search, h->M);
    jo_cstr(o, buf);
    jo_float(o, h->resize_factor);
    snprintf(buf, sizeof buf, ",\"sync_threshold\":%ld,\"batch_size\":%ld", h->sync_threshold, h->batch_size);
    jo_cstr(o, buf);
    if (h->has_num_threads) {
        snprintf(buf, sizeof buf, ",\"num_threads\":%ld", h->num_threads);
        jo_cstr(o, buf);
    }
    jo_cstr(o, "}}");
}

static int exists_answer(const http_response *r)
{
    if (r->status == 409)
        return 1;
    /* 0.4.x: 500 {"error":"UniqueConstraintError('Collection x already exists')"} */
    return r->status == 500 && r->body && strstr(r->body, "UniqueConstraintError") &&
           strstr(r->body, "already exists");
}

static const char *space_of(const jv *coll)
{
    const jv *m = jv_get(coll, "metadata");
    const jv *sp = jv_get(m, "hnsw:space");
    if (sp && sp->type == JV_STRING)
        return sp->u.str.s;
    const jv *cj = jv_get(coll, "configuration_json");
    sp = jv_get(jv_get(cj, "hnsw"), "space");
    if (sp && sp->type == JV_STRING)
        return sp->u.str.s;
    return "l2";
}

static int take_collection(chroma_http *s, const jv *coll, cm_err *err)
{
    const jv *id = jv_get(coll, "id");
    if (!id || id->type != JV_STRING || id->u.str.len == 0 || id->u.str.len >= sizeof s->coll_id)
        return cm_err_set(err, "collection '%s': the server's answer has no collection id", s->coll_name);
    memcpy(s->coll_id, id->u.str.s, id->u.str.len + 1);
    return 0;
}

static int get_count(chroma_http *s, int64_t *out, cm_err *err)
{
    char *path = chroma_path_record(&s->cl.route, s->coll_id, "count");
    chroma_answer a;
    int rc = chroma_request(&s->cl, "GET", path, NULL, 0, &a, err);
    free(path);
    if (rc < 0)
        return cm_err_prefix(err, "collection '%s': counting its records", s->coll_name);
    if (a.r.status != 200 || !a.v || a.v->type != JV_INT) {
        char what[400];
        snprintf(what, sizeof what, "collection '%s': counting its records", s->coll_name);
        if (a.r.status != 200)
            response_error(s, err, &a.r, what);
        else
            cm_err_set(err, "%s: the answer is not a number", what);
        chroma_answer_free(&a);
        return -1;
    }
    *out = a.v->u.i;
    chroma_answer_free(&a);
    return 0;
}

static int open_existing(chroma_http *s, const cm_target_collection *tc, cm_err *err)
{
    char *path = chroma_path_collections(&s->cl.route, tc->name, -1, 0);
    chroma_answer a;
    int rc = chroma_request(&s->cl, "GET", path, NULL, 0, &a, err);
    free(path);
    if (rc < 0)
        return cm_err_prefix(err, "collection '%s'", tc->name);
    const jv *v = a.v;
    if (a.r.status != 200 || !v || v->type != JV_OBJECT) {
        char what[400];
        snprintf(what, sizeof what, "collection '%s': reading the existing collection", tc->name);
        if (a.r.status != 200)
            response_error(s, err, &a.r, what);
        else
            cm_err_set(err, "%s: the answer is not a collection", what);
        chroma_answer_free(&a);
        return -1;
    }
    rc = take_collection(s, v, err);
    if (rc == 0) {
        const jv *d = jv_get(v, "dimension");
        if (d && d->type == JV_INT && tc->dim > 0 && d->u.i != tc->dim)
            rc = cm_err_set(err,
                            "collection '%s' exists on the server with %lld-dimensional embeddings; the source's "
                            "are %lld-dimensional",
                            tc->name, (long long)d->u.i, (long long)tc->dim);
    }
    if (rc == 0) {
        const char *have = space_of(v), *want = cm_space_name(tc->hnsw.space);
        if (strcmp(have, want) != 0)
            rc = cm_err_set(err, "collection '%s' exists on the server with distance '%s'; the source's is '%s'",
                            tc->name, have, want);
    }
    chroma_answer_free(&a);
    return rc;
}

/* Whether the server's metadata value v is what we sent as w. Floats may
 * come back as float32 text (the Rust server): compared with a tolerance. */
static int same_value(const jv *v, const jv *w)
{
    if ((v->type == JV_INT || v->type == JV_FLOAT) && (w->type == JV_INT || w->type == JV_FLOAT)) {
        double a = v->type == JV_INT ? (double)v->u.i : v->u.f, b = w->type == JV_INT ? (double)w->u.i : w->u.f;
        return a == b || fabs(a - b) <= 1e-6 * fabs(b);
    }
    if (v->type != w->type)
        return 0;
    if (v->type == JV_BOOL)
        return v->u.b == w->u.b;
    if (v->type == JV_STRING || v->type == JV_BIGINT)
        return v->u.str.len == w->u.str.len && memcmp(v->u.str.s, w->u.str.s, v->u.str.len) == 0;
    return v->type == JV_NULL;
}

/* The collection's metadata on the server equals what the create sent
 * (as maps: the Rust server does not keep the keys' order). */
static int same_metadata(const jv *coll, const cm_meta *sent)
{
    const jv *have = jv_get(coll, "metadata");
    size_t nhave = have && have->type == JV_OBJECT ? have->u.obj.n : 0;
    if (!sent || !sent->n)
        return nhave == 0;
    json_out o = {0};
    cm_meta_write(&o, sent);
    cm_err perr = {0};
    jv *want = json_parse(o.buf, o.len, &perr);
    jo_free(&o);
    int same = want && want->type == JV_OBJECT && want->u.obj.n == nhave;
    for (size_t i = 0; same && i < want->u.obj.n; i++) {
        const jv_member *m = &want->u.obj.members[i];
        char key[256];
        if (m->key_len >= sizeof key)
            same = 0;
        else {
            memcpy(key, m->key, m->key_len);
            key[m->key_len] = '\0';
            const jv *hv = jv_get(have, key);
            same = hv && same_value(hv, m->value);
        }
    }
    jv_free(want);
    return same;
}

/* The server's HNSW configuration (Rust: configuration_json.hnsw) is the
 * one the create asked for; servers that do not show one pass. */
static int same_config(const jv *coll, const cm_hnsw_cfg *h)
{
    const jv *cfg = jv_get(jv_get(coll, "configuration_json"), "hnsw");
    if (!cfg || cfg->type != JV_OBJECT)
        return 1;
    const struct {
        const char *key;
        long want;
    } k[] = {{"ef_construction", h->ef_construction}, {"ef_search", h->ef_search}, {"max_neighbors", h->M}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        const jv *v = jv_get(cfg, k[i].key);
        if (v && v->type == JV_INT && v->u.i != k[i].want)
            return 0;
    }
    return strcmp(space_of(coll), cm_space_name(h->space)) == 0;
}

/* After a create that went out more than once answered "exists": reads the
 * collection; 1 when it is empty and has exactly what the create sent, i.e.
 * the first send created it and only its answer got lost. -1 on error. */
static int own_new_collection(chroma_http *s, const cm_target_collection *tc, cm_err *err)
{
    char *path = chroma_path_collections(&s->cl.route, tc->name, -1, 0);
    chroma_answer a;
    int rc = chroma_request(&s->cl, "GET", path, NULL, 0, &a, err);
    free(path);
    if (rc < 0)
        return cm_err_prefix(err, "collection '%s': reading it after its creation", tc->name);
    const jv *v = a.v;
    int ours = a.r.status == 200 && v && v->type == JV_OBJECT && same_metadata(v, tc->meta) && same_config(v, &tc->hnsw);
    const jv *d = jv_get(v, "dimension");
    if (ours && d && d->type == JV_INT)
        ours = 0; /* a dimension is set by the first add: records came */
    if (ours)
        rc = take_collection(s, v, err);
    chroma_answer_free(&a);
    if (rc < 0)
        return -1;
    if (!ours)
        return 0;
    int64_t n;
    if (get_count(s, &n, err) < 0)
        return -1;
    return n == 0;
}

/* The collection now exists and is this run's to fill. */
static void mark_partial(chroma_http *s, const char *name)
{
    s->any_written = 1;
    free(s->partial);
    s->partial = xstrdup(name);
}

static int create_collection(chroma_http *s, const cm_target_collection *tc, cm_err *err)
{
    json_out b = {0};
    jo_cstr(&b, "{\"name\":");
    jo_str(&b, tc->name, strlen(tc->name));
    if (tc->meta && tc->meta->n) {
        jo_cstr(&b, ",\"metadata\":");
        cm_meta_write(&b, tc->meta);
    }
    if (s->cl.route.api == CHROMA_API_V2_RUST) {
        jo_cstr(&b, ",\"configuration\":");
        write_hnsw_config(&b, &tc->hnsw);
    }
    jo_cstr(&b, ",\"get_or_create\":false}");
    char *path = chroma_path_collections(&s->cl.route, NULL, -1, 0);
    http_response r;
    int rc = http_request(s->cl.http, "POST", path, b.buf, b.len, &r, err);
    free(path);
    jo_free(&b);
    if (rc < 0)
        return cm_err_prefix(err, "collection '%s': creating it", tc->name);
    if (r.status / 100 == 2) {
        cm_err perr = {0};
        jv *v = json_parse(r.body ? r.body : "", r.len, &perr);
        rc = v ? take_collection(s, v, err)
               : cm_err_set(err, "collection '%s': the server's answer to its creation is not JSON", tc->name);
        jv_free(v);
        http_response_free(&r);
        if (rc == 0)
            mark_partial(s, tc->name);
        return rc;
    }
    if (exists_answer(&r)) {
        int resent = r.sends > 1 || r.attempts > 1;
        http_response_free(&r);
        int own = resent ? own_new_collection(s, tc, err) : 0;
        if (own < 0)
            return -1;
        if (own) {
            say(s, "collection '%s': created by this run (the answer to its creation got lost)", tc->name);
            mark_partial(s, tc->name);
            return 0;
        }
        if (open_existing(s, tc, err) < 0)
            return -1;
        if (get_count(s, &s->count_before, err) < 0)
            return -1;
        if (!s->o.resume && !s->o.append)
            return cm_err_set(err, "collection '%s' already exists on %s (tenant '%s', database '%s', %lld records)",
                              tc->name, s->url, s->tenant, s->database, (long long)s->count_before),
                   cm_err_mark(err, CM_ERR_EXISTS, CM_HINT_EXISTS, tc->name);
        s->check = 1;
        mark_partial(s, tc->name);
        say(s, "collection '%s' exists on the server with %lld records: %s, sending only the ids it does not have",
            tc->name, (long long)s->count_before, s->o.resume ? "resuming" : "appending");
        return 0;
    }
    char what[400];
    snprintf(what, sizeof what, "collection '%s': creating it", tc->name);
    response_error(s, err, &r, what);
    http_response_free(&r);
    return -1;
}

/* ---- batches ---- */

static void batch_free(batch *b)
{
    if (!b)
        return;
    jo_free(&b->arena);
    free(b->f);
    free(b->present);
    free(b->first);
    free(b);
}

static void set_failure(chroma_http *s, const cm_err *e)
{
    if (s->failed)
        return;
    s->failed = 1;
    s->err = *e;
}

/* The embedding as a JSON string of base64 float32 (cm_b64_f32_encode). */
static void emb_base64(json_out *o, const double *v, size_t n)
{
    size_t need = o->len + cm_b64_f32_len(n) + 3;
    if (need > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < need)
            cap *= 2;
        o->buf = xrealloc(o->buf, cap);
        o->cap = cap;
    }
    char *w = o->buf + o->len;
    *w++ = '"';
    cm_b64_f32_encode(v, n, w);
    w += cm_b64_f32_len(n);
    *w++ = '"';
    *w = '\0';
    o->len = (size_t)(w - o->buf);
}

static void batch_append(chroma_http *s, batch *b, const cm_record *r)
{
    if (!b->first) {
        size_t n = r->id_len < 200 ? r->id_len : 200;
        b->first = xmemdup0(r->id, n);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)b->first[i] < ' ')
                b->first[i] = '?';
    }
    b->f = xgrow(b->f, &b->cap, b->n + 1, sizeof *b->f);
    frag *f = &b->f[b->n++];
    json_out *o = &b->arena;
    f->id_off = o->len;
    jo_str(o, r->id, r->id_len);
    f->id_len = o->len - f->id_off;
    f->emb_off = o->len;
    if (s->base64) {
        emb_base64(o, r->emb, r->dim);
    } else {
        jo_raw(o, "[", 1);
        for (size_t i = 0; i < r->dim; i++) {
            if (i)
                jo_raw(o, ",", 1);
            jo_float(o, r->emb[i]);
        }
        jo_raw(o, "]", 1);
    }
    f->emb_len = o->len - f->emb_off;
    f->doc_off = o->len;
    f->doc_len = 0;
    if (r->doc) {
        jo_str(o, r->doc, r->doc_len);
        f->doc_len = o->len - f->doc_off;
        b->any_doc = 1;
    }
    f->meta_off = o->len;
    f->meta_len = 0;
    if (r->has_meta && r->meta.n) {
        cm_meta_write(o, &r->meta);
        f->meta_len = o->len - f->meta_off;
        b->any_meta = 1;
    }
}

static void batch_error(chroma_http *s, batch *b, const char *what, const http_response *r, const cm_err *e)
{
    cm_err err = {0};
    char ctx[600];
    snprintf(ctx, sizeof ctx, "collection '%s', batch of %zu records from id '%s': %s", s->coll_name, b->n,
             b->first ? b->first : "", what);
    if (e) {
        err = *e;
        cm_err_prefix(&err, "%s", ctx);
    } else {
        response_error(s, &err, r, ctx);
        if (r->attempts > 1) {
            size_t l = strlen(err.msg);
            snprintf(err.msg + l, sizeof err.msg - l, " (the same answer after %d attempts)", r->attempts);
        }
        if (r->status == 413) {
            size_t l = strlen(err.msg);
            snprintf(err.msg + l, sizeof err.msg - l,
                     " (a single record is too big for the server or a proxy in front of it, e.g. nginx's "
                     "client_max_body_size)");
        }
    }
    set_failure(s, &err);
}

static void send_add(chroma_http *s, batch *b);

typedef enum frag_part { PART_ID, PART_EMB, PART_DOC, PART_META } frag_part;

/* One part of every record of b (those the server lacks, with only_missing)
 * as the items of a JSON list; an empty document or metadata is null. */
static void put_list(json_out *o, const batch *b, int only_missing, frag_part part)
{
    int first = 1;
    for (size_t i = 0; i < b->n; i++) {
        if (only_missing && b->present && b->present[i])
            continue;
        if (!first)
            jo_raw(o, ",", 1);
        first = 0;
        const frag *f = &b->f[i];
        size_t off = 0, len = 0;
        switch (part) {
        case PART_ID: off = f->id_off, len = f->id_len; break;
        case PART_EMB: off = f->emb_off, len = f->emb_len; break;
        case PART_DOC: off = f->doc_off, len = f->doc_len; break;
        case PART_META: off = f->meta_off, len = f->meta_len; break;
        }
        if (len)
            jo_raw(o, b->arena.buf + off, len);
        else
            jo_raw(o, "null", 4);
    }
}

static char *add_body(const batch *b, size_t *len)
{
    json_out o = {0};
    size_t est = b->arena.len + b->n * 8 + 64;
    o.buf = xmalloc(est);
    o.cap = est;
    o.buf[0] = '\0';
    int only_missing = b->present != NULL;
    int any_doc = 0, any_meta = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (only_missing && b->present[i])
            continue;
        any_doc |= b->f[i].doc_len != 0;
        any_meta |= b->f[i].meta_len != 0;
    }
    jo_cstr(&o, "{\"ids\":[");
    put_list(&o, b, only_missing, PART_ID);
    jo_cstr(&o, "],\"embeddings\":[");
    put_list(&o, b, only_missing, PART_EMB);
    jo_raw(&o, "]", 1);
    if (any_doc) {
        jo_cstr(&o, ",\"documents\":[");
        put_list(&o, b, only_missing, PART_DOC);
        jo_raw(&o, "]", 1);
    }
    if (any_meta) {
        jo_cstr(&o, ",\"metadatas\":[");
        put_list(&o, b, only_missing, PART_META);
        jo_raw(&o, "]", 1);
    }
    jo_raw(&o, "}", 1);
    *len = o.len;
    return o.buf;
}

/* Splits b in two (after a 413) and sends both halves. */
static void split_and_send(chroma_http *s, batch *b)
{
    size_t half = b->n / 2;
    batch *parts[2] = {xcalloc(1, sizeof(batch)), xcalloc(1, sizeof(batch))};
    for (size_t i = 0; i < b->n; i++) {
        batch *d = parts[i >= half];
        if (b->present && b->present[i])
            continue;
        d->s = s;
        if (!d->first) {
            cm_err pe = {0};
            jv *idv = json_parse(b->arena.buf + b->f[i].id_off, b->f[i].id_len, &pe);
            d->first = xstrdup(idv && idv->type == JV_STRING ? idv->u.str.s : "");
            jv_free(idv);
        }
        d->f = xgrow(d->f, &d->cap, d->n + 1, sizeof *d->f);
        frag *f = &d->f[d->n++];
        const frag *g = &b->f[i];
        json_out *o = &d->arena;
        f->id_off = o->len;
        jo_raw(o, b->arena.buf + g->id_off, g->id_len);
        f->id_len = g->id_len;
        f->emb_off = o->len;
        jo_raw(o, b->arena.buf + g->emb_off, g->emb_len);
        f->emb_len = g->emb_len;
        f->doc_off = o->len;
        f->doc_len = g->doc_len;
        if (g->doc_len)
            jo_raw(o, b->arena.buf + g->doc_off, g->doc_len);
        f->meta_off = o->len;
        f->meta_len = g->meta_len;
        if (g->meta_len)
            jo_raw(o, b->arena.buf + g->meta_off, g->meta_len);
    }
    int upsert = b->upsert;
    batch_free(b);
    for (int k = 0; k < 2; k++) {
        if (!parts[k]->n) {
            batch_free(parts[k]);
            continue;
        }
        parts[k]->s = s;
        parts[k]->upsert = upsert;
        send_add(s, parts[k]);
    }
}

static void add_done(void *ctx, http_response *r, const cm_err *e)
{
    batch *b = ctx;
    chroma_http *s = b->s;
    s->inflight -= (int64_t)b->nsend;
    if (e) {
        batch_error(s, b, b->upsert ? "upsert" : "add", NULL, e);
        batch_free(b);
        return;
    }
    if (r->status == 413 && b->nsend > 1) {
        if (b->body_len / 2 < s->body_cap)
            s->body_cap = b->body_len / 2 > 4096 ? b->body_len / 2 : 4096;
        if ((long)b->nsend / 2 < s->batch_cap)
            s->batch_cap = (long)b->nsend / 2 > 1 ? (long)b->nsend / 2 : 1;
        say(s,
            "collection '%s': the server refused a request of %zu records (%.1f MiB) as too large; sending it in "
            "halves, and at most %ld records or %.1f MiB per request from now on",
            s->coll_name, b->nsend, (double)b->body_len / 1048576.0, s->batch_cap, (double)s->body_cap / 1048576.0);
        split_and_send(s, b);
        return;
    }
    if (r->status / 100 != 2) {
        batch_error(s, b, b->upsert ? "upsert" : "add", r, NULL);
        batch_free(b);
        return;
    }
    s->added += (int64_t)b->nsend;
    if (s->o.verbose)
        say(s, "collection '%s': %lld records added so far", s->coll_name, (long long)s->added);
    batch_free(b);
}

static void send_add(chroma_http *s, batch *b)
{
    if (s->failed) {
        batch_free(b);
        return;
    }
    size_t nsend = 0;
    for (size_t i = 0; i < b->n; i++)
        nsend += !(b->present && b->present[i]);
    b->nsend = nsend;
    if (nsend == 0) {
        batch_free(b);
        return;
    }
    size_t len;
    char *body = add_body(b, &len);
    b->body_len = len;
    /* Kept only to split the batch after a 413: no spare capacity. */
    if (b->arena.cap > b->arena.len + 1) {
        b->arena.buf = xrealloc(b->arena.buf, b->arena.len + 1);
        b->arena.cap = b->arena.len + 1;
    }
    char *path = chroma_path_record(&s->cl.route, s->coll_id, b->upsert ? "upsert" : "add");
    cm_err e = {0};
    int rc = http_submit(s->cl.http, "POST", path, body, len, add_done, b, &e);
    free(path);
    if (rc < 0) {
        batch_error(s, b, "add", NULL, &e);
        batch_free(b);
        return;
    }
    s->inflight += (int64_t)nsend;
    s->any_written = 1;
}

static void check_done(void *ctx, http_response *r, const cm_err *e)
{
    batch *b = ctx;
    chroma_http *s = b->s;
    if (e) {
        batch_error(s, b, "asking which ids exist", NULL, e);
        batch_free(b);
        return;
    }
    if (r->status / 100 != 2) {
        if (r->status == 400 || r->status == 404 || r->status == 405 || r->status == 422 || r->status == 500) {
            /* The server cannot tell us: upsert the whole batch instead. */
            char *t = chroma_answer_text(&s->cl, r);
            if (!s->force_upsert)
                say(s,
                    "collection '%s': the server cannot say which ids it has (%s); upserting instead (records it "
                    "already has are rewritten with the same content)",
                    s->coll_name, t);
            free(t);
            s->force_upsert = 1;
            b->upsert = 1;
            send_add(s, b);
            return;
        }
        batch_error(s, b, "asking which ids exist", r, NULL);
        batch_free(b);
        return;
    }
    cm_err perr = {0};
    jv *v = json_parse(r->body ? r->body : "", r->len, &perr);
    const jv *ids = jv_get(v, "ids");
    if (!ids || ids->type != JV_ARRAY) {
        jv_free(v);
        cm_err e2 = {0};
        cm_err_set(&e2, "the server's answer has no list of ids");
        batch_error(s, b, "asking which ids exist", NULL, &e2);
        batch_free(b);
        return;
    }
    b->present = xcalloc(b->n ? b->n : 1, 1);
    if (ids->u.arr.n) {
        strmap *m = strmap_new();
        json_out o = {0};
        for (size_t i = 0; i < ids->u.arr.n; i++) {
            const jv *x = ids->u.arr.items[i];
            if (x->type != JV_STRING)
                continue;
            o.len = 0;
            jo_str(&o, x->u.str.s, x->u.str.len);
            int created;
            strmap_upsert(m, o.buf, o.len, &created);
        }
        jo_free(&o);
        for (size_t i = 0; i < b->n; i++)
            if (strmap_get(m, b->arena.buf + b->f[i].id_off, b->f[i].id_len)) {
                b->present[i] = 1;
                s->already++;
            }
        strmap_free(m);
    }
    jv_free(v);
    send_add(s, b);
}

static void submit_batch(chroma_http *s, batch *b)
{
    /* At most `jobs` batches in flight: memory stays bounded. */
    http_wait(s->cl.http, (size_t)(s->o.jobs - 1));
    if (s->failed) {
        batch_free(b);
        return;
    }
    if (s->check && !s->force_upsert) {
        json_out o = {0};
        jo_cstr(&o, "{\"ids\":[");
        put_list(&o, b, 0, PART_ID);
        jo_cstr(&o, "],\"include\":[]}");
        char *path = chroma_path_record(&s->cl.route, s->coll_id, "get");
        cm_err e = {0};
        int rc = http_submit(s->cl.http, "POST", path, o.buf, o.len, check_done, b, &e);
        free(path);
        if (rc < 0) {
            batch_error(s, b, "asking which ids exist", NULL, &e);
            batch_free(b);
        }
        return;
    }
    b->upsert = s->force_upsert;
    send_add(s, b);
}

/* ---- sink operations ---- */

static long batch_limit(const chroma_http *s)
{
    long n = s->max_batch;
    if (s->o.batch_size > 0 && s->o.batch_size < n)
        n = s->o.batch_size;
    if (s->batch_cap > 0 && s->batch_cap < n)
        n = s->batch_cap;
    return n < 1 ? 1 : n;
}

static int begin_collection(cm_sink *sk, const cm_target_collection *tc, cm_err *err)
{
    chroma_http *s = (chroma_http *)sk;
    free(s->coll_name);
    s->coll_name = xstrdup(tc->name);
    s->coll_id[0] = '\0';
    s->dim = tc->dim;
    s->check = 0;
    s->force_upsert = 0;
    s->count_before = s->added = s->already = s->in_doubt = 0;
    batch_free(s->cur);
    s->cur = NULL;
    if (create_collection(s, tc, err) < 0)
        return -1;
    return 0;
}

static int add(cm_sink *sk, const cm_record *r, cm_err *err)
{
    chroma_http *s = (chroma_http *)sk;
    if (s->failed) {
        *err = s->err;
        return -1;
    }
    if (!s->coll_id[0])
        return cm_err_set(err, "internal: record before its collection");
    if (!s->cur) {
        s->cur = xcalloc(1, sizeof *s->cur);
        s->cur->s = s;
        /* Room for a whole batch at once: no copies while it grows (pages
         * never touched are not resident). */
        s->cur->arena.cap = s->body_cap + ((size_t)256 << 10);
        s->cur->arena.buf = xmalloc(s->cur->arena.cap);
        s->cur->arena.buf[0] = '\0';
    }
    batch_append(s, s->cur, r);
    if ((long)s->cur->n >= batch_limit(s) || s->cur->arena.len >= s->body_cap) {
        batch *b = s->cur;
        s->cur = NULL;
        submit_batch(s, b);
    } else if (++s->since_pump >= 64) {
        s->since_pump = 0;
        http_pump(s->cl.http);
    }
    if (s->failed) {
        *err = s->err;
        return -1;
    }
    return 0;
}

static int end_collection(cm_sink *sk, cm_build_progress progress, void *ctx, cm_err *err)
{
    chroma_http *s = (chroma_http *)sk;
    (void)progress;
    (void)ctx;
    if (s->cur && s->cur->n && !s->failed) {
        batch *b = s->cur;
        s->cur = NULL;
        submit_batch(s, b);
    }
    batch_free(s->cur);
    s->cur = NULL;
    http_wait(s->cl.http, 0);
    if (s->failed) {
        *err = s->err;
        return -1;
    }
    int64_t n;
    if (get_count(s, &n, err) < 0)
        return -1;
    int64_t want = s->count_before + s->added;
    if (n != want)
        return cm_err_set(err,
                          "collection '%s': the server holds %lld records after the migration, expected %lld (%lld "
                          "before + %lld added); another writer, or a server that dropped records",
                          s->coll_name, (long long)n, (long long)want, (long long)s->count_before,
                          (long long)s->added);
    if (s->already)
        say(s, "collection '%s': %lld records were already on the server and were not sent again%s", s->coll_name,
            (long long)s->already, s->o.append && !s->o.resume ? " (their content there was left as it was)" : "");
    if (s->o.verbose)
        say(s, "collection '%s': %lld records added, %lld on the server", s->coll_name, (long long)s->added,
            (long long)n);
    free(s->partial);
    s->partial = NULL;
    return 0;
}

static int finish(cm_sink *sk, cm_err *err)
{
    chroma_http *s = (chroma_http *)sk;
    http_wait(s->cl.http, 0);
    if (s->failed) {
        *err = s->err;
        return -1;
    }
    s->any_written = 0;
    return 0;
}

/* Gives the requests in flight a few seconds to be answered, so that what
 * the server acknowledged is known; the records of those that are not
 * answered by then are in doubt. Every batch is freed. */
static void settle_inflight(chroma_http *s)
{
    if (!s->failed) {
        cm_err e = {0};
        cm_err_set(&e, "stopped");
        set_failure(s, &e); /* no new requests from the callbacks */
    }
    http_wait_for(s->cl.http, 5.0);
    int64_t left = s->inflight;
    http_cancel_all_notify(s->cl.http, "not answered before the run stopped");
    s->in_doubt += left;
    s->inflight = 0;
}

static void do_abort(cm_sink *sk)
{
    chroma_http *s = (chroma_http *)sk;
    settle_inflight(s);
    batch_free(s->cur);
    s->cur = NULL;
    if (s->partial)
        note(s, CM_NOTE_WARNING, CM_HINT_RESUME_COLLECTION, "collection '%s' on the server is incomplete", s->partial);
    else if (s->any_written)
        note(s, CM_NOTE_WARNING, CM_HINT_RESUME_SERVER, "the server holds the collections written so far");
    free(s->partial);
    s->partial = NULL;
    s->any_written = 0;
}

static void counts(cm_sink *sk, int64_t *written, int64_t *already, int64_t *in_doubt)
{
    chroma_http *s = (chroma_http *)sk;
    *written = s->added;
    *already = s->already;
    *in_doubt = s->in_doubt;
}

static void destroy(cm_sink *sk)
{
    chroma_http *s = (chroma_http *)sk;
    if (!s)
        return;
    batch_free(s->cur);
    http_client_free(s->cl.http);
    free(s->url);
    free(s->tenant);
    free(s->database);
    free(s->coll_name);
    free(s->partial);
    free(s->base.location);
    free(s);
}

static const cm_sink_ops chroma_http_ops = {
    .kind = "Chroma server",
    .begin_collection = begin_collection,
    .add = add,
    .end_collection = end_collection,
    .finish = finish,
    .abort = do_abort,
    .destroy = destroy,
    .counts = counts,
};

/* A 500 that is chromadb 0.4's answer to this very request (its errors are
 * all 500): sending it again cannot help, so http.c does not. */
static int final_500(long status, const char *body, size_t len)
{
    (void)status;
    (void)len;
    return strstr(body, "UniqueConstraintError") || strstr(body, "does not match collection dimensionality") ||
           strstr(body, "exceeds maximum batch size");
}

static void http_note(void *ctx, const char *msg)
{
    chroma_http *s = ctx;
    say(s, "%s", msg);
}

cm_sink *chroma_http_create(const chroma_http_opts *o, cm_err *err)
{
    chroma_http *s = xcalloc(1, sizeof *s);
    s->base.ops = &chroma_http_ops;
    s->o = *o;
    if (s->o.jobs < 1)
        s->o.jobs = 4;
    s->body_cap = MAX_BODY_BYTES;
#if defined(__GLIBC__)
    /* Batches are big buffers freed in turn: keep them mmapped so freeing
     * returns them to the system (glibc would otherwise raise its threshold
     * and keep every freed batch in the heap). */
    mallopt(M_MMAP_THRESHOLD, 512 * 1024);
#endif
    s->tenant = xstrdup(o->tenant && *o->tenant ? o->tenant : CHROMA_DEFAULT_TENANT);
    s->database = xstrdup(o->database && *o->database ? o->database : CHROMA_DEFAULT_DATABASE);
    int https = 0;
    if (http_base_url(o->url, &s->url, &https, err) < 0) {
        if (err->hint == CM_HINT_NONE) /* HEADER_NOT_URL already says it is the target's */
            cm_err_mark(err, CM_ERR_TARGET_SPEC, CM_HINT_TO_SPEC, NULL);
        destroy(&s->base);
        return NULL;
    }
    s->base.location = xstrdup(s->url);
    s->cl.url = s->url;
    s->cl.sent = o->headers;
    s->cl.auth_hint = CM_HINT_HEADER_AUTH;
    s->cl.route.tenant = s->tenant;
    s->cl.route.database = s->database;
    if (!https && (o->cacert || o->insecure))
        note(s, CM_NOTE_INFO, CM_HINT_TLS_PLAIN, "%s is plain http", s->url);
    http_opts ho = {
        .base_url = s->url,
        .headers = o->headers,
        .cacert = o->cacert,
        .insecure = o->insecure,
        .max_inflight = s->o.jobs,
        .timeout_s = o->timeout_s,
        .retry_budget_s = 15, /* while probing: a wrong address fails fast */
        .log = http_note,
        .log_ctx = s,
        .is_final = final_500,
    };
    s->cl.http = http_client_new(&ho, err);
    if (!s->cl.http || detect(s, err) < 0 || preflight(s, err) < 0 || check_database(s, err) < 0) {
        destroy(&s->base);
        return NULL;
    }
    http_client_set_budget(s->cl.http, o->retry_s > 0 ? o->retry_s : 120);
    char extra[300] = "";
    if (!chroma_api_has_tenants(s->cl.route.api))
        snprintf(extra, sizeof extra, ", no tenants");
    else if (strcmp(s->tenant, CHROMA_DEFAULT_TENANT) != 0 || strcmp(s->database, CHROMA_DEFAULT_DATABASE) != 0)
        snprintf(extra, sizeof extra, ", tenant '%.100s', database '%.100s'", s->tenant, s->database);
    snprintf(s->desc, sizeof s->desc, "Chroma server %s at %s (API v%d%s)", s->version, s->url,
             chroma_api_is_v2(s->cl.route.api) ? 2 : 1, extra);
    say(s, "connected to %s: batches of up to %ld records, %d in flight%s", s->desc, batch_limit(s), s->o.jobs,
        s->base64 ? ", base64 embeddings" : "");
    return &s->base;
}

const char *chroma_http_describe(const cm_sink *sk)
{
    const chroma_http *s = (const chroma_http *)sk;
    return s->desc;
}
