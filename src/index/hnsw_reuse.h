/* hnsw_reuse.h - turning a prior hnswlib graph a source offers
 * (prior_index.h) into Chroma's four files, when (and only when) it provably
 * matches the data being written.
 *
 * Building a graph is nearly all of a migration's time; converting one that
 * matches is a linear copy. "Matches" is checked, never assumed: every live
 * element's label maps to a record being written and every record is in the
 * index, the dimension, space and count agree, and every stored vector equals
 * the record's embedding as float32 (normalised for cosine).
 *
 * keep_tombstones = 0 refuses an index holding soft-deleted elements (or
 * live elements for records that are not being written), because keeping
 * them is only correct when the pickle's total_elements_added covers their
 * labels. keep_tombstones = 1 keeps such elements as deleted tombstones,
 * exactly what Chroma itself leaves after a delete: the flag set, links
 * kept, the label retired. Tombstones get labels max_label+1 .. max_label+T
 * (max_label = the largest staged label), and on success total_labels =
 * max_label + T: the caller MUST write that as the pickle's
 * total_elements_added, so that
 *  - Chroma never allocates a retired label again (Rust 1.x reuses a deleted
 *    slot on add and erases the slot's old label from its lookup table: a
 *    retired label equal to a live one would unlink that live element);
 *  - Python 0.5/0.6, which grows the index only when total_elements_added +
 *    batch > max_elements, never hits "exceeds the specified limit" with
 *    cur_element_count (tombstones included) above total_elements_added.
 * It refuses when tombstones would outnumber the live elements (a rebuilt
 * graph is better then).
 *
 * It also repairs: records the index lacks (chromadb saved its index only
 * now and then, so the last additions are often missing) and records whose
 * stored vector differs (an update the index never saw; the old element
 * becomes a tombstone) are inserted into the prior graph after conversion,
 * as hnswlib inserts into an index it loaded - as long as they are at most
 * half of the records. A reader of the result (verify) must accept deleted
 * elements whose labels are above the pickle's largest live label. */
#ifndef CM_INDEX_HNSW_REUSE_H
#define CM_INDEX_HNSW_REUSE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "hnsw.h"
#include "prior_index.h"

typedef struct hnsw_reuse_in {
    cm_prior_index *prior; /* the graph the source offers */
    hnsw_space space;
    /* The records being written, staged but not built: element i has
     * hnsw_label(staged, i) (Chroma's label, 1..N), hnsw_vector (normalised
     * for cosine) and hnsw_norm. */
    const hnsw_index *staged;
    /* keys[i]: the record key the prior's labels map to (the legacy record
     * uuid, chroma-embeddings.parquet `uuid` column, 36-char hyphenated) of
     * staged element i. */
    const char *const *keys;
} hnsw_reuse_in;

typedef enum hnsw_reuse_outcome {
    HNSW_REUSE_REBUILT,  /* not reused (reason says why): the caller builds a graph */
    HNSW_REUSE_REUSED,   /* the prior graph converted as it was (tombstones may be kept) */
    HNSW_REUSE_REPAIRED, /* converted, then the records it lacked or held stale inserted */
} hnsw_reuse_outcome;

typedef struct hnsw_reuse_result {
    hnsw_reuse_outcome outcome;
    /* tombstones kept, by kind: live elements of no record being written,
     * elements soft-deleted in the prior index, old elements of records
     * whose vector changed */
    size_t stale, deleted, replaced;
    size_t inserted_missing; /* records inserted that the index lacked (replaced ones are inserted too) */
    uint32_t total_labels;   /* on reuse: labels handed out, the pickle's total_elements_added */
    char reason[300];        /* REBUILT: why, in a few words (no index file, stale labels, ...) */
} hnsw_reuse_result;

/* 1: the prior graph was written into out_dir as header.bin,
 * data_level0.bin, length.bin and link_lists.bin (labels renumbered to the
 * staged labels, norms from the staged elements), fsynced; 0: it cannot be
 * reused, res->reason says why; -1: an I/O error (err set). Whatever the
 * prior index loaded is released before returning. */
int hnsw_reuse_run(const hnsw_reuse_in *in, const char *out_dir, int keep_tombstones, hnsw_reuse_result *res,
                   cm_err *err);

#endif
