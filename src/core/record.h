/* record.h - the record model every source produces and every sink consumes.
 *
 * One model for all sources (legacy Parquet, ClickHouse, Chroma over HTTP)
 * keeps policies and sinks source-agnostic. It keeps what a migration must
 * not lose: documents and ids are bytes with a length (NULs occur in real
 * data), metadata values keep their type (1.0 is a float, true a bool), and
 * values Chroma >= 0.4 cannot store are represented rather than dropped, so
 * the policies can see and report them. */
#ifndef CM_CORE_RECORD_H
#define CM_CORE_RECORD_H

#include <stddef.h>
#include <stdint.h>

typedef enum cm_mtype {
    CM_M_STR,
    CM_M_INT,
    CM_M_FLOAT,
    CM_M_BOOL,
    /* Not storable in Chroma >= 0.4 (see policy.h): */
    CM_M_NULL,
    CM_M_BIGINT, /* integer outside int64; text kept in s */
    CM_M_NESTED, /* object or list; its compact JSON text kept in s */
} cm_mtype;

typedef struct cm_mval {
    char *key;
    size_t key_len;
    cm_mtype type;
    char *s; /* STR, BIGINT, NESTED: bytes, NUL-terminated, length in s_len */
    size_t s_len;
    int64_t i;
    double f; /* FLOAT (may be NaN/Inf: not storable) */
    int b;
} cm_mval;

typedef struct cm_meta {
    cm_mval *v;
    size_t n, cap;
} cm_meta;

typedef struct cm_record {
    char *id; /* NULL when the source row has no id */
    size_t id_len;
    double *emb; /* NULL when the row has no embedding */
    size_t dim;
    int emb_has_null; /* an element of the list was NULL (held as NaN in emb) */
    int unsent;       /* the source could not send this row: only its id is known (a server's 500) */
    char *doc;        /* NULL: no document */
    size_t doc_len;
    int has_meta; /* 0: no metadata (NULL, or the source said none) */
    cm_meta meta;
    /* The source's metadata text when it is not a JSON object (a Python repr,
     * a list, a bare string or number): kept whole, so the policies can refuse
     * it, drop it or store it as text - never lost unseen. has_meta is 0 then;
     * meta_raw_why says what the text is ("not JSON", "a JSON list", ...). */
    char *meta_raw;
    size_t meta_raw_len;
    const char *meta_raw_why;
    /* Where the record came from, for messages: e.g. row number in the file. */
    int64_t src_row;
    /* The source's own key for the record, when it has one (legacy stores: the
     * internal per-record uuid their hnswlib index labels map to). */
    char *key;
    size_t key_len;
} cm_record;

/* The smallest magnitude a double rounds to float32 infinity from: halfway
 * between FLT_MAX and 2^128 (round-to-nearest-even goes up). Anything below
 * it becomes a finite float32 (FLT_MAX at most). */
#define CM_F32_OVERFLOW 0x1.ffffffp+127

typedef enum cm_space { CM_SPACE_L2 = 0, CM_SPACE_IP, CM_SPACE_COSINE } cm_space;

typedef struct cm_collection {
    char *name;
    char *id; /* the source's id (legacy uuid) */
    int has_meta;
    cm_meta meta;
    int64_t count_hint; /* records in the source, -1 if unknown */
} cm_collection;

void cm_meta_clear(cm_meta *m);
void cm_meta_free(cm_meta *m);
cm_mval *cm_meta_add(cm_meta *m, const char *key, size_t key_len);
const cm_mval *cm_meta_find(const cm_meta *m, const char *key);
void cm_meta_copy(cm_meta *dst, const cm_meta *src);
/* Removes entry i, keeping order. */
void cm_meta_remove(cm_meta *m, size_t i);

void cm_record_clear(cm_record *r); /* frees contents, keeps struct reusable */
void cm_record_copy(cm_record *dst, const cm_record *src);
void cm_collection_free(cm_collection *c);
void cm_collection_copy(cm_collection *dst, const cm_collection *src);

const char *cm_mtype_name(cm_mtype t);
const char *cm_space_name(cm_space s);
int cm_space_parse(const char *s, cm_space *out);

#endif
