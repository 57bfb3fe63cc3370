/* hnsw_search.c - greedy descent and the ef beam search (used by the build
 * and by queries), per-thread scratch memory, and hnsw_search.
 *
 * The beam search keeps one sorted array of the best `ef` elements found so
 * far, each flagged once expanded, instead of hnswlib's two heaps: it expands
 * the closest unexpanded element and stops when none is left. That visits
 * the same elements in the same order as hnswlib's searchBaseLayer (whose
 * candidates worse than the ef-th result can never be expanded), and hands
 * the result over already sorted. */
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"
#include "hnsw_impl.h"

void hn_scratch_reserve(const hnsw_index *h, hn_scratch *s, size_t ef)
{
    if (s->pool_cap < ef) {
        free(s->pool);
        s->pool = xmalloc(ef * sizeof *s->pool);
        s->pool_cap = ef;
    }
    size_t need = ef > h->maxM0 + 1 ? ef : h->maxM0 + 1;
    if (s->cand_cap < need) {
        free(s->cand);
        free(s->sel);
        s->cand = xmalloc(need * sizeof *s->cand);
        s->sel = xmalloc(need * sizeof *s->sel);
        s->cand_cap = need;
    }
}

hn_scratch *hn_scratch_get(hnsw_index *h)
{
    pthread_mutex_lock(&h->scratch_lock);
    hn_scratch *s = h->scratch;
    if (s)
        h->scratch = s->next;
    pthread_mutex_unlock(&h->scratch_lock);
    if (!s) {
        s = xcalloc(1, sizeof *s);
        size_t ml = h->maxM0 > h->maxM ? h->maxM0 : h->maxM;
        s->links = xmalloc((ml + 1) * sizeof *s->links);
        s->todo = xmalloc((ml + 1) * sizeof *s->todo);
        s->query = xmalloc((h->dim ? h->dim : 1) * sizeof *s->query);
    }
    if (s->nvisited < h->capacity) {
        free(s->visited);
        s->visited = xcalloc(h->capacity ? h->capacity : 1, sizeof *s->visited);
        s->nvisited = h->capacity;
        s->tag = 0;
    }
    hn_scratch_reserve(h, s, h->efc);
    s->next = NULL;
    return s;
}

void hn_scratch_put(hnsw_index *h, hn_scratch *s)
{
    pthread_mutex_lock(&h->scratch_lock);
    s->next = h->scratch;
    h->scratch = s;
    pthread_mutex_unlock(&h->scratch_lock);
}

void hn_scratch_free_all(hnsw_index *h)
{
    hn_scratch *s = h->scratch;
    while (s) {
        hn_scratch *n = s->next;
        free(s->visited);
        free(s->pool);
        free(s->cand);
        free(s->sel);
        free(s->links);
        free(s->todo);
        free(s->query);
        free(s);
        s = n;
    }
    h->scratch = NULL;
}

/* A new epoch for the visited tags. */
static uint16_t next_tag(hn_scratch *s)
{
    if (++s->tag == 0) {
        memset(s->visited, 0, s->nvisited * sizeof *s->visited);
        s->tag = 1;
    }
    return s->tag;
}

size_t hn_copy_links(const hnsw_index *h, uint32_t i, int l, uint32_t *out, int locked)
{
    const unsigned char *ll = hn_list(h, i, l);
    size_t cap = l ? h->maxM : h->maxM0;
    if (locked)
        hn_lock(h, i);
    size_t n = hn_list_count(ll);
    if (n > cap)
        n = cap;
    memcpy(out, ll + 4, n * sizeof *out);
    if (locked)
        hn_unlock(h, i);
    return n;
}

void hn_greedy(const hnsw_index *h, hn_scratch *s, const float *q, uint32_t *cur, float *curd, int top, int bottom,
               int locked)
{
    for (int l = top; l > bottom; l--) {
        int changed = 1;
        while (changed) {
            changed = 0;
            size_t n = hn_copy_links(h, *cur, l, s->links, locked);
            for (size_t j = 0; j < n && j < HN_PREFETCH_AHEAD; j++)
                hn_prefetch_vec(h, s->links[j]);
            for (size_t j = 0; j < n; j++) {
                if (j + HN_PREFETCH_AHEAD < n)
                    hn_prefetch_vec(h, s->links[j + HN_PREFETCH_AHEAD]);
                uint32_t id = s->links[j];
                float d = h->dist(q, hn_vec(h, id), h->dim);
                if (d < *curd) {
                    *curd = d;
                    *cur = id;
                    changed = 1;
                }
            }
        }
    }
}

/* Inserts (d, id) into the sorted pool[0..*n) of capacity cap, dropping the
 * last element when full; returns the position. The caller made sure that
 * *n < cap or d < pool[*n-1].d. */
static size_t pool_insert(hn_cand *pool, size_t *n, size_t cap, float d, uint32_t id)
{
    size_t end = *n < cap ? *n : cap - 1;
    size_t lo = 0, hi = end;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pool[mid].d > d)
            hi = mid;
        else
            lo = mid + 1;
    }
    memmove(pool + lo + 1, pool + lo, (end - lo) * sizeof *pool);
    pool[lo].d = d;
    pool[lo].id = id;
    if (*n < cap)
        (*n)++;
    return lo;
}

size_t hn_search_layer(const hnsw_index *h, hn_scratch *s, const float *q, uint32_t ep, float epd, int l, size_t ef,
                       int locked)
{
    hn_scratch_reserve(h, s, ef);
    uint16_t tag = next_tag(s);
    uint16_t *vis = s->visited;
    hn_cand *pool = s->pool;
    size_t n = 1, k = 0;
    pool[0].d = epd;
    pool[0].id = ep;
    vis[ep] = tag;
    while (k < n) {
        if (pool[k].id & HN_EXPANDED) {
            k++;
            continue;
        }
        uint32_t cur = pool[k].id;
        pool[k].id |= HN_EXPANDED;
        size_t nl = hn_copy_links(h, cur, l, s->links, locked);
        size_t nt = 0;
        for (size_t j = 0; j < nl; j++) {
            uint32_t id = s->links[j];
            if (vis[id] != tag) {
                vis[id] = tag;
                s->todo[nt++] = id;
            }
        }
        for (size_t j = 0; j < nt && j < HN_PREFETCH_AHEAD; j++)
            hn_prefetch_vec(h, s->todo[j]);
        size_t first = k + 1; /* where the next unexpanded one may be */
        for (size_t j = 0; j < nt; j++) {
            if (j + HN_PREFETCH_AHEAD < nt)
                hn_prefetch_vec(h, s->todo[j + HN_PREFETCH_AHEAD]);
            uint32_t id = s->todo[j];
            float d = h->dist(q, hn_vec(h, id), h->dim);
            if (n < ef || d < pool[n - 1].d) {
                size_t at = pool_insert(pool, &n, ef, d, id);
                if (at < first)
                    first = at;
                hn_prefetch(hn_rec(h, id)); /* its links, if expanded */
            }
        }
        k = first;
    }
    return n;
}

size_t hnsw_search(const hnsw_index *hc, const float *query, size_t k, size_t ef, uint64_t *labels, float *dists)
{
    hnsw_index *h = (hnsw_index *)hc; /* the scratch pool is ours to change */
    if (k == 0 || h->linked == 0 || h->entry == HN_NONE)
        return 0;
    if (ef < k)
        ef = k;
    hn_scratch *s = hn_scratch_get(h);
    const float *q = query;
    if (h->space == HNSW_COSINE) {
        hn_normalize(query, s->query, h->dim);
        q = s->query;
    }
    uint32_t cur = h->entry;
    float curd = h->dist(q, hn_vec(h, cur), h->dim);
    hn_greedy(h, s, q, &cur, &curd, h->maxlevel, 0, 0);
    size_t n = hn_search_layer(h, s, q, cur, curd, 0, ef, 0);
    size_t out = 0;
    for (size_t i = 0; i < n && out < k; i++) {
        uint32_t id = s->pool[i].id & ~HN_EXPANDED;
        if (h->ndeleted && (hn_rec(h, id)[2] & HN_DELETED))
            continue;
        uint64_t label;
        memcpy(&label, hn_rec(h, id) + h->off_label, sizeof label);
        if (labels)
            labels[out] = label;
        if (dists)
            dists[out] = s->pool[i].d;
        out++;
    }
    hn_scratch_put(h, s);
    return out;
}
