/* fuzz_parquet.c - libFuzzer target: any bytes as a Parquet file; every
 * column of every row group is read in small batches, once with pages read
 * whole and once with PLAIN fixed-width pages streamed through a tiny
 * window (so that both the stream and its fallback see every input). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "format/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsetenv("CM_PARQUET_STREAM_MIN");
    read_all(data, size);
    setenv("CM_PARQUET_STREAM_MIN", "1", 1);
    setenv("CM_PARQUET_STREAM_WINDOW", "64", 1);
    read_all(data, size);
    return 0;
}

static void read_all(const uint8_t *data, size_t size)
{
    pq_file *f = NULL;
    cm_err err = {0};
    if (pq_open_memory(data, size, "fuzz.parquet", &f, &err) < 0)
        return;
    pq_batch b = {0};
    for (size_t rg = 0; rg < pq_num_row_groups(f); rg++)
        for (size_t c = 0; c < pq_num_columns(f); c++) {
            pq_cursor *cur = NULL;
            if (pq_cursor_open(f, rg, c, &cur, &err) < 0)
                continue;
            while (pq_cursor_read(cur, 5, &b, &err) > 0)
                ;
            pq_cursor_close(cur);
        }
    pq_batch_free(&b);
    pq_close(f);
}
