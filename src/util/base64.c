/* base64.c - see base64.h. Encoding works on groups of whole floats whose
 * bytes are a multiple of three, so each group's base64 simply follows the
 * previous one and no buffer of the whole vector is needed. */
#include "base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "mem.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t cm_b64_f32_len(size_t n)
{
    return (n * 4 + 2) / 3 * 4;
}

/* n bytes into base64 at w; returns the end. */
static char *encode_bytes(const unsigned char *p, size_t n, char *w)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *w++ = alphabet[v >> 18];
        *w++ = alphabet[(v >> 12) & 63];
        *w++ = alphabet[(v >> 6) & 63];
        *w++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        *w++ = alphabet[v >> 18];
        *w++ = alphabet[(v >> 12) & 63];
        *w++ = '=';
        *w++ = '=';
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        *w++ = alphabet[v >> 18];
        *w++ = alphabet[(v >> 12) & 63];
        *w++ = alphabet[(v >> 6) & 63];
        *w++ = '=';
    }
    return w;
}

void cm_b64_f32_encode(const double *v, size_t n, char *out)
{
    enum { GROUP = 192 }; /* floats per group: 768 bytes, a multiple of 3 */
    unsigned char buf[GROUP * 4];
    for (size_t at = 0; at < n; at += GROUP) {
        size_t k = n - at < GROUP ? n - at : GROUP;
        for (size_t i = 0; i < k; i++) {
            float f = (float)v[at + i];
            uint32_t u;
            memcpy(&u, &f, 4);
            le_put32(buf + 4 * i, u);
        }
        out = encode_bytes(buf, 4 * k, out);
    }
}

static int digit(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

int cm_b64_f32_decode(const char *s, size_t len, double **out, size_t *n)
{
    while (len && s[len - 1] == '=')
        len--;
    size_t bytes = len * 3 / 4;
    if (len % 4 == 1 || bytes % 4)
        return -1;
    unsigned char *buf = xmalloc(bytes + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int d = digit((unsigned char)s[i]);
        if (d < 0) {
            free(buf);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    *n = o / 4;
    *out = xmalloc((*n ? *n : 1) * sizeof **out);
    for (size_t k = 0; k < *n; k++) {
        uint32_t u = le_get32(buf + 4 * k);
        float f;
        memcpy(&f, &u, 4);
        (*out)[k] = (double)f;
    }
    free(buf);
    return 0;
}
