/* parquet_int.h - what the Parquet reader's files share (not a public API). */
#ifndef CM_FORMAT_PARQUET_INT_H
#define CM_FORMAT_PARQUET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parquet.h"
#include "thrift_compact.h"

typedef struct pq_col {
    char *path;
    pq_type type;
    int type_length, max_def, max_rep;
} pq_col;

typedef struct pq_chunk {
    int type, codec;
    int64_t num_values, total_compressed, data_offset, dict_offset;
    int64_t start; /* validated first byte of the chunk */
} pq_chunk;

typedef struct pq_rg {
    int64_t num_rows;
    pq_chunk *chunks;
} pq_rg;

struct pq_file {
    char *path;
    int fd;
    const uint8_t *mem; /* pq_open_memory */
    uint64_t size;
    pq_col *cols;
    size_t ncols;
    pq_rg *rgs;
    size_t nrgs;
    int64_t num_rows;
};

/* Reads n bytes at off, checked against the file size. */
int pq_read_at(const pq_file *f, uint64_t off, void *buf, size_t n, cm_err *err);

/* Decompresses src into exactly out_len bytes of out. */
int pq_decompress(int codec, const uint8_t *src, size_t src_len, uint8_t *out, size_t out_len, cm_err *err);

/* The RLE / bit-packed hybrid: decodes exactly n values of bit width w
 * (0..32) from [p, p+len) into out. */
int pq_rle_decode(const uint8_t *p, size_t len, int w, uint32_t *out, size_t n, cm_err *err);
/* The same into bytes (repetition and definition levels; w <= 8). */
int pq_rle_decode8(const uint8_t *p, size_t len, int w, uint8_t *out, size_t n, cm_err *err);

/* DELTA_BINARY_PACKED: decodes exactly n values; *used = bytes consumed. */
int pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t n, size_t *used, cm_err *err);

/* A page's bytes decompressed as they are consumed (parquet_stream.c), for
 * large pages of fixed-width values under UNCOMPRESSED (0) or SNAPPY (1). */
typedef struct pq_stream {
    const pq_file *f;
    uint64_t off, end;          /* compressed bytes of the page not yet read from the file */
    uint8_t *in;                /* compressed bytes read, [in_pos, in_len) not yet decoded */
    size_t in_cap, in_len, in_pos;
    uint8_t *win;               /* decoded bytes: history, then [win_pos, win_len) not yet taken */
    size_t win_cap, win_len, win_pos, keep; /* keep: history a copy may reach */
    uint64_t total, produced, consumed, lit_left;
    int codec, need_preamble;
} pq_stream;

#define PS_FAR (-2) /* a snappy copy reaches further back than the window keeps */

/* Starts reading a page of ulen decompressed bytes stored as clen bytes at
 * file offset off; keeps the buffers of a previous page. */
void ps_open(pq_stream *s, const pq_file *f, uint64_t off, uint64_t clen, uint64_t ulen, int codec);
/* The next n bytes, contiguous, valid until the next call; 0, -1 or PS_FAR. */
int ps_peek(pq_stream *s, size_t n, const uint8_t **p, cm_err *err);
/* Copies the next n bytes to dst; 0, -1 or PS_FAR. */
int ps_read(pq_stream *s, uint8_t *dst, size_t n, cm_err *err);
void ps_free(pq_stream *s);

#endif
