/* strmap.h - a hash map from byte strings to a small fixed payload.
 *
 * Used to count ids per collection (duplicates, first/last occurrence) and to
 * map ids to labels. Keys are copied into an arena; lookups never allocate. */
#ifndef CM_UTIL_STRMAP_H
#define CM_UTIL_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap_val {
    int64_t first; /* e.g. index of the first occurrence */
    int64_t last;
    uint32_t count;
} strmap_val;

typedef struct strmap strmap;

strmap *strmap_new(void);
void strmap_free(strmap *m);
/* Returns the value for key, inserting a zeroed one if absent (*created = 1). */
strmap_val *strmap_upsert(strmap *m, const char *key, size_t len, int *created);
strmap_val *strmap_get(const strmap *m, const char *key, size_t len);
size_t strmap_size(const strmap *m);
/* Calls fn for every key (in no particular order). key points into the map:
 * valid until the next upsert or free. */
typedef void (*strmap_each_fn)(void *ctx, const char *key, size_t len, const strmap_val *v);
void strmap_each(const strmap *m, strmap_each_fn fn, void *ctx);

#endif
