/* strbuf.h - a growable NUL-terminated string, for building URLs, request
 * paths and messages whose length is not known in advance.
 *
 * The buffer is always NUL-terminated once anything was added, so b.s can be
 * handed on as a C string (and its ownership taken: the caller frees b.s). */
#ifndef CM_UTIL_STRBUF_H
#define CM_UTIL_STRBUF_H

#include <stddef.h>

#include "err.h"

typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

/* Appends n bytes (which may hold NULs). */
void sb_addn(strbuf *b, const char *s, size_t n);
/* Appends a C string. */
void sb_adds(strbuf *b, const char *s);
/* Appends printf-formatted text. */
void sb_addf(strbuf *b, const char *fmt, ...) CM_PRINTF(2, 3);
/* Appends s percent-encoded for a URL path segment or query value
 * (http_url_escape's rules). */
void sb_add_url_escaped(strbuf *b, const char *s);
/* The first place of needle in s[0..n) ignoring ASCII case, or NULL. */
const char *str_find_ci(const char *s, size_t n, const char *needle);
/* Empties the buffer and frees its memory. */
void sb_free(strbuf *b);

#endif
