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
    char root[256];
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

/* DELTA_BINARY_PACKED: decodes exactly n values; *used = bytes consumed. */
int pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t n, size_t *used, cm_err *err);

#endif
