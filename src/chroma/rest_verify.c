/* rest_verify.c - see rest_verify.h. Every request goes through the
 * source's REST client (chroma_server_client); the routes and answers are
 * docs/formats.md#rest-api's. */
#include "rest_verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

cm_source *chroma_server_open_target(const char *spec, const cm_source_opts *opts, const http_headers *headers,
                                     cm_err *err)
{
    cm_source *src = chroma_server_open_with(spec, opts, headers, err);
    if (src && chroma_server_client(src)->route.api == CHROMA_API_03) {
        cm_err_set(err, "%s is a chromadb 0.3.x server, which is never the target of a migration", src->location);
        src->ops->destroy(src);
        return NULL;
    }
    return src;
}

/* One POST of a record route; 0 with *out parsed from a 200 answer. */
static int post_json(cm_source *base, const cm_collection *c, const char *op, const char *body, size_t len, jv **out,
                     cm_err *err)
{
    chroma_client *cl = chroma_server_client(base);
    char *path = chroma_path_record(&cl->route, c->id, op);
    chroma_answer a;
    int rc = chroma_request_ok(cl, "POST", path, body, len, &a, err, "POST %s, collection '%s'", path, c->name);
    free(path);
    if (rc < 0)
        return -1;
    *out = a.v;
    a.v = NULL;
    chroma_answer_free(&a);
    return 0;
}

int chroma_server_get_ids(cm_source *base, const cm_collection *c, const cs_str *ids, size_t n, cs_batch *out,
                          cm_err *err)
{
    size_t len;
    char *body = cs_body_get_ids(ids, n, 1, &len);
    jv *v = NULL;
    int rc = post_json(base, c, "get", body, len, &v, err);
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
    chroma_client *cl = chroma_server_client(base);
    char *path = chroma_path_record(&cl->route, c->id, "count");
    chroma_answer a;
    int64_t n = -1;
    if (chroma_request_ok(cl, "GET", path, NULL, 0, &a, err, "GET %s, collection '%s'", path, c->name) == 0) {
        if (!a.v || a.v->type != JV_INT || a.v->u.i < 0)
            cm_err_set(err, "GET %s: the count is not a number", path);
        else
            n = a.v->u.i;
        chroma_answer_free(&a);
    }
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
    int rc = post_json(base, c, "query", o.buf, o.len, &v, err);
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
    int rc = post_json(base, c, "query", o.buf, o.len, &v, err);
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
