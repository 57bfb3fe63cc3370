/* strmap.c - open addressing with linear probing over a power-of-two table
 * (FNV-1a of the bytes); keys are copied into one arena, so a map of a
 * million ids is two allocations that grow, not a million. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Open addressing with linear probing; slots hold an offset into the key
 * arena plus the cached hash, so growing never rehashes key bytes. */
typedef struct slot {
    uint64_t hash;
    size_t off; /* offset of (u32 len, bytes) in the arena; 0 = empty */
    strmap_val val;
} slot;

struct strmap {
    slot *slots;
    size_t cap, n;
    char *arena;
    size_t arena_len, arena_cap;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

strmap *strmap_new(void)
{
    strmap *m = xcalloc(1, sizeof *m);
    m->cap = 64;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    m->arena_len = 1; /* offset 0 means empty */
    m->arena_cap = 4096;
    m->arena = xmalloc(m->arena_cap);
    return m;
}

void strmap_free(strmap *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m->arena);
    free(m);
}

static int key_eq(const strmap *m, const slot *s, const char *key, size_t len)
{
    uint32_t klen;
    memcpy(&klen, m->arena + s->off, 4);
    return klen == len && memcmp(m->arena + s->off + 4, key, len) == 0;
}

static slot *find(const strmap *m, uint64_t h, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot *s = &m->slots[i];
        if (!s->off || (s->hash == h && key_eq(m, s, key, len)))
            return s;
    }
}

static void grow(strmap *m)
{
    slot *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].off)
            continue;
        size_t mask = m->cap - 1, j = old[i].hash & mask;
        while (m->slots[j].off)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

strmap_val *strmap_upsert(strmap *m, const char *key, size_t len, int *created)
{
    if ((m->n + 1) * 4 > m->cap * 3)
        grow(m);
    uint64_t h = hash_bytes(key, len);
    slot *s = find(m, h, key, len);
    if (s->off) {
        if (created)
            *created = 0;
        return &s->val;
    }
    m->arena = xgrow(m->arena, &m->arena_cap, m->arena_len + 4 + len, 1);
    uint32_t klen = (uint32_t)len;
    memcpy(m->arena + m->arena_len, &klen, 4);
    if (len)
        memcpy(m->arena + m->arena_len + 4, key, len);
    s->off = m->arena_len;
    s->hash = h;
    memset(&s->val, 0, sizeof s->val);
    m->arena_len += 4 + len;
    m->n++;
    if (created)
        *created = 1;
    return &s->val;
}

strmap_val *strmap_get(const strmap *m, const char *key, size_t len)
{
    slot *s = find(m, hash_bytes(key, len), key, len);
    return s->off ? &s->val : NULL;
}

size_t strmap_size(const strmap *m)
{
    return m->n;
}

void strmap_each(const strmap *m, strmap_each_fn fn, void *ctx)
{
    for (size_t i = 0; i < m->cap; i++) {
        const slot *s = &m->slots[i];
        if (!s->off)
            continue;
        uint32_t klen;
        memcpy(&klen, m->arena + s->off, 4);
        fn(ctx, m->arena + s->off + 4, klen, &s->val);
    }
}
