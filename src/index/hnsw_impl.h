/* hnsw_impl.h - the HNSW index's insides, shared by hnsw*.c only.
 *
 * Memory layout (hnswlib's, so the files are plain copies):
 *   data: capacity records of rec_size bytes, record i =
 *     +0 u16 level-0 neighbour count, +2 u8 flags (bit 0 = deleted),
 *     +3 u8 spin lock while building (0 otherwise, as the file wants),
 *     +4 maxM0 u32 neighbour ids, +off_data dim float32, +off_label u64 label.
 *   upper: one arena of link blocks for levels 1..level of every element,
 *     element i's at upper_off[i]; a block is u16 count, 2 zero bytes, then
 *     maxM u32 ids (links_size bytes), exactly as in link_lists.bin.
 *
 * Locking while building: the spin lock in an element's record guards all of
 * its link lists (every level); `global` guards entry/maxlevel. Vectors,
 * labels, norms and levels are written before the threads start and only
 * read afterwards. */
#ifndef CM_INDEX_HNSW_IMPL_H
#define CM_INDEX_HNSW_IMPL_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "distance.h"
#include "hnsw.h"
#include "hnsw_files.h"

#define HN_NONE 0xFFFFFFFFu
/* Internal ids keep their top bit free: the search pool marks expanded
 * entries with it. */
#define HN_MAX_ELEMENTS 0x7FFFFFFFu
#define HN_EXPANDED 0x80000000u
#define HN_STABLE 0x80000000u /* in heuristic candidates: see hnsw_build.c */
#define HN_DELETED HNSWLIB_DELETED
#define HN_PROGRESS_EVERY 4096u
/* How many vectors ahead of the one being measured are prefetched. */
#define HN_PREFETCH_AHEAD 4

typedef struct hn_cand {
    float d;
    uint32_t id; /* HN_EXPANDED may be set inside the search pool */
} hn_cand;

/* One thread's working memory; reused across inserts and searches. */
typedef struct hn_scratch {
    struct hn_scratch *next;
    uint16_t *visited; /* epoch tags, one per element */
    size_t nvisited;
    uint16_t tag;
    hn_cand *pool; /* beam search results, sorted by distance */
    size_t pool_cap;
    hn_cand *cand; /* heuristic input (prune candidates) */
    hn_cand *sel;  /* heuristic output */
    size_t cand_cap;
    uint32_t *links; /* a copied neighbour list */
    uint32_t *todo;  /* its unvisited members */
    float *query;    /* a normalised query (cosine) */
} hn_scratch;

struct hnsw_index {
    size_t dim, M, maxM, maxM0, efc;
    double mult;
    hnsw_space space;
    uint64_t seed;
    int threads;

    size_t capacity; /* records allocated */
    size_t count;    /* records staged (or loaded) */
    size_t linked;   /* records [0, linked) are in the graph */
    size_t ndeleted; /* records flagged deleted (only from files) */

    size_t rec_size, off_data, off_label, links_size;
    unsigned char *data; /* inside map */
    void *map;
    size_t map_len;
    float *norms;
    int *levels;
    uint16_t *stable0; /* per element: leading level-0 links the last heuristic kept */
    int no_stable;     /* tests: prune measuring every pair (same graph, slower) */
    size_t *upper_off;
    unsigned char *upper;
    size_t upper_len, upper_cap;

    int maxlevel;   /* -1 when empty */
    uint32_t entry; /* HN_NONE when empty */

    cm_simd simd;
    cm_dist_fn dist;

    pthread_mutex_t global;
    pthread_mutex_t scratch_lock;
    hn_scratch *scratch; /* free list */
};

static inline unsigned char *hn_rec(const hnsw_index *h, uint32_t i)
{
    return h->data + (size_t)i * h->rec_size;
}

static inline const float *hn_vec(const hnsw_index *h, uint32_t i)
{
    return (const float *)(void *)(h->data + (size_t)i * h->rec_size + h->off_data);
}

/* The link list (u16 count, pad, ids) of element i at level l (<= its level). */
static inline unsigned char *hn_list(const hnsw_index *h, uint32_t i, int l)
{
    if (l == 0)
        return hn_rec(h, i);
    return h->upper + h->upper_off[i] + (size_t)(l - 1) * h->links_size;
}

static inline size_t hn_list_count(const unsigned char *ll)
{
    return *(const uint16_t *)(const void *)ll;
}

static inline void hn_set_list_count(unsigned char *ll, size_t n)
{
    *(uint16_t *)(void *)ll = (uint16_t)n;
}

static inline uint32_t *hn_list_ids(unsigned char *ll)
{
    return (uint32_t *)(void *)(ll + 4);
}

static inline void hn_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline void hn_lock(const hnsw_index *h, uint32_t i)
{
    unsigned char *b = hn_rec(h, i) + 3;
    unsigned spins = 0;
    while (__atomic_exchange_n(b, (unsigned char)1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(b, __ATOMIC_RELAXED)) {
            if (++spins < 256)
                hn_cpu_relax();
            else
                sched_yield();
        }
    }
}

static inline void hn_unlock(const hnsw_index *h, uint32_t i)
{
    __atomic_store_n(hn_rec(h, i) + 3, (unsigned char)0, __ATOMIC_RELEASE);
}

__attribute__((always_inline)) static inline void hn_prefetch(const void *p)
{
    __builtin_prefetch(p, 0, 3);
}

/* Prefetches a whole vector (every cache line of it). always_inline: GCC
 * finds a separate function made of prefetches free of side effects and
 * drops the calls to it. */
__attribute__((always_inline)) static inline void hn_prefetch_vec(const hnsw_index *h, uint32_t i)
{
    const char *p = (const char *)hn_vec(h, i);
    size_t bytes = h->dim * sizeof(float);
    for (size_t o = 0; o < bytes; o += 64)
        __builtin_prefetch(p + o, 0, 3);
    __builtin_prefetch(p + bytes - 1, 0, 3);
}

/* hnsw_search.c */
hn_scratch *hn_scratch_get(hnsw_index *h);
void hn_scratch_put(hnsw_index *h, hn_scratch *s);
void hn_scratch_free_all(hnsw_index *h);
void hn_scratch_reserve(const hnsw_index *h, hn_scratch *s, size_t ef);
/* Copies element i's list at level l into out (locking when `locked`). */
size_t hn_copy_links(const hnsw_index *h, uint32_t i, int l, uint32_t *out, int locked);
/* Greedy descent from *cur through levels top..bottom+1; *curd is the
 * distance of *cur and is kept up to date. */
void hn_greedy(const hnsw_index *h, hn_scratch *s, const float *q, uint32_t *cur, float *curd, int top, int bottom,
               int locked);
/* Beam search at level l from ep (distance epd) with beam width ef; leaves the
 * best (up to ef) in s->pool, ascending, and returns how many. */
size_t hn_search_layer(const hnsw_index *h, hn_scratch *s, const float *q, uint32_t ep, float epd, int l, size_t ef,
                       int locked);

/* hnsw.c */
int hn_draw_level(uint64_t seed, uint64_t i, double mult);
void hn_set_dist(hnsw_index *h);
/* out = in / (|in| + 1e-30) in hnswlib's float arithmetic; returns |in|. */
float hn_normalize(const float *in, float *out, size_t dim);

#endif
