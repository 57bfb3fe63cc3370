/* fuzz_parquet.c - libFuzzer target: any bytes as a Parquet file; every
 * column of every row group is read in small batches. */
#include <stddef.h>
#include <stdint.h>

#include "format/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pq_file *f = NULL;
    cm_err err = {0};
    if (pq_open_memory(data, size, "fuzz.parquet", &f, &err) < 0)
        return 0;
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
    return 0;
}
