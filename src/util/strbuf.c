/* strbuf.c - see strbuf.h. */
#include "strbuf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "mem.h"

void sb_addn(strbuf *b, const char *s, size_t n)
{
    b->s = xgrow(b->s, &b->cap, b->len + n + 1, 1);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sb_adds(strbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

void sb_addf(strbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sb_addn(b, small, (size_t)n);
        return;
    }
    /* Longer than the stack buffer: format again straight into the string. */
    b->s = xgrow(b->s, &b->cap, b->len + (size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_add_url_escaped(strbuf *b, const char *s)
{
    size_t n = strlen(s);
    b->s = xgrow(b->s, &b->cap, b->len + 3 * n + 1, 1);
    char *o = b->s + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = cm_hex_upper[ch >> 4];
            *o++ = cm_hex_upper[ch & 15];
        }
    }
    *o = '\0';
    b->len = (size_t)(o - b->s);
}

const char *str_find_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, needle, k) == 0)
            return s + i;
    return NULL;
}

void sb_free(strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
