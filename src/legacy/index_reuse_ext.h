/* index_reuse_ext.h - legacy index reuse that may keep tombstones and
 * repair an index that is close to the data.
 *
 * legacy_reuse_try() refuses an index holding soft-deleted elements (or live
 * elements for records that are not being written), because keeping them is
 * only correct when the pickle's total_elements_added covers their labels,
 * and its caller writes total_elements_added = number of records.
 *
 * legacy_reuse_try_ex() is the same check and conversion, but it keeps such
 * elements as deleted tombstones, exactly what Chroma itself leaves after a
 * delete: the flag set, links kept, the label retired. Tombstones get labels
 * max_label+1 .. max_label+T (max_label = the largest staged label), and on
 * success *total_labels = max_label + T: the caller MUST write that as the
 * pickle's total_elements_added, so that
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
 * becomes a tombstone) are inserted into the legacy graph after conversion,
 * as hnswlib inserts into an index it loaded - as long as they are at most
 * half of the records. A reader of the result (verify) must accept deleted
 * elements whose labels are above the pickle's largest live label. */
#ifndef CM_INDEX_LEGACY_REUSE_EXT_H
#define CM_INDEX_LEGACY_REUSE_EXT_H

#include <stdint.h>

#include "index_reuse.h"

int legacy_reuse_try_ex(const legacy_reuse_in *in, const char *out_dir, uint32_t *total_labels, char *why,
                        size_t why_cap, cm_err *err);

#endif
