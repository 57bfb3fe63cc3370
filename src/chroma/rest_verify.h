/* rest_verify.h - a running Chroma server as the target of a migration,
 * for verify (src/verify/server.c): opened like a source (the collections
 * are listed, and read, the same way), then asked what a source never is:
 * records by id, counts and nearest-neighbour queries. Kept apart from the
 * source so that verify speaks through the REST client (rest.h) and not
 * through the source's internals. */
#ifndef CM_CHROMA_REST_VERIFY_H
#define CM_CHROMA_REST_VERIFY_H

#include <stdint.h>

#include "rest_source.h"

/* Opens a v1 or v2 server; headers (may be NULL) are added to opts' lines. */
cm_source *chroma_server_open_target(const char *spec, const cm_source_opts *opts, const http_headers *headers,
                                     cm_err *err);
/* The records of ids[0..n) that the collection holds (any order) into out. */
int chroma_server_get_ids(cm_source *s, const cm_collection *c, const cs_str *ids, size_t n, cs_batch *out,
                          cm_err *err);
/* The collection's record count, or -1. */
int64_t chroma_server_count(cm_source *s, const cm_collection *c, cm_err *err);
/* Queries nq float32 vectors of dim; for each, the nearest record's id
 * (malloc'd; NULL when none) and its distance (NAN when none; under ip
 * it may be negative). */
int chroma_server_nearest(cm_source *s, const cm_collection *c, const float *q, size_t nq, size_t dim, char **ids,
                          double *dist, cm_err *err);
/* Queries one vector for its k nearest records; *rank is the 1-based rank
 * of the record id among them, 0 when it is not there. */
int chroma_server_rank(cm_source *s, const cm_collection *c, const float *q, size_t dim, int k, const char *id,
                       size_t id_len, int *rank, cm_err *err);

#endif
