/* parquet_codec.c - page decompression with Debian's libraries.
 *
 * Every codec is told the exact output size from the page header and must
 * produce exactly that many bytes; anything else is a damaged page. LZ4 (the
 * deprecated codec 5) has two framings in the wild: Hadoop's (big-endian
 * decompressed and compressed sizes before each block) and a raw block; both
 * are tried, Hadoop's first, as parquet-mr and Arrow do. */
#include "parquet_int.h"

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int lz4_hadoop(const uint8_t *src, size_t len, uint8_t *out, size_t out_len)
{
    size_t in = 0, o = 0;
    while (in < len) {
        if (len - in < 8)
            return -1;
        uint32_t dsz = be32(src + in), csz = be32(src + in + 4);
        in += 8;
        if (csz > len - in || dsz > out_len - o)
            return -1;
        int got = LZ4_decompress_safe((const char *)src + in, (char *)out + o, (int)csz, (int)dsz);
        if (got < 0 || (uint32_t)got != dsz)
            return -1;
        in += csz;
        o += dsz;
    }
    return o == out_len ? 0 : -1;
}

int pq_decompress(int codec, const uint8_t *src, size_t len, uint8_t *out, size_t out_len, cm_err *err)
{
    switch (codec) {
    case 0:
        if (len != out_len)
            break;
        memcpy(out, src, len);
        return 0;
    case 1: {
        size_t n = out_len;
        if (snappy_uncompressed_length((const char *)src, len, &n) != SNAPPY_OK || n != out_len)
            break;
        n = out_len;
        if (snappy_uncompress((const char *)src, len, (char *)out, &n) == SNAPPY_OK && n == out_len)
            return 0;
        break;
    }
    case 2: {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 15 + 32) != Z_OK) /* +32: gzip or zlib header */
            break;
        z.next_in = (Bytef *)src;
        z.avail_in = (uInt)len;
        z.next_out = out;
        z.avail_out = (uInt)out_len;
        int rc = inflate(&z, Z_FINISH);
        size_t got = out_len - z.avail_out;
        inflateEnd(&z);
        if (rc == Z_STREAM_END && got == out_len)
            return 0;
        break;
    }
    case 4: {
        size_t n = out_len;
        if (BrotliDecoderDecompress(len, src, &n, out) == BROTLI_DECODER_RESULT_SUCCESS && n == out_len)
            return 0;
        break;
    }
    case 5:
        if (lz4_hadoop(src, len, out, out_len) == 0)
            return 0;
        goto lz4_raw; /* some writers put a raw block here */
    case 7:
    lz4_raw: {
        if (len > 0x7fffffff || out_len > 0x7fffffff)
            break;
        int got = LZ4_decompress_safe((const char *)src, (char *)out, (int)len, (int)out_len);
        if (got >= 0 && (size_t)got == out_len)
            return 0;
        break;
    }
    case 6: {
        size_t got = ZSTD_decompress(out, out_len, src, len);
        if (!ZSTD_isError(got) && got == out_len)
            return 0;
        break;
    }
    case 3:
        return cm_err_set(err, "LZO compression is not supported (rewrite the file with another codec)");
    default:
        return cm_err_set(err, "unknown compression codec %d", codec);
    }
    static const char *const names[] = {"uncompressed", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw"};
    return cm_err_set(err, "a %s page does not decompress to its stated size (damaged)",
                      codec >= 0 && codec <= 7 ? names[codec] : "?");
}
