/* bench_parquet_decode.c - decodes every column of every row group of a
 * Parquet file with our reader and prints the seconds it took. */
#include <stdio.h>
#include <time.h>

#include "format/parquet.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.parquet\n", argv[0]);
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pq_file *f = NULL;
    cm_err err = {0};
    if (pq_open(argv[1], &f, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    pq_batch b = {0};
    size_t values = 0;
    for (size_t rg = 0; rg < pq_num_row_groups(f); rg++)
        for (size_t c = 0; c < pq_num_columns(f); c++) {
            pq_cursor *cur = NULL;
            if (pq_cursor_open(f, rg, c, &cur, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            long got;
            while ((got = pq_cursor_read(cur, 1024, &b, &err)) > 0)
                values += b.n_values;
            if (got < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            pq_cursor_close(cur);
        }
    pq_batch_free(&b);
    pq_close(f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.3f %zu\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, values);
    return 0;
}
