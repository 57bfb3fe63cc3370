/* fuzz_pickle.c - libFuzzer target for the safe pickle reader.
 *
 * Run (the first directory collects new inputs; keep it out of the repo):
 *   mkdir -p /tmp/fz && build/fuzz/fuzz_pickle -max_total_time=60 /tmp/fz fuzz/corpus/pickle
 *
 * Any input: pk_load must not crash, leak, loop or read out of bounds. A
 * loaded value is walked completely (the loader promises no cycles and a
 * bounded depth, so a plain recursive walk must be safe), and the helper
 * functions are exercised on every node. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t budget; /* nodes left to visit: shared subtrees (a DAG) can
                      * make a full walk exponential */

static size_t walk(const pk_value *v, int depth)
{
    if (!v || budget == 0)
        return 0;
    budget--;
    if (depth > PK_MAX_DEPTH + 1)
        abort();
    size_t n = 1;
    int64_t x;
    char hex[33];
    (void)pk_get_int64(v, &x);
    (void)pk_uuid_hex(v, hex, NULL);
    (void)pk_is_class(v, "uuid", "UUID");
    (void)pk_type_name(v->type);
    switch (v->type) {
    case PK_TUPLE:
    case PK_LIST:
        for (size_t i = 0; i < v->u.seq.n; i++)
            n += walk(v->u.seq.items[i], depth + 1);
        break;
    case PK_DICT:
        (void)pk_dict_get(v, "int");
        for (size_t i = 0; i < v->u.dict.n; i++) {
            n += walk(v->u.dict.pairs[i].key, depth + 1);
            n += walk(v->u.dict.pairs[i].value, depth + 1);
        }
        break;
    case PK_OBJECT:
        n += walk(v->u.obj.cls, depth + 1);
        n += walk(v->u.obj.args, depth + 1);
        n += walk(v->u.obj.state, depth + 1);
        break;
    case PK_STR:
    case PK_BYTES:
    case PK_BIGINT:
        if (v->u.str.s[v->u.str.len] != '\0')
            abort();
        break;
    default:
        break;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cm_err err = {0};
    pk_value *v = pk_load(data, size, &err);
    if (!v) {
        if (!err.set)
            abort(); /* every failure explains itself */
        return 0;
    }
    budget = 1u << 20;
    walk(v, 0);
    pk_free(v);
    return 0;
}
