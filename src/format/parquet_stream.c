/* parquet_stream.c - one page's bytes, decompressed as they are consumed.
 *
 * DuckDB writes the embeddings of a row group as two or three data pages of
 * ~100 MB each. Decompressing a whole page needs the compressed page and the
 * decompressed page in memory at once - twice the size of the vectors the
 * HNSW build keeps - so large pages of fixed-width values are read through
 * this stream instead: the compressed bytes are read from the file in 256 KB
 * pieces and decoded into a small window from which the caller takes bytes
 * in order.
 *
 * Codecs: UNCOMPRESSED (bytes straight from the file) and SNAPPY, DuckDB's
 * default. libsnappy has no streaming interface for the raw block format
 * Parquet uses, so the block format is decoded here (format facts from
 * google/snappy's format_description.txt): a varint with the decompressed
 * length, then elements - literals (tag & 3 == 0) and copies of 4..11 bytes
 * at an 11-bit offset (1), 1..64 bytes at a 16-bit offset (2) or at a 32-bit
 * offset (3), copies reaching back into bytes already produced and possibly
 * overlapping the bytes they produce.
 *
 * The window keeps the last 64 KB produced, which is as far back as snappy's
 * own compressor ever refers (it compresses 64 KB blocks independently). The
 * format allows longer offsets; one of those ends in PS_FAR and the caller
 * decompresses the page the ordinary way instead. (CM_PARQUET_STREAM_WINDOW
 * shrinks the window so that the tests take that way on ordinary files.) */
#include "parquet_int.h"

#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

#define IN_PIECE ((size_t)256 << 10)
#define KEEP ((size_t)64 << 10)
#define STEP ((size_t)1 << 20)

void ps_open(pq_stream *s, const pq_file *f, uint64_t off, uint64_t clen, uint64_t ulen, int codec)
{
    uint8_t *in = s->in, *win = s->win;
    size_t in_cap = s->in_cap, win_cap = s->win_cap;
    memset(s, 0, sizeof *s);
    s->in = in;
    s->in_cap = in_cap;
    s->win = win;
    s->win_cap = win_cap;
    s->f = f;
    s->off = off;
    s->end = off + clen;
    s->total = ulen;
    s->codec = codec;
    s->need_preamble = codec == 1;
    const char *w = getenv("CM_PARQUET_STREAM_WINDOW");
    s->keep = w && *w ? (size_t)strtoull(w, NULL, 10) : KEEP;
}

void ps_free(pq_stream *s)
{
    free(s->in);
    free(s->win);
    memset(s, 0, sizeof *s);
}

/* At least n unread compressed bytes in `in`, reading more of the file;
 * -1 when the page has fewer left (a truncated page). */
static int in_need(pq_stream *s, size_t n, cm_err *err)
{
    if (s->in_len - s->in_pos >= n)
        return 0;
    size_t have = s->in_len - s->in_pos;
    if (s->in_pos) {
        memmove(s->in, s->in + s->in_pos, have);
        s->in_len = have;
        s->in_pos = 0;
    }
    uint64_t left = s->end - s->off;
    size_t want = n - have > IN_PIECE ? n - have : IN_PIECE;
    if (want > left)
        want = (size_t)left;
    if (have + want < n)
        return cm_err_set(err, "the compressed page ends in the middle of its data (damaged)");
    s->in = xgrow(s->in, &s->in_cap, have + want + 1, 1);
    if (pq_read_at(s->f, s->off, s->in + have, want, err) < 0)
        return -1;
    s->off += want;
    s->in_len += want;
    return 0;
}

static int in_byte(pq_stream *s, uint8_t *b, cm_err *err)
{
    if (in_need(s, 1, err) < 0)
        return -1;
    *b = s->in[s->in_pos++];
    return 0;
}

/* Room for `n` more bytes at the end of the window, dropping consumed
 * bytes older than the 64 KB of history a copy may refer to. */
static void win_room(pq_stream *s, size_t n)
{
    if (s->win_pos > s->keep) {
        size_t drop = s->win_pos - s->keep;
        memmove(s->win, s->win + drop, s->win_len - drop);
        s->win_len -= drop;
        s->win_pos -= drop;
    }
    s->win = xgrow(s->win, &s->win_cap, s->win_len + n + 1, 1);
}

static int preamble(pq_stream *s, cm_err *err)
{
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b;
        if (shift > 28 || in_byte(s, &b, err) < 0)
            return cm_err_set(err, "bad snappy length header");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    if (v != s->total)
        return cm_err_set(err, "the snappy data holds %llu bytes, the page header says %llu (damaged)",
                          (unsigned long long)v, (unsigned long long)s->total);
    s->need_preamble = 0;
    return 0;
}

/* Decodes snappy elements until `want` bytes are ready in the window or the
 * page is complete. */
static int snappy_fill(pq_stream *s, size_t want, cm_err *err)
{
    if (s->need_preamble && preamble(s, err) < 0)
        return -1;
    if (want > s->win_len - s->win_pos + (s->total - s->produced)) /* before growing the window for it */
        return cm_err_set(err, "the page holds fewer bytes than its values need (damaged)");
    win_room(s, want + 64);
    while (s->win_len - s->win_pos < want && s->produced < s->total) {
        size_t room = s->win_cap - 1 - s->win_len;
        if (room < 64) {
            win_room(s, STEP);
            continue;
        }
        if (s->lit_left) { /* the rest of a literal, as far as input and room allow */
            if (in_need(s, 1, err) < 0)
                return -1;
            size_t n = s->in_len - s->in_pos;
            if (n > s->lit_left)
                n = (size_t)s->lit_left;
            if (n > room)
                n = room;
            memcpy(s->win + s->win_len, s->in + s->in_pos, n);
            s->in_pos += n;
            s->win_len += n;
            s->produced += n;
            s->lit_left -= n;
            continue;
        }
        uint8_t tag;
        if (in_byte(s, &tag, err) < 0)
            return -1;
        uint64_t len, offset = 0;
        int kind = tag & 3, extra;
        if (kind == 0) {
            len = tag >> 2;
            extra = len >= 60 ? (int)len - 59 : 0;
            if (extra) {
                if (in_need(s, (size_t)extra, err) < 0)
                    return -1;
                len = 0;
                for (int k = 0; k < extra; k++)
                    len |= (uint64_t)s->in[s->in_pos + k] << (8 * k);
                s->in_pos += (size_t)extra;
            }
            len += 1;
            if (len > s->total - s->produced)
                return cm_err_set(err, "a snappy literal runs past the page's size (damaged)");
            s->lit_left = len;
            continue;
        }
        extra = kind == 1 ? 1 : kind == 2 ? 2 : 4;
        if (in_need(s, (size_t)extra, err) < 0)
            return -1;
        for (int k = 0; k < extra; k++)
            offset |= (uint64_t)s->in[s->in_pos + k] << (8 * k);
        s->in_pos += (size_t)extra;
        if (kind == 1) {
            len = 4 + ((tag >> 2) & 7);
            offset |= (uint64_t)(tag >> 5) << 8;
        } else {
            len = 1 + (tag >> 2);
        }
        if (offset == 0 || offset > s->produced || len > s->total - s->produced)
            return cm_err_set(err, "a snappy copy refers outside the data (damaged)");
        if (offset > s->win_len)
            return PS_FAR;
        uint8_t *d = s->win + s->win_len;
        const uint8_t *from = d - offset;
        for (uint64_t k = 0; k < len; k++) /* byte by byte: copies may overlap */
            d[k] = from[k];
        s->win_len += (size_t)len;
        s->produced += len;
    }
    if (s->win_len - s->win_pos < want)
        return cm_err_set(err, "the page holds fewer bytes than its values need (damaged)");
    if (s->produced == s->total && s->lit_left == 0 && (s->in_pos != s->in_len || s->off != s->end))
        return cm_err_set(err, "the snappy data continues past the page's size (damaged)");
    return 0;
}

static int fill(pq_stream *s, size_t want, cm_err *err)
{
    if (s->codec == 1)
        return snappy_fill(s, want, err);
    if (s->win_len - s->win_pos >= want)
        return 0;
    size_t need = want - (s->win_len - s->win_pos);
    if (need > s->end - s->off) /* before growing the window for it */
        return cm_err_set(err, "the page holds fewer bytes than its values need (damaged)");
    win_room(s, want);
    if (pq_read_at(s->f, s->off, s->win + s->win_len, need, err) < 0)
        return -1;
    s->off += need;
    s->win_len += need;
    s->produced += need;
    return 0;
}

int ps_peek(pq_stream *s, size_t n, const uint8_t **p, cm_err *err)
{
    int rc = fill(s, n, err);
    if (rc != 0)
        return rc;
    *p = s->win + s->win_pos;
    s->win_pos += n;
    s->consumed += n;
    return 0;
}

int ps_read(pq_stream *s, uint8_t *dst, size_t n, cm_err *err)
{
    if (s->codec == 0 && s->win_pos == s->win_len) { /* nothing buffered: straight from the file */
        if (n > s->end - s->off)
            return cm_err_set(err, "the page holds fewer bytes than its values need (damaged)");
        if (pq_read_at(s->f, s->off, dst, n, err) < 0)
            return -1;
        s->off += n;
        s->produced += n;
        s->consumed += n;
        return 0;
    }
    while (n) {
        size_t ready = s->win_len - s->win_pos;
        if (ready == 0) {
            int rc = fill(s, n < STEP ? n : STEP, err);
            if (rc != 0)
                return rc;
            continue;
        }
        size_t k = ready < n ? ready : n;
        memcpy(dst, s->win + s->win_pos, k);
        s->win_pos += k;
        s->consumed += k;
        dst += k;
        n -= k;
    }
    return 0;
}
