/* rest_probe.h - which Chroma server answers at a base URL, and which
 * generation of its REST API to speak.
 *
 * Chroma served three APIs over the years (reference chroma-rest-api.md and
 * chroma-0.3-rest-api.md): 0.3.x and 0.4-0.6 under /api/v1 (tenants and
 * databases as query parameters from 0.4.15 on), and /api/v2 from Python
 * 0.5.16 and in every 1.x server. /api/v2/heartbeat answers on exactly the
 * servers that speak v2, so it is asked first; 0.6.3's v1 routes are partly
 * broken, which is why v2 wins wherever it is served. Both the source and the
 * target side ask the same questions, so they share this. */
#ifndef CM_NET_CHROMA_PROBE_H
#define CM_NET_CHROMA_PROBE_H

#include "../net/http.h"

typedef enum chroma_api {
    CHROMA_API_03 = 0, /* chromadb 0.3.x: /api/v1, no tenants, other routes */
    CHROMA_API_V1 = 1, /* 0.4-0.6: /api/v1 */
    CHROMA_API_V2 = 2, /* 0.5.16+ and 1.x: /api/v2 */
} chroma_api;

typedef struct chroma_server_id {
    chroma_api api;
    char version[48]; /* as the server says it, control characters as '?' */
    int major, minor, patch;
    int v1_tenants; /* v1 with tenants and databases (0.4.15 and later) */
} chroma_server_id;

/* "0.4.24" -> 0, 4, 24; a leading 'v' is skipped, missing parts are 0. */
void chroma_parse_version(const char *v, int *major, int *minor, int *patch);

/* Who probes: the URL for messages, the headers sent, and the advice for an
 * answer that wants credentials when none were sent (source or target). */
typedef struct chroma_probe_who {
    const char *url; /* as the user gave it, for messages */
    const http_headers *sent;
    cm_hint auth_hint;
} chroma_probe_who;

/* Asks the heartbeat (v2, then v1) and the version. Returns 0 with *out
 * filled, or -1 with one line in err naming the URL: unreachable, asks for
 * credentials (with what to do), or not a Chroma server. */
int chroma_probe(http_client *c, const chroma_probe_who *who, chroma_server_id *out, cm_err *err);

#endif
