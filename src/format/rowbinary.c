/* rowbinary.c - ClickHouse RowBinary values out of a byte buffer (see rowbinary.h). */
#include "rowbinary.h"

#include <string.h>

#include "../util/uuid.h"

void rb_init(rb_cur *c, const void *p, size_t n)
{
    c->p = p;
    c->n = n;
    c->off = 0;
    c->need = 0;
}

static int need(rb_cur *c, size_t at_least)
{
    c->need = at_least;
    return RB_NEED;
}

/* Reads a LEB128 number at *pos without moving the cursor. */
static int leb_at(rb_cur *c, size_t *pos, uint64_t *v, cm_err *err)
{
    uint64_t x = 0;
    size_t i = *pos;
    for (int k = 0; k < 10; k++, i++) {
        if (i >= c->n)
            return need(c, i + 1);
        uint8_t b = c->p[i];
        uint64_t bits = b & 0x7f;
        if (k == 9 && bits > 1) /* the 10th byte holds only bit 63 */
            return cm_err_set(err, "RowBinary: LEB128 number at byte %zu does not fit 64 bits", *pos);
        x |= bits << (7 * k);
        if (!(b & 0x80)) {
            *v = x;
            *pos = i + 1;
            return RB_OK;
        }
    }
    return cm_err_set(err, "RowBinary: LEB128 number at byte %zu is longer than 10 bytes", *pos);
}

int rb_uleb128(rb_cur *c, uint64_t *v, cm_err *err)
{
    size_t pos = c->off;
    int r = leb_at(c, &pos, v, err);
    if (r == RB_OK)
        c->off = pos;
    return r;
}

int rb_string(rb_cur *c, const uint8_t **s, size_t *len, cm_err *err)
{
    size_t pos = c->off;
    uint64_t n;
    int r = leb_at(c, &pos, &n, err);
    if (r != RB_OK)
        return r;
    if (n > RB_MAX_LEN)
        return cm_err_set(err, "RowBinary: string at byte %zu claims %llu bytes (more than %llu): corrupt data",
                          c->off, (unsigned long long)n, (unsigned long long)RB_MAX_LEN);
    if (c->n - pos < n)
        return need(c, pos + (size_t)n);
    *s = c->p + pos;
    *len = (size_t)n;
    c->off = pos + (size_t)n;
    return RB_OK;
}

int rb_null_flag(rb_cur *c, int *is_null, cm_err *err)
{
    if (c->off >= c->n)
        return need(c, c->off + 1);
    uint8_t b = c->p[c->off];
    if (b > 1)
        return cm_err_set(err, "RowBinary: Nullable flag at byte %zu is %u, not 0 or 1", c->off, (unsigned)b);
    *is_null = b;
    c->off++;
    return RB_OK;
}

int rb_nullable_string(rb_cur *c, const uint8_t **s, size_t *len, cm_err *err)
{
    size_t start = c->off;
    int is_null = 0;
    int r = rb_null_flag(c, &is_null, err);
    if (r != RB_OK)
        return r;
    if (is_null) {
        *s = NULL;
        *len = 0;
        return RB_OK;
    }
    r = rb_string(c, s, len, err);
    if (r != RB_OK)
        c->off = start; /* all or nothing */
    return r;
}

int rb_f64_array(rb_cur *c, const uint8_t **data, size_t *count, cm_err *err)
{
    size_t pos = c->off;
    uint64_t n;
    int r = leb_at(c, &pos, &n, err);
    if (r != RB_OK)
        return r;
    if (n > RB_MAX_LEN / 8)
        return cm_err_set(err, "RowBinary: array at byte %zu claims %llu elements (more than %llu): corrupt data",
                          c->off, (unsigned long long)n, (unsigned long long)(RB_MAX_LEN / 8));
    size_t bytes = (size_t)n * 8;
    if (c->n - pos < bytes)
        return need(c, pos + bytes);
    *data = c->p + pos;
    *count = (size_t)n;
    c->off = pos + bytes;
    return RB_OK;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int rb_u64(rb_cur *c, uint64_t *v, cm_err *err)
{
    (void)err;
    if (c->n - c->off < 8)
        return need(c, c->off + 8);
    *v = le64(c->p + c->off);
    c->off += 8;
    return RB_OK;
}

int rb_f64(rb_cur *c, double *v, cm_err *err)
{
    uint64_t u;
    int r = rb_u64(c, &u, err);
    if (r == RB_OK)
        memcpy(v, &u, sizeof *v);
    return r;
}

int rb_uuid(rb_cur *c, char out[37], cm_err *err)
{
    (void)err;
    if (c->n - c->off < 16)
        return need(c, c->off + 16);
    /* Two little-endian 64-bit halves, the high one first. */
    uint64_t half[2] = {le64(c->p + c->off), le64(c->p + c->off + 8)};
    cm_uuid u;
    for (int k = 0; k < 16; k++)
        u.b[k] = (unsigned char)(half[k / 8] >> (56 - 8 * (k % 8)));
    cm_uuid_format(&u, out);
    c->off += 16;
    return RB_OK;
}

void rb_f64_copy(double *dst, const uint8_t *src, size_t count)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && __FLOAT_WORD_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, count * sizeof *dst);
#else
    for (size_t i = 0; i < count; i++) {
        uint64_t u = le64(src + 8 * i);
        memcpy(&dst[i], &u, sizeof u);
    }
#endif
}
