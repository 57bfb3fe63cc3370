/* test_parquet_corrupt.c - damaged Parquet files end in a clean error.
 *
 * Every real fixture file is truncated at many points and has bytes flipped
 * at many offsets; each damaged copy is opened and every column of every row
 * group read in small batches. Each attempt must either succeed or fail with
 * a message - never crash, overrun or leak (this runs under ASan+UBSan).
 * Also the classic cases: empty file, wrong magic, a footer length larger
 * than the file, a chunk offset past the end. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "format/parquet.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Under AddressSanitizer an allocation beyond this is an error: no damaged
 * file may make the reader ask for gigabytes (where it would fail a few
 * lines later, that is a crash on a machine short of memory). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=512";
}

/* 0: read completely; -1: failed with a message; -2: failed without one. */
static int read_all(const unsigned char *data, size_t len)
{
    pq_file *f = NULL;
    cm_err err = {0};
    if (pq_open_memory(data, len, "damaged.parquet", &f, &err) < 0)
        return err.msg[0] ? -1 : -2;
    int rc = 0;
    pq_batch b = {0};
    for (size_t rg = 0; rg < pq_num_row_groups(f) && rc == 0; rg++)
        for (size_t c = 0; c < pq_num_columns(f) && rc == 0; c++) {
            pq_cursor *cur = NULL;
            if (pq_cursor_open(f, rg, c, &cur, &err) < 0) {
                rc = err.msg[0] ? -1 : -2;
                break;
            }
            long got;
            while ((got = pq_cursor_read(cur, 7, &b, &err)) > 0)
                ;
            if (got < 0)
                rc = err.msg[0] ? -1 : -2;
            pq_cursor_close(cur);
        }
    pq_batch_free(&b);
    pq_close(f);
    return rc;
}

int main(void)
{
    const char *root = "../shared/fixtures/legacy";
    DIR *d = opendir(root);
    CHECK(d != NULL);
    struct dirent *e;
    int files = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        for (int k = 0; k < 2; k++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s/%s", root, e->d_name,
                     k ? "chroma-embeddings.parquet" : "chroma-collections.parquet");
            size_t len;
            unsigned char *data = slurp(path, &len);
            if (!data)
                continue;
            files++;
            CHECK_INT(read_all(data, len), 0);
            unsigned char *copy = malloc(len + 1);
            /* Truncation at many points. */
            size_t step = len / 97 + 1;
            for (size_t cut = 0; cut < len; cut += step) {
                memcpy(copy, data, cut);
                int r = read_all(copy, cut);
                CHECK_MSG(r != -2, "%s cut at %zu: failed without a message", path, cut);
            }
            /* Flipped bytes (one at a time), and a random-ish value. */
            size_t fstep = len / 211 + 1;
            for (size_t at = 0; at < len; at += fstep) {
                memcpy(copy, data, len);
                copy[at] ^= 0xff;
                CHECK_MSG(read_all(copy, len) != -2, "%s byte %zu flipped: failed without a message", path, at);
                copy[at] = (unsigned char)(at * 31 + 7);
                CHECK_MSG(read_all(copy, len) != -2, "%s byte %zu changed: failed without a message", path, at);
            }
            /* A footer length larger than the file. */
            memcpy(copy, data, len);
            if (len >= 8) {
                copy[len - 8] = 0xff;
                copy[len - 7] = 0xff;
                copy[len - 6] = 0xff;
                copy[len - 5] = 0x7f;
                CHECK_INT(read_all(copy, len), -1);
            }
            free(copy);
            free(data);
        }
    }
    if (d)
        closedir(d);
    CHECK(files >= 16);
    /* Streamed pages (every page, whatever its size): each byte of small
     * stores with PLAIN string pages set to 0xff and to 0x80 in turn. A
     * string's length prefix made huge this way once had the stream grow its
     * window to gigabytes before noticing the page could not hold it. */
    setenv("CM_PARQUET_STREAM_MIN", "0", 1);
    static const char *const small_files[] = {
        "../shared/fixtures/legacy/chroma-core__chroma-migrate__test_data_duckdb/chroma-collections.parquet",
        "../shared/fixtures/legacy/PierreAnders__PersonalAI__app-persist/chroma-collections.parquet",
        "../shared/fixtures/legacy/purabshingvi1011__customer-support-bot__vectorstore/chroma-embeddings.parquet",
    };
    for (size_t k = 0; k < sizeof small_files / sizeof *small_files; k++) {
        size_t slen;
        unsigned char *small = slurp(small_files[k], &slen);
        CHECK_MSG(small != NULL, "%s: missing", small_files[k]);
        if (!small)
            continue;
        CHECK_INT(read_all(small, slen), 0);
        for (size_t at = 0; at < slen; at++) {
            unsigned char was = small[at];
            small[at] = 0xff;
            CHECK_MSG(read_all(small, slen) != -2, "%s streamed, byte %zu set to 0xff: no message", small_files[k], at);
            small[at] = 0x80;
            CHECK_MSG(read_all(small, slen) != -2, "%s streamed, byte %zu set to 0x80: no message", small_files[k], at);
            small[at] = was;
        }
        free(small);
    }
    unsetenv("CM_PARQUET_STREAM_MIN");
    CHECK_INT(read_all((const unsigned char *)"", 0), -1);
    CHECK_INT(read_all((const unsigned char *)"NOTAPARQUETFILE!", 16), -1);
    CHECK_INT(read_all((const unsigned char *)"PAR1\0\0\0\0PAR1", 12), -1);
    cm_err err = {0};
    pq_file *f = NULL;
    CHECK(pq_open("/nonexistent/x.parquet", &f, &err) < 0 && strstr(err.msg, "/nonexistent/x.parquet"));
    return check_done("parquet-corrupt");
}
