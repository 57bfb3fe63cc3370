/* parquet_encoding.c - the integer encodings: the RLE / bit-packed hybrid
 * (levels, dictionary indices, booleans) and DELTA_BINARY_PACKED. Pure
 * functions over a bounded buffer. */
#include "parquet_int.h"

#include <string.h>

static int uleb(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t c = p[(*pos)++];
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* One decoder for both output widths: levels go straight into bytes (a page
 * of a list column has tens of millions of them, and a uint32 copy of each
 * would be four times the page's levels); indices and booleans into uint32.
 * The width test is per value but always taken the same way. */
static int rle_decode(const uint8_t *p, size_t len, int w, void *outp, int out8, size_t n, cm_err *err)
{
    uint32_t *out = out8 ? NULL : outp;
    uint8_t *o8 = out8 ? outp : NULL;
    if (w < 0 || w > 32)
        return cm_err_set(err, "bit width %d is out of range", w);
    size_t pos = 0, o = 0;
    size_t vbytes = ((size_t)w + 7) / 8;
    while (o < n) {
        uint64_t h;
        if (uleb(p, len, &pos, &h) < 0)
            return cm_err_set(err, "RLE/bit-packed run header runs past the end of the data");
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups > len) /* 8 values per group, w bytes each */
                return cm_err_set(err, "bad bit-packed run length");
            size_t count = (size_t)groups * 8, bytes = (size_t)groups * (size_t)w;
            if (bytes > len - pos)
                return cm_err_set(err, "bit-packed run runs past the end of the data");
            const uint8_t *q = p + pos;
            uint64_t buf = 0;
            int bits = 0;
            size_t qi = 0;
            uint64_t mask = w == 32 ? 0xffffffffu : ((1ull << w) - 1);
            for (size_t k = 0; k < count && o < n; k++) {
                while (bits < w) {
                    buf |= (uint64_t)q[qi++] << bits;
                    bits += 8;
                }
                if (out8)
                    o8[o++] = (uint8_t)(buf & mask);
                else
                    out[o++] = (uint32_t)(buf & mask);
                buf >>= w;
                bits -= w;
            }
            pos += bytes;
        } else {
            uint64_t count = h >> 1;
            if (vbytes > len - pos)
                return cm_err_set(err, "RLE run value runs past the end of the data");
            uint32_t v = 0;
            for (size_t k = 0; k < vbytes; k++)
                v |= (uint32_t)p[pos + k] << (8 * k);
            pos += vbytes;
            if (count == 0)
                return cm_err_set(err, "empty RLE run");
            size_t run = count < n - o ? (size_t)count : n - o;
            if (out8) {
                for (size_t k = 0; k < run; k++)
                    o8[o + k] = (uint8_t)v;
            } else {
                for (size_t k = 0; k < run; k++)
                    out[o + k] = v;
            }
            o += run;
        }
    }
    return 0;
}

int pq_rle_decode(const uint8_t *p, size_t len, int w, uint32_t *out, size_t n, cm_err *err)
{
    return rle_decode(p, len, w, out, 0, n, err);
}

int pq_rle_decode8(const uint8_t *p, size_t len, int w, uint8_t *out, size_t n, cm_err *err)
{
    if (w > 8)
        return cm_err_set(err, "bit width %d is too wide for levels", w);
    return rle_decode(p, len, w, out, 1, n, err);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t n, size_t *used, cm_err *err)
{
    size_t pos = 0;
    uint64_t block, minis, total, first;
    if (uleb(p, len, &pos, &block) < 0 || uleb(p, len, &pos, &minis) < 0 || uleb(p, len, &pos, &total) < 0 ||
        uleb(p, len, &pos, &first) < 0)
        return cm_err_set(err, "DELTA_BINARY_PACKED header runs past the end of the data");
    if (block == 0 || block % 128 || minis == 0 || block % minis || (block / minis) % 32 || block > 65536)
        return cm_err_set(err, "DELTA_BINARY_PACKED header is malformed");
    if (total < n)
        return cm_err_set(err, "DELTA_BINARY_PACKED holds %llu values, %zu needed", (unsigned long long)total, n);
    size_t per_mini = (size_t)(block / minis);
    uint64_t cur = (uint64_t)unzigzag(first);
    size_t o = 0;
    if (n > 0)
        out[o++] = (int64_t)cur;
    uint64_t remaining = total ? total - 1 : 0;
    while (remaining > 0) {
        uint64_t zmin;
        if (uleb(p, len, &pos, &zmin) < 0 || minis > len - pos)
            return cm_err_set(err, "DELTA_BINARY_PACKED block runs past the end of the data");
        int64_t min_delta = unzigzag(zmin);
        const uint8_t *widths = p + pos;
        pos += minis;
        for (uint64_t m = 0; m < minis && remaining > 0; m++) {
            int w = widths[m];
            if (w > 64)
                return cm_err_set(err, "DELTA_BINARY_PACKED bit width %d", w);
            size_t bytes = per_mini * (size_t)w / 8;
            if (bytes > len - pos)
                return cm_err_set(err, "DELTA_BINARY_PACKED miniblock runs past the end of the data");
            const uint8_t *q = p + pos;
            size_t bitpos = 0;
            for (size_t k = 0; k < per_mini && remaining > 0; k++, remaining--) {
                uint64_t v = 0;
                for (int b = 0; b < w; b++, bitpos++)
                    v |= (uint64_t)((q[bitpos >> 3] >> (bitpos & 7)) & 1) << b;
                cur += (uint64_t)min_delta + v; /* wraps like the writer's arithmetic */
                if (o < n)
                    out[o++] = (int64_t)cur;
            }
            pos += bytes;
        }
    }
    *used = pos;
    return 0;
}
