/* prior_index.h - a graph a source already holds for a collection, offered
 * to the sink that would otherwise build one (chromadb 0.3.x's hnswlib
 * index and its id maps, src/legacy/prior_index.c). The reuse decision
 * (hnsw_reuse.h) works on this object only: where and how the source stores
 * the graph is the source's business, so index/ opens none of its files.
 *
 * Loading is lazy and in two steps, graph then labels, because the decision
 * checks the graph against the records before it needs the label maps, and
 * the first check that fails is the reason reported. Both answer 1, or 0
 * with the reason in why (a file that cannot be read or is damaged is a
 * reason to build a new graph, not an error). What they hand out stays valid
 * until release, which gives the memory back (the object itself belongs to
 * the source, which frees it). */
#ifndef CM_INDEX_PRIOR_INDEX_H
#define CM_INDEX_PRIOR_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../util/uuid.h"
#include "hnsw_files.h"

/* One label <-> record key entry (the key: the record's uuid). */
typedef struct cm_prior_pair {
    uint64_t label;
    cm_uuid key;
} cm_prior_pair;

/* Which record each label belongs to, as the source states it twice (a
 * forward and a reverse map, which must agree on every record written). */
typedef struct cm_prior_labels {
    const cm_prior_pair *fwd; /* label -> key, in the source's order */
    size_t nfwd;
    const cm_prior_pair *rev; /* key -> label */
    size_t nrev;
    size_t bad; /* entries of either map that are no label <-> key */
} cm_prior_labels;

typedef struct cm_prior_index cm_prior_index;
typedef struct cm_prior_index_ops {
    int (*graph)(cm_prior_index *p, const hnswlib_file **g, char *why, size_t why_cap);
    /* after graph said 1; the labels are checked against the graph's count */
    int (*labels)(cm_prior_index *p, cm_prior_labels *out, char *why, size_t why_cap);
    void (*release)(cm_prior_index *p);
} cm_prior_index_ops;

struct cm_prior_index {
    const cm_prior_index_ops *ops;
};

#endif
