/* rest.h - the one client of Chroma's REST API that the server source
 * (rest_source.c), the server target (rest_sink.c) and verify's server
 * target (rest_verify.c) all speak through: which server answers (the
 * probe), which generation of the API it is, where each request goes, and
 * JSON requests whose error answers become one-line messages.
 *
 * Chroma served three APIs over the years (docs/formats.md#rest-api and
 * docs/formats.md#rest-api-03): 0.3.x and 0.4-0.6 under /api/v1 (tenants
 * and databases as query parameters from 0.4.15 on), and /api/v2 from
 * Python 0.5.16 and in every 1.x (Rust) server. /api/v2/heartbeat answers
 * on exactly the servers that speak v2, so it is asked first; 0.6.3's v1
 * routes are partly broken, which is why v2 wins wherever it is served.
 * The generations are one enum, so that a route or a request body is
 * decided in one place and the callers only ask what it has (tenants, v2,
 * the Rust server's configuration). The client is a plain struct its owner
 * fills (the owner makes and frees the http_client: the source and the
 * target want other connection settings). */
#ifndef CM_CHROMA_REST_H
#define CM_CHROMA_REST_H

#include <stdint.h>

#include "../format/json.h"
#include "../net/http.h"

#define CHROMA_DEFAULT_TENANT "default_tenant"
#define CHROMA_DEFAULT_DATABASE "default_database"

/* Every generation the code tells apart, oldest first. */
typedef enum chroma_api {
    CHROMA_API_03 = 0,         /* chromadb 0.3.x: /api/v1, no tenants, other routes and answers */
    CHROMA_API_V1,             /* 0.4.0-0.4.14: /api/v1, no tenants */
    CHROMA_API_V1_TENANTS,     /* 0.4.15-0.5.15: /api/v1, ?tenant=T&database=D */
    CHROMA_API_V2_PYTHON,      /* Python 0.5.16-0.6: /api/v2, tenant/database in the path */
    CHROMA_API_V2_RUST,        /* 1.x: /api/v2; collections take {"configuration":{"hnsw":...}} */
} chroma_api;

/* /api/v2 is served. */
int chroma_api_is_v2(chroma_api api);
/* The server has tenants and databases. */
int chroma_api_has_tenants(chroma_api api);

typedef struct chroma_server_id {
    chroma_api api;
    char version[48]; /* as the server says it, control characters as '?' */
    int major, minor, patch;
} chroma_server_id;

/* "0.4.24" -> 0, 4, 24; a leading 'v' is skipped, missing parts are 0. */
void chroma_parse_version(const char *v, int *major, int *minor, int *patch);

/* ---- routes (pure: the unit tests call them) ---- */

/* Where requests go. tenant/database NULL: the defaults. */
typedef struct chroma_route {
    chroma_api api;
    const char *tenant, *database;
} chroma_route;

/* The collections route: v2 /api/v2/tenants/T/databases/D/collections;
 * v1 /api/v1/collections; with name also /NAME; v1 with tenants adds
 * ?tenant=T&database=D; limit >= 0 adds limit and offset. Caller frees. */
char *chroma_path_collections(const chroma_route *r, const char *name, long limit, long offset);
/* How many collections there are: .../collections_count (v2),
 * /api/v1/count_collections (v1, with the tenant query). */
char *chroma_path_count_collections(const chroma_route *r);
/* A record route of collection id: .../collections/ID/OP ("get", "add",
 * "upsert", "count", "query"). */
char *chroma_path_record(const chroma_route *r, const char *coll_id, const char *op);
/* The database: v2 /api/v2/tenants/T/databases/D, v1 /api/v1/databases/D?tenant=T. */
char *chroma_path_database(const chroma_route *r);
/* The tenant's databases (v2 only): /api/v2/tenants/T/databases. */
char *chroma_path_databases(const chroma_route *r);
/* /api/v2 or /api/v1 followed by rest ("/pre-flight-checks"). */
char *chroma_path_api(const chroma_route *r, const char *rest);

/* ---- the client ---- */

typedef struct chroma_client {
    http_client *http;
    const char *url;          /* for messages: the base URL, or what the user gave */
    const http_headers *sent; /* sent with every request: hidden should the server echo them */
    cm_hint auth_hint;        /* advice for a 401/403 when no headers were sent */
    chroma_route route;       /* filled by chroma_probe (api) and the owner (tenant, database) */
} chroma_client;

/* Asks the heartbeat (v2, then v1) and the version, and sets c->route.api.
 * Returns 0 with *out filled, or -1 with one line in err naming c->url:
 * unreachable, asks for credentials (with what to do), or not a Chroma
 * server. */
int chroma_probe(chroma_client *c, chroma_server_id *out, cm_err *err);

/* An answer: the response, and for a 2xx its JSON (v). */
typedef struct chroma_answer {
    http_response r;
    jv *v;
} chroma_answer;
void chroma_answer_free(chroma_answer *a);

/* a->r received: a 2xx answer is parsed into a->v (0); one that is not
 * JSON is -1 ("METHOD URLPATH: the answer is not JSON (...)"; a freed). */
int chroma_answer_parse(const chroma_client *c, const char *method, const char *path, chroma_answer *a,
                        cm_err *err);
/* One request (body NULL for a GET). Returns 0 when an answer came (a 2xx
 * one parsed, chroma_answer_parse); -1 when none came (err from http.c) or
 * a 2xx answer is not JSON. */
int chroma_request(chroma_client *c, const char *method, const char *path, const char *body, size_t len,
                   chroma_answer *a, cm_err *err);
/* chroma_request that wants a 200: any other status becomes
 * "WHAT: the server answered ..." (chroma_answer_error) with what formatted
 * from fmt; a freed on -1. */
int chroma_request_ok(chroma_client *c, const char *method, const char *path, const char *body, size_t len,
                      chroma_answer *a, cm_err *err, const char *fmt, ...) CM_PRINTF(8, 9);
/* "WHAT: the server answered TEXT" for an error answer, with header values
 * hidden; 401/403 as credentials wanted (c->auth_hint). Returns -1. */
int chroma_answer_error(const chroma_client *c, cm_err *err, const http_response *r, const char *fmt, ...)
    CM_PRINTF(4, 5);
/* The server's message of an error answer, header values hidden. Caller frees. */
char *chroma_answer_text(const chroma_client *c, const http_response *r);

#endif
