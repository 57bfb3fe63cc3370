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

/* 1: the legacy graph was written into out_dir as header.bin, data_level0.bin,
 * length.bin and link_lists.bin (labels renumbered to the staged labels,
 * norms from the staged elements), fsynced; 0: it cannot be reused, `why`
 * says why in a few words (no index file, stale labels, vectors differ, ...);
 * -1: an I/O error (err set). */
int legacy_reuse_try(const legacy_reuse_in *in, const char *out_dir, char *why, size_t why_cap, cm_err *err);

/* Whether index_<uuid>.bin exists for this collection (cheap). */
int legacy_reuse_available(const char *index_dir, const char *collection_uuid);

#endif
