/* fuzz_hnswlib_file.c - libFuzzer target for the hnswlib single-file reader
 * (hnswlib_file_parse in src/index/hnsw_files.c), which reads legacy
 * index_<uuid>.bin files.
 *
 * Run (the first directory collects new inputs; keep it out of the repo):
 *   mkdir -p /tmp/fz && build/fuzz/fuzz_hnswlib_file -max_total_time=60 /tmp/fz fuzz/corpus/hnswlib_file
 *
 * Any input: hnswlib_file_parse must not crash, leak, loop or read out of bounds, and a
 * failure must explain itself. When it accepts a file, everything the reuse
 * code later reads (every record's label, flags and vector, every upper-level
 * block, every link) must lie inside the input and obey what the parser
 * promised; the input is copied to an exactly sized buffer so ASan sees any
 * read past its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/hnsw_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf = malloc(size ? size : 1);
    if (size)
        memcpy(buf, data, size);
    cm_err err = {0};
    hnswlib_file x;
    if (hnswlib_file_parse(&x, buf, size, &err) < 0) {
        if (!err.set)
            abort();
        free(buf);
        return 0;
    }
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < x.hd.count; i++) {
        const unsigned char *r = hnswlib_record(&x, i);
        size_t n = (size_t)(r[0] | (r[1] << 8));
        if (n > x.hd.maxM0)
            abort();
        for (size_t j = 0; j < n; j++)
            if (rd32(r + 4 + 4 * j) >= x.hd.count)
                abort();
        sink += hnswlib_label(&x, i) + (uint64_t)hnswlib_is_deleted(&x, i);
        const unsigned char *v = hnswlib_vector_bytes(&x, i);
        sink += v[0] + v[4 * x.dim - 1];
        size_t bytes = (size_t)x.levels[i] * x.links_size;
        if (x.levels[i] < 0 || x.levels[i] > x.hd.maxlevel)
            abort();
        const unsigned char *u = hnswlib_upper_bytes(&x, i);
        for (int l = 0; l < x.levels[i]; l++) {
            const unsigned char *b = u + (size_t)l * x.links_size;
            size_t c = (size_t)(b[0] | (b[1] << 8));
            if (c > x.hd.maxM)
                abort();
            for (size_t j = 0; j < c; j++) {
                uint32_t id = rd32(b + 4 + 4 * j);
                if (id >= x.hd.count || x.levels[id] < l + 1)
                    abort();
            }
        }
        if (bytes)
            sink += u[bytes - 1];
    }
    if (x.hd.count && x.levels[x.hd.entry] != x.hd.maxlevel)
        abort();
    (void)sink;
    hnswlib_file_free(&x);
    free(buf);
    return 0;
}
