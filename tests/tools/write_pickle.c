/* write_pickle.c - writes an index_metadata.pickle with our writer, for
 * tests/pickle-python.sh (which loads it in Python).
 *
 *   write_pickle OUT N LABEL_BASE SEQ_MUL [MAX_SEQ_ID]
 *
 * Entry i (0 <= i < N): id "id-<i>-\u00e9\u20ac\U0001F600", label
 * LABEL_BASE + i, seq id (i * SEQ_MUL) mod 2^32. dimensionality 384,
 * total_elements_added = LABEL_BASE + N - 1 (0 when N is 0). MAX_SEQ_ID, when
 * given, is written as the legacy 'max_seq_id'. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "chroma/persistent_data.h"

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: write_pickle OUT N LABEL_BASE SEQ_MUL [MAX_SEQ_ID]\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    uint32_t base = (uint32_t)strtoul(argv[3], NULL, 10);
    uint32_t mul = (uint32_t)strtoul(argv[4], NULL, 10);
    cm_err err = {0};
    pdata_writer *w = pdata_begin(argv[1], &err);
    if (!w) {
        fprintf(stderr, "write_pickle: %s\n", err.msg);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        char id[64];
        int k = snprintf(id, sizeof id, "id-%ld-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", i);
        if (pdata_add(w, id, (size_t)k, base + (uint32_t)i, (uint32_t)i * mul) < 0) {
            fprintf(stderr, "write_pickle: add failed\n");
            pdata_abort(w);
            return 1;
        }
    }
    uint32_t total = n ? base + (uint32_t)n - 1 : 0;
    int have = argc == 6;
    int64_t msi = have ? strtoll(argv[5], NULL, 10) : 0;
    if (pdata_finish(w, 384, total, have, msi, &err) < 0) {
        fprintf(stderr, "write_pickle: %s\n", err.msg);
        return 1;
    }
    return 0;
}
