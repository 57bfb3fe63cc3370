/* policy.h - what to do with what a Chroma >= 0.4 target cannot hold.
 *
 * Legacy stores hold things Chroma >= 0.4 refuses: duplicate ids, metadata
 * values that are null, nested or non-finite, names that break the 0.4 naming
 * rule, records without an embedding or of another dimension. Each has a
 * policy; the default for anything that would change data is to stop before
 * writing and list the cases, so nothing is lost without the user saying so. */
#ifndef CM_CORE_POLICY_H
#define CM_CORE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "record.h"

typedef enum cm_dup_policy { CM_DUP_FIRST, CM_DUP_LAST, CM_DUP_ERROR } cm_dup_policy;
typedef enum cm_meta_policy { CM_META_ERROR, CM_META_DROP, CM_META_STRINGIFY } cm_meta_policy;

typedef struct cm_rename {
    char *from, *to;
} cm_rename;

typedef struct cm_policy {
    cm_dup_policy dup;
    cm_meta_policy meta;
    int skip_invalid; /* skip records with no id, no embedding or another dimension */
    cm_rename *renames;
    size_t nrenames;
    char **only; /* --collection filters (source names) */
    size_t nonly;
} cm_policy;

void cm_policy_free(cm_policy *p);

/* Python chromadb 0.4-0.6 naming rule (the intersection of what every
 * version accepts): 3-63 chars of [a-zA-Z0-9._-], starting and ending with
 * an alphanumeric, no "..", not an IPv4 address. Returns NULL if valid, else
 * the reason. */
const char *cm_name_problem(const char *name);

/* NULL if the value can be stored by Chroma >= 0.4, else why not. Text that
 * is not strict UTF-8 (a lone surrogate kept from "\udcff") cannot: Python's
 * chromadb fails to encode it and Chroma 1.x reads the key back as missing. */
const char *cm_mval_problem(const cm_mval *v);
/* NULL if a metadata key can be stored, else why not: a key that is not
 * UTF-8, or one in the namespace Chroma reserves ("chroma:..."; Chroma 1.x
 * leaves such keys out of every answer, 0.4-0.6 refuse "chroma:document"). */
const char *cm_mkey_problem(const char *key, size_t len);
/* The first problem of an entry: its key's, else its value's. */
const char *cm_mentry_problem(const cm_mval *v);

/* The key a metadata policy gives records whose metadata text is not a JSON
 * object, under stringify: the whole text is stored there as a string. */
#define CM_LEGACY_METADATA_KEY "legacy_metadata"

/* What applying the metadata policy changed. */
typedef struct cm_meta_changes {
    int64_t values;       /* values dropped or stringified */
    int64_t keys_renamed; /* stringify: keys Chroma cannot hold, renamed */
    int64_t whole;        /* metadata texts that were no JSON object: dropped or stored as text */
} cm_meta_changes;

/* Applies the metadata policy in place (only for DROP/STRINGIFY). Drop
 * removes each entry with a problem. Stringify stores a bad value as the
 * text Python's json.dumps gives for it, and renames a bad key: a reserved
 * "chroma:x" becomes "_chroma:x", a key that is not UTF-8 becomes its
 * json.dumps text without the quotes ("\udcff"); a leading '_' is added
 * while the new name is taken. Returns how many entries were changed. */
size_t cm_meta_apply(cm_meta *m, cm_meta_policy p, cm_meta_changes *ch);

/* The final target name for a source collection name (after --rename). */
const char *cm_policy_target_name(const cm_policy *p, const char *name);
int cm_policy_selected(const cm_policy *p, const char *name);

/* HNSW settings of a collection, from its legacy hnsw:* metadata. */
typedef struct cm_hnsw_cfg {
    cm_space space;
    long M, ef_construction, ef_search, num_threads, sync_threshold, batch_size;
    double resize_factor;
    int has_num_threads;
} cm_hnsw_cfg;

/* Chroma's defaults overridden by the collection's hnsw:* keys. An unknown
 * hnsw: key or a value of the wrong type is an error (Chroma would refuse it
 * at load). */
int cm_hnsw_cfg_from_meta(const cm_meta *m, cm_hnsw_cfg *cfg, cm_err *err);

#endif
