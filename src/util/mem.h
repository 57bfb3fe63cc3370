/* mem.h - allocation that never returns NULL.
 *
 * A migration tool cannot do anything useful after malloc fails, and checking
 * every small allocation hides the real error paths (bad input) in noise. So
 * small allocations go through these, which print one line and exit(1) on
 * failure. Sizes computed from untrusted input must be bounded by the caller
 * (e.g. against the file size) before they get here. */
#ifndef CM_UTIL_MEM_H
#define CM_UTIL_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array so that it can hold at least `need` elements of `size`. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
/* Copies n bytes and appends a NUL (the copy may contain NULs itself). */
char *xmemdup0(const void *s, size_t n);
/* Allocator settings for the program (call first thing in main). */
void mem_tune(void);

#endif
