/* fuzz_rowbinary.c - libFuzzer target for the RowBinary decoder.
 *
 * The input is a RowBinary stream; the first byte picks the row layout:
 * chroma's embeddings rows (id, embedding, document, metadata), the
 * collections rows (3 Strings), or the counts rows (UUID, UInt64). The stream
 * is decoded the way the ClickHouse source does it, row by row from each
 * row's start, and also fed in growing pieces as a network would deliver it
 * (grow to `need`), checking that both ways agree. Invariants: no read
 * outside the buffer (ASan), RB_NEED always asks for more than there is,
 * RB_OK never moves past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/rowbinary.h"

static int row(int layout, rb_cur *c, double *sum, cm_err *err)
{
    const uint8_t *s, *d;
    size_t len, n;
    int r;
    switch (layout) {
    case 0:
        if ((r = rb_nullable_string(c, &s, &len, err)) != RB_OK)
            return r;
        if ((r = rb_f64_array(c, &d, &n, err)) != RB_OK)
            return r;
        if (n) {
            double first;
            rb_f64_copy(&first, d, 1);
            double *all = malloc(n * sizeof *all);
            rb_f64_copy(all, d, n);
            *sum += all[n - 1] - first;
            free(all);
        }
        if ((r = rb_nullable_string(c, &s, &len, err)) != RB_OK)
            return r;
        return rb_nullable_string(c, &s, &len, err);
    case 1:
        for (int k = 0; k < 3; k++)
            if ((r = rb_string(c, &s, &len, err)) != RB_OK)
                return r;
        return RB_OK;
    default: {
        char u[37];
        uint64_t v;
        if ((r = rb_uuid(c, u, err)) != RB_OK)
            return r;
        if (strlen(u) != 36)
            abort();
        return rb_u64(c, &v, err);
    }
    }
}

/* Whole buffer at once: rows decoded and where decoding stopped. */
static size_t decode_all(int layout, const uint8_t *p, size_t n, int *last, double *sum)
{
    size_t at = 0, rows = 0;
    cm_err err = {0};
    for (;;) {
        if (at == n) {
            *last = RB_OK;
            return rows;
        }
        rb_cur c;
        rb_init(&c, p + at, n - at);
        int r = row(layout, &c, sum, &err);
        if (r == RB_OK) {
            if (c.off == 0 || c.off > n - at)
                abort();
            at += c.off;
            rows++;
            continue;
        }
        if (r == RB_NEED && c.need <= n - at)
            abort();
        *last = r;
        return rows;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int layout = data[0] % 3;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    /* exact-size heap copy so ASan sees any overread */
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, p, n);
    double sum = 0;
    int last_all = 0;
    size_t rows_all = decode_all(layout, buf, n, &last_all, &sum);

    /* As a stream: start with 1 byte, grow to `need`, rows from their start. */
    size_t have = n ? 1 : 0, at = 0, rows = 0;
    int last = RB_OK;
    cm_err err = {0};
    while (at < n) {
        rb_cur c;
        rb_init(&c, buf + at, have - at);
        int r = row(layout, &c, &sum, &err);
        if (r == RB_OK) {
            at += c.off;
            rows++;
            if (have < at + 1 && at < n)
                have = at + 1;
            continue;
        }
        if (r == RB_BAD) {
            last = RB_BAD;
            break;
        }
        if (c.need <= have - at)
            abort();
        if (at + c.need > n) {
            last = RB_NEED;
            break;
        }
        have = at + c.need;
    }
    if (at == n)
        last = RB_OK;
    /* A stream may stop at a BAD that the whole-buffer pass also hits, and
     * both must have decoded the same rows. */
    if (rows != rows_all || last != last_all)
        abort();
    free(buf);
    (void)sum;
    return 0;
}
