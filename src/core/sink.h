/* sink.h - where records go.
 *
 * The pipeline hands a sink one collection at a time, records already made
 * valid by the policies. A sink must make its result appear complete or not
 * at all: finish() publishes, abort() leaves nothing that looks finished.
 * Implementations: src/chroma/dir_writer.c (a persistent directory, written
 * directly) and src/chroma/rest_sink.c (a server); src/endpoints.c opens the
 * one a spec names. */
#ifndef CM_CORE_SINK_H
#define CM_CORE_SINK_H

#include <stdint.h>

#include "../util/err.h"
#include "policy.h"
#include "record.h"
#include "source.h"

typedef struct cm_target_collection {
    const char *name;      /* final name (after --rename) */
    const char *source_id; /* the source's collection id (kept when it is a UUID) */
    const cm_meta *meta;   /* collection metadata to keep (NULL: none) */
    cm_hnsw_cfg hnsw;
    int64_t dim;           /* -1 when the collection has no records */
    int64_t max_records;   /* upper bound of add() calls */
    /* The graph the source holds for this collection, or NULL: a sink may
     * reuse it instead of building one. */
    cm_prior_index *prior;
} cm_target_collection;

/* What a sink did about a collection's vector index, for the summary
 * (cli/report.c words it: cli_index_note). */
typedef enum cm_index_kind {
    CM_INDEX_NOTHING = 0, /* nothing to say (no records, or a server builds it) */
    CM_INDEX_BUILT,       /* a new graph; reason or rebuild_asked says why */
    CM_INDEX_REUSED,      /* the source's graph, converted (counts say what was kept and added) */
} cm_index_kind;

typedef struct cm_index_outcome {
    cm_index_kind kind;
    int rebuild_asked;  /* BUILT because the user asked for a new graph */
    char reason[300];   /* BUILT otherwise: why the source's graph was not used */
    /* REUSED: tombstones kept, by kind (live elements of no record written,
     * elements deleted in the source's graph, old elements of records whose
     * vector changed), and records the graph lacked that were inserted */
    size_t stale, deleted, replaced, inserted_missing;
} cm_index_outcome;

typedef void (*cm_build_progress)(void *ctx, size_t done, size_t total);

typedef struct cm_sink cm_sink;
typedef struct cm_sink_ops {
    const char *kind;
    /* 1 when end_collection builds a vector index (its work is reported as
     * an "indexing" phase, one unit per record); 0 for a sink whose server
     * does that itself. */
    int builds_index;
    int (*begin_collection)(cm_sink *s, const cm_target_collection *tc, cm_err *err);
    int (*add)(cm_sink *s, const cm_record *r, cm_err *err);
    /* Builds indexes etc.; may take long: reports through progress. */
    int (*end_collection)(cm_sink *s, cm_build_progress progress, void *ctx, cm_err *err);
    /* Makes the result visible, complete. */
    int (*finish)(cm_sink *s, cm_err *err);
    /* Removes everything written so far (nothing half-written stays). */
    void (*abort)(cm_sink *s);
    void (*destroy)(cm_sink *s);
    /* What end_collection did about the index, for the summary; may be
     * NULL, and may return NULL (nothing to say). */
    const cm_index_outcome *(*index_outcome)(cm_sink *s);
    /* For a target that keeps what it acknowledged when the run stops (a
     * server; NULL for a directory, which appears complete or not at all):
     * the current collection's records the target acknowledged, those it
     * already had (not sent), and those sent but never answered (in doubt).
     * Valid after end_collection and after abort. */
    void (*counts)(cm_sink *s, int64_t *written, int64_t *already, int64_t *in_doubt);
} cm_sink_ops;

struct cm_sink {
    const cm_sink_ops *ops;
    char *location;
};

#endif
