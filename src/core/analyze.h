/* analyze.h - the first pass over a collection: what is there, and what will
 * need a decision before anything is written.
 *
 * `inspect` prints this; `migrate` runs it first so that it can stop before
 * writing a byte when a policy says "error", and so the write pass knows each
 * id's first and last occurrence (duplicates) and the collection's dimension. */
#ifndef CM_CORE_ANALYZE_H
#define CM_CORE_ANALYZE_H

#include <stdint.h>

#include "../util/strmap.h"
#include "source.h"

#define CM_MAX_EXAMPLES 5
#define CM_MAX_DIMS 8

typedef struct cm_example {
    char *id;     /* record id (or NULL) */
    int64_t row;  /* source row */
    char *detail; /* e.g. "key 'x': null value" */
} cm_example;

typedef struct cm_issue {
    int64_t count;
    size_t nex;
    cm_example ex[CM_MAX_EXAMPLES];
} cm_issue;

typedef struct cm_stats {
    int64_t records, unique_ids, documents, metadatas;
    int64_t dims_n;                     /* distinct dimensions seen */
    int64_t dim_value[CM_MAX_DIMS], dim_count[CM_MAX_DIMS];
    int64_t dim;                        /* most common dimension, -1 if none */
    cm_issue dup_ids;                   /* records whose id appeared before */
    cm_issue missing_id;                /* no id, or the empty id "" (counted among the ids) */
    cm_issue missing_emb;               /* no embedding, empty, or null elements */
    cm_issue unsent;                    /* rows the source could not send (only their ids) */
    cm_issue nonfinite_emb;
    cm_issue wrong_dim;                 /* dimension differs from `dim` (filled after the pass) */
    cm_issue bad_meta;                  /* metadata keys or values Chroma cannot store */
    cm_issue meta_not_object;           /* metadata text that is no JSON object */
    cm_issue bad_text;                  /* an id or document that is not UTF-8 text */
    strmap *ids;                        /* id -> first/last record index, count */
} cm_stats;

/* Streams collection c once. */
/* tick is called every 1024 records; a non-zero return stops the pass
 * (interrupted). */
int cm_analyze(cm_source *src, const cm_collection *c, cm_stats *st, int (*tick)(void *, int64_t), void *ctx,
               cm_err *err);
void cm_stats_free(cm_stats *st);
void cm_issue_add(cm_issue *is, const cm_record *r, const char *fmt, ...) CM_PRINTF(3, 4);

/* Record-level checks shared by analysis and the write pass. NULL if fine. */
const char *cm_record_emb_problem(const cm_record *r);
/* An id or document that is not strict UTF-8 (e.g. a lone surrogate that a
 * JSON answer carried): Chroma >= 0.4 cannot hold it as text, and no policy
 * rewrites ids or documents, so such a record is refused or left out. */
const char *cm_record_text_problem(const cm_record *r);

#endif
