/* mem.c - the allocation wrappers of mem.h: on failure they print one line
 * and exit, so no caller carries a NULL check that could only lead there. */
#include "mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static void oom(size_t n)
{
    fprintf(stderr, "chroma-migrate: out of memory (wanted %zu bytes)\n", n);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *xgrow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            oom(SIZE_MAX);
        c *= 2;
    }
    if (size && c > SIZE_MAX / size)
        oom(SIZE_MAX);
    p = xrealloc(p, c * size);
    *cap = c;
    return p;
}

char *xstrdup(const char *s)
{
    return xmemdup0(s, strlen(s));
}

char *xmemdup0(const void *s, size_t n)
{
    if (n == SIZE_MAX)
        oom(n);
    char *p = xmalloc(n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* glibc raises its mmap threshold each time a large mmapped block is freed
 * (up to 32 MB), after which page-sized buffers - a Parquet page, a batch of
 * records - come from the heap and are not given back when freed: the peak
 * of a migration grows by tens of MB of dead heap. A fixed threshold keeps
 * buffers of 128 KB and more in their own mappings, returned on free. */
void mem_tune(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}
