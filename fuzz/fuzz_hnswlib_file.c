/* fuzz_hnswlib_file.c - libFuzzer target for the hnswlib single-file reader
 * (src/index/hnswlib_file.c), which reads legacy index_<uuid>.bin files.
 *
 * Run (the first directory collects new inputs; keep it out of the repo):
 *   mkdir -p /tmp/fz && build/fuzz/fuzz_hnswlib_file -max_total_time=60 /tmp/fz fuzz/corpus/hnswlib_file
 *
 * Any input: hl_parse must not crash, leak, loop or read out of bounds, and a
 * failure must explain itself. When it accepts a file, everything the reuse
 * code later reads (every record's label, flags and vector, every upper-level
 * block, every link) must lie inside the input and obey what hl_parse
 * promised; the input is copied to an exactly sized buffer so ASan sees any
 * read past its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "legacy/hnswlib_file.h"

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
    hl_index x;
    if (hl_parse(&x, buf, size, &err) < 0) {
        if (!err.set)
            abort();
        free(buf);
        return 0;
    }
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < x.count; i++) {
        const unsigned char *r = hl_record(&x, i);
        size_t n = (size_t)(r[0] | (r[1] << 8));
        if (n > x.maxM0)
            abort();
        for (size_t j = 0; j < n; j++)
            if (rd32(r + 4 + 4 * j) >= x.count)
                abort();
        sink += hl_label(&x, i) + (uint64_t)hl_is_deleted(&x, i);
        const unsigned char *v = hl_vector_bytes(&x, i);
        sink += v[0] + v[4 * x.dim - 1];
        size_t bytes = (size_t)x.levels[i] * x.links_size;
        if (x.levels[i] > (uint32_t)x.maxlevel)
            abort();
        const unsigned char *u = hl_upper_bytes(&x, i);
        for (uint32_t l = 0; l < x.levels[i]; l++) {
            const unsigned char *b = u + (size_t)l * x.links_size;
            size_t c = (size_t)(b[0] | (b[1] << 8));
            if (c > x.maxM)
                abort();
            for (size_t j = 0; j < c; j++) {
                uint32_t id = rd32(b + 4 + 4 * j);
                if (id >= x.count || x.levels[id] < l + 1)
                    abort();
            }
        }
        if (bytes)
            sink += u[bytes - 1];
    }
    if (x.count && x.levels[x.entry] != (uint32_t)x.maxlevel)
        abort();
    (void)sink;
    hl_free(&x);
    free(buf);
    return 0;
}
