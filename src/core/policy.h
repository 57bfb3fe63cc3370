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

/* NULL if the value can be stored by Chroma >= 0.4, else why not. */
const char *cm_mval_problem(const cm_mval *v);

/* Applies the metadata policy in place (only for DROP/STRINGIFY). Returns
 * how many values were changed. */
size_t cm_meta_apply(cm_meta *m, cm_meta_policy p);

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
