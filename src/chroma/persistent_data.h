/* persistent_data.h - Chroma's index_metadata.pickle: the PersistentData
 * object beside every HNSW segment's files (docs/formats.md#pickle).
 *
 * Chroma 1.x reads it with serde-pickle and Python chromadb 0.5.6-0.6.x with
 * pickle; the bytes written here are what Python's pickler writes for the
 * same object, so both load it. */
#ifndef CM_CHROMA_PERSISTENT_DATA_H
#define CM_CHROMA_PERSISTENT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

typedef struct pdata_writer pdata_writer;

/* Creates/truncates `path` now (so a bad path fails early); the entries are
 * kept in memory (ids in one arena, ~24 bytes each besides) and the pickle
 * is written at finish. Entries are added in label order; ids are byte
 * strings with a length. */
pdata_writer *pdata_begin(const char *path, cm_err *err);
/* Returns -1 (nothing added) if the id is not strict UTF-8 (Rust's
 * serde-pickle and Python would both fail to load it) or is 4 GiB or
 * longer; callers that want a precise message should check ids first. */
int pdata_add(pdata_writer *w, const char *id, size_t id_len, uint32_t label, uint32_t seq_id);
/* Writes everything, fflush + fsync + fclose (the directory is not synced).
 * have_max_seq_id selects whether the legacy 'max_seq_id' key is written
 * (needed only for Python < 0.5.6). Fails if dimensionality or max_seq_id is
 * negative or total_elements_added is below the largest label added.
 * Always consumes w; on failure the file is removed. */
int pdata_finish(pdata_writer *w, int64_t dimensionality, uint32_t total_elements_added, int have_max_seq_id,
                 int64_t max_seq_id, cm_err *err);
/* Closes and removes the file; frees w. NULL is fine. */
void pdata_abort(pdata_writer *w);

#endif
