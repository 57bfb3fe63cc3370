/* parquet_cursor.c - decoding one column chunk page by page.
 *
 * A cursor reads one page at a time from the file (never the whole chunk:
 * DuckDB writes a chunk of embeddings as two or three pages of ~100 MB
 * each), and holds the dictionary and one decoded page; pq_cursor_read moves
 * whole rows from the page into the caller's batch, decoding the next page
 * when one runs out (a row of a repeated column may span pages in v1).
 *
 * Peak memory per cursor is one page's compressed bytes plus its
 * decompressed bytes plus its levels: PLAIN fixed-width values (the
 * embeddings) are read where they lie in the page, not copied, and a large
 * compressed buffer is released as soon as it has been decompressed. */
#include "parquet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

typedef struct page_hdr {
    int type, enc, has_v1, has_v2, has_dict, v2_compressed;
    int64_t usize, csize, nvals, def_len, rep_len;
} page_hdr, page_hdr_t;

/* Values of the current page (and the dictionary) in one of two forms:
 * fixed-width little-endian bytes (BOOLEAN as one byte, INT32, INT64, FLOAT,
 * DOUBLE) or byte strings (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, INT96). */
typedef struct vals {
    size_t n;
    const uint8_t *fx; /* the n * width value bytes: `fixed`, or the page itself (PLAIN) */
    uint8_t *fixed;
    uint8_t *data;  /* strings, when copied */
    uint64_t *off;  /* n + 1: value k is sd[off[k] .. off[k+1] - gap) */
    const uint8_t *sd; /* `data`, or the page itself (PLAIN: no copy) */
    size_t gap;        /* 4 where the page's length prefixes sit between values */
    size_t cap_fixed, cap_data, cap_off;
} vals;

struct pq_cursor {
    pq_file *f;
    const pq_col *col;
    const pq_chunk *ch;
    size_t rg;
    size_t chunk_len, pos; /* the chunk's size and the next page's offset in it */
    uint8_t *hbuf;         /* page header bytes */
    size_t cap_h;
    uint8_t *cbuf;         /* one page as stored (compressed) */
    size_t cap_c;
    /* A large page of PLAIN fixed-width values is decompressed as its values
     * are taken (parquet_stream.c); these say how to read it whole instead
     * should the stream meet data it cannot follow. */
    int streaming;
    pq_stream ps;
    uint64_t page_at;
    size_t val_off; /* where the values start in the (values section of the) page */
    page_hdr_t page;
    int64_t levels_seen; /* level entries in the pages decoded so far */
    int width;           /* bytes per fixed value, 0 for strings */
    vals dict;
    int has_dict;
    /* current page */
    size_t pn, pi;       /* level entries, consumed */
    uint8_t *pdef, *prep; /* levels fit a byte (pq_cursor_open refuses deeper nesting) */
    size_t cap_lv;
    vals pv;
    size_t pvi;          /* values consumed */
    int started;         /* a row has begun (rep 0 seen) */
    uint8_t *pagebuf;
    size_t cap_page;
    uint32_t *tmp;
    size_t cap_tmp;
    int64_t *tmp64;
    size_t cap_tmp64;
};

static int is_string(const pq_col *c)
{
    return c->type == PQ_BYTE_ARRAY || c->type == PQ_FIXED_LEN_BYTE_ARRAY || c->type == PQ_INT96;
}

static int fixed_width(const pq_col *c)
{
    switch (c->type) {
    case PQ_BOOLEAN: return 1;
    case PQ_INT32:
    case PQ_FLOAT: return 4;
    case PQ_INT64:
    case PQ_DOUBLE: return 8;
    default: return 0;
    }
}

static int cerr(pq_cursor *c, cm_err *err, const char *fmt, const char *detail)
{
    char what[512];
    snprintf(what, sizeof what, fmt, detail ? detail : "");
    return cm_err_set(err, "%s: row group %zu, column '%s': %s", c->f->path, c->rg, c->col->path, what);
}

static void vals_reset(vals *v)
{
    v->n = 0;
}

static void vals_free(vals *v)
{
    free(v->fixed);
    free(v->data);
    free(v->off);
    memset(v, 0, sizeof *v);
}

static void vals_push_str(vals *v, const uint8_t *s, size_t len)
{
    v->off = xgrow(v->off, &v->cap_off, v->n + 2, sizeof *v->off);
    if (v->n == 0)
        v->off[0] = 0;
    size_t at = (size_t)v->off[v->n];
    v->data = xgrow(v->data, &v->cap_data, at + len + 1, 1);
    if (len)
        memcpy(v->data + at, s, len);
    v->off[++v->n] = at + len;
}

/* PLAIN values: n of them from [p, p+len); *used = bytes consumed. */
static int plain(pq_cursor *c, vals *v, const uint8_t *p, size_t len, size_t n, size_t *used, cm_err *err)
{
    size_t pos = 0;
    if (c->col->type == PQ_BOOLEAN) {
        if ((n + 7) / 8 > len)
            return cerr(c, err, "PLAIN booleans run past the end of the page%s", NULL);
        v->fixed = xgrow(v->fixed, &v->cap_fixed, v->n + n + 1, 1);
        for (size_t i = 0; i < n; i++)
            v->fixed[v->n + i] = (p[i >> 3] >> (i & 7)) & 1;
        v->n += n;
        *used = (n + 7) / 8;
        return 0;
    }
    if (c->width) {
        if (n > len / (size_t)c->width)
            return cerr(c, err, "PLAIN values run past the end of the page%s", NULL);
        if (v == &c->pv) {
            v->fx = p; /* the page outlives the values taken from it */
        } else {
            v->fixed = xgrow(v->fixed, &v->cap_fixed, (v->n + n) * (size_t)c->width + 1, 1);
            memcpy(v->fixed + v->n * (size_t)c->width, p, n * (size_t)c->width);
        }
        v->n += n;
        *used = n * (size_t)c->width;
        return 0;
    }
    /* The current page's strings are found where they lie (the page outlives
     * the values taken from it); the dictionary's are copied. */
    int in_place = v == &c->pv;
    size_t gap = c->col->type == PQ_BYTE_ARRAY ? 4 : 0;
    if (in_place)
        v->off = xgrow(v->off, &v->cap_off, n + 2, sizeof *v->off);
    for (size_t i = 0; i < n; i++) {
        size_t l;
        if (gap) {
            if (len - pos < 4)
                return cerr(c, err, "a PLAIN string length runs past the end of the page%s", NULL);
            l = (size_t)p[pos] | (size_t)p[pos + 1] << 8 | (size_t)p[pos + 2] << 16 | (size_t)p[pos + 3] << 24;
            pos += 4;
        } else {
            l = c->col->type == PQ_INT96 ? 12 : (size_t)c->col->type_length;
        }
        if (l > len - pos)
            return cerr(c, err, "a PLAIN string runs past the end of the page%s", NULL);
        if (in_place)
            v->off[i] = pos;
        else
            vals_push_str(v, p + pos, l);
        pos += l;
    }
    if (in_place) {
        v->off[n] = pos + gap;
        v->n = n;
        v->sd = p;
        v->gap = gap;
    }
    *used = pos;
    return 0;
}

static uint32_t *tmp32(pq_cursor *c, size_t n)
{
    c->tmp = xgrow(c->tmp, &c->cap_tmp, n + 1, sizeof *c->tmp);
    return c->tmp;
}

static int64_t *tmp64(pq_cursor *c, size_t n)
{
    c->tmp64 = xgrow(c->tmp64, &c->cap_tmp64, n + 1, sizeof *c->tmp64);
    return c->tmp64;
}

static int decode_values_in(pq_cursor *c, int enc, const uint8_t *p, size_t len, size_t n, cm_err *err);

static int decode_values(pq_cursor *c, int enc, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    c->pv.fx = NULL;
    c->pv.sd = NULL;
    c->pv.gap = 0;
    int rc = decode_values_in(c, enc, p, len, n, err);
    if (!c->pv.fx)
        c->pv.fx = c->pv.fixed;
    if (!c->pv.sd)
        c->pv.sd = c->pv.data;
    return rc;
}

/* PLAIN_DICTIONARY and RLE_DICTIONARY: indices into the dictionary page. */
static int dec_dictionary(pq_cursor *c, vals *v, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    if (!c->has_dict)
        return cerr(c, err, "dictionary-encoded page without a dictionary page%s", NULL);
    if (n == 0)
        return 0;
    if (len < 1)
        return cerr(c, err, "dictionary indices missing%s", NULL);
    uint32_t *idx = tmp32(c, n);
    if (pq_rle_decode(p + 1, len - 1, p[0], idx, n, err) < 0)
        return cm_err_prefix(err, "%s: row group %zu, column '%s': dictionary indices", c->f->path, c->rg,
                             c->col->path);
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= c->dict.n)
            return cerr(c, err, "a dictionary index is out of range%s", NULL);
    if (c->width) {
        v->fixed = xgrow(v->fixed, &v->cap_fixed, n * (size_t)c->width + 1, 1);
        for (size_t i = 0; i < n; i++)
            memcpy(v->fixed + i * (size_t)c->width, c->dict.fixed + (size_t)idx[i] * (size_t)c->width,
                   (size_t)c->width);
        v->n = n;
    } else {
        for (size_t i = 0; i < n; i++)
            vals_push_str(v, c->dict.data + c->dict.off[idx[i]],
                          (size_t)(c->dict.off[idx[i] + 1] - c->dict.off[idx[i]]));
    }
    return 0;
}

/* RLE: booleans, with a 4-byte length. */
static int dec_rle_bool(pq_cursor *c, vals *v, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    if (c->col->type != PQ_BOOLEAN || len < 4)
        return cerr(c, err, "RLE-encoded values are only valid for booleans%s", NULL);
    size_t l = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    if (l > len - 4)
        return cerr(c, err, "RLE booleans run past the end of the page%s", NULL);
    uint32_t *b = tmp32(c, n);
    if (pq_rle_decode(p + 4, l, 1, b, n, err) < 0)
        return cerr(c, err, "bad RLE booleans%s", NULL);
    v->fixed = xgrow(v->fixed, &v->cap_fixed, n + 1, 1);
    for (size_t i = 0; i < n; i++)
        v->fixed[i] = (uint8_t)b[i];
    v->n = n;
    return 0;
}

/* DELTA_BINARY_PACKED integers. */
static int dec_delta_int(pq_cursor *c, vals *v, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    size_t used;
    if (c->col->type != PQ_INT32 && c->col->type != PQ_INT64)
        return cerr(c, err, "DELTA_BINARY_PACKED on a non-integer column%s", NULL);
    int64_t *x = tmp64(c, n);
    if (pq_delta_decode(p, len, x, n, &used, err) < 0)
        return cerr(c, err, "%s", err->msg);
    v->fixed = xgrow(v->fixed, &v->cap_fixed, n * (size_t)c->width + 1, 1);
    for (size_t i = 0; i < n; i++) {
        if (c->width == 4) {
            int32_t y = (int32_t)(uint32_t)x[i];
            memcpy(v->fixed + i * 4, &y, 4);
        } else {
            memcpy(v->fixed + i * 8, &x[i], 8);
        }
    }
    v->n = n;
    return 0;
}

/* DELTA_LENGTH_BYTE_ARRAY: delta-packed lengths, then the strings. */
static int dec_delta_length(pq_cursor *c, vals *v, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    size_t used;
    if (c->col->type != PQ_BYTE_ARRAY)
        return cerr(c, err, "DELTA_LENGTH_BYTE_ARRAY on a non-string column%s", NULL);
    int64_t *l = tmp64(c, n);
    if (pq_delta_decode(p, len, l, n, &used, err) < 0)
        return cerr(c, err, "%s", err->msg);
    size_t pos = used;
    for (size_t i = 0; i < n; i++) {
        if (l[i] < 0 || (uint64_t)l[i] > len - pos)
            return cerr(c, err, "a DELTA_LENGTH_BYTE_ARRAY string runs past the end of the page%s", NULL);
        vals_push_str(v, p + pos, (size_t)l[i]);
        pos += (size_t)l[i];
    }
    return 0;
}

/* DELTA_BYTE_ARRAY: prefix lengths, suffix lengths, suffixes. */
static int dec_delta_byte_array(pq_cursor *c, vals *v, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    size_t used;
    if (!is_string(c->col))
        return cerr(c, err, "DELTA_BYTE_ARRAY on a non-string column%s", NULL);
    int64_t *pre = tmp64(c, 2 * n);
    int64_t *suf = pre + n;
    size_t u2;
    if (pq_delta_decode(p, len, pre, n, &used, err) < 0 ||
        pq_delta_decode(p + used, len - used, suf, n, &u2, err) < 0)
        return cerr(c, err, "%s", err->msg);
    size_t pos = used + u2, prev_at = 0, prev_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (pre[i] < 0 || suf[i] < 0 || (uint64_t)pre[i] > prev_len || (uint64_t)suf[i] > len - pos)
            return cerr(c, err, "DELTA_BYTE_ARRAY lengths do not fit%s", NULL);
        size_t at = v->n ? (size_t)v->off[v->n] : 0, total = (size_t)pre[i] + (size_t)suf[i];
        v->off = xgrow(v->off, &v->cap_off, v->n + 2, sizeof *v->off);
        if (v->n == 0)
            v->off[0] = 0;
        v->data = xgrow(v->data, &v->cap_data, at + total + 1, 1);
        memmove(v->data + at, v->data + prev_at, (size_t)pre[i]);
        memcpy(v->data + at + pre[i], p + pos, (size_t)suf[i]);
        pos += (size_t)suf[i];
        v->off[++v->n] = at + total;
        prev_at = at;
        prev_len = total;
    }
    return 0;
}

/* BYTE_STREAM_SPLIT: byte k of every value, then byte k+1, ... */
static int dec_byte_stream_split(pq_cursor *c, vals *v, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    size_t w = c->width ? (size_t)c->width : c->col->type == PQ_FIXED_LEN_BYTE_ARRAY ? (size_t)c->col->type_length : 0;
    if (w == 0 || c->col->type == PQ_BOOLEAN || (n && n > len / w))
        return cerr(c, err, "BYTE_STREAM_SPLIT values do not fit the page%s", NULL);
    uint8_t *out = xmalloc(n * w + 1);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < w; k++)
            out[i * w + k] = p[k * n + i];
    if (c->width) {
        free(v->fixed);
        v->fixed = out;
        v->cap_fixed = n * w + 1;
        v->n = n;
    } else {
        for (size_t i = 0; i < n; i++)
            vals_push_str(v, out + i * w, w);
        free(out);
    }
    return 0;
}

static int decode_values_in(pq_cursor *c, int enc, const uint8_t *p, size_t len, size_t n, cm_err *err)
{
    vals *v = &c->pv;
    vals_reset(v);
    size_t used;
    switch (enc) {
    case 0: /* PLAIN */
        return plain(c, v, p, len, n, &used, err);
    case 2: /* PLAIN_DICTIONARY */
    case 8: /* RLE_DICTIONARY */
        return dec_dictionary(c, v, p, len, n, err);
    case 3: return dec_rle_bool(c, v, p, len, n, err);
    case 5: return dec_delta_int(c, v, p, len, n, err);
    case 6: return dec_delta_length(c, v, p, len, n, err);
    case 7: return dec_delta_byte_array(c, v, p, len, n, err);
    case 9: return dec_byte_stream_split(c, v, p, len, n, err);
    default: {
        char e[32];
        snprintf(e, sizeof e, "%d", enc);
        return cerr(c, err, "unsupported value encoding %s", e);
    }
    }
}

static int levels(pq_cursor *c, const uint8_t *p, size_t len, int max, uint8_t *out, size_t n, cm_err *err)
{
    if (max == 0) {
        memset(out, 0, n * sizeof *out);
        return 0;
    }
    int w = 0;
    while ((1 << w) <= max)
        w++;
    if (pq_rle_decode8(p, len, w, out, n, err) < 0)
        return cerr(c, err, "bad repetition/definition levels: %s", err->msg);
    for (size_t i = 0; i < n; i++)
        if (out[i] > max)
            return cerr(c, err, "a level is above the column's maximum%s", NULL);
    return 0;
}


static int read_sub(tc_reader *r, page_hdr *h, int which)
{
    int16_t last = 0, id;
    int t, rc;
    h->v2_compressed = 1;
    if (tc_struct_begin(r, &last) < 0)
        return -1;
    while ((rc = tc_field(r, &last, &id, &t)) == 1) {
        int64_t v = 0;
        if (t >= TC_I8 && t <= TC_I64) {
            if (tc_int(r, t, &v) < 0)
                return -1;
        } else if (t == TC_TRUE || t == TC_FALSE) {
            v = t == TC_TRUE;
        } else {
            if (tc_skip(r, t) < 0)
                return -1;
            continue;
        }
        if (id == 1)
            h->nvals = v;
        else if (which != 2 && id == 2 && which == 7)
            h->enc = (int)v;
        else if (which == 5 && id == 2)
            h->enc = (int)v;
        else if (which == 8 && id == 4)
            h->enc = (int)v;
        else if (which == 8 && id == 5)
            h->def_len = v;
        else if (which == 8 && id == 6)
            h->rep_len = v;
        else if (which == 8 && id == 7)
            h->v2_compressed = (int)v;
    }
    return rc;
}

/* 0: parsed; 1: failed within the `len` bytes read so far while the chunk
 * has more (read more and try again); -1: error. */
static int parse_page_header(pq_cursor *c, page_hdr *h, size_t len, int more, size_t *hlen, cm_err *err)
{
    tc_reader r;
    cm_err e = {0};
    memset(h, 0, sizeof *h);
    h->type = -1;
    tc_init(&r, c->hbuf, len, &e);
    int16_t last = 0, id;
    int t, rc;
    if (tc_struct_begin(&r, &last) < 0)
        goto bad;
    while ((rc = tc_field(&r, &last, &id, &t)) == 1) {
        int64_t v = 0;
        if (id >= 1 && id <= 3 && t >= TC_I8 && t <= TC_I64) {
            if (tc_int(&r, t, &v) < 0)
                goto bad;
            if (id == 1)
                h->type = (int)v;
            else if (id == 2)
                h->usize = v;
            else
                h->csize = v;
        } else if ((id == 5 || id == 7 || id == 8) && t == TC_STRUCT) {
            if (read_sub(&r, h, id) < 0)
                goto bad;
            h->has_v1 |= id == 5;
            h->has_dict |= id == 7;
            h->has_v2 |= id == 8;
        } else if (tc_skip(&r, t) < 0) {
            goto bad;
        }
    }
    if (rc < 0)
        goto bad;
    *hlen = tc_pos(&r);
    if (h->csize < 0 || h->usize < 0 || (uint64_t)h->csize > c->chunk_len - c->pos - *hlen || h->nvals < 0)
        return cerr(c, err, "a page runs past the end of its column chunk (truncated or damaged file)%s", NULL);
    return 0;
bad:
    if (more)
        return 1;
    char at[300];
    snprintf(at, sizeof at, "%zu: %.200s", c->pos, e.msg);
    return cerr(c, err, "cannot read the page header at chunk offset %s", at);
}

/* Page headers are small (statistics can make them a few KB): read 4 KB,
 * and more only when the header turns out to be longer. */
static int page_header(pq_cursor *c, page_hdr *h, size_t *hlen, cm_err *err)
{
    size_t left = c->chunk_len - c->pos, want = left < 4096 ? left : 4096;
    for (;;) {
        c->hbuf = xgrow(c->hbuf, &c->cap_h, want + 1, 1);
        if (pq_read_at(c->f, (uint64_t)c->ch->start + c->pos, c->hbuf, want, err) < 0)
            return -1;
        int rc = parse_page_header(c, h, want, want < left, hlen, err);
        if (rc != 1)
            return rc;
        want = left / 8 < want ? left : want * 8;
    }
}

/* No codec we read expands data more than this: a header claiming more is
 * lying, and believing it would allocate gigabytes for a few bytes. */
static int plausible_size(uint64_t clen, uint64_t ulen)
{
    return ulen <= clen * 8192 + 65536 && ulen <= 0x7fffffff;
}

/* Decompressed bytes of a page section; ratio-capped so a lying header
 * cannot make us allocate gigabytes for a few bytes of input. */
static int inflate_section(pq_cursor *c, const uint8_t *src, size_t clen, size_t ulen, int compressed,
                           const uint8_t **out, cm_err *err)
{
    int codec = compressed ? c->ch->codec : 0;
    if (codec == 0) {
        if (clen != ulen)
            return cerr(c, err, "an uncompressed page's sizes disagree%s", NULL);
        *out = src;
        return 0;
    }
    if (!plausible_size(clen, ulen))
        return cerr(c, err, "a page claims an implausible decompressed size (damaged)%s", NULL);
    c->pagebuf = xgrow(c->pagebuf, &c->cap_page, ulen + 1, 1);
    if (pq_decompress(codec, src, clen, c->pagebuf, ulen, err) < 0)
        return cerr(c, err, "%s", err->msg);
    *out = c->pagebuf;
    return 0;
}

/* Where the levels of a v1 page come from: the decompressed page, or the
 * page's stream. get() hands out the next len bytes: 0, -1 or PS_FAR. */
typedef int (*byte_get)(pq_cursor *c, void *src, size_t len, const uint8_t **p, cm_err *err);

typedef struct byte_src {
    const uint8_t *p;
    size_t left;
} byte_src;

static int buf_get(pq_cursor *c, void *src, size_t len, const uint8_t **p, cm_err *err)
{
    byte_src *b = src;
    if (len > b->left)
        return cerr(c, err, "levels run past the end of the page%s", NULL);
    *p = b->p;
    b->p += len;
    b->left -= len;
    return 0;
}

static int stream_get(pq_cursor *c, void *src, size_t len, const uint8_t **p, cm_err *err)
{
    pq_stream *s = src;
    if (len > s->total - s->consumed)
        return cerr(c, err, "levels run past the end of the page%s", NULL);
    int rc = ps_peek(s, len, p, err);
    if (rc == -1)
        cerr(c, err, "%s", err->msg);
    return rc;
}

/* A v1 page starts with its repetition then definition levels, each (when
 * the column has them) as a 4-byte length and RLE/bit-packed data. */
static int v1_levels(pq_cursor *c, size_t n, byte_get get, void *src, cm_err *err)
{
    int maxes[2] = {c->col->max_rep, c->col->max_def};
    uint8_t *outs[2] = {c->prep, c->pdef};
    for (int k = 0; k < 2; k++) {
        if (maxes[k] == 0) {
            memset(outs[k], 0, n);
            continue;
        }
        const uint8_t *q;
        int rc = get(c, src, 4, &q, err);
        if (rc != 0)
            return rc;
        size_t l = (size_t)q[0] | (size_t)q[1] << 8 | (size_t)q[2] << 16 | (size_t)q[3] << 24;
        if ((rc = get(c, src, l, &q, err)) != 0)
            return rc;
        if (levels(c, q, l, maxes[k], outs[k], n, err) < 0)
            return -1;
    }
    return 0;
}

/* Pages at least this big are streamed when they can be (the knob lets the
 * tests stream every page of the small fixture files too). */
static uint64_t stream_min(void)
{
    const char *e = getenv("CM_PARQUET_STREAM_MIN");
    return e && *e ? strtoull(e, NULL, 10) : (uint64_t)4 << 20;
}

/* Sets the page up for streaming when it is a large page of PLAIN values
 * (fixed-width numbers, or strings: DuckDB writes all the documents of a row
 * group as one page) under a codec the stream reads: its levels are decoded
 * now, its values as they are taken. 1: streaming; 0: read it whole. */
static int stream_page(pq_cursor *c, const page_hdr *h, uint64_t at, size_t n, cm_err *err)
{
    size_t skip = h->type == 3 ? (size_t)(h->rep_len + h->def_len) : 0;
    int codec = h->type == 3 && !h->v2_compressed ? 0 : c->ch->codec;
    int streamable = c->width >= 4 || c->col->type == PQ_BYTE_ARRAY || c->col->type == PQ_FIXED_LEN_BYTE_ARRAY;
    if (h->enc != 0 || !streamable || (codec != 0 && codec != 1) || (uint64_t)h->usize < stream_min())
        return 0;
    if (codec == 0 ? h->csize != h->usize : !plausible_size((uint64_t)h->csize, (uint64_t)h->usize))
        return cerr(c, err, "a page claims an implausible decompressed size (damaged)%s", NULL);
    if (h->type == 3) {
        if (h->rep_len < 0 || h->def_len < 0 || (uint64_t)skip > (uint64_t)h->csize ||
            (uint64_t)skip > (uint64_t)h->usize)
            return cerr(c, err, "a v2 page's level sizes do not fit%s", NULL);
        c->cbuf = xgrow(c->cbuf, &c->cap_c, skip + 1, 1);
        if (pq_read_at(c->f, at, c->cbuf, skip, err) < 0)
            return -1;
        if (levels(c, c->cbuf, (size_t)h->rep_len, c->col->max_rep, c->prep, n, err) < 0 ||
            levels(c, c->cbuf + h->rep_len, (size_t)h->def_len, c->col->max_def, c->pdef, n, err) < 0)
            return -1;
    }
    ps_open(&c->ps, c->f, at + skip, (uint64_t)h->csize - skip, (uint64_t)h->usize - skip, codec);
    if (h->type == 0) {
        int rc = v1_levels(c, n, stream_get, &c->ps, err);
        if (rc == PS_FAR)
            return 0;
        if (rc < 0)
            return -1;
    }
    size_t nn = 0;
    for (size_t i = 0; i < n; i++)
        nn += c->pdef[i] == c->col->max_def;
    if (c->width && nn > (c->ps.total - c->ps.consumed) / (uint64_t)c->width)
        return cerr(c, err, "PLAIN values run past the end of the page%s", NULL);
    c->pv.n = nn;
    c->pv.fx = NULL;
    c->pv.sd = NULL;
    c->streaming = 1;
    c->page_at = at;
    c->val_off = (size_t)c->ps.consumed;
    c->page = *h;
    return 1;
}

/* The stream met a snappy copy reaching beyond its window: read the page
 * whole, and go on from the value the stream had reached. */
static int unstream(pq_cursor *c, cm_err *err)
{
    const page_hdr *h = &c->page;
    size_t clen = (size_t)h->csize, skip = h->type == 3 ? (size_t)(h->rep_len + h->def_len) : 0;
    c->cbuf = xgrow(c->cbuf, &c->cap_c, clen + 1, 1);
    if (pq_read_at(c->f, c->page_at, c->cbuf, clen, err) < 0)
        return -1;
    const uint8_t *p;
    if (inflate_section(c, c->cbuf + skip, clen - skip, (size_t)h->usize - skip,
                        h->type == 0 || h->v2_compressed, &p, err) < 0)
        return -1;
    c->streaming = 0;
    if (c->width) {
        c->pv.fx = p + c->val_off;
        return 0;
    }
    /* Strings: find every value of the page again (cheap), so that taking
     * goes on by value number from where the stream stopped. */
    size_t used;
    return plain(c, &c->pv, p + c->val_off, (size_t)h->usize - skip - c->val_off, c->pv.n, &used, err);
}

/* The next streamed string: 1 with *s and *len; PS_FAR; -1. */
static int stream_string(pq_cursor *c, const uint8_t **s, size_t *len, cm_err *err)
{
    const uint8_t *q;
    size_t l = c->col->type == PQ_FIXED_LEN_BYTE_ARRAY ? (size_t)c->col->type_length : 0;
    int rc;
    if (c->col->type == PQ_BYTE_ARRAY) {
        if ((rc = ps_peek(&c->ps, 4, &q, err)) != 0)
            return rc;
        l = (size_t)q[0] | (size_t)q[1] << 8 | (size_t)q[2] << 16 | (size_t)q[3] << 24;
    }
    if ((rc = ps_peek(&c->ps, l, &q, err)) != 0)
        return rc;
    *s = q;
    *len = l;
    return 1;
}

/* Reads and decodes a data page whole: levels and values. */
static int whole_page(pq_cursor *c, const page_hdr *hp, uint64_t at, size_t n, cm_err *err)
{
    const page_hdr h = *hp;
    size_t clen = (size_t)h.csize;
    c->cbuf = xgrow(c->cbuf, &c->cap_c, clen + 1, 1);
    if (pq_read_at(c->f, at, c->cbuf, clen, err) < 0)
        return -1;
    const uint8_t *body = c->cbuf;
    const uint8_t *p;
    size_t plen;
    if (h.type == 0) {
        if (inflate_section(c, body, clen, (size_t)h.usize, 1, &p, err) < 0)
            return -1;
        byte_src bs = {p, (size_t)h.usize};
        if (v1_levels(c, n, buf_get, &bs, err) < 0)
            return -1;
        plen = bs.left;
        p = bs.p;
    } else {
        if (h.rep_len < 0 || h.def_len < 0 || (uint64_t)h.rep_len + (uint64_t)h.def_len > clen ||
            (uint64_t)h.rep_len + (uint64_t)h.def_len > (uint64_t)h.usize)
            return cerr(c, err, "a v2 page's level sizes do not fit%s", NULL);
        if (levels(c, body, (size_t)h.rep_len, c->col->max_rep, c->prep, n, err) < 0 ||
            levels(c, body + h.rep_len, (size_t)h.def_len, c->col->max_def, c->pdef, n, err) < 0)
            return -1;
        size_t skip = (size_t)(h.rep_len + h.def_len);
        if (inflate_section(c, body + skip, clen - skip, (size_t)h.usize - skip, h.v2_compressed, &p, err) < 0)
            return -1;
        plen = (size_t)h.usize - skip;
    }
    size_t nn = 0;
    for (size_t i = 0; i < n; i++)
        nn += c->pdef[i] == c->col->max_def;
    if (decode_values(c, h.enc, p, plen, nn, err) < 0)
        return -1;
    if (c->pv.n != nn)
        return cerr(c, err, "a page decoded to the wrong number of values%s", NULL);
    /* A big compressed page is not needed once decompressed (unless the
     * values are read where they lie in it): give it back now rather
     * than hold it next to the decompressed page until the next one. */
    int values_in_cbuf = c->ch->codec == 0 || (h.type == 3 && !h.v2_compressed);
    if (!values_in_cbuf && c->cap_c > ((size_t)4 << 20)) {
        free(c->cbuf);
        c->cbuf = NULL;
        c->cap_c = 0;
    }
    return 0;
}

/* Decodes the next data page into the cursor. 1: a page; 0: end of chunk. */
static int next_page(pq_cursor *c, cm_err *err)
{
    for (;;) {
        if (c->pos >= c->chunk_len || c->levels_seen >= c->ch->num_values)
            return 0;
        page_hdr h;
        size_t hlen;
        if (page_header(c, &h, &hlen, err) < 0)
            return -1;
        size_t clen = (size_t)h.csize;
        uint64_t at = (uint64_t)c->ch->start + c->pos + hlen;
        c->pos += hlen + clen;
        if (h.type != 0 && h.type != 2 && h.type != 3)
            continue; /* index pages and future types carry no rows */
        if (h.type == 2) { /* dictionary */
            c->cbuf = xgrow(c->cbuf, &c->cap_c, clen + 1, 1);
            if (pq_read_at(c->f, at, c->cbuf, clen, err) < 0)
                return -1;
            const uint8_t *body = c->cbuf;
            if (!h.has_dict || c->has_dict)
                return cerr(c, err, "unexpected dictionary page%s", NULL);
            const uint8_t *d;
            size_t used;
            if (inflate_section(c, body, clen, (size_t)h.usize, 1, &d, err) < 0)
                return -1;
            if (h.nvals > h.usize * 8 + 8)
                return cerr(c, err, "the dictionary's size is implausible%s", NULL);
            vals_reset(&c->dict);
            if (plain(c, &c->dict, d, (size_t)h.usize, (size_t)h.nvals, &used, err) < 0)
                return -1;
            c->has_dict = 1;
            continue;
        }
        if ((h.type == 0 && !h.has_v1) || (h.type == 3 && !h.has_v2))
            return cerr(c, err, "a data page has no data page header%s", NULL);
        size_t n = (size_t)h.nvals;
        if (n > (size_t)(c->ch->num_values - c->levels_seen))
            return cerr(c, err, "pages hold more values than the column chunk says%s", NULL);
        if (n > (size_t)h.usize * 8 + 64 && c->col->max_rep + c->col->max_def == 0)
            return cerr(c, err, "a page claims more values than it can hold%s", NULL);
        c->pdef = xgrow(c->pdef, &c->cap_lv, n + 1, sizeof *c->pdef);
        c->prep = xrealloc(c->prep, (c->cap_lv + 1) * sizeof *c->prep);
        c->streaming = 0;
        int rs = stream_page(c, &h, at, n, err);
        if (rs < 0)
            return -1;
        if (rs == 0 && whole_page(c, &h, at, n, err) < 0)
            return -1;
        c->pn = n;
        c->pi = 0;
        c->pvi = 0;
        c->levels_seen += (int64_t)n;
        if (n)
            return 1;
    }
}

int pq_cursor_open(pq_file *f, size_t rg, size_t col, pq_cursor **out, cm_err *err)
{
    *out = NULL;
    if (rg >= f->nrgs || col >= f->ncols)
        return cm_err_set(err, "%s: no row group %zu / column %zu", f->path, rg, col);
    pq_cursor *c = xcalloc(1, sizeof *c);
    c->f = f;
    c->rg = rg;
    c->col = &f->cols[col];
    c->ch = &f->rgs[rg].chunks[col];
    c->width = fixed_width(c->col);
    if (c->col->max_def > 255 || c->col->max_rep > 255) {
        cerr(c, err, "the column is nested more than 255 levels deep (not supported)%s", NULL);
        pq_cursor_close(c);
        return -1;
    }
    c->chunk_len = (size_t)c->ch->total_compressed;
    *out = c;
    return 0;
}

static void batch_reset(pq_batch *b)
{
    b->rows = b->n_levels = b->n_values = 0;
}

/* Appends strings j.. (nn of them) of the decoded page to the batch at m. */
static void take_strings(pq_cursor *c, pq_batch *b, size_t j, size_t m, size_t nn, uint64_t *data_len)
{
    const uint64_t *off = c->pv.off;
    size_t gap = c->pv.gap;
    uint64_t from = off[j], len = off[j + nn] - from; /* with gaps: an upper bound */
    b->ba_off = xgrow(b->ba_off, &b->cap_ba_off, m + nn + 2, sizeof *b->ba_off);
    b->ba_data = xgrow(b->ba_data, &b->cap_ba_data, (size_t)(*data_len + len + 1), 1);
    if (gap == 0) {
        memcpy(b->ba_data + *data_len, c->pv.sd + from, (size_t)len);
        for (size_t k = 0; k < nn; k++)
            b->ba_off[m + k] = *data_len + (off[j + k] - from);
        *data_len += len;
        return;
    }
    for (size_t k = 0; k < nn; k++) {
        size_t l = (size_t)(off[j + k + 1] - gap - off[j + k]);
        b->ba_off[m + k] = *data_len;
        if (l)
            memcpy(b->ba_data + *data_len, c->pv.sd + off[j + k], l);
        *data_len += l;
    }
}

/* Strings from the page's stream, one at a time, until nn are taken or the
 * stream cannot go on (then from the whole page). */
static int take_streamed_strings(pq_cursor *c, pq_batch *b, size_t nn, uint64_t *data_len, cm_err *err)
{
    size_t j = c->pvi, m = b->n_values, k = 0;
    while (c->streaming && k < nn) {
        const uint8_t *q = NULL;
        size_t l = 0;
        int rc = stream_string(c, &q, &l, err);
        if (rc == PS_FAR) {
            if (unstream(c, err) < 0)
                return -1;
            break;
        }
        if (rc < 0)
            return cerr(c, err, "%s", err->msg);
        b->ba_off = xgrow(b->ba_off, &b->cap_ba_off, m + k + 2, sizeof *b->ba_off);
        b->ba_data = xgrow(b->ba_data, &b->cap_ba_data, (size_t)(*data_len + l + 1), 1);
        b->ba_off[m + k] = *data_len;
        if (l)
            memcpy(b->ba_data + *data_len, q, l);
        *data_len += l;
        k++;
    }
    if (k < nn)
        take_strings(c, b, j + k, m + k, nn - k, data_len);
    return 0;
}

/* Appends a run of a page's values (all present, in order) to the batch in
 * one copy per array: this is the hot path of a migration. */
static int take_values(pq_cursor *c, pq_batch *b, size_t nn, uint64_t *data_len, cm_err *err)
{
    size_t j = c->pvi, m = b->n_values, w = (size_t)c->width;
    if (w) {
        size_t cap = b->cap_values;
        void **arr;
        switch (c->col->type) {
        case PQ_BOOLEAN: arr = (void **)&b->b; break;
        case PQ_INT32: arr = (void **)&b->i32; break;
        case PQ_INT64: arr = (void **)&b->i64; break;
        case PQ_FLOAT: arr = (void **)&b->f32; break;
        default: arr = (void **)&b->f64; break;
        }
        *arr = xgrow(*arr, &cap, m + nn + 1, w);
        b->cap_values = cap;
        int rc = c->streaming ? ps_read(&c->ps, (uint8_t *)*arr + m * w, nn * w, err) : 0;
        if (rc == PS_FAR && unstream(c, err) < 0)
            return -1;
        if (rc == -1)
            return cerr(c, err, "%s", err->msg);
        if (!c->streaming)
            memcpy((uint8_t *)*arr + m * w, c->pv.fx + j * w, nn * w);
    } else {
        if (c->streaming) {
            if (take_streamed_strings(c, b, nn, data_len, err) < 0)
                return -1;
        } else {
            take_strings(c, b, j, m, nn, data_len);
        }
        b->ba_off = xgrow(b->ba_off, &b->cap_ba_off, m + nn + 2, sizeof *b->ba_off);
        b->ba_off[m + nn] = *data_len;
    }
    b->n_values += nn;
    c->pvi += nn;
    return 0;
}

long pq_cursor_read(pq_cursor *c, size_t max_rows, pq_batch *b, cm_err *err)
{
    batch_reset(b);
    const pq_col *col = c->col;
    int want_def = col->max_def > 0, want_rep = col->max_rep > 0;
    uint64_t data_len = 0;
    if (!want_def) {
        free(b->def);
        b->def = NULL;
    }
    if (!want_rep) {
        free(b->rep);
        b->rep = NULL;
    }
    for (;;) {
        if (c->pi >= c->pn) {
            int r = next_page(c, err);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
        }
        /* The entries of this page that fit: whole rows up to max_rows (a
         * row that continues on the next page is finished there). */
        size_t i = c->pi, e = i, rows = b->rows;
        while (e < c->pn) {
            if (c->prep[e] == 0) {
                if (rows == max_rows)
                    break;
                rows++;
            } else if (!c->started) {
                return cerr(c, err, "a repeated value continues a row that never started%s", NULL), -1;
            }
            c->started = 1;
            e++;
        }
        size_t cnt = e - i, k = b->n_levels, nn = 0;
        if (want_def || want_rep) {
            size_t cap = b->cap_levels;
            if (want_def)
                b->def = xgrow(b->def, &cap, k + cnt + 1, sizeof *b->def);
            cap = b->cap_levels;
            if (want_rep)
                b->rep = xgrow(b->rep, &cap, k + cnt + 1, sizeof *b->rep);
            b->cap_levels = cap;
            for (size_t x = 0; want_def && x < cnt; x++)
                b->def[k + x] = c->pdef[i + x];
            for (size_t x = 0; want_rep && x < cnt; x++)
                b->rep[k + x] = c->prep[i + x];
        }
        for (size_t x = i; x < e; x++)
            nn += c->pdef[x] == col->max_def;
        b->n_levels += cnt;
        b->rows = rows;
        if (nn && take_values(c, b, nn, &data_len, err) < 0)
            return -1;
        c->pi = e;
        if (e < c->pn)
            break; /* the batch is full */
    }
    if (!c->width) {
        b->ba_off = xgrow(b->ba_off, &b->cap_ba_off, b->n_values + 1, sizeof *b->ba_off);
        b->ba_off[b->n_values] = data_len;
    }
    return (long)b->rows;
}

void pq_cursor_close(pq_cursor *c)
{
    if (!c)
        return;
    free(c->hbuf);
    ps_free(&c->ps);
    free(c->cbuf);
    vals_free(&c->dict);
    vals_free(&c->pv);
    free(c->pdef);
    free(c->prep);
    free(c->pagebuf);
    free(c->tmp);
    free(c->tmp64);
    free(c);
}

void pq_batch_free(pq_batch *b)
{
    free(b->def);
    free(b->rep);
    free(b->b);
    free(b->i32);
    free(b->i64);
    free(b->f32);
    free(b->f64);
    free(b->ba_data);
    free(b->ba_off);
    memset(b, 0, sizeof *b);
}
