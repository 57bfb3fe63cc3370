/* hnsw.h - an HNSW graph builder compatible with hnswlib's layout and files.
 *
 * The index keeps its elements exactly as hnswlib lays out level 0 (links,
 * vector, label in one record of size_data_per_element bytes), so writing
 * Chroma's data_level0.bin is one sequential write, and memory is the vectors
 * plus the graph - nothing else.
 *
 * Build: stage every vector (hnsw_stage), then hnsw_build inserts them with
 * hnswlib's algorithm (random level with mult = 1/ln(M), greedy descent, an
 * ef_construction beam search per level, the neighbour-selection heuristic,
 * bidirectional links with pruning) on `threads` threads.
 *
 * Spaces follow hnswlib as Chroma uses it: l2 = squared L2 distance;
 * ip = 1 - dot; cosine = ip over vectors normalised by (norm + 1e-30), with
 * the original norm kept for length.bin. */
#ifndef CM_INDEX_HNSW_H
#define CM_INDEX_HNSW_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

typedef enum hnsw_space { HNSW_L2 = 0, HNSW_IP = 1, HNSW_COSINE = 2 } hnsw_space;

typedef struct hnsw_params {
    size_t dim;
    size_t M;               /* hnsw:M, Chroma default 16 */
    size_t ef_construction; /* hnsw:construction_ef, default 100 */
    hnsw_space space;
    uint64_t seed;          /* level generator seed (hnswlib default 100) */
    int threads;            /* <= 0: all online cores */
} hnsw_params;

typedef struct hnsw_index hnsw_index;

/* Allocates room for `capacity` elements up front (no reallocation later;
 * untouched pages cost nothing). M must be 2..10000, capacity < 2^31. */
hnsw_index *hnsw_new(const hnsw_params *p, size_t capacity, cm_err *err);
void hnsw_free(hnsw_index *h);

/* Appends one element (internal id = number staged before it). The vector is
 * converted to float32 (and normalised for cosine, in hnswlib's arithmetic).
 * Fails when full, or on a value that is not a finite float32. */
int hnsw_stage_f32(hnsw_index *h, const float *vec, uint64_t label, cm_err *err);
int hnsw_stage_f64(hnsw_index *h, const double *vec, uint64_t label, cm_err *err);
/* Appends a vector already in the index's form (normalised for cosine, as
 * hnsw_vector returns it) with its original norm: moving an element from
 * one index into another without rounding it twice. */
int hnsw_stage_prepared(hnsw_index *h, const float *vec, float norm, uint64_t label, cm_err *err);

/* Called from the building threads now and then with (done, total); may be
 * NULL. Must be thread-safe. */
typedef void (*hnsw_progress_fn)(void *ctx, size_t done, size_t total);
/* Links every staged element not linked yet into the graph (so staging more
 * after a build and building again works). Levels are drawn from the seed and
 * the staging index, so they do not depend on the threads; with threads = 1
 * the whole graph is deterministic. */
int hnsw_build(hnsw_index *h, hnsw_progress_fn progress, void *ctx, cm_err *err);

size_t hnsw_count(const hnsw_index *h);
/* The parameters in force (as built, or as read from header.bin). */
size_t hnsw_dim(const hnsw_index *h);
size_t hnsw_M(const hnsw_index *h);
hnsw_space hnsw_space_of(const hnsw_index *h);
/* k nearest by the index (ef = max(ef, k)); writes up to k results, nearest
 * first, and returns how many. The query is a raw vector (normalised here for
 * cosine, as Chroma does); elements flagged deleted in files read back are
 * passed through but not returned. Distances as hnswlib reports them.
 * Thread-safe against other searches, not against hnsw_build. */
size_t hnsw_search(const hnsw_index *h, const float *query, size_t k, size_t ef, uint64_t *labels, float *dists);

/* Writes header.bin, data_level0.bin, length.bin and link_lists.bin into dir
 * (which must exist), in Chroma's persistent layout (PERSISTENCE_VERSION 1,
 * max_elements = count), each file fsynced. length.bin holds the original
 * norms (for l2/ip too, where Chroma ignores it). An empty index gives the
 * header (maxlevel -1, entry point 0xFFFFFFFF) and three empty files. Every
 * staged element must have been built. */
int hnsw_write_chroma_files(const hnsw_index *h, const char *dir, cm_err *err);
/* Loads those four files again (for verify and tests); checks sizes, levels
 * and every link against the header before trusting them (data_level0.bin
 * and length.bin may be longer, as Chroma pads them to capacity). The index
 * is full: capacity = count. */
hnsw_index *hnsw_read_chroma_files(const char *dir, hnsw_space space, cm_err *err);
/* The same with room for `room` more elements: staged after loading, they
 * are linked into the loaded graph by hnsw_build (which leaves the loaded
 * elements' links as they are, but for the new neighbours it gives them). */
hnsw_index *hnsw_read_chroma_files_room(const char *dir, hnsw_space space, size_t room, cm_err *err);

/* Stored (normalised) vector and label of internal id i; for tests/verify. */
const float *hnsw_vector(const hnsw_index *h, size_t i);
uint64_t hnsw_label(const hnsw_index *h, size_t i);
float hnsw_norm(const hnsw_index *h, size_t i);
/* Whether internal id i carries hnswlib's deleted flag (only elements read
 * back from files can: a tombstone that searches pass over). */
int hnsw_is_deleted(const hnsw_index *h, size_t i);

#endif
