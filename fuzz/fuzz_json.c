/* fuzz_json.c - libFuzzer target for the JSON reader and writer.
 *
 * Run (the first directory collects new inputs; keep it out of the repo):
 *   mkdir -p /tmp/fz && build/fuzz/fuzz_json -max_total_time=60 /tmp/fz fuzz/corpus/json
 *
 * Any input: json_parse must not crash, leak or read out of bounds. When it
 * parses, what the writer makes of it must parse again, and from then on
 * writing is a fixed point. (The first write may change the text: invalid
 * UTF-8 bytes become \u00XX escapes, as json.h documents.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cm_err err = {0};
    jv *v = json_parse((const char *)data, size, &err);
    if (!v)
        return 0;
    json_out a = {0};
    jo_value(&a, v);
    jv *w = json_parse(a.buf, a.len, &err);
    if (!w)
        abort(); /* the writer produced something the reader rejects */
    json_out b = {0};
    jo_value(&b, w);
    jv *x = json_parse(b.buf, b.len, &err);
    if (!x)
        abort();
    json_out c = {0};
    jo_value(&c, x);
    if (b.len != c.len || memcmp(b.buf, c.buf, b.len) != 0)
        abort(); /* not a fixed point */
    jo_free(&a);
    jo_free(&b);
    jo_free(&c);
    jv_free(v);
    jv_free(w);
    jv_free(x);
    return 0;
}
