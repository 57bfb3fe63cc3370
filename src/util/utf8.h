/* utf8.h - strict UTF-8 checks, the one copy every layer uses.
 *
 * Chroma >= 0.4 stores ids, documents and metadata as text: SQLite TEXT read
 * back by Rust (1.x) or Python (0.4-0.6), both of which refuse or drop bytes
 * that are not UTF-8. Our JSON reader keeps a lone UTF-16 surrogate ("\udcff")
 * as its 3-byte WTF-8 form so nothing is lost on the way in; these functions
 * are what tells such text apart before it could reach a target. Strict means:
 * no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF. */
#ifndef CM_UTIL_UTF8_H
#define CM_UTIL_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s, 0 if there is none. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* Offset of the first byte that does not start a valid sequence; n when
 * all of s is valid UTF-8. */
size_t utf8_invalid_at(const char *s, size_t n);

static inline int utf8_valid(const char *s, size_t n)
{
    return utf8_invalid_at(s, n) == n;
}

/* 1 when the bytes at s are a WTF-8 surrogate (ED A0..BF xx), and then the
 * code unit in *unit. */
int utf8_surrogate_at(const unsigned char *s, size_t n, unsigned *unit);

/* A short description of the first fault, for messages: "a lone UTF-16
 * surrogate \udcff at byte 3" or "byte 0xff at byte 0 is not UTF-8". */
void utf8_describe(const char *s, size_t n, char *buf, size_t cap);

/* s for a message: valid UTF-8 as it is, a lone surrogate as \udXXX, any
 * other invalid byte as \xNN, so no invalid byte reaches a terminal or a
 * log. Truncated to fit cap (always NUL-terminated). Returns buf. */
char *utf8_shown(const char *s, size_t n, char *buf, size_t cap);

#endif
