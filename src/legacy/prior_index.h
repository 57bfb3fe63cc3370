/* prior_index.h - the hnswlib index chromadb 0.3.x kept per collection in
 * the persist_directory's index/ folder, offered as a cm_prior_index
 * (index/prior_index.h): index_<uuid>.bin (hnswlib's single file),
 * id_to_uuid_<uuid>.pkl and uuid_to_id_<uuid>.pkl (label <-> record uuid),
 * index_metadata_<uuid>.pkl (dimension and elements added). The legacy
 * source hands one out per collection; the unit tests open one directly. */
#ifndef CM_LEGACY_PRIOR_INDEX_H
#define CM_LEGACY_PRIOR_INDEX_H

#include "../index/prior_index.h"

/* NULL when index_dir holds no index_<collection_uuid>.bin (cheap: nothing
 * is read until the graph is asked for). A folder this user may not search
 * still counts as holding one, so the reason given later is "permission
 * denied", not "no legacy index". */
cm_prior_index *legacy_prior_index_open(const char *index_dir, const char *collection_uuid);
void legacy_prior_index_free(cm_prior_index *p);

#endif
