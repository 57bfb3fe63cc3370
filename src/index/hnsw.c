/* hnsw.c - creating the index, staging vectors, accessors. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include "../util/mem.h"
#include "hnsw_impl.h"

#define HUGE_PAGE (2u << 20)

/* The record array: zeroed, untouched pages cost nothing, and on Linux it
 * asks for transparent huge pages (THP is often "madvise" only): the build
 * reads vectors all over it, and with 4 KiB pages nearly every one of those
 * reads also misses the TLB. */
static int data_alloc(hnsw_index *h, size_t bytes)
{
    if (bytes > SIZE_MAX / 2)
        return -1;
    size_t len = (bytes + 2 * (size_t)HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE; /* room to align */
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
#if defined(MADV_HUGEPAGE)
    madvise((void *)a, len - (a - (uintptr_t)p), MADV_HUGEPAGE);
#endif
    h->map = p;
    h->map_len = len;
    h->data = (unsigned char *)a;
    return 0;
}

/* splitmix64: a level per (seed, staging index), independent of threads. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

int hn_draw_level(uint64_t seed, uint64_t i, double mult)
{
    uint64_t x = mix64(mix64(seed) ^ mix64(i + 0x632BE59BD9B4E019ull));
    double u = (double)((x >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    double r = -log(u) * mult;                      /* hnswlib's getRandomLevel */
    return (int)r;
}

void hn_set_dist(hnsw_index *h)
{
    h->simd = cm_simd_choose();
    h->dist = h->space == HNSW_L2 ? cm_dist_l2sq(h->simd) : cm_dist_ip(h->simd);
}

float hn_normalize(const float *in, float *out, size_t dim)
{
    float sum = 0.0f;
    for (size_t i = 0; i < dim; i++)
        sum += in[i] * in[i];
    float len = sqrtf(sum);
    float inv = 1.0f / (len + 1e-30f);
    for (size_t i = 0; i < dim; i++)
        out[i] = in[i] * inv;
    return len;
}

hnsw_index *hnsw_new(const hnsw_params *p, size_t capacity, cm_err *err)
{
    if (p->dim < 1 || p->dim > (1u << 20)) {
        cm_err_set(err, "HNSW dimension %zu is out of range (1..%u)", p->dim, 1u << 20);
        return NULL;
    }
    if (p->M < 2 || p->M > 10000) {
        cm_err_set(err, "HNSW M %zu is out of range (2..10000)", p->M);
        return NULL;
    }
    if (p->ef_construction < 1) {
        cm_err_set(err, "HNSW ef_construction must be at least 1");
        return NULL;
    }
    if (p->space != HNSW_L2 && p->space != HNSW_IP && p->space != HNSW_COSINE) {
        cm_err_set(err, "unknown HNSW space %d", (int)p->space);
        return NULL;
    }
    if (capacity > HN_MAX_ELEMENTS) {
        cm_err_set(err, "HNSW index of %zu elements is too large (at most %u)", capacity, HN_MAX_ELEMENTS);
        return NULL;
    }
    hnsw_index *h = xcalloc(1, sizeof *h);
    h->dim = p->dim;
    h->M = p->M;
    h->maxM = p->M;
    h->maxM0 = 2 * p->M;
    h->efc = p->ef_construction > p->M ? p->ef_construction : p->M;
    h->mult = 1.0 / log((double)p->M);
    h->space = p->space;
    h->seed = p->seed;
    h->threads = p->threads;
    h->off_data = 4 + 4 * h->maxM0;
    h->off_label = h->off_data + 4 * h->dim;
    h->rec_size = h->off_label + 8;
    h->links_size = 4 + 4 * h->maxM;
    if (capacity && h->rec_size > SIZE_MAX / capacity) {
        free(h);
        cm_err_set(err, "HNSW index of %zu elements of dimension %zu does not fit in memory", capacity, p->dim);
        return NULL;
    }
    h->capacity = capacity;
    if (data_alloc(h, capacity * h->rec_size) < 0) {
        free(h);
        cm_err_set(err, "out of memory for an HNSW index of %zu elements of dimension %zu", capacity, p->dim);
        return NULL;
    }
    h->norms = xmalloc((capacity ? capacity : 1) * sizeof *h->norms);
    h->levels = xmalloc((capacity ? capacity : 1) * sizeof *h->levels);
    h->stable0 = xcalloc(capacity ? capacity : 1, sizeof *h->stable0);
    h->upper_off = xmalloc((capacity ? capacity : 1) * sizeof *h->upper_off);
    h->maxlevel = -1;
    h->entry = HN_NONE;
    hn_set_dist(h);
    pthread_mutex_init(&h->global, NULL);
    pthread_mutex_init(&h->scratch_lock, NULL);
    return h;
}

void hnsw_free(hnsw_index *h)
{
    if (!h)
        return;
    hn_scratch_free_all(h);
    pthread_mutex_destroy(&h->global);
    pthread_mutex_destroy(&h->scratch_lock);
    munmap(h->map, h->map_len);
    free(h->norms);
    free(h->levels);
    free(h->stable0);
    free(h->upper_off);
    free(h->upper);
    free(h);
}

/* The next free record, or an error when full. */
static unsigned char *stage_begin(hnsw_index *h, cm_err *err)
{
    if (h->count >= h->capacity) {
        cm_err_set(err, "HNSW index is full (%zu elements)", h->capacity);
        return NULL;
    }
    return hn_rec(h, (uint32_t)h->count);
}

/* Completes the record whose vector was just written: label, norm, level and
 * (zeroed) upper-level blocks. */
static void stage_end(hnsw_index *h, uint64_t label, float norm)
{
    size_t i = h->count;
    unsigned char *r = hn_rec(h, (uint32_t)i);
    memset(r, 0, h->off_data);
    memcpy(r + h->off_label, &label, sizeof label);
    h->norms[i] = norm;
    int lv = hn_draw_level(h->seed, i, h->mult);
    h->levels[i] = lv;
    h->upper_off[i] = h->upper_len;
    if (lv > 0) {
        size_t bytes = (size_t)lv * h->links_size;
        h->upper = xgrow(h->upper, &h->upper_cap, h->upper_len + bytes, 1);
        memset(h->upper + h->upper_len, 0, bytes);
        h->upper_len += bytes;
    }
    h->count++;
}

static int not_finite(cm_err *err, size_t at, double v)
{
    return cm_err_set(err, "vector value %zu is %g, not a finite float32", at, v);
}

/* L2 norm in hnswlib's arithmetic, for the l2/ip spaces' length.bin. */
static float plain_norm(const float *v, size_t dim)
{
    float sum = 0.0f;
    for (size_t i = 0; i < dim; i++)
        sum += v[i] * v[i];
    return sqrtf(sum);
}

/* The next free record for a float vector whose every value is finite. */
static unsigned char *stage_begin_f32(hnsw_index *h, const float *vec, cm_err *err)
{
    for (size_t i = 0; i < h->dim; i++)
        if (!isfinite(vec[i])) {
            not_finite(err, i, vec[i]);
            return NULL;
        }
    return stage_begin(h, err);
}

int hnsw_stage_f32(hnsw_index *h, const float *vec, uint64_t label, cm_err *err)
{
    unsigned char *r = stage_begin_f32(h, vec, err);
    if (!r)
        return -1;
    float *dst = (float *)(void *)(r + h->off_data);
    float norm;
    if (h->space == HNSW_COSINE) {
        norm = hn_normalize(vec, dst, h->dim);
    } else {
        memcpy(dst, vec, h->dim * sizeof *dst);
        norm = plain_norm(dst, h->dim);
    }
    stage_end(h, label, norm);
    return 0;
}

int hnsw_stage_f64(hnsw_index *h, const double *vec, uint64_t label, cm_err *err)
{
    unsigned char *r = stage_begin(h, err);
    if (!r)
        return -1;
    float *dst = (float *)(void *)(r + h->off_data);
    for (size_t i = 0; i < h->dim; i++) {
        if (!(fabs(vec[i]) <= (double)FLT_MAX)) /* also NaN */
            return not_finite(err, i, vec[i]);
        dst[i] = (float)vec[i];
    }
    float norm = h->space == HNSW_COSINE ? hn_normalize(dst, dst, h->dim) : plain_norm(dst, h->dim);
    stage_end(h, label, norm);
    return 0;
}

int hnsw_stage_prepared(hnsw_index *h, const float *vec, float norm, uint64_t label, cm_err *err)
{
    unsigned char *r = stage_begin_f32(h, vec, err);
    if (!r)
        return -1;
    memcpy(r + h->off_data, vec, h->dim * sizeof *vec);
    stage_end(h, label, norm);
    return 0;
}

size_t hnsw_count(const hnsw_index *h)
{
    return h->count;
}

size_t hnsw_dim(const hnsw_index *h)
{
    return h->dim;
}

size_t hnsw_M(const hnsw_index *h)
{
    return h->M;
}

hnsw_space hnsw_space_of(const hnsw_index *h)
{
    return h->space;
}

const float *hnsw_vector(const hnsw_index *h, size_t i)
{
    return i < h->count ? hn_vec(h, (uint32_t)i) : NULL;
}

uint64_t hnsw_label(const hnsw_index *h, size_t i)
{
    uint64_t label = 0;
    if (i < h->count)
        memcpy(&label, hn_rec(h, (uint32_t)i) + h->off_label, sizeof label);
    return label;
}

int hnsw_is_deleted(const hnsw_index *h, size_t i)
{
    return i < h->count && (hn_rec(h, (uint32_t)i)[2] & HN_DELETED) != 0;
}

float hnsw_norm(const hnsw_index *h, size_t i)
{
    return i < h->count ? h->norms[i] : 0.0f;
}
