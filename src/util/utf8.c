/* utf8.c - the strict checks of utf8.h, byte by byte as the Unicode Standard's
 * table 3-7 (well-formed byte sequences) draws them (no overlongs, no surrogates, nothing above U+10FFFF), and the
 * descriptions that messages show instead of the raw bytes. */
#include "utf8.h"

#include <stdio.h>
#include <string.h>

size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && s[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

size_t utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) { /* the common case: ASCII runs */
            i++;
            continue;
        }
        size_t k = utf8_seq(u + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

int utf8_surrogate_at(const unsigned char *s, size_t n, unsigned *unit)
{
    if (n < 3 || s[0] != 0xed || s[1] < 0xa0 || s[1] > 0xbf || (s[2] & 0xc0) != 0x80)
        return 0;
    *unit = 0xd000u | ((unsigned)(s[1] & 0x3f) << 6) | (s[2] & 0x3fu);
    return 1;
}

void utf8_describe(const char *s, size_t n, char *buf, size_t cap)
{
    size_t at = utf8_invalid_at(s, n);
    unsigned unit;
    if (at == n)
        snprintf(buf, cap, "valid UTF-8");
    else if (utf8_surrogate_at((const unsigned char *)s + at, n - at, &unit))
        snprintf(buf, cap, "a lone UTF-16 surrogate \\u%04x at byte %zu", unit, at);
    else
        snprintf(buf, cap, "byte 0x%02x at byte %zu is not UTF-8", (unsigned char)s[at], at);
}

char *utf8_shown(const char *s, size_t n, char *buf, size_t cap)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o + 1 < cap;) {
        size_t k = utf8_seq(u + i, n - i);
        unsigned unit;
        char esc[8];
        const char *piece = s + i;
        size_t len = k;
        if (!k) {
            if (utf8_surrogate_at(u + i, n - i, &unit)) {
                snprintf(esc, sizeof esc, "\\u%04x", unit);
                k = 3;
            } else {
                snprintf(esc, sizeof esc, "\\x%02x", u[i]);
                k = 1;
            }
            piece = esc;
            len = strlen(esc);
        }
        if (o + len + 1 > cap)
            break;
        memcpy(buf + o, piece, len);
        o += len;
        i += k;
    }
    buf[o] = '\0';
    return buf;
}
