/* rest_sink.h - a running Chroma server (>= 0.4), written over its REST API
 * (the client is rest.h; the API docs/formats.md#rest-api).
 *
 * Detects the API generation (v2 where served: Chroma 1.x and Python
 * 0.5.16+; v1 for older servers, with tenant/database query parameters from
 * 0.4.15), creates each collection with its metadata and HNSW settings, and
 * streams records in batches sized from the server's max_batch_size, several
 * requests in flight. A collection that already exists stops the run unless
 * resume (continue an interrupted migration: only ids the server does not
 * have are sent) or append is asked for. */
#ifndef CM_SINK_CHROMA_HTTP_H
#define CM_SINK_CHROMA_HTTP_H

#include "../core/sink.h"
#include "../net/http.h"

typedef struct chroma_http_opts {
    const char *url;              /* http(s)://host[:port][/prefix] */
    const http_headers *headers;  /* sent with every request (secrets) */
    const char *tenant, *database; /* NULL: default_tenant, default_database */
    const char *cacert;
    int insecure;
    int resume;      /* continue into an existing collection */
    int append;      /* add to an existing collection */
    long batch_size; /* cap on records per request (0: the server's max_batch_size) */
    int jobs;        /* requests in flight (0: 4) */
    double timeout_s; /* per request attempt (0: 300) */
    double retry_s;   /* retry budget per request (0: 120) */
    int verbose;
    /* Notices for the user (connection, retries); a CM_NOTE_WARNING must
     * be shown even when the user asked for quiet (how to resume); the
     * caller words the note's hint. NULL: none. */
    void (*log)(void *ctx, const cm_note *n);
    void *log_ctx;
} chroma_http_opts;

/* Connects, detects the server and checks the tenant/database. */
cm_sink *chroma_http_create(const chroma_http_opts *o, cm_err *err);
/* e.g. "Chroma server 1.0.0 at http://127.0.0.1:8000 (API v2)". */
const char *chroma_http_describe(const cm_sink *s);

#endif
