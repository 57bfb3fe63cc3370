/* parquet.h - a streaming reader for Apache Parquet files.
 *
 * A leaf module: it knows Parquet (apache/parquet-format) and nothing about
 * Chroma. It reads the footer once, then decodes one column chunk of one row
 * group page by page through a cursor, so memory is bounded by a dictionary
 * page plus one decompressed data page per open cursor - never the whole file.
 *
 * Every offset and length taken from the file is checked against the file's
 * size before use; a damaged file ends in -1 and a message naming the file,
 * never in a crash. */
#ifndef CM_FORMAT_PARQUET_H
#define CM_FORMAT_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

typedef enum pq_type {
    PQ_BOOLEAN = 0,
    PQ_INT32 = 1,
    PQ_INT64 = 2,
    PQ_INT96 = 3,
    PQ_FLOAT = 4,
    PQ_DOUBLE = 5,
    PQ_BYTE_ARRAY = 6,
    PQ_FIXED_LEN_BYTE_ARRAY = 7,
} pq_type;

typedef struct pq_file pq_file;

/* Opens and validates the footer (magic, FileMetaData, schema). */
int pq_open(const char *path, pq_file **out, cm_err *err);
/* The same over bytes in memory (fuzzing, tests); data stays the caller's. */
int pq_open_memory(const void *data, size_t len, const char *name, pq_file **out, cm_err *err);
void pq_close(pq_file *f);

const char *pq_path(const pq_file *f);
size_t pq_num_row_groups(const pq_file *f);
int64_t pq_row_group_num_rows(const pq_file *f, size_t rg);

/* Leaf columns, in schema order. The path joins the names below the root
 * with '.', e.g. "embedding.list.element". */
size_t pq_num_columns(const pq_file *f);
/* -1 when no leaf column has that path. */
long pq_column_find(const pq_file *f, const char *path);
pq_type pq_column_type(const pq_file *f, size_t col);
int pq_column_max_def(const pq_file *f, size_t col);
int pq_column_max_rep(const pq_file *f, size_t col);

/* One batch of decoded rows of one column.
 *
 * Levels: n_levels entries (== rows when max_rep is 0). def is NULL when the
 * column's max_def is 0 (every value present); rep is NULL when max_rep is 0.
 * A row starts at every level entry with rep == 0.
 * Values: one per level entry whose def == max_def, in order (n_values).
 * Exactly one of the value arrays is used, by physical type:
 *   BOOLEAN -> b (0/1), INT32 -> i32, INT64 -> i64, FLOAT -> f32,
 *   DOUBLE -> f64, BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY / INT96 -> value k is
 *   ba_data + ba_off[k], length ba_off[k+1] - ba_off[k] (ba_off has
 *   n_values + 1 entries; bytes may contain NULs).
 * The batch owns its arrays; reuse it across reads, free with pq_batch_free. */
typedef struct pq_batch {
    size_t rows;
    size_t n_levels;
    int16_t *def;
    int16_t *rep;
    size_t n_values;
    uint8_t *b;
    int32_t *i32;
    int64_t *i64;
    float *f32;
    double *f64;
    uint8_t *ba_data;
    uint64_t *ba_off;
    /* capacities, private to the reader */
    size_t cap_levels, cap_values, cap_ba_data, cap_ba_off;
} pq_batch;

typedef struct pq_cursor pq_cursor;

/* Opens column `col` of row group `rg` for reading from its first row. */
int pq_cursor_open(pq_file *f, size_t rg, size_t col, pq_cursor **out, cm_err *err);
/* Replaces the batch's contents with up to max_rows further rows (whole
 * rows: a repeated column never splits a row across batches). Returns the
 * number of rows read, 0 at the end of the chunk, -1 on error. */
long pq_cursor_read(pq_cursor *c, size_t max_rows, pq_batch *b, cm_err *err);
void pq_cursor_close(pq_cursor *c);
void pq_batch_free(pq_batch *b);

#endif
