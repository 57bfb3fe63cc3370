/* rest.c - the Chroma REST client (see rest.h): generations, routes, the
 * probe and JSON requests. Routes and answers follow docs/formats.md#rest-api
 * (0.4.24, 0.5.23, 0.6.3 and the Rust 1.0 server) and
 * docs/formats.md#rest-api-03 (chromadb 0.3.29). */
#include "rest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

int chroma_api_is_v2(chroma_api api)
{
    return api == CHROMA_API_V2_PYTHON || api == CHROMA_API_V2_RUST;
}

int chroma_api_has_tenants(chroma_api api)
{
    return api == CHROMA_API_V1_TENANTS || chroma_api_is_v2(api);
}

void chroma_parse_version(const char *v, int *major, int *minor, int *patch)
{
    *major = *minor = *patch = 0;
    if (*v == 'v' || *v == 'V')
        v++;
    char *end;
    *major = (int)strtol(v, &end, 10);
    if (*end == '.') {
        *minor = (int)strtol(end + 1, &end, 10);
        if (*end == '.')
            *patch = (int)strtol(end + 1, &end, 10);
    }
}

/* ---- routes ---- */

static const char *tenant_of(const chroma_route *r)
{
    return r->tenant ? r->tenant : CHROMA_DEFAULT_TENANT;
}

static const char *database_of(const chroma_route *r)
{
    return r->database ? r->database : CHROMA_DEFAULT_DATABASE;
}

/* /api/v2/tenants/T/databases/D */
static void v2_database(strbuf *b, const chroma_route *r)
{
    sb_adds(b, "/api/v2/tenants/");
    sb_add_url_escaped(b, tenant_of(r));
    sb_adds(b, "/databases/");
    sb_add_url_escaped(b, database_of(r));
}

/* ?tenant=T&database=D on a v1 server with tenants; 1 when added. */
static int v1_query(strbuf *b, const chroma_route *r)
{
    if (r->api != CHROMA_API_V1_TENANTS)
        return 0;
    sb_adds(b, "?tenant=");
    sb_add_url_escaped(b, tenant_of(r));
    sb_adds(b, "&database=");
    sb_add_url_escaped(b, database_of(r));
    return 1;
}

char *chroma_path_collections(const chroma_route *r, const char *name, long limit, long offset)
{
    strbuf b = {0};
    if (chroma_api_is_v2(r->api)) {
        v2_database(&b, r);
        sb_adds(&b, "/collections");
    } else {
        sb_adds(&b, "/api/v1/collections");
    }
    if (name) {
        sb_adds(&b, "/");
        sb_add_url_escaped(&b, name);
    }
    int q = v1_query(&b, r);
    if (limit >= 0)
        sb_addf(&b, "%slimit=%ld&offset=%ld", q ? "&" : "?", limit, offset);
    return b.s;
}

char *chroma_path_count_collections(const chroma_route *r)
{
    strbuf b = {0};
    if (chroma_api_is_v2(r->api)) {
        v2_database(&b, r);
        sb_adds(&b, "/collections_count");
    } else {
        sb_adds(&b, "/api/v1/count_collections");
        v1_query(&b, r);
    }
    return b.s;
}

char *chroma_path_record(const chroma_route *r, const char *coll_id, const char *op)
{
    strbuf b = {0};
    if (chroma_api_is_v2(r->api)) {
        v2_database(&b, r);
        sb_adds(&b, "/collections/");
    } else {
        sb_adds(&b, "/api/v1/collections/");
    }
    sb_add_url_escaped(&b, coll_id);
    sb_adds(&b, "/");
    sb_adds(&b, op);
    return b.s;
}

char *chroma_path_database(const chroma_route *r)
{
    strbuf b = {0};
    if (chroma_api_is_v2(r->api)) {
        v2_database(&b, r);
    } else {
        sb_adds(&b, "/api/v1/databases/");
        sb_add_url_escaped(&b, database_of(r));
        sb_adds(&b, "?tenant=");
        sb_add_url_escaped(&b, tenant_of(r));
    }
    return b.s;
}

char *chroma_path_databases(const chroma_route *r)
{
    strbuf b = {0};
    sb_adds(&b, "/api/v2/tenants/");
    sb_add_url_escaped(&b, tenant_of(r));
    sb_adds(&b, "/databases");
    return b.s;
}

char *chroma_path_api(const chroma_route *r, const char *rest)
{
    strbuf b = {0};
    sb_adds(&b, chroma_api_is_v2(r->api) ? "/api/v2" : "/api/v1");
    sb_adds(&b, rest);
    return b.s;
}

/* ---- requests ---- */

void chroma_answer_free(chroma_answer *a)
{
    http_response_free(&a->r);
    jv_free(a->v);
    a->v = NULL;
}

int chroma_answer_parse(const chroma_client *c, const char *method, const char *path, chroma_answer *a, cm_err *err)
{
    a->v = NULL;
    if (a->r.status / 100 != 2)
        return 0;
    cm_err perr = {0};
    if ((a->v = json_parse(a->r.body ? a->r.body : "", a->r.len, &perr)))
        return 0;
    long status = a->r.status;
    chroma_answer_free(a);
    /* A GET names a server-level route (the base URL with it); a POST a
     * record route, whose callers name the server and collection. */
    int get = strcmp(method, "GET") == 0;
    return cm_err_set(err, "%s %s%s answered %ld, but not with JSON (%s): is this a Chroma server?", method,
                      get ? c->url : "", path, status, perr.msg);
}

int chroma_request(chroma_client *c, const char *method, const char *path, const char *body, size_t len,
                   chroma_answer *a, cm_err *err)
{
    memset(a, 0, sizeof *a);
    if (http_request(c->http, method, path, body, len, &a->r, err) < 0)
        return -1;
    return chroma_answer_parse(c, method, path, a, err);
}

static int vanswer_error(const chroma_client *c, cm_err *err, const http_response *r, const char *fmt, va_list ap)
{
    char what[1024];
    vsnprintf(what, sizeof what, fmt, ap);
    return http_answer_error(err, r, c->sent, c->auth_hint, what);
}

int chroma_request_ok(chroma_client *c, const char *method, const char *path, const char *body, size_t len,
                      chroma_answer *a, cm_err *err, const char *fmt, ...)
{
    if (chroma_request(c, method, path, body, len, a, err) < 0)
        return -1;
    if (a->r.status == 200)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    vanswer_error(c, err, &a->r, fmt, ap);
    va_end(ap);
    chroma_answer_free(a);
    return -1;
}

int chroma_answer_error(const chroma_client *c, cm_err *err, const http_response *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vanswer_error(c, err, r, fmt, ap);
    va_end(ap);
    return -1;
}

char *chroma_answer_text(const chroma_client *c, const http_response *r)
{
    return http_answer_text(r, c->sent);
}

/* ---- the probe ---- */

/* A probe GET: a 2xx answer must be JSON (a->v); other answers are left to
 * the caller. -1 (err set) when no usable answer came. */
static int probe_get(chroma_client *c, const char *path, chroma_answer *a, cm_err *err)
{
    memset(a, 0, sizeof *a);
    if (http_request(c->http, "GET", path, NULL, 0, &a->r, err) < 0)
        return cm_err_prefix(err, "cannot reach a Chroma server at %s", c->url);
    cm_err perr = {0};
    if (a->r.status / 100 == 2 && !(a->v = json_parse(a->r.body ? a->r.body : "", a->r.len, &perr))) {
        long st = a->r.status;
        chroma_answer_free(a);
        return cm_err_set(err, "%s does not look like a Chroma server: GET %s answered %ld but not with JSON (%s)",
                          c->url, path, st, perr.msg);
    }
    return 0;
}

static int probe_fail(chroma_client *c, cm_err *err, chroma_answer *a, const char *what)
{
    http_answer_error(err, &a->r, c->sent, c->auth_hint, what);
    chroma_answer_free(a);
    return -1;
}

/* Asks a heartbeat: *status, and whether it looks like Chroma's. */
static int heartbeat(chroma_client *c, const char *path, long *status, int *looks_right, cm_err *err)
{
    chroma_answer a;
    if (probe_get(c, path, &a, err) < 0)
        return -1;
    *status = a.r.status;
    if (http_status_is_auth(a.r.status))
        return probe_fail(c, err, &a, c->url);
    *looks_right = a.v && a.v->type == JV_OBJECT && jv_get(a.v, "nanosecond heartbeat");
    chroma_answer_free(&a);
    return 0;
}

/* Which prefix answers: 2 or 1 in *v. */
static int probe_prefix(chroma_client *c, int *v, cm_err *err)
{
    long st2 = 0, st1 = 0;
    int hb = 0;
    if (heartbeat(c, "/api/v2/heartbeat", &st2, &hb, err) < 0)
        return -1;
    if (st2 == 200) {
        *v = 2;
    } else if (st2 / 100 == 4) { /* no v2 here: 404 from Chroma, 405/400 from some proxies */
        if (heartbeat(c, "/api/v1/heartbeat", &st1, &hb, err) < 0)
            return -1;
        if (st1 != 200)
            return cm_err_set(err,
                              "%s does not look like a Chroma server: GET /api/v2/heartbeat and /api/v1/heartbeat "
                              "answered %ld and %ld (give the server's base URL, e.g. http://localhost:8000)",
                              c->url, st2, st1);
        *v = 1;
    } else {
        return cm_err_set(err,
                          "%s: GET /api/v2/heartbeat answered %ld; is it a Chroma server (base URL, e.g. "
                          "http://localhost:8000)?",
                          c->url, st2);
    }
    if (!hb)
        return cm_err_set(err,
                          "%s does not look like a Chroma server: its heartbeat answer has no \"nanosecond heartbeat\"",
                          c->url);
    return 0;
}

/* The version string into out->version. */
static int probe_version(chroma_client *c, int v, chroma_server_id *out, cm_err *err)
{
    const char *vpath = v == 2 ? "/api/v2/version" : "/api/v1/version";
    chroma_answer a;
    if (probe_get(c, vpath, &a, err) < 0)
        return -1;
    if (a.r.status != 200) {
        char what[600];
        snprintf(what, sizeof what, "%s: GET %s", c->url, vpath);
        return probe_fail(c, err, &a, what);
    }
    if (!a.v || a.v->type != JV_STRING) {
        chroma_answer_free(&a);
        return cm_err_set(err, "%s: GET %s did not answer a version string", c->url, vpath);
    }
    size_t n = a.v->u.str.len < sizeof out->version - 1 ? a.v->u.str.len : sizeof out->version - 1;
    memcpy(out->version, a.v->u.str.s, n);
    out->version[n] = '\0';
    for (char *q = out->version; *q; q++)
        if ((unsigned char)*q < ' ' || *q == 0x7f)
            *q = '?';
    chroma_answer_free(&a);
    return 0;
}

int chroma_probe(chroma_client *c, chroma_server_id *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    int v = 0;
    if (probe_prefix(c, &v, err) < 0 || probe_version(c, v, out, err) < 0)
        return -1;
    chroma_parse_version(out->version, &out->major, &out->minor, &out->patch);
    if (v == 2)
        out->api = out->major >= 1 ? CHROMA_API_V2_RUST : CHROMA_API_V2_PYTHON; /* 1.x is the Rust server */
    else if (out->major == 0 && out->minor <= 3)
        out->api = CHROMA_API_03; /* same prefix, other routes and answers */
    else if (out->major > 0 || out->minor > 4 || (out->minor == 4 && out->patch >= 15))
        out->api = CHROMA_API_V1_TENANTS;
    else
        out->api = CHROMA_API_V1;
    c->route.api = out->api;
    return 0;
}
