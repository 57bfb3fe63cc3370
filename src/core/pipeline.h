/* pipeline.h - source -> policies -> sink, and what it did.
 *
 * Two passes over each collection: analysis (counts, duplicates, what needs a
 * decision) for every collection first, so a run that needs a decision stops
 * before writing anything; then the write pass, which applies the policies
 * record by record and streams into the sink. */
#ifndef CM_CORE_PIPELINE_H
#define CM_CORE_PIPELINE_H

#include "analyze.h"
#include "policy.h"
#include "sink.h"
#include "source.h"

typedef struct cm_progress {
    /* phase: "reading", "writing", "indexing"; total < 0 when unknown */
    void (*phase)(void *ctx, const char *phase, const char *collection, int64_t total);
    void (*advance)(void *ctx, int64_t done);
    /* the write pass is about to start: its collections and units of work
     * (each source record written, and indexed when the sink builds the
     * index: the "indexing" phases then count too); may be NULL */
    void (*plan)(void *ctx, size_t collections, int64_t work);
    /* non-zero: stop as soon as possible (Ctrl-C) */
    int (*cancelled)(void *ctx);
    void *ctx;
} cm_progress;

typedef struct cm_coll_result {
    cm_collection src;    /* as listed by the source */
    char *target_name;
    cm_stats st;          /* the analysis */
    cm_hnsw_cfg hnsw;
    int64_t written;      /* records the target acknowledged (sink counts()) */
    int64_t already;      /* records the target had already (not sent again) */
    int64_t in_doubt;     /* sent when the run stopped, never answered */
    int64_t dup_dropped;  /* later (or earlier) copies of an id not written */
    int64_t skipped_no_id, skipped_no_emb, skipped_wrong_dim, skipped_nonfinite;
    int64_t skipped_unsent;       /* rows the source could not send */
    int64_t skipped_bad_text;     /* id or document not UTF-8 text */
    cm_meta_changes meta_changes; /* what the metadata policy changed */
    cm_index_outcome index;       /* what the sink did about the vector index */
    double seconds;
} cm_coll_result;

/* What needs a decision before anything is written; the CLI words each one
 * with the option that decides it. */
typedef enum cm_blocker_kind {
    CM_BLK_BAD_NAME,        /* target name not allowed (detail: why; other: source name) */
    CM_BLK_NAME_CLASH,      /* two collections get one name (other: the earlier one; detail: the name) */
    CM_BLK_META_KEY,        /* collection metadata key (other: key; detail: problem) */
    CM_BLK_HNSW_META,       /* collection's HNSW metadata unusable (detail: why) */
    CM_BLK_BAD_META,        /* records' metadata Chroma >= 0.4 cannot store */
    CM_BLK_META_NOT_OBJECT, /* records' metadata no JSON object */
    CM_BLK_DUP_IDS,
    CM_BLK_MISSING_ID,
    CM_BLK_BAD_TEXT,
    CM_BLK_UNSENT,          /* rows the source could not send */
    CM_BLK_MISSING_EMB,
    CM_BLK_NONFINITE_EMB,
    CM_BLK_WRONG_DIM,       /* detail: the dimensions seen; dim: the one kept */
} cm_blocker_kind;

typedef struct cm_blocker {
    cm_blocker_kind kind;
    char *collection; /* the target name for BAD_NAME, else the source name */
    char *other;      /* see the kind, or NULL */
    int64_t count;    /* records concerned (0 where not about records) */
    char *examples;   /* "id 'x' (row 3): why; ... N more", or NULL */
    char *detail;     /* see the kind, or NULL */
    int64_t dim;
} cm_blocker;

typedef struct cm_run {
    cm_coll_result *c;
    size_t n;
    cm_blocker *blockers; /* why the run stopped before writing */
    size_t nblockers;
    double seconds;
} cm_run;

/* -1 (err names the collections there are) if a collection the policy
 * selects, or the OLD of a rename OLD=NEW, is no collection of the source: a
 * typo must not make a run silently do something else. */
int cm_run_check_names(const cm_policy *p, const cm_collection *cols, size_t n, const char *where, cm_err *err);
/* Lists and analyses the selected collections (the inspect step); checks
 * the names first (cm_run_check_names). */
int cm_run_analyze(cm_source *src, const cm_policy *p, const cm_progress *pr, cm_run *run, cm_err *err);
/* Fills run->blockers with everything that needs a decision under policy p;
 * returns their number (run->nblockers). */
size_t cm_run_blockers(cm_run *run, const cm_policy *p);
/* The write pass (after cm_run_analyze and no blockers). Calls sink->finish
 * on success and sink->abort on failure. */
int cm_run_write(cm_source *src, cm_sink *sink, const cm_policy *p, const cm_progress *pr, cm_run *run,
                 cm_err *err);
void cm_run_free(cm_run *run);

/* The write pass's decision for record number idx of a collection, shared
 * with verify so both apply the policies identically: skip (and why), or
 * keep - then r's metadata has had the metadata policy applied. */
typedef enum cm_verdict {
    CM_KEEP,
    CM_SKIP_NO_ID,
    CM_SKIP_DUPLICATE,
    CM_SKIP_UNSENT,
    CM_SKIP_NO_EMB,
    CM_SKIP_WRONG_DIM,
    CM_SKIP_NONFINITE,
    CM_SKIP_BAD_TEXT,
} cm_verdict;
/* ch (may be NULL) adds up what the metadata policy changed. */
cm_verdict cm_prepare_record(const cm_coll_result *cr, const cm_policy *p, cm_record *r, int64_t idx,
                             cm_meta_changes *ch);

#endif
