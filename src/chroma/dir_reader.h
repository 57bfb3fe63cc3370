/* dir_reader.h - reading a Chroma persistent directory directly.
 *
 * What `verify` needs from a migrated directory: its collections with their
 * effective HNSW settings, point lookups of records by id (SQLite), and the
 * vectors from the HNSW files through the pickle's id -> label map - each
 * structure checked for consistency before it is trusted. */
#ifndef CM_SOURCE_CHROMA_DIR_READ_H
#define CM_SOURCE_CHROMA_DIR_READ_H

#include "../core/policy.h"
#include "../core/record.h"
#include "../index/hnsw.h"
#include "../util/strmap.h"

typedef struct cdr_coll {
    char *id, *name;
    int64_t dim; /* -1 when NULL */
    char *vec_seg, *meta_seg;
    int has_meta;
    cm_meta meta;
    cm_hnsw_cfg hnsw; /* effective: schema_str (1.3+), else config_json_str, else VECTOR
                       * segment_metadata, else defaults */
    char *config_json;
    char *schema_json; /* collections.schema_str, or NULL (before 1.3, or not set) */
} cdr_coll;

typedef struct cdr cdr;

cdr *cdr_open(const char *dir, cm_err *err);
void cdr_close(cdr *d);
int cdr_list(cdr *d, cdr_coll **out, size_t *n, cm_err *err);
void cdr_colls_free(cdr_coll *c, size_t n);
int64_t cdr_count(cdr *d, const cdr_coll *c, cm_err *err);

/* The vector side of one collection: the HNSW files and the pickle, with
 * every structural problem found listed (one line each) in problems. */
typedef struct cdr_vec {
    hnsw_index *h;
    strmap *label_of;      /* id -> label (first = label) */
    int64_t *internal_of;  /* label -> internal id, -1 if absent; size max_label+1 */
    int64_t max_label;
    char *problems;
    size_t nproblems;
} cdr_vec;

/* -1 only when nothing could be read at all; structural problems go to
 * v->problems. A collection without records has no vector folder: v->h NULL. */
int cdr_load_vectors(cdr *d, const cdr_coll *c, cdr_vec *v, cm_err *err);
void cdr_vec_free(cdr_vec *v);

/* Record by id: 1 found (r filled: id, document, metadata, embedding as
 * float32 values widened to double, de-normalised for cosine), 0 absent. */
int cdr_get(cdr *d, const cdr_coll *c, const cdr_vec *v, const char *id, size_t id_len, cm_record *r, cm_err *err);

#endif
