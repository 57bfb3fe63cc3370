/* rest_source.c - reads collections out of a running Chroma server over
 * its REST API (see rest_source.h for what is read how).
 *
 * Everything here follows the exchanges recorded in ../shared/reference/
 * chroma-0.3-rest-api.md (chromadb 0.3.29 on ClickHouse) and
 * chroma-rest-api.md (0.4.24, 0.5.23, 0.6.3, Rust 1.0):
 *  - Generation: GET /api/v2/heartbeat answers 200 where v2 is served (Rust
 *    1.x, Python 0.5.16+), which is then used (0.6.3's v1 is half broken);
 *    otherwise GET /api/v1/heartbeat and /api/v1/version, where "0.3.x"
 *    means the legacy server.
 *  - 0.3.x: GET /api/v1/collections, GET .../{uuid}/count, then
 *    POST .../{uuid}/get {"include": []} for every id in one answer (paging
 *    with limit/offset repeats and skips rows there: all rows of a collection
 *    share the ClickHouse sort key), then POST .../get {"ids": [...]} in
 *    chunks of distinct ids. get by ids returns every row with such an id, so
 *    each distinct id is asked for once, and the rows of an id listed k times
 *    are handed out at the k positions the list has it at (the first row at
 *    the first position, and so on), so each stored row arrives exactly once
 *    and in the listed order.
 *  - v1/v2: the collection list in pages (limit/offset; checked against the
 *    collection count), then each collection's records in pages of
 *    limit/offset (both Python's SQLite and the Rust server order them by
 *    their internal sequence, so pages are stable while nobody writes); the
 *    number read must equal the collection's count.
 *  - A page or chunk the server cannot send (500 "Out of range float values
 *    are not JSON compliant": NaN/Infinity stored by 0.3.x or 0.4.x) is
 *    narrowed down by asking for halves of its ids until the single ids that
 *    fail are known; so is an answer whose embeddings list is shorter than
 *    its ids (Python servers leave out records stored without an embedding).
 *    A single id that still fails becomes a record holding only its id; the
 *    source's notes name those ids, and they are remembered so that the
 *    second pass (writing) does not ask again.
 *  - 0.3.x finds some ids not at all by id: it writes them into its SQL with
 *    Python's repr(), which ClickHouse reads back as other bytes (\u200b
 *    becomes "u200b", \x85 one byte) or, for an id with ' but no ", as a
 *    column name (a 500 for the whole request, narrowed down to the id).
 *    The rows of such ids are read from the collection sorted by its
 *    internal uuid ("sort": "uuid", a total order, so limit/offset pages are
 *    stable), or, when such an id is stored more than once, from one read of
 *    the whole collection (the only answer with its copies in stored order).
 *  - Both passes of a migration must see the same records in the same order
 *    (the analysis remembers each id's first and last position): the ids of
 *    each collection are fingerprinted and a difference is an error.
 * Memory: one page of records plus the answer being read; for 0.3.x also the
 * collection's id list (the price of its broken paging).
 * The next page is requested while the current one is handed out. */
#include "rest_source.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rest_probe.h"
#include "../net/http.h"
#include "../util/mem.h"

#define DEFAULT_TENANT "default_tenant"
#define DEFAULT_DATABASE "default_database"
#define TARGET_BYTES ((size_t)4 << 20) /* per answer */
#define FIRST_PAGE 100
#define MAX_PAGE 2000
#define MAX_CHUNK_03 1000
#define MAX_ID_BYTES_03 (64 << 10) /* ids per request: ClickHouse's max_query_size is 256 KiB */
#define LIST_PAGE 100

typedef struct coll_state {
    char *id, *name;
    int complete; /* a read went through to the end */
    uint64_t fp;
    int64_t n;
    cs_badset bad;
    int64_t unfound_ids; /* 0.3.x: ids not found by id, read from the sorted collection */
} coll_state;

typedef struct cs_src {
    cm_source base;
    http_client *http;
    http_headers headers;
    char *url;
    char *tenant, *database;
    int tenant_given;
    cs_route route;
    char version[48];
    int major, minor, patch;
    char *list_notes;
    char *notes;
    coll_state *cols;
    size_t ncols;
} cs_src;

typedef struct slot {
    int busy, done, failed;
    http_response resp;
    cm_err err;
} slot;

struct cm_reader {
    cs_src *s;
    coll_state *st;
    char *name;
    char *get_path;
    cs_batch cur;
    size_t curi;
    int64_t handed;
    uint64_t fp;
    int ended, failed, last;
    long page;
    slot pend;
    /* 0.3.x */
    cs_idlist ids;
    size_t pos, pend_from, pend_to;
    cs_str *pend_ids;
    size_t pend_nids;
    cs_stash stash;
    int64_t unfound_ids;
    size_t found_by_id, refused_by_id; /* single ids: rows came / a query error */
    /* v1/v2 */
    int64_t expected;
    long offset, pend_limit;
};

/* ---- messages ---- */

/* The server's message for an error answer, with header values hidden
 * should the server echo them. */
static char *server_text(cs_src *s, const http_response *r)
{
    return http_answer_text(r, &s->headers);
}

static int answer_error(cs_src *s, cm_err *err, const http_response *r, const char *fmt, ...) CM_PRINTF(4, 5);
static int answer_error(cs_src *s, cm_err *err, const http_response *r, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return http_answer_error(err, r, &s->headers, CM_HINT_FROM_HEADER_AUTH, what);
}

/* The 500 Python servers give for NaN/Infinity they stored. */
static int nan_answer(const http_response *r)
{
    return r->status == 500 && r->body &&
           (strstr(r->body, "not JSON compliant") || strstr(r->body, "Out of range float values"));
}

/* ---- requests ---- */

static int get_json(cs_src *s, const char *path, http_response *r, jv **out, cm_err *err)
{
    *out = NULL;
    if (http_request(s->http, "GET", path, NULL, 0, r, err) < 0)
        return -1;
    if (r->status / 100 == 2) {
        cm_err perr = {0};
        *out = json_parse(r->body ? r->body : "", r->len, &perr);
        if (!*out) {
            http_response_free(r);
            return cm_err_set(err, "GET %s%s: the answer is not JSON (%s)", s->url, path, perr.msg);
        }
    }
    return 0;
}

static void slot_done(void *ctx, http_response *resp, const cm_err *err)
{
    slot *sl = ctx;
    sl->done = 1;
    if (err) {
        sl->failed = 1;
        sl->err = *err;
        return;
    }
    sl->resp = *resp;
    resp->body = NULL;
}

static int slot_submit(cs_src *s, slot *sl, const char *path, char *body, size_t len, cm_err *err)
{
    memset(sl, 0, sizeof *sl);
    sl->busy = 1;
    if (http_submit(s->http, "POST", path, body, len, slot_done, sl, err) < 0) {
        sl->busy = 0;
        return -1;
    }
    return 0;
}

/* Waits for the slot's answer; *r takes it over. -1 when none came. */
static int slot_take(cs_src *s, slot *sl, http_response *r, cm_err *err)
{
    while (!sl->done)
        http_wait(s->http, 0);
    sl->busy = 0;
    if (sl->failed) {
        *err = sl->err;
        return -1;
    }
    *r = sl->resp;
    memset(&sl->resp, 0, sizeof sl->resp);
    return 0;
}

static void slot_drop(cs_src *s, slot *sl)
{
    if (sl->busy && !sl->done)
        http_cancel_all(s->http);
    http_response_free(&sl->resp);
    memset(sl, 0, sizeof *sl);
}

/* ---- collection state ---- */

static coll_state *state_of(cs_src *s, const cm_collection *c)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].id, c->id) == 0)
            return &s->cols[i];
    s->cols = xrealloc(s->cols, (s->ncols + 1) * sizeof *s->cols);
    coll_state *st = &s->cols[s->ncols++];
    memset(st, 0, sizeof *st);
    st->id = xstrdup(c->id);
    st->name = xstrdup(c->name);
    cs_badset_init(&st->bad);
    return st;
}

/* ---- detection ---- */

static const char *gen_name(const cs_src *s)
{
    return s->route.gen == CS_GEN_03 ? "0.3.x" : s->route.gen == CS_GEN_V1 ? "v1" : "v2";
}

static int detect(cs_src *s, cm_err *err)
{
    chroma_probe_who who = {s->url, &s->headers, CM_HINT_FROM_HEADER_AUTH};
    chroma_server_id id;
    http_client_set_budget(s->http, 10); /* a wrong address fails fast */
    if (chroma_probe(s->http, &who, &id, err) < 0)
        return -1;
    s->route.gen = id.api == CHROMA_API_V2 ? CS_GEN_V2 : id.api == CHROMA_API_V1 ? CS_GEN_V1 : CS_GEN_03;
    s->route.v1_tenants = id.v1_tenants;
    memcpy(s->version, id.version, sizeof s->version);
    s->major = id.major;
    s->minor = id.minor;
    s->patch = id.patch;
    http_client_set_budget(s->http, 120);
    return 0;
}

/* Appends to an error message already set. */
static void err_append(cm_err *err, const char *fmt, ...) CM_PRINTF(2, 3);
static void err_append(cm_err *err, const char *fmt, ...)
{
    size_t l = strlen(err->msg);
    if (l + 1 >= sizeof err->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + l, sizeof err->msg - l, fmt, ap);
    va_end(ap);
}

/* Says which databases the tenant has, where the server can list them. */
static void list_databases(cs_src *s, cm_err *err)
{
    strbuf p = {0};
    sb_adds(&p, "/api/v2/tenants/");
    sb_add_url_escaped(&p, s->tenant);
    sb_adds(&p, "/databases");
    http_response r;
    jv *v = NULL;
    cm_err e2 = {0};
    if (get_json(s, p.s, &r, &v, &e2) == 0) {
        if (r.status == 200 && v && v->type == JV_ARRAY) {
            err_append(err, "; the databases of tenant '%s' are:", s->tenant);
            for (size_t i = 0; i < v->u.arr.n && i < 20; i++) {
                const jv *nm = jv_get(v->u.arr.items[i], "name");
                if (nm && nm->type == JV_STRING)
                    err_append(err, "%s '%.*s'", i ? "," : "", (int)(nm->u.str.len > 60 ? 60 : nm->u.str.len),
                               nm->u.str.s);
            }
            if (v->u.arr.n == 0)
                err_append(err, " (none)");
        }
        http_response_free(&r);
        jv_free(v);
    }
    free(p.s);
}

/* The tenant and database exist (where the server has them). */
static int check_place(cs_src *s, cm_err *err)
{
    int has_places = s->route.gen == CS_GEN_V2 || s->route.v1_tenants;
    if (!has_places) {
        if (s->tenant_given)
            return cm_err_set(err,
                              "%s is a chromadb %s server, which has no tenants or databases (they came in 0.4.15); "
                              "leave out the tenant and database options",
                              s->url, s->version);
        return 0;
    }
    strbuf p = {0};
    if (s->route.gen == CS_GEN_V2) {
        sb_adds(&p, "/api/v2/tenants/");
        sb_add_url_escaped(&p, s->tenant);
        sb_adds(&p, "/databases/");
        sb_add_url_escaped(&p, s->database);
    } else {
        sb_adds(&p, "/api/v1/databases/");
        sb_add_url_escaped(&p, s->database);
        sb_adds(&p, "?tenant=");
        sb_add_url_escaped(&p, s->tenant);
    }
    http_response r;
    jv *v = NULL;
    int rc = get_json(s, p.s, &r, &v, err);
    free(p.s);
    if (rc < 0)
        return cm_err_prefix(err, "%s", s->url);
    jv_free(v);
    if (r.status == 200) {
        http_response_free(&r);
        return 0;
    }
    answer_error(s, err, &r, "%s: looking up tenant '%s', database '%s'", s->url, s->tenant, s->database);
    http_response_free(&r);
    if (s->route.gen == CS_GEN_V2)
        list_databases(s, err);
    return -1;
}

/* ---- listing ---- */

static void free_cols(cm_collection *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cm_collection_free(&c[i]);
    free(c);
}

/* Appends the collections of a list answer that are not there yet. Returns
 * how many were new, -1 on error. */
static long take_list(cs_src *s, const jv *arr, cm_collection **cols, size_t *n, size_t *cap, char **notes,
                      cm_err *err)
{
    if (!arr || arr->type != JV_ARRAY)
        return cm_err_set(err, "%s: the collection list is not a JSON list", s->url);
    long added = 0;
    for (size_t i = 0; i < arr->u.arr.n; i++) {
        cm_collection c;
        if (cs_collection_from_json(arr->u.arr.items[i], &c, notes, err) < 0)
            return cm_err_prefix(err, "%s: listing collections", s->url);
        int dup = 0;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = strcmp((*cols)[k].id, c.id) == 0;
        if (dup) {
            cm_collection_free(&c);
            continue;
        }
        *cols = xgrow(*cols, cap, *n + 1, sizeof **cols);
        (*cols)[(*n)++] = c;
        added++;
    }
    return added;
}

static int list_get(cs_src *s, const char *path, http_response *r, jv **v, cm_err *err)
{
    if (get_json(s, path, r, v, err) < 0)
        return cm_err_prefix(err, "%s: listing collections", s->url);
    if (r->status != 200) {
        answer_error(s, err, r, "%s: GET %s", s->url, path);
        http_response_free(r);
        jv_free(*v);
        return -1;
    }
    return 0;
}

static char *count_collections_path(const cs_src *s)
{
    if (s->route.gen == CS_GEN_V2) {
        char *p = cs_path_collections(&s->route, -1, 0);
        size_t n = strlen(p);
        p = xrealloc(p, n + 7);
        memcpy(p + n, "_count", 7);
        return p;
    }
    /* v1: /api/v1/count_collections[?tenant=&database=] */
    char *p = cs_path_collections(&s->route, -1, 0);
    const char *q = strchr(p, '?');
    size_t need = strlen("/api/v1/count_collections") + (q ? strlen(q) : 0) + 1;
    char *o = xmalloc(need);
    snprintf(o, need, "/api/v1/count_collections%s", q ? q : "");
    free(p);
    return o;
}

static int src_list(cm_source *base, cm_collection **out, size_t *nout, cm_err *err)
{
    cs_src *s = (cs_src *)base;
    *out = NULL;
    *nout = 0;
    cm_collection *cols = NULL;
    size_t n = 0, cap = 0;
    char *notes = NULL;
    http_response r;
    jv *v = NULL;
    if (s->route.gen == CS_GEN_03) {
        char *p = cs_path_collections(&s->route, -1, 0);
        int rc = list_get(s, p, &r, &v, err);
        free(p);
        if (rc < 0)
            return -1;
        long got = take_list(s, v, &cols, &n, &cap, &notes, err);
        http_response_free(&r);
        jv_free(v);
        if (got < 0)
            goto fail;
    } else {
        long off = 0;
        for (;;) {
            char *p = cs_path_collections(&s->route, LIST_PAGE, off);
            int rc = list_get(s, p, &r, &v, err);
            free(p);
            if (rc < 0)
                goto fail;
            size_t in_page = v && v->type == JV_ARRAY ? v->u.arr.n : 0;
            long added = take_list(s, v, &cols, &n, &cap, &notes, err);
            http_response_free(&r);
            jv_free(v);
            if (added < 0)
                goto fail;
            /* Done when a page brings nothing new: an empty page, or a server
             * that ignores limit/offset sending the same list again. A short
             * page is not the end (a server may cap the page size). */
            if (in_page == 0 || added == 0)
                break;
            off += (long)in_page;
        }
        /* Pages in no fixed order could miss one: compare with the count,
         * and read the list whole if it differs. */
        char *cp = count_collections_path(s);
        int rc = get_json(s, cp, &r, &v, err);
        free(cp);
        if (rc < 0)
            goto fail;
        if (r.status == 200 && v && v->type == JV_INT && v->u.i != (int64_t)n) {
            int64_t counted = v->u.i;
            http_response_free(&r);
            jv_free(v);
            char *p = cs_path_collections(&s->route, -1, 0);
            rc = list_get(s, p, &r, &v, err);
            free(p);
            if (rc < 0)
                goto fail;
            free(notes);
            notes = NULL;
            free_cols(cols, n);
            cols = NULL;
            n = cap = 0;
            long got = take_list(s, v, &cols, &n, &cap, &notes, err);
            http_response_free(&r);
            jv_free(v);
            if (got < 0)
                goto fail;
            if (counted != (int64_t)n) {
                cm_err_set(err,
                           "%s: the server lists %zu collections but counts %lld; were collections created or "
                           "deleted meanwhile? run again when nobody changes them",
                           s->url, n, (long long)counted);
                goto fail;
            }
        } else {
            http_response_free(&r);
            jv_free(v);
        }
    }
    for (size_t i = 0; i < n; i++) {
        char *p = cs_path_record(&s->route, cols[i].id, "count");
        int rc = get_json(s, p, &r, &v, err);
        free(p);
        if (rc < 0) {
            cm_err_prefix(err, "%s, collection '%s': counting its records", s->url, cols[i].name);
            goto fail;
        }
        if (r.status != 200 || !v || v->type != JV_INT || v->u.i < 0) {
            if (r.status != 200)
                answer_error(s, err, &r, "%s, collection '%s': counting its records", s->url, cols[i].name);
            else
                cm_err_set(err, "%s, collection '%s': the count of its records is not a number", s->url,
                           cols[i].name);
            http_response_free(&r);
            jv_free(v);
            goto fail;
        }
        cols[i].count_hint = v->u.i;
        http_response_free(&r);
        jv_free(v);
    }
    free(s->list_notes);
    s->list_notes = notes;
    *out = cols;
    *nout = n;
    return 0;
fail:
    free(notes);
    free_cols(cols, n);
    return -1;
}

/* ---- reading: common ---- */

static int rd_fail(cm_reader *rd, cm_err *err)
{
    rd->failed = 1;
    return cm_err_prefix(err, "%s, collection '%s'", rd->s->url, rd->name);
}

/* fetch for cs_fetch_narrow: one synchronous get by ids. */
static int fetch_ids(void *ctx, const cs_str *ids, size_t n, cs_batch *out, char **why, cm_err *err)
{
    cm_reader *rd = ctx;
    cs_src *s = rd->s;
    size_t len;
    char *body = cs_body_get_ids(ids, n, 1, &len);
    http_response r;
    int rc = http_request(s->http, "POST", rd->get_path, body, len, &r, err);
    free(body);
    if (rc < 0)
        return -1;
    if (r.status == 200) {
        cm_err perr = {0};
        jv *v = json_parse(r.body ? r.body : "", r.len, &perr);
        if (!v) {
            http_response_free(&r);
            return cm_err_set(err, "POST %s: the answer is not JSON (%s)", rd->get_path, perr.msg);
        }
        size_t before = out->n;
        rc = cs_batch_from_get(v, out, why, err);
        jv_free(v);
        http_response_free(&r);
        if (rc == 0 && out->n > before)
            rd->found_by_id++;
        return rc;
    }
    if (r.status == 500) {
        int nan = nan_answer(&r);
        /* 0.3.x: a query error for one id is its repr read as a column name;
         * its rows are then looked for in the sorted collection (unless the
         * server fails every request). */
        if (!nan && n == 1 && s->route.gen == CS_GEN_03 && (++rd->refused_by_id < 12 || rd->found_by_id)) {
            http_response_free(&r);
            return 0;
        }
        *why = server_text(s, &r);
        http_response_free(&r);
        return nan ? 1 : 2;
    }
    answer_error(s, err, &r, "POST %s", rd->get_path);
    http_response_free(&r);
    return -1;
}

/* New entries of the bad set get their row count from the list. */
static void count_bad_rows(cs_badset *bad, size_t from, const cs_idlist *l)
{
    for (size_t k = from; k < bad->n; k++) {
        const strmap_val *v = strmap_get(l->m, bad->ids[k], bad->lens[k]);
        bad->rows[k] = v ? v->count : 1;
    }
}

/* Records of positions [0, l->n) of a list whose request failed as a whole
 * (known: 1 row-level, 2 other; why its message), narrowed down. */
static int narrow_list(cm_reader *rd, const cs_idlist *l, size_t from, size_t to, const cs_str *ask, size_t nask,
                       int known, const char *why, int64_t row_base, cs_stash *stash, cm_err *err)
{
    cs_batch got = {0};
    size_t bad_before = rd->st->bad.n;
    int rc = cs_fetch_narrow(fetch_ids, rd, ask, nask, known, why, &got, &rd->st->bad, err);
    if (rc == 0) {
        count_bad_rows(&rd->st->bad, bad_before, l);
        rc = cs_assemble(l, from, to, &got, &rd->st->bad, stash, row_base, &rd->cur, err);
    }
    cs_batch_free(&got);
    return rc;
}

/* ---- reading 0.3.x: ids the server does not find by id ---- */

/* One POST of a get body (taken over): 0 with the records appended to out;
 * 1 when the server cannot send these rows (*why); -1 on other errors. */
static int post_records(cm_reader *rd, char *body, size_t len, cs_batch *out, char **why, cm_err *err)
{
    cs_src *s = rd->s;
    http_response r;
    int rc = http_request(s->http, "POST", rd->get_path, body, len, &r, err);
    free(body);
    if (rc < 0)
        return -1;
    if (r.status == 200) {
        cm_err perr = {0};
        jv *v = json_parse(r.body ? r.body : "", r.len, &perr);
        http_response_free(&r);
        if (!v)
            return cm_err_set(err, "POST %s: the answer is not JSON (%s)", rd->get_path, perr.msg);
        rc = cs_batch_from_get(v, out, why, err);
        jv_free(v);
        return rc;
    }
    if (nan_answer(&r)) {
        *why = server_text(s, &r);
        http_response_free(&r);
        return 1;
    }
    answer_error(s, err, &r, "POST %s (reading the collection for the ids the server does not find by id)",
                 rd->get_path);
    http_response_free(&r);
    return -1;
}

/* post_records of a sorted page (limit < 0: the whole collection). */
static int post_sorted(cm_reader *rd, long limit, long offset, int with_data, cs_batch *out, char **why, cm_err *err)
{
    size_t len;
    char *body = cs_body_get_sorted(limit, offset, with_data, &len);
    return post_records(rd, body, len, out, why, err);
}

/* A sorted page the server cannot send as a whole: its ids, then each
 * wanted row alone (limit 1); a row that still fails is one it cannot send.
 * *n: the rows of the page. */
static int scan_page_by_rows(cm_reader *rd, long limit, long offset, strmap *want, cs_batch *got, size_t *left,
                             size_t *n, cm_err *err)
{
    cs_batch ids = {0};
    char *why = NULL;
    int rc = post_sorted(rd, limit, offset, 0, &ids, &why, err);
    if (rc == 1)
        rc = cm_err_set(err, "the ids of records %ld to %ld sorted by uuid: the server cannot send them (%s)", offset,
                        offset + limit, why);
    free(why);
    *n = ids.n;
    for (size_t k = 0; rc == 0 && k < ids.n && *left; k++) {
        const cm_record *r = &ids.r[k];
        strmap_val *w = r->id ? strmap_get(want, r->id, r->id_len) : NULL;
        if (!w || !w->count)
            continue;
        cs_batch one = {0};
        char *w1 = NULL;
        rc = post_sorted(rd, 1, offset + (long)k, 1, &one, &w1, err);
        if (rc == 1) { /* the whole id counts as one the server cannot send */
            cs_badset_add(&rd->st->bad, r->id, r->id_len, w1);
            *left -= w->count;
            w->count = 0;
            rc = 0;
        } else if (rc == 0) {
            *left -= cs_take_wanted(&one, want, got);
        }
        free(w1);
        cs_batch_free(&one);
    }
    cs_batch_free(&ids);
    return rc;
}

/* The wanted rows from the collection sorted by uuid, page by page, until
 * all are found or the collection ends. */
static int scan_sorted(cm_reader *rd, strmap *want, cs_batch *got, size_t *left, cm_err *err)
{
    long page = rd->page, offset = 0;
    while (*left) {
        size_t n;
        cs_batch pg = {0};
        char *why = NULL;
        int rc = post_sorted(rd, page, offset, 1, &pg, &why, err);
        n = pg.n;
        if (rc == 0)
            *left -= cs_take_wanted(&pg, want, got);
        else if (rc == 1)
            rc = scan_page_by_rows(rd, page, offset, want, got, left, &n, err);
        free(why);
        cs_batch_free(&pg);
        if (rc < 0)
            return -1;
        if ((long)n < page)
            break;
        offset += (long)n;
    }
    return 0;
}

/* Ids stored more than once: their copies in stored order come only in one
 * answer for the whole collection. */
static int scan_whole(cm_reader *rd, strmap *want, cs_batch *got, size_t *left, cm_err *err)
{
    cs_batch all = {0};
    char *why = NULL;
    int rc = post_sorted(rd, -1, 0, 1, &all, &why, err);
    if (rc == 0)
        *left -= cs_take_wanted(&all, want, got);
    else if (rc == 1) {
        rc = cm_err_set(err,
                        "some ids stored more than once are not found by id on this server (chromadb 0.3.x writes "
                        "ids into its query with Python's repr()), and the whole collection, the only answer with "
                        "their copies in stored order, cannot be sent (%s); read the store behind the server "
                        "directly",
                        why);
        cm_err_mark(err, CM_ERR_INVALID_DATA, CM_HINT_FROM_CLICKHOUSE, NULL);
    }
    free(why);
    cs_batch_free(&all);
    return rc;
}

/* After a chunk's rows came by id (got): the ids that got no row are looked
 * for in the whole collection; then got keeps only rows of the ids asked. */
static int find_unfound_03(cm_reader *rd, size_t from, size_t to, cs_batch *got, cm_err *err)
{
    strmap *want = strmap_new();
    int dups, rc = 0;
    size_t bad_before = rd->st->bad.n;
    size_t left = cs_missing_ids(&rd->ids, from, to, got, &rd->st->bad, want, &dups);
    if (left) {
        rd->unfound_ids += (int64_t)strmap_size(want);
        rc = dups ? scan_whole(rd, want, got, &left, err) : scan_sorted(rd, want, got, &left, err);
    }
    count_bad_rows(&rd->st->bad, bad_before, &rd->ids);
    cs_keep_asked(got, &rd->ids, from, to, &rd->st->bad);
    strmap_free(want);
    return rc;
}

/* ---- reading 0.3.x: ids first, then by id ---- */

static int submit_chunk_03(cm_reader *rd, cm_err *err)
{
    cs_idlist *l = &rd->ids;
    size_t from = rd->pos, to = from, bytes = 0;
    while (to < l->n && (long)(to - from) < rd->page && bytes < MAX_ID_BYTES_03) {
        if (l->len[to] != CS_NULL_ID && l->occ[to] == 0)
            bytes += l->len[to] + 4;
        to++;
    }
    free(rd->pend_ids);
    rd->pend_nids = cs_ids_to_fetch(l, from, to, &rd->st->bad, &rd->pend_ids);
    rd->pend_from = from;
    rd->pend_to = to;
    if (rd->pend_nids == 0)
        return 0; /* nothing to ask (placeholders and later copies only) */
    size_t len;
    char *body = cs_body_get_ids(rd->pend_ids, rd->pend_nids, 1, &len);
    return slot_submit(rd->s, &rd->pend, rd->get_path, body, len, err);
}

/* Narrows down a chunk whose request failed as a whole (known: 1 row-level,
 * 2 other; why its message) into got. */
static int narrow_chunk_03(cm_reader *rd, int known, const char *why, cs_batch *got, cm_err *err)
{
    size_t bad_before = rd->st->bad.n;
    int rc = cs_fetch_narrow(fetch_ids, rd, rd->pend_ids, rd->pend_nids, known, why, got, &rd->st->bad, err);
    if (rc == 0)
        count_bad_rows(&rd->st->bad, bad_before, &rd->ids);
    return rc;
}

/* The answer for the pending chunk into got; *direct: it came whole. */
static int take_chunk_03(cm_reader *rd, cs_batch *got, size_t *answer_bytes, int *direct, cm_err *err)
{
    cs_src *s = rd->s;
    http_response r;
    if (slot_take(s, &rd->pend, &r, err) < 0)
        return -1;
    *answer_bytes = r.len;
    *direct = 0;
    char *why = NULL;
    int rc;
    if (r.status == 200) {
        cm_err perr = {0};
        jv *v = json_parse(r.body ? r.body : "", r.len, &perr);
        http_response_free(&r);
        if (!v)
            return cm_err_set(err, "POST %s: the answer is not JSON (%s)", rd->get_path, perr.msg);
        rc = cs_batch_from_get(v, got, &why, err);
        jv_free(v);
        if (rc == 1) {
            cs_batch_reset(got);
            rc = narrow_chunk_03(rd, 1, why, got, err);
        } else if (rc == 0) {
            *direct = 1;
            rd->found_by_id += got->n > 0;
        }
    } else if (r.status == 500) {
        int known = nan_answer(&r) ? 1 : 2;
        why = server_text(s, &r);
        http_response_free(&r);
        rc = narrow_chunk_03(rd, known, why, got, err);
    } else {
        answer_error(s, err, &r, "POST %s", rd->get_path);
        http_response_free(&r);
        return -1;
    }
    free(why);
    return rc;
}

static int next_chunk_03(cm_reader *rd, cm_err *err)
{
    if (!rd->pend.busy && rd->pend_to <= rd->pos && submit_chunk_03(rd, err) < 0)
        return -1;
    size_t from = rd->pend_from, to = rd->pend_to, answer_bytes = 0;
    cs_batch got = {0};
    int rc = 0, direct = 0;
    if (rd->pend_nids > 0) {
        rc = take_chunk_03(rd, &got, &answer_bytes, &direct, err);
        if (rc == 0)
            rc = find_unfound_03(rd, from, to, &got, err);
    }
    size_t got_n = got.n;
    if (rc == 0)
        rc = cs_assemble(&rd->ids, from, to, &got, &rd->st->bad, &rd->stash, 0, &rd->cur, err);
    cs_batch_free(&got);
    if (rc < 0)
        return -1;
    if (direct && got_n)
        rd->page = cs_next_page(rd->page, answer_bytes, got_n, TARGET_BYTES, 1, MAX_CHUNK_03);
    rd->pos = to;
    if (rd->pos < rd->ids.n && submit_chunk_03(rd, err) < 0)
        return -1;
    return 0;
}

static int open_03(cm_reader *rd, const cm_collection *c, cm_err *err)
{
    cs_src *s = rd->s;
    /* every id: no "ids", no limit (0.3.x paging is not stable) */
    static const char all_ids[] = "{\"include\":[]}";
    http_response r;
    if (http_request(s->http, "POST", rd->get_path, all_ids, sizeof all_ids - 1, &r, err) < 0)
        return -1;
    if (r.status != 200) {
        answer_error(s, err, &r, "listing the ids (POST %s)", rd->get_path);
        http_response_free(&r);
        return -1;
    }
    cm_err perr = {0};
    jv *v = json_parse(r.body ? r.body : "", r.len, &perr);
    http_response_free(&r);
    if (!v)
        return cm_err_set(err, "listing the ids: the answer is not JSON (%s)", perr.msg);
    int rc = cs_idlist_from_json(&rd->ids, jv_get(v, "ids"), err);
    jv_free(v);
    if (rc < 0)
        return cm_err_prefix(err, "listing the ids");
    if (c->count_hint >= 0 && (int64_t)rd->ids.n != c->count_hint)
        return cm_err_set(err,
                          "the server listed %zu ids but counted %lld records a moment before; the collection "
                          "changed while it was read (stop writing to it and run again)",
                          rd->ids.n, (long long)c->count_hint);
    coll_state *st = rd->st;
    if (st->complete && (st->fp != rd->ids.fp || st->n != (int64_t)rd->ids.n))
        return cm_err_set(err, "its ids changed since it was read before (%lld then, %zu now); stop writing to it "
                               "and run again",
                          (long long)st->n, rd->ids.n);
    int64_t nulls = 0;
    for (size_t i = 0; i < rd->ids.n; i++)
        nulls += rd->ids.len[i] == CS_NULL_ID;
    st->bad.no_id_rows = nulls;
    cs_stash_init(&rd->stash);
    rd->pos = 0;
    if (rd->ids.n && submit_chunk_03(rd, err) < 0)
        return -1;
    return 0;
}

/* ---- reading v1/v2: pages ---- */

static int submit_page(cm_reader *rd, cm_err *err)
{
    size_t len;
    char *body = cs_body_get_page(rd->page, rd->offset, 1, &len);
    rd->pend_limit = rd->page;
    return slot_submit(rd->s, &rd->pend, rd->get_path, body, len, err);
}

/* The page's records could not be read as a whole: its ids (from the answer
 * when there is one, else asked for), then narrowed down by id. */
static int page_by_ids(cm_reader *rd, const jv *ids_json, int known, const char *why, cm_err *err)
{
    cs_src *s = rd->s;
    cs_idlist l;
    cs_idlist_init(&l);
    jv *v = NULL;
    int rc = 0;
    if (!ids_json) {
        size_t len;
        char *body = cs_body_get_page(rd->pend_limit, rd->offset, 0, &len);
        http_response r;
        rc = http_request(s->http, "POST", rd->get_path, body, len, &r, err);
        free(body);
        if (rc < 0)
            goto out;
        if (r.status != 200) {
            answer_error(s, err, &r, "POST %s (the ids of records %ld to %ld)", rd->get_path, rd->offset,
                         rd->offset + rd->pend_limit);
            http_response_free(&r);
            rc = -1;
            goto out;
        }
        cm_err perr = {0};
        v = json_parse(r.body ? r.body : "", r.len, &perr);
        http_response_free(&r);
        if (!v) {
            rc = cm_err_set(err, "POST %s: the answer is not JSON (%s)", rd->get_path, perr.msg);
            goto out;
        }
        ids_json = jv_get(v, "ids");
    }
    if ((rc = cs_idlist_from_json(&l, ids_json, err)) < 0)
        goto out;
    cs_str *ask;
    size_t nask = cs_ids_to_fetch(&l, 0, l.n, &rd->st->bad, &ask);
    cs_stash stash;
    cs_stash_init(&stash);
    size_t before = rd->cur.n;
    rc = narrow_list(rd, &l, 0, l.n, ask, nask, known, why, rd->offset, &stash, err);
    free(ask);
    cs_stash_free(&stash);
    if (rc == 0 && rd->cur.n - before != l.n)
        rc = cm_err_set(err, "internal error: %zu records for %zu ids", rd->cur.n - before, l.n);
out:
    jv_free(v);
    cs_idlist_free(&l);
    return rc;
}

static int next_page(cm_reader *rd, cm_err *err)
{
    cs_src *s = rd->s;
    if (!rd->pend.busy && submit_page(rd, err) < 0)
        return -1;
    http_response r;
    if (slot_take(s, &rd->pend, &r, err) < 0)
        return -1;
    size_t before = rd->cur.n, answer_bytes = r.len;
    int rc;
    if (r.status == 200) {
        cm_err perr = {0};
        jv *v = json_parse(r.body ? r.body : "", r.len, &perr);
        http_response_free(&r);
        if (!v)
            return cm_err_set(err, "POST %s: the answer is not JSON (%s)", rd->get_path, perr.msg);
        char *why = NULL;
        rc = cs_batch_from_get(v, &rd->cur, &why, err);
        if (rc == 1) {
            rc = page_by_ids(rd, jv_get(v, "ids"), 1, why, err);
        } else if (rc == 0) {
            for (size_t i = before; i < rd->cur.n; i++)
                rd->cur.r[i].src_row = rd->offset + (int64_t)(i - before);
        }
        free(why);
        jv_free(v);
    } else if (r.status == 500) {
        int known = nan_answer(&r) ? 1 : 2;
        char *why = server_text(s, &r);
        http_response_free(&r);
        rc = page_by_ids(rd, NULL, known, why, err);
        free(why);
    } else {
        answer_error(s, err, &r, "POST %s (records %ld to %ld)", rd->get_path, rd->offset,
                     rd->offset + rd->pend_limit);
        http_response_free(&r);
        return -1;
    }
    if (rc < 0)
        return -1;
    size_t got = rd->cur.n - before;
    rd->offset += (long)got;
    /* A short page ends the collection once the count is reached (a server
     * may cap the page size); past the count is an error finish() reports. */
    if (got == 0 || ((long)got < rd->pend_limit && (rd->expected < 0 || rd->offset >= rd->expected)) ||
        (rd->expected >= 0 && rd->offset > rd->expected)) {
        rd->last = 1;
        return 0;
    }
    rd->page = cs_next_page(rd->page, answer_bytes, got, TARGET_BYTES, 1, MAX_PAGE);
    return submit_page(rd, err);
}

/* ---- the reader ---- */

static void rd_close(cm_reader *rd)
{
    if (!rd)
        return;
    slot_drop(rd->s, &rd->pend);
    cs_batch_free(&rd->cur);
    cs_idlist_free(&rd->ids);
    if (rd->stash.m)
        cs_stash_free(&rd->stash);
    free(rd->pend_ids);
    free(rd->get_path);
    free(rd->name);
    free(rd);
}

static cm_reader *src_open(cm_source *base, const cm_collection *c, cm_err *err)
{
    cs_src *s = (cs_src *)base;
    if (!c->id || !c->id[0]) {
        cm_err_set(err, "%s, collection '%s': no collection id", s->url, c->name);
        return NULL;
    }
    cm_reader *rd = xcalloc(1, sizeof *rd);
    rd->s = s;
    rd->st = state_of(s, c);
    rd->name = xstrdup(c->name);
    rd->get_path = cs_path_record(&s->route, c->id, "get");
    rd->page = FIRST_PAGE;
    rd->fp = CS_FP_INIT;
    rd->expected = c->count_hint;
    cs_idlist_init(&rd->ids);
    int rc;
    if (s->route.gen == CS_GEN_03) {
        rc = open_03(rd, c, err);
    } else {
        rc = submit_page(rd, err);
    }
    if (rc < 0) {
        cm_err_prefix(err, "%s, collection '%s'", s->url, c->name);
        rd_close(rd);
        return NULL;
    }
    return rd;
}

static int finish(cm_reader *rd, cm_err *err)
{
    coll_state *st = rd->st;
    if (rd->s->route.gen != CS_GEN_03) {
        if (rd->expected >= 0 && rd->handed != rd->expected)
            return cm_err_set(err,
                              "read %lld records but the server counted %lld; the collection changed while it was "
                              "read (stop writing to it and run again)",
                              (long long)rd->handed, (long long)rd->expected);
        if (st->complete && (st->fp != rd->fp || st->n != rd->handed))
            return cm_err_set(err,
                              "its records came in another order or changed since it was read before; stop writing "
                              "to it and run again");
        st->fp = rd->fp;
    } else {
        st->fp = rd->ids.fp;
        st->unfound_ids = rd->unfound_ids;
    }
    st->n = rd->handed;
    st->complete = 1;
    return 0;
}

static int rd_next(cm_reader *rd, cm_record *r, cm_err *err)
{
    if (rd->failed)
        return cm_err_set(err, "%s, collection '%s': reading stopped after an error", rd->s->url, rd->name);
    if (rd->ended)
        return 0;
    while (rd->curi >= rd->cur.n) {
        cs_batch_reset(&rd->cur);
        rd->curi = 0;
        int more = rd->s->route.gen == CS_GEN_03 ? rd->pos < rd->ids.n : !rd->last;
        if (!more) {
            rd->ended = 1;
            if (finish(rd, err) < 0)
                return rd_fail(rd, err);
            return 0;
        }
        int rc = rd->s->route.gen == CS_GEN_03 ? next_chunk_03(rd, err) : next_page(rd, err);
        if (rc < 0)
            return rd_fail(rd, err);
    }
    cm_record *src = &rd->cur.r[rd->curi++];
    cm_record_clear(r);
    cm_meta_free(&r->meta);
    *r = *src;
    memset(src, 0, sizeof *src);
    rd->fp = cs_fp_add(rd->fp, r->id, r->id ? r->id_len : CS_NULL_ID);
    rd->handed++;
    return 1;
}

/* ---- the source ---- */

static void notes_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...) CM_PRINTF(4, 5);
static void notes_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    *buf = xgrow(*buf, cap, *len + (size_t)n + 1, 1);
    vsnprintf(*buf + *len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    *len += (size_t)n;
}

static const char *src_notes(cm_source *base)
{
    cs_src *s = (cs_src *)base;
    free(s->notes);
    s->notes = NULL;
    size_t len = 0, cap = 0;
    if (s->route.gen == CS_GEN_03)
        notes_add(&s->notes, &len, &cap,
                  "chromadb %s server (REST API of 0.3.x): the ids of each collection are listed first and the "
                  "records fetched by id, because limit/offset paging skips and repeats rows on its ClickHouse "
                  "backend; records come in the order the server listed their ids (duplicate-id policy 'first' keeps "
                  "the copy listed first)",
                  s->version);
    else
        notes_add(&s->notes, &len, &cap, "Chroma server %s (REST API %s%s), tenant '%s', database '%s'", s->version,
                  gen_name(s), s->route.gen == CS_GEN_V2 ? (s->major >= 1 ? ", Rust" : ", Python") : "", s->tenant,
                  s->database);
    if (s->list_notes)
        notes_add(&s->notes, &len, &cap, "; %s", s->list_notes);
    for (size_t i = 0; i < s->ncols; i++) {
        const coll_state *st = &s->cols[i];
        const cs_badset *b = &st->bad;
        if (b->n) {
            int64_t rows = 0;
            int nan = 0;
            for (size_t k = 0; k < b->n; k++) {
                rows += b->rows[k];
                nan |= strstr(b->why[k], "JSON compliant") || strstr(b->why[k], "Out of range float") ? 1 : 0;
            }
            notes_add(&s->notes, &len, &cap,
                      "; collection '%s': %lld record%s the server cannot send (it answered %s): id%s ", st->name,
                      (long long)rows, rows == 1 ? "" : "s", b->why[0], b->n == 1 ? "" : "s");
            for (size_t k = 0; k < b->n && k < 20; k++)
                notes_add(&s->notes, &len, &cap, "%s'%.*s'", k ? ", " : "", (int)(b->lens[k] > 100 ? 100 : b->lens[k]),
                          b->ids[k]);
            if (b->n > 20)
                notes_add(&s->notes, &len, &cap, " and %zu more", b->n - 20);
            /* flag-ok: a source note (text for the report); structured notes are still to come */
            notes_add(&s->notes, &len, &cap,
                      "; %s named as %s the server could not send (not as without an embedding), so the run "
                      "stops unless --skip-invalid-records leaves %s out",
                      rows == 1 ? "it is" : "they are", rows == 1 ? "a record" : "records", rows == 1 ? "it" : "them");
            if (s->route.gen == CS_GEN_03)
                /* flag-ok: a source note (text for the report); structured notes are still to come */
                notes_add(&s->notes, &len, &cap,
                          "; to migrate %s too, read the store behind this server directly, which reads %s as "
                          "stored: its ClickHouse database (--from clickhouse://HOST:8123, the host and port of its "
                          "clickhouse_host and clickhouse_port settings) or, for the duckdb+parquet backend, its "
                          "persist_directory",
                          rows == 1 ? "it" : "them", nan ? "NaN and Infinity" : "every row");
            else
                notes_add(&s->notes, &len, &cap, "; to migrate %s, fix or delete %s on the server first%s",
                          rows == 1 ? "it" : "them", rows == 1 ? "it" : "them",
                          nan ? " (NaN or Infinity in the embedding or metadata)" : "");
        }
        if (st->unfound_ids)
            notes_add(&s->notes, &len, &cap,
                      "; collection '%s': %lld id%s the server does not find by id (chromadb 0.3.x writes ids "
                      "into its ClickHouse query with Python's repr(), which ClickHouse reads as other text for "
                      "non-printable characters and for ids with ' but no \"); %s read from the whole "
                      "collection instead",
                      st->name, (long long)st->unfound_ids, st->unfound_ids == 1 ? "" : "s",
                      st->unfound_ids == 1 ? "its rows were" : "their rows were");
        if (b->no_id_rows)
            /* flag-ok: a source note (text for the report); structured notes are still to come */
            notes_add(&s->notes, &len, &cap,
                      "; collection '%s': %lld row%s without an id, which the server cannot send by id; they are "
                      "counted as records without an id; to see them, read the store behind this server directly "
                      "(--from clickhouse://HOST:8123, or its persist_directory)",
                      st->name, (long long)b->no_id_rows, b->no_id_rows == 1 ? "" : "s");
    }
    return s->notes;
}

static void src_destroy(cm_source *base)
{
    cs_src *s = (cs_src *)base;
    if (!s)
        return;
    http_client_free(s->http);
    http_headers_free(&s->headers);
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->cols[i].id);
        free(s->cols[i].name);
        cs_badset_free(&s->cols[i].bad);
    }
    free(s->cols);
    free(s->url);
    free(s->tenant);
    free(s->database);
    free(s->list_notes);
    free(s->notes);
    free(s->base.location);
    free(s);
}

static const cm_source_ops ops_03 = {
    .kind = "chromadb 0.3.x server (REST API)",
    .list = src_list,
    .open = src_open,
    .next = rd_next,
    .close = rd_close,
    .notes = src_notes,
    .destroy = src_destroy,
};
static const cm_source_ops ops_v1 = {
    .kind = "Chroma server (REST API v1)",
    .list = src_list,
    .open = src_open,
    .next = rd_next,
    .close = rd_close,
    .notes = src_notes,
    .destroy = src_destroy,
};
static const cm_source_ops ops_v2 = {
    .kind = "Chroma server (REST API v2)",
    .list = src_list,
    .open = src_open,
    .next = rd_next,
    .close = rd_close,
    .notes = src_notes,
    .destroy = src_destroy,
};

int chroma_server_detect(const char *spec)
{
    return strncasecmp(spec, "http://", 7) == 0 || strncasecmp(spec, "https://", 8) == 0;
}

static int check_name(const char *what, const char *v, cm_err *err)
{
    if (!*v)
        return cm_err_set(err, "the %s needs a name", what);
    for (const char *q = v; *q; q++)
        if ((unsigned char)*q < ' ' || *q == 0x7f)
            return cm_err_set(err, "the %s name has a control character", what);
    return 0;
}

static cm_source *open_server(const char *spec, const cm_source_opts *opts, const http_headers *parsed,
                              cm_err *err)
{
    cs_src *s = xcalloc(1, sizeof *s);
    s->base.ops = &ops_v2;
    int https = 0;
    if (http_base_url(spec, &s->url, &https, err) < 0) {
        /* The advice about credentials in the URL is the source's. */
        cm_err_mark(err, CM_ERR_SOURCE_SPEC,
                    err->hint == CM_HINT_HEADER_NOT_URL ? CM_HINT_FROM_HEADER_NOT_URL : CM_HINT_FROM_SPEC, NULL);
        free(s);
        return NULL;
    }
    s->base.location = xstrdup(s->url);
    const char *tenant = opts && opts->tenant ? opts->tenant : NULL;
    const char *database = opts && opts->database ? opts->database : NULL;
    if ((tenant && check_name("tenant", tenant, err) < 0) || (database && check_name("database", database, err) < 0))
        goto fail;
    s->tenant_given = (tenant && strcmp(tenant, DEFAULT_TENANT) != 0) ||
                      (database && strcmp(database, DEFAULT_DATABASE) != 0);
    s->tenant = xstrdup(tenant ? tenant : DEFAULT_TENANT);
    s->database = xstrdup(database ? database : DEFAULT_DATABASE);
    s->route.tenant = s->tenant;
    s->route.database = s->database;
    for (size_t i = 0; opts && i < opts->nheaders; i++)
        if (http_headers_add_line(&s->headers, opts->headers[i], err) < 0)
            goto fail;
    for (size_t i = 0; parsed && i < parsed->n; i++) {
        s->headers.h = xrealloc(s->headers.h, (s->headers.n + 1) * sizeof *s->headers.h);
        s->headers.h[s->headers.n].name = xstrdup(parsed->h[i].name);
        s->headers.h[s->headers.n++].value = xstrdup(parsed->h[i].value);
    }
    if (!https && opts && (opts->cacert || opts->insecure)) {
        cm_err_set(err, "%s is http://: the certificate options apply to https:// servers only", s->url);
        goto fail;
    }
    http_opts ho = {
        .base_url = s->url,
        .headers = &s->headers,
        .cacert = opts ? opts->cacert : NULL,
        .insecure = opts ? opts->insecure : 0,
        .max_inflight = 2,
    };
    if (!(s->http = http_client_new(&ho, err)))
        goto fail;
    if (detect(s, err) < 0 || check_place(s, err) < 0)
        goto fail;
    s->base.ops = s->route.gen == CS_GEN_03 ? &ops_03 : s->route.gen == CS_GEN_V1 ? &ops_v1 : &ops_v2;
    return &s->base;
fail:
    src_destroy(&s->base);
    return NULL;
}

cm_source *chroma_server_open(const char *spec, const cm_source_opts *opts, cm_err *err)
{
    return open_server(spec, opts, NULL, err);
}

/* ---- the server as the target of a migration, for verify ---- */

cm_source *chroma_server_open_target(const char *spec, const cm_source_opts *opts, const http_headers *headers,
                                     cm_err *err)
{
    cm_source *src = open_server(spec, opts, headers, err);
    if (src && ((cs_src *)src)->route.gen == CS_GEN_03) {
        cm_err_set(err, "%s is a chromadb 0.3.x server, which is never the target of a migration", src->location);
        src_destroy(src);
        return NULL;
    }
    return src;
}

/* One POST of a record route; 0 with *out parsed from a 200 answer. */
static int post_json(cs_src *s, const cm_collection *c, const char *op, const char *body, size_t len, jv **out,
                     cm_err *err)
{
    char *path = cs_path_record(&s->route, c->id, op);
    http_response r = {0};
    int rc = http_request(s->http, "POST", path, body, len, &r, err);
    if (rc == 0 && r.status != 200)
        rc = answer_error(s, err, &r, "POST %s, collection '%s'", path, c->name);
    if (rc == 0) {
        cm_err perr = {0};
        if (!(*out = json_parse(r.body ? r.body : "", r.len, &perr)))
            rc = cm_err_set(err, "POST %s: the answer is not JSON (%s)", path, perr.msg);
    }
    http_response_free(&r);
    free(path);
    return rc < 0 ? -1 : 0;
}

int chroma_server_get_ids(cm_source *base, const cm_collection *c, const cs_str *ids, size_t n, cs_batch *out,
                          cm_err *err)
{
    size_t len;
    char *body = cs_body_get_ids(ids, n, 1, &len);
    jv *v = NULL;
    int rc = post_json((cs_src *)base, c, "get", body, len, &v, err);
    free(body);
    if (rc < 0)
        return -1;
    char *why = NULL;
    rc = cs_batch_from_get(v, out, &why, err);
    jv_free(v);
    if (rc == 1) {
        cm_err_set(err, "collection '%s': the server's get answer cannot be matched to its ids (%s)", c->name, why);
        rc = -1;
    }
    free(why);
    return rc < 0 ? -1 : 0;
}

int64_t chroma_server_count(cm_source *base, const cm_collection *c, cm_err *err)
{
    cs_src *s = (cs_src *)base;
    char *path = cs_path_record(&s->route, c->id, "count");
    http_response r = {0};
    jv *v = NULL;
    int64_t n = -1;
    if (get_json(s, path, &r, &v, err) == 0) {
        if (r.status != 200)
            answer_error(s, err, &r, "GET %s, collection '%s'", path, c->name);
        else if (!v || v->type != JV_INT || v->u.i < 0)
            cm_err_set(err, "GET %s: the count is not a number", path);
        else
            n = v->u.i;
        http_response_free(&r);
    }
    jv_free(v);
    free(path);
    return n;
}

/* {"query_embeddings":[[...],...],"n_results":K,"include":[...]} */
static void query_body(json_out *o, const float *q, size_t nq, size_t dim, int k, const char *include)
{
    jo_raw(o, "{\"query_embeddings\":[", 21);
    for (size_t i = 0; i < nq; i++) {
        jo_raw(o, i ? ",[" : "[", i ? 2 : 1);
        for (size_t j = 0; j < dim; j++) {
            char num[32];
            int l = snprintf(num, sizeof num, "%s%.9g", j ? "," : "", (double)q[i * dim + j]);
            jo_raw(o, num, (size_t)l);
        }
        jo_raw(o, "]", 1);
    }
    char tail[96];
    int l = snprintf(tail, sizeof tail, "],\"n_results\":%d,\"include\":[%s]}", k, include);
    jo_raw(o, tail, (size_t)l);
}

int chroma_server_rank(cm_source *base, const cm_collection *c, const float *q, size_t dim, int k, const char *id,
                       size_t id_len, int *rank, cm_err *err)
{
    json_out o = {0};
    query_body(&o, q, 1, dim, k, "");
    jv *v = NULL;
    int rc = post_json((cs_src *)base, c, "query", o.buf, o.len, &v, err);
    jo_free(&o);
    if (rc < 0)
        return -1;
    *rank = 0;
    const jv *jids = jv_get(v, "ids");
    const jv *a = jids && jids->type == JV_ARRAY && jids->u.arr.n == 1 ? jids->u.arr.items[0] : NULL;
    for (size_t i = 0; a && a->type == JV_ARRAY && i < a->u.arr.n && !*rank; i++) {
        const jv *e = a->u.arr.items[i];
        if (e->type == JV_STRING && e->u.str.len == id_len && memcmp(e->u.str.s, id, id_len) == 0)
            *rank = (int)i + 1;
    }
    jv_free(v);
    return 0;
}

int chroma_server_nearest(cm_source *base, const cm_collection *c, const float *q, size_t nq, size_t dim, char **ids,
                          double *dist, cm_err *err)
{
    json_out o = {0};
    query_body(&o, q, nq, dim, 1, "\"distances\"");
    jv *v = NULL;
    int rc = post_json((cs_src *)base, c, "query", o.buf, o.len, &v, err);
    jo_free(&o);
    if (rc < 0)
        return -1;
    const jv *jids = jv_get(v, "ids"), *jd = jv_get(v, "distances");
    rc = -1;
    if (jids && jd && jids->type == JV_ARRAY && jd->type == JV_ARRAY && jids->u.arr.n == nq && jd->u.arr.n == nq) {
        rc = 0;
        for (size_t i = 0; i < nq; i++) {
            const jv *a = jids->u.arr.items[i], *b = jd->u.arr.items[i];
            ids[i] = NULL;
            dist[i] = NAN; /* not -1: an ip distance (1 - dot) may well be negative */
            if (a->type == JV_ARRAY && a->u.arr.n > 0 && a->u.arr.items[0]->type == JV_STRING)
                ids[i] = xmemdup0(a->u.arr.items[0]->u.str.s, a->u.arr.items[0]->u.str.len);
            if (b->type == JV_ARRAY && b->u.arr.n > 0) {
                const jv *d = b->u.arr.items[0];
                dist[i] = d->type == JV_FLOAT ? d->u.f : d->type == JV_INT ? (double)d->u.i : NAN;
            }
        }
    } else {
        cm_err_set(err, "collection '%s': the query answer is not shaped as expected", c->name);
    }
    jv_free(v);
    return rc;
}
