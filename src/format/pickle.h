/* pickle.h - the two Python pickles chroma-migrate meets, without Python.
 *
 * Writing: Chroma's index_metadata.pickle, as a protocol-2 PersistentData
 * instance that Chroma 1.x (serde-pickle) and Python chromadb 0.5.6-0.6.x both
 * load (byte recipe: shared reference chroma-persistent-format.md section 4).
 *
 * Reading: a minimal, safe unpickler for the opcodes legacy stores use (dicts,
 * ints, strings, uuid.UUID objects). It never imports or calls anything: a
 * GLOBAL is only recorded as a name; unknown opcodes are an error. */
#ifndef CM_FORMAT_PICKLE_H
#define CM_FORMAT_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

/* ---- writer ---- */

typedef struct pk_writer pk_writer;

/* Streams the pickle to `path` (created/truncated). Entries are added in
 * label order; ids are byte strings with a length (valid UTF-8 expected). */
pk_writer *pk_persistent_data_begin(const char *path, cm_err *err);
int pk_persistent_data_add(pk_writer *w, const char *id, size_t id_len, uint32_t label, uint32_t seq_id);
/* Writes everything and fsyncs. have_max_seq_id selects whether the
 * legacy 'max_seq_id' key is written (needed only for Python < 0.5.6). */
int pk_persistent_data_finish(pk_writer *w, int64_t dimensionality, uint32_t total_elements_added,
                              int have_max_seq_id, int64_t max_seq_id, cm_err *err);
void pk_writer_abort(pk_writer *w);

#endif
