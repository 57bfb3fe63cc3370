/* rest_source.h - a running Chroma server as a source, read over its REST
 * API (http[s]://HOST[:PORT][/PREFIX]; the client is rest.h, the formats
 * docs/formats.md#rest-api and #rest-api-03).
 *
 * Three generations, told apart by their routes and version string:
 *  - chromadb 0.3.x (GET /api/v1/version says "0.3.x"; ClickHouse or DuckDB
 *    behind it): limit/offset paging skips and repeats rows there, so all ids
 *    of a collection are fetched first (include []), then the records by id
 *    in chunks, kept in the order the server listed the ids;
 *  - REST API v1 (chromadb 0.4.x and 0.5.0-0.5.15): limit/offset pages,
 *    tenant/database as query parameters from 0.4.15 on;
 *  - REST API v2 (Chroma 1.x, chromadb 0.5.16+): limit/offset pages,
 *    tenant/database in the path.
 * Rows the server cannot send (a 500 "Out of range float values are not JSON
 * compliant" for NaN/Infinity, or an answer whose lists cannot be matched to
 * its ids) are narrowed down by splitting the request; each one becomes a
 * record with its id and nothing else, marked unsent (named as records the
 * server could not send, not as records without an embedding; the run stops
 * by default, unless the policy skips invalid records), and the source's
 * notes list them by id with how to get them.
 * The pure parts (rest_source_parts.c) are declared here for the unit tests
 * and the fuzz target; verify's use of a server is rest_verify.h. */
#ifndef CM_SOURCE_CHROMA_SERVER_H
#define CM_SOURCE_CHROMA_SERVER_H

#include <stdint.h>

#include "../core/source.h"
#include "../format/json.h"
#include "../net/http.h"
#include "../util/strmap.h"
#include "rest.h"

/* 1 if spec starts with http:// or https:// (any case). */
int chroma_server_detect(const char *spec);
/* Connects, detects the generation, checks tenant/database. opts may be NULL;
 * nothing in it is kept (header values are copied and never printed). */
cm_source *chroma_server_open(const char *spec, const cm_source_opts *opts, cm_err *err);
/* chroma_server_open with headers (may be NULL) added to opts' lines. */
cm_source *chroma_server_open_with(const char *spec, const cm_source_opts *opts, const http_headers *headers,
                                   cm_err *err);
/* The REST client of a source chroma_server_open* made (kept by it): for
 * requests the source itself does not make (verify's lookups). */
chroma_client *chroma_server_client(cm_source *s);

/* ---- pure parts, exposed for the unit tests and the fuzz target ---- */

/* A collection object of a list answer into c (count_hint -1). When its
 * configuration_json has the Rust server's shape ({"hnsw":{...}} or
 * {"spann":{...}}), that is what the server uses: its values become the
 * hnsw:* metadata keys (a key the metadata has with another value is
 * replaced; a missing one is added unless it is Chroma's default). Python
 * 0.5/0.6 ({"hnsw_configuration":{...}}) search with the metadata, so there
 * the configuration's space is only compared. What was changed or differs is
 * appended to *notes (malloc'd; sentences separated by "; "). */
int cs_collection_from_json(const jv *o, cm_collection *c, char **notes, cm_err *err);

/* Records in request order. */
typedef struct cs_batch {
    cm_record *r;
    size_t n, cap;
} cs_batch;
void cs_batch_free(cs_batch *b);
/* Frees the records but keeps the array. */
void cs_batch_reset(cs_batch *b);

/* A get answer {"ids":[..],"embeddings":[..]|null,"documents":..,"metadatas":..}
 * appended to b. Returns 0; 1 when its lists cannot be matched to its ids
 * (a list of another length than ids: Python servers leave out the
 * embedding of a record stored without one), with *why (malloc'd); -1 when
 * the answer is not a get answer. A single id (or copies of one) with an
 * empty embeddings list is read as records without an embedding. */
int cs_batch_from_get(const jv *ans, cs_batch *b, char **why, cm_err *err);

/* A string with a length (ids hold any bytes). */
typedef struct cs_str {
    const char *s;
    size_t len;
} cs_str;

/* The ids of a collection (or of one page) in the server's order, with each
 * position's occurrence number (0 for the first time an id appears). */
typedef struct cs_idlist {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *off, *len; /* len CS_NULL_ID: the server listed null */
    uint32_t *occ;
    size_t n, cap;
    strmap *m; /* id -> count (occurrences) */
    uint64_t fp; /* FNV-1a over the ids in order (detects a changed list) */
} cs_idlist;
#define CS_NULL_ID ((size_t)-1)

void cs_idlist_init(cs_idlist *l);
void cs_idlist_free(cs_idlist *l);
void cs_idlist_add(cs_idlist *l, const char *id, size_t len); /* id NULL: null */
/* From a JSON array of strings (null allowed). */
int cs_idlist_from_json(cs_idlist *l, const jv *ids, cm_err *err);
cs_str cs_idlist_get(const cs_idlist *l, size_t i);
uint64_t cs_fp_add(uint64_t h, const char *s, size_t len);
#define CS_FP_INIT 0xcbf29ce484222325ULL

/* Ids the server could not send, with why (per collection, kept across
 * passes so the second pass does not ask again). */
typedef struct cs_badset {
    strmap *m; /* id -> rows (first: index into ids/why) */
    char **ids;
    size_t *lens;
    char **why;
    int64_t *rows;
    size_t n, cap;
    int64_t no_id_rows; /* rows listed with a null id */
} cs_badset;
void cs_badset_init(cs_badset *b);
void cs_badset_free(cs_badset *b);
int cs_badset_has(const cs_badset *b, const char *id, size_t len);
void cs_badset_add(cs_badset *b, const char *id, size_t len, const char *why);

/* Asks for the records of ids[0..n) (distinct) with fetch; when the server
 * cannot answer for a set, splits it in halves until single ids, which go
 * into bad. known_failed: the whole set already failed (why given). fetch
 * returns 0 (records appended to out), 1 (cannot answer for this set, *why
 * malloc'd) or -1 (err). Gives up (-1) when a dozen single ids fail and
 * none succeeded: then the server fails every request, not some rows. */
typedef int (*cs_fetch_fn)(void *ctx, const cs_str *ids, size_t n, cs_batch *out, char **why, cm_err *err);
int cs_fetch_narrow(cs_fetch_fn fetch, void *ctx, const cs_str *ids, size_t n, int known_failed, const char *why,
                    cs_batch *out, cs_badset *bad, cm_err *err);

/* Extra rows of a duplicated id, kept until the positions they belong to. */
typedef struct cs_stash {
    strmap *m; /* id -> first: queue index */
    struct cs_queue {
        cm_record *r;
        size_t n, head;
    } *q;
    size_t nq, capq;
} cs_stash;
void cs_stash_init(cs_stash *s);
void cs_stash_free(cs_stash *s);

/* The records of positions [from, to) of l, in that order, into out:
 * got holds what the server returned for the ids first listed in the range
 * (any order; consumed); an id listed k times must come back k times (the
 * rows after the first are kept in stash for its later positions); ids in
 * bad and null ids become records with the id only. src_row is
 * row_base + position. -1 when the server's rows do not match its list. */
int cs_assemble(const cs_idlist *l, size_t from, size_t to, cs_batch *got, const cs_badset *bad, cs_stash *stash,
                int64_t row_base, cs_batch *out, cm_err *err);

/* The distinct ids to ask for in positions [from, to): first occurrences,
 * not null, not in bad. *ids is malloc'd (points into l). */
size_t cs_ids_to_fetch(const cs_idlist *l, size_t from, size_t to, const cs_badset *bad, cs_str **ids);

/* Request bodies. */
char *cs_body_get_ids(const cs_str *ids, size_t n, int with_data, size_t *len);
char *cs_body_get_page(long limit, long offset, int with_data, size_t *len);

/* A 0.3.x get of the whole collection sorted by the internal uuid (a total
 * order, so its limit/offset pages are stable, unlike the default order);
 * limit < 0: no sort, no limit (the stored order, in one answer). */
char *cs_body_get_sorted(long limit, long offset, int with_data, size_t *len);

/* 0.3.x writes the ids into its SQL with Python's repr(), which ClickHouse
 * reads back as other bytes for some ids (non-printable characters: \u200b,
 * \x85, ...; an id with ' but no " becomes a column name). Such ids come
 * back with no rows. cs_missing_ids puts into want the first-listed ids of
 * [from, to) that got has no row for (not null, not in bad), each with
 * the number of rows the list has for it (count); returns the total and
 * sets *dups when one is listed more than once. cs_take_wanted moves the
 * rows of page that want still needs into got (page is emptied). cs_keep_asked
 * drops the rows of got whose id is not first listed in [from, to) or is in
 * bad (ClickHouse may find another id than the one asked for). */
size_t cs_missing_ids(const cs_idlist *l, size_t from, size_t to, const cs_batch *got, const cs_badset *bad,
                      strmap *want, int *dups);
size_t cs_take_wanted(cs_batch *page, strmap *want, cs_batch *got);
void cs_keep_asked(cs_batch *got, const cs_idlist *l, size_t from, size_t to, const cs_badset *bad);

/* Records per request for about target bytes, from what the last answer
 * cost per record; between lo and hi. */
long cs_next_page(long cur, size_t answer_bytes, size_t records, size_t target, long lo, long hi);

#endif
