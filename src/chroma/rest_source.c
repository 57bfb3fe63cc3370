/* rest_source.c - reads collections out of a running Chroma server over
 * its REST API (see rest_source.h for what is read how), through the REST
 * client (rest.h: probe, routes, JSON requests).
 *
 * Everything here follows docs/formats.md#rest-api-03 (chromadb 0.3.29 on
 * ClickHouse) and docs/formats.md#rest-api (0.4.24, 0.5.23, 0.6.3, Rust 1.0):
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

#include "../net/http.h"
#include "../util/mem.h"

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
    chroma_client cl; /* its http is this source's; url, sent, route point into it */
    http_headers headers;
    char *url;
    char *tenant, *database;
    int tenant_given;
    char version[48];
    char *list_notes;
    cm_note *notes; /* the last src_notes(), texts owned */
    size_t nnotes, notes_cap;
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

/* The 500 Python servers give for NaN/Infinity they stored. */
static int nan_text(const char *body)
{
    return strstr(body, "not JSON compliant") || strstr(body, "Out of range float values");
}

static int nan_answer(const http_response *r)
{
    return r->status == 500 && r->body && nan_text(r->body);
}

/* 500s that answer this very request and would answer it again: the NaN
 * rows above, and ClickHouse refusing the SQL chromadb 0.3.x made of the ids
 * (an id with ' read as a column name, docs/formats.md#rest-api-03). They
 * are narrowed down by splitting the request, not retried with backoff. */
static int final_500(long status, const char *body, size_t len)
{
    (void)status;
    (void)len;
    return nan_text(body) || strstr(body, "DB::Exception: Unknown identifier") ||
           strstr(body, "DB::Exception: Syntax error");
}

/* ---- requests ---- */

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
    if (http_submit(s->cl.http, "POST", path, body, len, slot_done, sl, err) < 0) {
        sl->busy = 0;
        return -1;
    }
    return 0;
}

/* Waits for the slot's answer (a POST of path); *a takes it over, a 2xx
 * one parsed. -1 when none came or a 2xx one is not JSON. */
static int slot_take(cs_src *s, slot *sl, const char *path, chroma_answer *a, cm_err *err)
{
    while (!sl->done)
        http_wait(s->cl.http, 0);
    sl->busy = 0;
    if (sl->failed) {
        *err = sl->err;
        return -1;
    }
    a->r = sl->resp;
    memset(&sl->resp, 0, sizeof sl->resp);
    return chroma_answer_parse(&s->cl, "POST", path, a, err);
}

static void slot_drop(cs_src *s, slot *sl)
{
    if (sl->busy && !sl->done)
        http_cancel_all(s->cl.http);
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
    return s->cl.route.api == CHROMA_API_03 ? "0.3.x" : chroma_api_is_v2(s->cl.route.api) ? "v2" : "v1";
}

static int detect(cs_src *s, cm_err *err)
{
    chroma_server_id id;
    http_client_set_budget(s->cl.http, 10); /* a wrong address fails fast */
    if (chroma_probe(&s->cl, &id, err) < 0)
        return -1;
    memcpy(s->version, id.version, sizeof s->version);
    http_client_set_budget(s->cl.http, 120);
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
    char *p = chroma_path_databases(&s->cl.route);
    chroma_answer a;
    cm_err e2 = {0};
    if (chroma_request(&s->cl, "GET", p, NULL, 0, &a, &e2) == 0) {
        const jv *v = a.v;
        if (a.r.status == 200 && v && v->type == JV_ARRAY) {
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
        chroma_answer_free(&a);
    }
    free(p);
}

/* The tenant and database exist (where the server has them). */
static int check_place(cs_src *s, cm_err *err)
{
    if (!chroma_api_has_tenants(s->cl.route.api)) {
        if (s->tenant_given)
            return cm_err_set(err,
                              "%s is a chromadb %s server, which has no tenants or databases (they came in 0.4.15); "
                              "leave out the tenant and database options",
                              s->url, s->version);
        return 0;
    }
    char *p = chroma_path_database(&s->cl.route);
    chroma_answer a;
    int rc = chroma_request(&s->cl, "GET", p, NULL, 0, &a, err);
    free(p);
    if (rc < 0)
        return cm_err_prefix(err, "%s", s->url);
    if (a.r.status == 200) {
        chroma_answer_free(&a);
        return 0;
    }
    chroma_answer_error(&s->cl, err, &a.r, "%s: looking up tenant '%s', database '%s'", s->url, s->tenant,
                        s->database);
    chroma_answer_free(&a);
    if (chroma_api_is_v2(s->cl.route.api))
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

/* GET of a collection list page (path), which must answer 200. */
static int list_get(cs_src *s, const char *path, chroma_answer *a, cm_err *err)
{
    if (chroma_request(&s->cl, "GET", path, NULL, 0, a, err) < 0)
        return cm_err_prefix(err, "%s: listing collections", s->url);
    if (a->r.status != 200) {
        chroma_answer_error(&s->cl, err, &a->r, "%s: GET %s", s->url, path);
        chroma_answer_free(a);
        return -1;
    }
    return 0;
}

/* The list in pages of LIST_PAGE (limit < 0: the whole list in one GET),
 * appended to cols. */
static int list_read(cs_src *s, long limit, cm_collection **cols, size_t *n, size_t *cap, char **notes, cm_err *err)
{
    for (long off = 0;;) {
        char *p = chroma_path_collections(&s->cl.route, NULL, limit, off);
        chroma_answer a;
        int rc = list_get(s, p, &a, err);
        free(p);
        if (rc < 0)
            return -1;
        size_t in_page = a.v && a.v->type == JV_ARRAY ? a.v->u.arr.n : 0;
        long added = take_list(s, a.v, cols, n, cap, notes, err);
        chroma_answer_free(&a);
        if (added < 0)
            return -1;
        /* Done when a page brings nothing new: an empty page, or a server
         * that ignores limit/offset sending the same list again. A short
         * page is not the end (a server may cap the page size). */
        if (limit < 0 || in_page == 0 || added == 0)
            return 0;
        off += (long)in_page;
    }
}

/* Pages in no fixed order could miss one: compares the list with the
 * server's count, and reads the list whole if it differs. */
static int list_recount(cs_src *s, cm_collection **cols, size_t *n, size_t *cap, char **notes, cm_err *err)
{
    char *cp = chroma_path_count_collections(&s->cl.route);
    chroma_answer a;
    int rc = chroma_request(&s->cl, "GET", cp, NULL, 0, &a, err);
    free(cp);
    if (rc < 0)
        return -1;
    int differs = a.r.status == 200 && a.v && a.v->type == JV_INT && a.v->u.i != (int64_t)*n;
    int64_t counted = differs ? a.v->u.i : 0;
    chroma_answer_free(&a);
    if (!differs)
        return 0;
    free(*notes);
    *notes = NULL;
    free_cols(*cols, *n);
    *cols = NULL;
    *n = *cap = 0;
    if (list_read(s, -1, cols, n, cap, notes, err) < 0)
        return -1;
    if (counted != (int64_t)*n)
        return cm_err_set(err,
                          "%s: the server lists %zu collections but counts %lld; were collections created or "
                          "deleted meanwhile? run again when nobody changes them",
                          s->url, *n, (long long)counted);
    return 0;
}

/* Each collection's record count into its count_hint. */
static int count_records(cs_src *s, cm_collection *cols, size_t n, cm_err *err)
{
    for (size_t i = 0; i < n; i++) {
        char *p = chroma_path_record(&s->cl.route, cols[i].id, "count");
        chroma_answer a;
        int rc = chroma_request(&s->cl, "GET", p, NULL, 0, &a, err);
        free(p);
        if (rc < 0)
            return cm_err_prefix(err, "%s, collection '%s': counting its records", s->url, cols[i].name);
        if (a.r.status != 200 || !a.v || a.v->type != JV_INT || a.v->u.i < 0) {
            if (a.r.status != 200)
                chroma_answer_error(&s->cl, err, &a.r, "%s, collection '%s': counting its records", s->url,
                                    cols[i].name);
            else
                cm_err_set(err, "%s, collection '%s': the count of its records is not a number", s->url,
                           cols[i].name);
            chroma_answer_free(&a);
            return -1;
        }
        cols[i].count_hint = a.v->u.i;
        chroma_answer_free(&a);
    }
    return 0;
}

static int src_list(cm_source *base, cm_collection **out, size_t *nout, cm_err *err)
{
    cs_src *s = (cs_src *)base;
    *out = NULL;
    *nout = 0;
    cm_collection *cols = NULL;
    size_t n = 0, cap = 0;
    char *notes = NULL;
    int rc;
    if (s->cl.route.api == CHROMA_API_03)
        rc = list_read(s, -1, &cols, &n, &cap, &notes, err);
    else
        rc = list_read(s, LIST_PAGE, &cols, &n, &cap, &notes, err) < 0 ? -1
                                                                        : list_recount(s, &cols, &n, &cap, &notes, err);
    if (rc < 0 || count_records(s, cols, n, err) < 0) {
        free(notes);
        free_cols(cols, n);
        return -1;
    }
    free(s->list_notes);
    s->list_notes = notes;
    *out = cols;
    *nout = n;
    return 0;
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
    chroma_answer a;
    int rc = chroma_request(&s->cl, "POST", rd->get_path, body, len, &a, err);
    free(body);
    if (rc < 0)
        return -1;
    if (a.r.status == 200) {
        size_t before = out->n;
        rc = cs_batch_from_get(a.v, out, why, err);
        chroma_answer_free(&a);
        if (rc == 0 && out->n > before)
            rd->found_by_id++;
        return rc;
    }
    if (a.r.status == 500) {
        int nan = nan_answer(&a.r);
        /* 0.3.x: a query error for one id is its repr read as a column name;
         * its rows are then looked for in the sorted collection (unless the
         * server fails every request). */
        if (!nan && n == 1 && s->cl.route.api == CHROMA_API_03 && (++rd->refused_by_id < 12 || rd->found_by_id)) {
            chroma_answer_free(&a);
            return 0;
        }
        *why = chroma_answer_text(&s->cl, &a.r);
        chroma_answer_free(&a);
        return nan ? 1 : 2;
    }
    chroma_answer_error(&s->cl, err, &a.r, "POST %s", rd->get_path);
    chroma_answer_free(&a);
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
    chroma_answer a;
    int rc = chroma_request(&s->cl, "POST", rd->get_path, body, len, &a, err);
    free(body);
    if (rc < 0)
        return -1;
    if (a.r.status == 200) {
        rc = cs_batch_from_get(a.v, out, why, err);
        chroma_answer_free(&a);
        return rc;
    }
    if (nan_answer(&a.r)) {
        *why = chroma_answer_text(&s->cl, &a.r);
        chroma_answer_free(&a);
        return 1;
    }
    chroma_answer_error(&s->cl, err, &a.r, "POST %s (reading the collection for the ids the server does not find by id)",
                 rd->get_path);
    chroma_answer_free(&a);
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
    chroma_answer a;
    if (slot_take(s, &rd->pend, rd->get_path, &a, err) < 0)
        return -1;
    *answer_bytes = a.r.len;
    *direct = 0;
    char *why = NULL;
    int rc;
    if (a.r.status == 200) {
        rc = cs_batch_from_get(a.v, got, &why, err);
        chroma_answer_free(&a);
        if (rc == 1) {
            cs_batch_reset(got);
            rc = narrow_chunk_03(rd, 1, why, got, err);
        } else if (rc == 0) {
            *direct = 1;
            rd->found_by_id += got->n > 0;
        }
    } else if (a.r.status == 500) {
        int known = nan_answer(&a.r) ? 1 : 2;
        why = chroma_answer_text(&s->cl, &a.r);
        chroma_answer_free(&a);
        rc = narrow_chunk_03(rd, known, why, got, err);
    } else {
        chroma_answer_error(&s->cl, err, &a.r, "POST %s", rd->get_path);
        chroma_answer_free(&a);
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
    chroma_answer a;
    if (chroma_request_ok(&s->cl, "POST", rd->get_path, all_ids, sizeof all_ids - 1, &a, err,
                          "listing the ids (POST %s)", rd->get_path) < 0)
        return -1;
    int rc = cs_idlist_from_json(&rd->ids, jv_get(a.v, "ids"), err);
    chroma_answer_free(&a);
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
    chroma_answer a = {0};
    int rc = 0;
    if (!ids_json) {
        size_t len;
        char *body = cs_body_get_page(rd->pend_limit, rd->offset, 0, &len);
        rc = chroma_request_ok(&s->cl, "POST", rd->get_path, body, len, &a, err,
                               "POST %s (the ids of records %ld to %ld)", rd->get_path, rd->offset,
                               rd->offset + rd->pend_limit);
        free(body);
        if (rc < 0)
            goto out;
        ids_json = jv_get(a.v, "ids");
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
    chroma_answer_free(&a);
    cs_idlist_free(&l);
    return rc;
}

static int next_page(cm_reader *rd, cm_err *err)
{
    cs_src *s = rd->s;
    if (!rd->pend.busy && submit_page(rd, err) < 0)
        return -1;
    chroma_answer a;
    if (slot_take(s, &rd->pend, rd->get_path, &a, err) < 0)
        return -1;
    size_t before = rd->cur.n, answer_bytes = a.r.len;
    int rc;
    if (a.r.status == 200) {
        char *why = NULL;
        rc = cs_batch_from_get(a.v, &rd->cur, &why, err);
        if (rc == 1) {
            rc = page_by_ids(rd, jv_get(a.v, "ids"), 1, why, err);
        } else if (rc == 0) {
            for (size_t i = before; i < rd->cur.n; i++)
                rd->cur.r[i].src_row = rd->offset + (int64_t)(i - before);
        }
        free(why);
        chroma_answer_free(&a);
    } else if (a.r.status == 500) {
        int known = nan_answer(&a.r) ? 1 : 2;
        char *why = chroma_answer_text(&s->cl, &a.r);
        chroma_answer_free(&a);
        rc = page_by_ids(rd, NULL, known, why, err);
        free(why);
    } else {
        chroma_answer_error(&s->cl, err, &a.r, "POST %s (records %ld to %ld)", rd->get_path, rd->offset,
                            rd->offset + rd->pend_limit);
        chroma_answer_free(&a);
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
    rd->get_path = chroma_path_record(&s->cl.route, c->id, "get");
    rd->page = FIRST_PAGE;
    rd->fp = CS_FP_INIT;
    rd->expected = c->count_hint;
    cs_idlist_init(&rd->ids);
    int rc;
    if (s->cl.route.api == CHROMA_API_03) {
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
    if (rd->s->cl.route.api != CHROMA_API_03) {
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
        int more = rd->s->cl.route.api == CHROMA_API_03 ? rd->pos < rd->ids.n : !rd->last;
        if (!more) {
            rd->ended = 1;
            if (finish(rd, err) < 0)
                return rd_fail(rd, err);
            return 0;
        }
        int rc = rd->s->cl.route.api == CHROMA_API_03 ? next_chunk_03(rd, err) : next_page(rd, err);
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

static void notes_clear(cs_src *s)
{
    for (size_t i = 0; i < s->nnotes; i++)
        free((char *)s->notes[i].text);
    s->nnotes = 0;
}

/* One note (a sentence of the source's notes) with the advice it needs. */
static void note_push(cs_src *s, cm_hint hint, const char *arg, const char *fmt, ...) CM_PRINTF(4, 5);
static void note_push(cs_src *s, cm_hint hint, const char *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *t = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    t[0] = '\0';
    if (n >= 0)
        vsnprintf(t, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    s->notes = xgrow(s->notes, &s->notes_cap, s->nnotes + 1, sizeof *s->notes);
    s->notes[s->nnotes++] = (cm_note){.kind = CM_NOTE_INFO, .hint = hint, .arg = arg, .text = t};
}

/* The records of a collection the server could not send: which, and how
 * to get them. */
static void unsent_notes(cs_src *s, const coll_state *st)
{
    const cs_badset *b = &st->bad;
    int64_t rows = 0;
    int nan = 0;
    for (size_t k = 0; k < b->n; k++) {
        rows += b->rows[k];
        nan |= strstr(b->why[k], "JSON compliant") || strstr(b->why[k], "Out of range float") ? 1 : 0;
    }
    strbuf t = {0};
    sb_addf(&t, "collection '%s': %lld record%s the server cannot send (it answered %s): id%s ", st->name,
            (long long)rows, rows == 1 ? "" : "s", b->why[0], b->n == 1 ? "" : "s");
    for (size_t k = 0; k < b->n && k < 20; k++)
        sb_addf(&t, "%s'%.*s'", k ? ", " : "", (int)(b->lens[k] > 100 ? 100 : b->lens[k]), b->ids[k]);
    if (b->n > 20)
        sb_addf(&t, " and %zu more", b->n - 20);
    note_push(s, CM_HINT_NONE, NULL, "%s", t.s);
    sb_free(&t);
    const char *them = rows == 1 ? "it" : "them";
    note_push(s, CM_HINT_SKIP_UNSENT, them,
              "%s named as %s the server could not send (not as without an embedding), so the run stops",
              rows == 1 ? "it is" : "they are", rows == 1 ? "a record" : "records");
    if (s->cl.route.api == CHROMA_API_03)
        note_push(s, CM_HINT_FROM_CLICKHOUSE_STORE, NULL,
                  "to migrate %s too, read the store behind this server directly, which reads %s as stored: its "
                  "ClickHouse database",
                  them, nan ? "NaN and Infinity" : "every row");
    else
        note_push(s, CM_HINT_NONE, NULL, "to migrate %s, fix or delete %s on the server first%s", them, them,
                  nan ? " (NaN or Infinity in the embedding or metadata)" : "");
}

/* Notes are sentences joined with "; " by whoever words them. */
static size_t src_notes(cm_source *base, const cm_note **out)
{
    cs_src *s = (cs_src *)base;
    notes_clear(s);
    if (s->cl.route.api == CHROMA_API_03)
        note_push(s, CM_HINT_NONE, NULL,
                  "chromadb %s server (REST API of 0.3.x): the ids of each collection are listed first and the "
                  "records fetched by id, because limit/offset paging skips and repeats rows on its ClickHouse "
                  "backend; records come in the order the server listed their ids (duplicate-id policy 'first' keeps "
                  "the copy listed first)",
                  s->version);
    else
        note_push(s, CM_HINT_NONE, NULL, "Chroma server %s (REST API %s%s), tenant '%s', database '%s'", s->version,
                  gen_name(s),
                  chroma_api_is_v2(s->cl.route.api) ? (s->cl.route.api == CHROMA_API_V2_RUST ? ", Rust" : ", Python")
                                                    : "",
                  s->tenant, s->database);
    if (s->list_notes)
        note_push(s, CM_HINT_NONE, NULL, "%s", s->list_notes);
    for (size_t i = 0; i < s->ncols; i++) {
        const coll_state *st = &s->cols[i];
        if (st->bad.n)
            unsent_notes(s, st);
        if (st->unfound_ids)
            note_push(s, CM_HINT_NONE, NULL,
                      "collection '%s': %lld id%s the server does not find by id (chromadb 0.3.x writes ids "
                      "into its ClickHouse query with Python's repr(), which ClickHouse reads as other text for "
                      "non-printable characters and for ids with ' but no \"); %s read from the whole "
                      "collection instead",
                      st->name, (long long)st->unfound_ids, st->unfound_ids == 1 ? "" : "s",
                      st->unfound_ids == 1 ? "its rows were" : "their rows were");
        if (st->bad.no_id_rows)
            note_push(s, CM_HINT_FROM_CLICKHOUSE, NULL,
                      "collection '%s': %lld row%s without an id, which the server cannot send by id; they are "
                      "counted as records without an id; to see them, read the store behind this server directly",
                      st->name, (long long)st->bad.no_id_rows, st->bad.no_id_rows == 1 ? "" : "s");
    }
    *out = s->notes;
    return s->nnotes;
}

static void src_destroy(cm_source *base)
{
    cs_src *s = (cs_src *)base;
    if (!s)
        return;
    http_client_free(s->cl.http);
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
    notes_clear(s);
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

cm_source *chroma_server_open_with(const char *spec, const cm_source_opts *opts, const http_headers *parsed,
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
    s->tenant_given = (tenant && strcmp(tenant, CHROMA_DEFAULT_TENANT) != 0) ||
                      (database && strcmp(database, CHROMA_DEFAULT_DATABASE) != 0);
    s->tenant = xstrdup(tenant ? tenant : CHROMA_DEFAULT_TENANT);
    s->database = xstrdup(database ? database : CHROMA_DEFAULT_DATABASE);
    s->cl.url = s->url;
    s->cl.sent = &s->headers;
    s->cl.auth_hint = CM_HINT_FROM_HEADER_AUTH;
    s->cl.route.tenant = s->tenant;
    s->cl.route.database = s->database;
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
        .is_final = final_500,
    };
    if (!(s->cl.http = http_client_new(&ho, err)))
        goto fail;
    if (detect(s, err) < 0 || check_place(s, err) < 0)
        goto fail;
    s->base.ops = s->cl.route.api == CHROMA_API_03 ? &ops_03 : chroma_api_is_v2(s->cl.route.api) ? &ops_v2 : &ops_v1;
    return &s->base;
fail:
    src_destroy(&s->base);
    return NULL;
}

cm_source *chroma_server_open(const char *spec, const cm_source_opts *opts, cm_err *err)
{
    return chroma_server_open_with(spec, opts, NULL, err);
}

chroma_client *chroma_server_client(cm_source *base)
{
    return &((cs_src *)base)->cl;
}

