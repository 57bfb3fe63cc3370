/* hnsw_build.c - inserting the staged elements, on several threads.
 *
 * The algorithm is hnswlib's addPoint: greedy descent from the entry point
 * down to the element's level, then at each level from there to 0 an
 * ef_construction beam search, the neighbour-selection heuristic
 * (getNeighborsByHeuristic2) keeping at most M, and links back from each
 * chosen neighbour, pruned with the same heuristic to maxM (maxM0 = 2M at
 * level 0) when its list is full. An element whose level is above the
 * current top holds the global lock for its whole insertion and then becomes
 * the entry point. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/mem.h"
#include "hnsw_impl.h"

/* hnswlib's getNeighborsByHeuristic2: walk the candidates from the closest
 * and keep one unless an already kept one is closer to it than the base
 * element is; stop at m. Fewer than m candidates are all kept. c is sorted
 * ascending; returns the number written to out (ascending too, flags
 * cleared).
 *
 * Candidates flagged HN_STABLE were all kept by one earlier run of this
 * heuristic for the same base element, so none of them rejects another:
 * those pairs are not measured again. The answer is the same as measuring
 * them (same vectors, same kernel, same distances to the base, same order),
 * and a full neighbour list of mostly stable members costs ~2M distances to
 * prune instead of ~2M^2. */
static size_t heuristic(const hnsw_index *h, const hn_cand *c, size_t n, size_t m, hn_cand *out)
{
    if (n < m) {
        for (size_t i = 0; i < n; i++) {
            out[i].d = c[i].d;
            out[i].id = c[i].id & ~HN_STABLE;
        }
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k < m; i++) {
        uint32_t id = c[i].id & ~HN_STABLE;
        int stable = (c[i].id & HN_STABLE) != 0;
        if (i + 1 < n)
            hn_prefetch_vec(h, c[i + 1].id & ~HN_STABLE);
        const float *v = hn_vec(h, id);
        int good = 1;
        for (size_t j = 0; j < k; j++) {
            if (stable && (out[j].id & HN_STABLE))
                continue;
            if (h->dist(hn_vec(h, out[j].id & ~HN_STABLE), v, h->dim) < c[i].d) {
                good = 0;
                break;
            }
        }
        if (good)
            out[k++] = c[i];
    }
    for (size_t j = 0; j < k; j++)
        out[j].id &= ~HN_STABLE;
    return k;
}

/* Sorts a short candidate array by distance (insertion sort). */
static void sort_cands(hn_cand *c, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        hn_cand x = c[i];
        size_t j = i;
        while (j > 0 && c[j - 1].d > x.d) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = x;
    }
}

/* Adds a link nb -> c at level l (c's distance to nb is d), pruning nb's list
 * with the heuristic when it is full. */
static void link_back(const hnsw_index *h, hn_scratch *s, uint32_t nb, uint32_t c, float d, int l)
{
    size_t mmax = l ? h->maxM : h->maxM0;
    unsigned char *ll = hn_list(h, nb, l);
    uint32_t *ids = hn_list_ids(ll);
    hn_lock(h, nb);
    size_t cnt = hn_list_count(ll);
    if (cnt < mmax) {
        ids[cnt] = c;
        hn_set_list_count(ll, cnt + 1);
        hn_unlock(h, nb);
        return;
    }
    /* the first `stable` links are what the last heuristic run kept; the
     * ones appended since, and c, were never checked */
    size_t stable = l == 0 && !h->no_stable ? h->stable0[nb] : 0;
    const float *vn = hn_vec(h, nb);
    hn_cand *cand = s->cand;
    cand[0].d = d;
    cand[0].id = c;
    for (size_t j = 0; j < cnt && j < HN_PREFETCH_AHEAD; j++)
        hn_prefetch_vec(h, ids[j]);
    for (size_t j = 0; j < cnt; j++) {
        if (j + HN_PREFETCH_AHEAD < cnt)
            hn_prefetch_vec(h, ids[j + HN_PREFETCH_AHEAD]);
        cand[j + 1].d = h->dist(vn, hn_vec(h, ids[j]), h->dim);
        cand[j + 1].id = ids[j] | (j < stable ? HN_STABLE : 0);
    }
    sort_cands(cand, cnt + 1); /* stable sort: ties keep the order they were kept in */
    size_t k = heuristic(h, cand, cnt + 1, mmax, s->sel);
    for (size_t j = 0; j < k; j++)
        ids[j] = s->sel[j].id;
    for (size_t j = k; j < mmax; j++)
        ids[j] = 0;
    hn_set_list_count(ll, k);
    if (l == 0)
        h->stable0[nb] = (uint16_t)k;
    hn_unlock(h, nb);
}

static void insert(hnsw_index *h, hn_scratch *s, uint32_t c)
{
    const float *q = hn_vec(h, c);
    int lc = h->levels[c];
    /* c's lock is held until c is complete, as in hnswlib: a thread that
     * reaches c at some level through a fresh link must not read c's lists
     * of lower levels before they exist (it would descend into an element
     * with no links). No deadlock: both threads work from the top level down,
     * and a thread can reach an element only at levels where that element is
     * already linked, which are above the level the other thread is at. */
    hn_lock(h, c);
    pthread_mutex_lock(&h->global);
    int maxl = h->maxlevel;
    uint32_t ep = h->entry;
    int hold = lc > maxl;
    if (!hold)
        pthread_mutex_unlock(&h->global);
    if (ep == HN_NONE) {
        h->entry = c;
        h->maxlevel = lc;
        pthread_mutex_unlock(&h->global);
        hn_unlock(h, c);
        return;
    }
    float epd = h->dist(q, hn_vec(h, ep), h->dim);
    if (lc < maxl)
        hn_greedy(h, s, q, &ep, &epd, maxl, lc, 1);
    for (int l = lc < maxl ? lc : maxl; l >= 0; l--) {
        size_t n = hn_search_layer(h, s, q, ep, epd, l, h->efc, 1);
        for (size_t i = 0; i < n; i++) {
            s->cand[i].d = s->pool[i].d;
            s->cand[i].id = s->pool[i].id & ~HN_EXPANDED;
        }
        size_t k = heuristic(h, s->cand, n, h->M, s->sel);
        unsigned char *ll = hn_list(h, c, l);
        uint32_t *ids = hn_list_ids(ll);
        for (size_t j = 0; j < k; j++)
            ids[j] = s->sel[j].id;
        hn_set_list_count(ll, k);
        if (l == 0) /* with fewer than M candidates nothing was checked */
            h->stable0[c] = (uint16_t)(n >= h->M ? k : 0);
        /* s->sel is reused by link_back's pruning: keep a copy */
        hn_cand *chosen = s->pool; /* free now */
        memcpy(chosen, s->sel, k * sizeof *chosen);
        for (size_t j = 0; j < k; j++)
            link_back(h, s, chosen[j].id, c, chosen[j].d, l);
        ep = chosen[0].id;
        epd = chosen[0].d;
    }
    if (hold) {
        h->entry = c;
        h->maxlevel = lc;
        pthread_mutex_unlock(&h->global);
    }
    hn_unlock(h, c);
}

typedef struct build_job {
    hnsw_index *h;
    size_t next; /* atomic: next element to insert */
    size_t end;
    size_t done; /* atomic */
    size_t total;
    hnsw_progress_fn progress;
    void *ctx;
} build_job;

static void *worker(void *arg)
{
    build_job *b = arg;
    hnsw_index *h = b->h;
    hn_scratch *s = hn_scratch_get(h);
    for (;;) {
        size_t i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
        if (i >= b->end)
            break;
        insert(h, s, (uint32_t)i);
        size_t d = __atomic_add_fetch(&b->done, 1, __ATOMIC_RELAXED);
        if (b->progress && d % HN_PROGRESS_EVERY == 0 && d < b->total)
            b->progress(b->ctx, d, b->total);
    }
    hn_scratch_put(h, s);
    return NULL;
}

static int thread_count(const hnsw_index *h, size_t work)
{
    long n = h->threads;
    if (n <= 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1)
            n = 1;
    }
    if (n > 256)
        n = 256;
    if ((size_t)n > work)
        n = (long)(work ? work : 1);
    return (int)n;
}

int hnsw_build(hnsw_index *h, hnsw_progress_fn progress, void *ctx, cm_err *err)
{
    (void)err;
    if (h->linked >= h->count)
        return 0;
    build_job b = {.h = h, .next = h->linked, .end = h->count, .total = h->count - h->linked,
                   .progress = progress, .ctx = ctx};
    if (h->entry == HN_NONE) { /* the first element alone, as hnswlib's bindings do */
        hn_scratch *s = hn_scratch_get(h);
        insert(h, s, (uint32_t)b.next++);
        hn_scratch_put(h, s);
        b.done = 1;
    }
    int nt = thread_count(h, b.end - b.next);
    pthread_t *tid = xmalloc((size_t)nt * sizeof *tid);
    int started = 0;
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&tid[started], NULL, worker, &b) != 0)
            break; /* fewer threads: the work gets done anyway */
        started++;
    }
    worker(&b);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    h->linked = h->count;
    if (progress)
        progress(ctx, b.total, b.total);
    return 0;
}
