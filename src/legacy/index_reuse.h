/* index_reuse.h - turning a legacy hnswlib index into Chroma's four files,
 * when (and only when) it provably matches the data being written.
 *
 * chromadb 0.3.x saved one hnswlib index per collection under index/:
 * index_<uuid>.bin (hnswlib's single-file layout), id_to_uuid_<uuid>.pkl and
 * uuid_to_id_<uuid>.pkl (label <-> record uuid), index_metadata_<uuid>.pkl.
 * Building a graph is nearly all of a migration's time; converting one that
 * matches is a linear copy. "Matches" is checked, never assumed: every live
 * element's label maps to a record being written and every record is in the
 * index, the dimension, space and count agree, and every stored vector equals
 * the record's embedding as float32 (normalised for cosine). */
#ifndef CM_INDEX_LEGACY_REUSE_H
#define CM_INDEX_LEGACY_REUSE_H

#include <stddef.h>

#include "../util/err.h"
#include "../index/hnsw.h"

typedef struct legacy_reuse_in {
    const char *index_dir;       /* <persist_directory>/index */
    const char *collection_uuid; /* the legacy collection's uuid */
    hnsw_space space;
    /* The records being written, staged but not built: element i has
     * hnsw_label(staged, i) (Chroma's label, 1..N), hnsw_vector (normalised
     * for cosine) and hnsw_norm. */
    const hnsw_index *staged;
    /* keys[i]: the legacy record uuid (chroma-embeddings.parquet `uuid`
     * column, 36-char hyphenated) of staged element i. */
    const char *const *keys;
} legacy_reuse_in;

typedef enum legacy_reuse_outcome {
    LEGACY_REUSE_REBUILT,  /* not reused (reason says why): the caller builds a graph */
    LEGACY_REUSE_REUSED,   /* the legacy graph converted as it was (tombstones may be kept) */
    LEGACY_REUSE_REPAIRED, /* converted, then the records it lacked or held stale inserted */
} legacy_reuse_outcome;

typedef struct legacy_reuse_result {
    legacy_reuse_outcome outcome;
    /* tombstones kept, by kind: live elements of no record being written,
     * elements soft-deleted in the legacy index, old elements of records
     * whose vector changed */
    size_t stale, deleted, replaced;
    size_t inserted_missing; /* records inserted that the index lacked (replaced ones are inserted too) */
    uint32_t total_labels;   /* on reuse: labels handed out, the pickle's total_elements_added */
    char reason[300];        /* REBUILT: why, in a few words (no index file, stale labels, ...) */
} legacy_reuse_result;

/* legacy_reuse_try(_ex) with the answer as a struct: keep_tombstones = 0 is
 * legacy_reuse_try, 1 legacy_reuse_try_ex (index_reuse_ext.h). Returns 1
 * (reused or repaired), 0 (res->reason says why not) or -1 (err set). */
int legacy_reuse_run(const legacy_reuse_in *in, const char *out_dir, int keep_tombstones, legacy_reuse_result *res,
                     cm_err *err);

/* What a reuse kept and inserted, in words: "" for a plain reuse (or none),
 * else e.g. "6 missing records inserted into the graph, 2 stale and 3
 * deleted elements kept as deleted". */
void legacy_reuse_detail(const legacy_reuse_result *r, char *buf, size_t cap);

/* The same as one line of text: why is the reason, "reused" or
 * "reused; <detail>".
 * 1: the legacy graph was written into out_dir as header.bin, data_level0.bin,
 * length.bin and link_lists.bin (labels renumbered to the staged labels,
 * norms from the staged elements), fsynced; 0: it cannot be reused, `why`
 * says why in a few words (no index file, stale labels, vectors differ, ...);
 * -1: an I/O error (err set). */
int legacy_reuse_try(const legacy_reuse_in *in, const char *out_dir, char *why, size_t why_cap, cm_err *err);

/* Whether index_<uuid>.bin exists for this collection (cheap). */
int legacy_reuse_available(const char *index_dir, const char *collection_uuid);

#endif
