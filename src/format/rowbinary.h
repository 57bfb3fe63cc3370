/* rowbinary.h - decoding ClickHouse's RowBinary format from a byte buffer.
 *
 * A leaf module (no Chroma, no HTTP). RowBinary is a plain concatenation of
 * values, row after row, with no framing: to know where a row ends one must
 * decode it. Encodings (ClickHouse 18.16 and later, all little-endian):
 *   String            unsigned LEB128 length, then that many bytes
 *   Nullable(T)       one byte: 0 = a T follows, 1 = NULL (nothing follows)
 *   Array(T)          unsigned LEB128 element count, then the elements
 *   Float64, UInt64   8 bytes (IEEE-754 / integer), little-endian
 *   UUID              16 bytes: the high 64-bit half little-endian, then the
 *                     low half little-endian (so the text form's bytes come
 *                     out reversed within each half)
 *
 * The data usually arrives over a stream, so a value may be cut off at the
 * end of the buffer. Every reader therefore answers one of three ways:
 *   RB_OK    the value was read and the cursor moved past it;
 *   RB_NEED  the buffer ends inside the value: the cursor is unchanged and
 *            c->need is the smallest buffer length (counted from the start of
 *            the buffer, c->p) that could hold it; call again with more bytes;
 *   RB_BAD   the bytes cannot be RowBinary (err says why and where).
 * Values returned by pointer (strings, float arrays) point into the buffer. */
#ifndef CM_FORMAT_ROWBINARY_H
#define CM_FORMAT_ROWBINARY_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

enum { RB_BAD = -1, RB_OK = 0, RB_NEED = 1 };

/* A length or count above this is refused as malformed (RB_BAD) rather than
 * waited for: no single ClickHouse value in a chroma table gets near it, and
 * it keeps a corrupt length from making a reader buffer without end. */
#define RB_MAX_LEN ((uint64_t)1 << 31)

typedef struct rb_cur {
    const uint8_t *p; /* the buffer */
    size_t n;         /* bytes in it */
    size_t off;       /* read position */
    size_t need;      /* after RB_NEED: minimum n that could complete the value */
} rb_cur;

void rb_init(rb_cur *c, const void *p, size_t n);

/* Unsigned LEB128 (at most 10 bytes, value must fit 64 bits). */
int rb_uleb128(rb_cur *c, uint64_t *v, cm_err *err);
/* String: *s points into the buffer (not NUL-terminated). */
int rb_string(rb_cur *c, const uint8_t **s, size_t *len, cm_err *err);
/* The Nullable flag byte: *is_null = 1 for NULL. Bytes other than 0/1 are RB_BAD. */
int rb_null_flag(rb_cur *c, int *is_null, cm_err *err);
/* Nullable(String): *s = NULL for NULL. */
int rb_nullable_string(rb_cur *c, const uint8_t **s, size_t *len, cm_err *err);
/* Array(Float64): *data points at count x 8 little-endian bytes (use
 * rb_f64_copy; the pointer is not aligned). */
int rb_f64_array(rb_cur *c, const uint8_t **data, size_t *count, cm_err *err);
int rb_u64(rb_cur *c, uint64_t *v, cm_err *err);
int rb_f64(rb_cur *c, double *v, cm_err *err);
/* UUID as lowercase 8-4-4-4-12 text (36 characters + NUL). */
int rb_uuid(rb_cur *c, char out[37], cm_err *err);

/* Copies count little-endian doubles from src (any alignment) to dst. */
void rb_f64_copy(double *dst, const uint8_t *src, size_t count);

#endif
