/* fuzz_chroma_answer.c - libFuzzer target for what the Chroma server source
 * makes of a server's answers (untrusted input): get answers into records,
 * collection lists into collections (metadata, HNSW configuration), id lists.
 *
 * Run: mkdir -p /tmp/fz && build/fuzz/fuzz_chroma_answer -max_total_time=60 /tmp/fz fuzz/corpus/chroma_answer
 *
 * Any input: no crash, leak or out-of-bounds access. Invariants: a get
 * answer that is read gives one record per id, in order; the ids listed by
 * that same answer put its records back in order with cs_assemble (every
 * row exactly once, duplicates included). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chroma/rest_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cm_err err = {0};
    jv *v = json_parse((const char *)data, size, &err);
    if (!v)
        return 0;
    /* as a collection list, or one collection */
    char *notes = NULL;
    if (v->type == JV_ARRAY) {
        for (size_t i = 0; i < v->u.arr.n; i++) {
            cm_collection c;
            if (cs_collection_from_json(v->u.arr.items[i], &c, &notes, &err) == 0)
                cm_collection_free(&c);
        }
    } else {
        cm_collection c;
        if (cs_collection_from_json(v, &c, &notes, &err) == 0)
            cm_collection_free(&c);
    }
    free(notes);

    /* as a get answer */
    cs_batch got = {0}, out = {0};
    char *why = NULL;
    int rc = cs_batch_from_get(v, &got, &why, &err);
    const jv *ids = jv_get(v, "ids");
    if (rc == 0) {
        if (got.n != ids->u.arr.n)
            abort();
        for (size_t i = 0; i < got.n; i++) {
            const jv *x = ids->u.arr.items[i];
            if ((x->type == JV_STRING) != (got.r[i].id != NULL))
                abort();
            if (got.r[i].id && (got.r[i].id_len != x->u.str.len || memcmp(got.r[i].id, x->u.str.s, x->u.str.len)))
                abort();
        }
        /* rows of an answer by id, put in the order of its own id list */
        cs_idlist l;
        cs_idlist_init(&l);
        int has_null = 0;
        if (cs_idlist_from_json(&l, ids, &err) != 0)
            abort();
        for (size_t i = 0; i < l.n; i++)
            has_null |= l.len[i] == CS_NULL_ID;
        if (!has_null) {
            cs_stash st;
            cs_stash_init(&st);
            size_t n = got.n;
            if (cs_assemble(&l, 0, l.n, &got, NULL, &st, 0, &out, &err) != 0 || out.n != n)
                abort();
            for (size_t i = 0; i < out.n; i++) {
                cs_str s = cs_idlist_get(&l, i);
                if (out.r[i].id_len != s.len || memcmp(out.r[i].id, s.s, s.len) != 0 || out.r[i].src_row != (int64_t)i)
                    abort();
            }
            cs_stash_free(&st);
        }
        cs_idlist_free(&l);
    } else if (rc == 1) {
        if (!why || got.n != 0)
            abort();
    }
    free(why);
    cs_batch_free(&got);
    cs_batch_free(&out);

    /* as an id list */
    cs_idlist l2;
    cs_idlist_init(&l2);
    if (cs_idlist_from_json(&l2, v->type == JV_ARRAY ? v : ids, &err) == 0) {
        cs_str *ask;
        size_t n = cs_ids_to_fetch(&l2, 0, l2.n, NULL, &ask);
        size_t len;
        char *body = cs_body_get_ids(ask, n, 1, &len);
        jv *back = json_parse(body, len, &err);
        if (!back) /* our own request body must be JSON */
            abort();
        jv_free(back);
        free(body);
        free(ask);
    }
    cs_idlist_free(&l2);
    jv_free(v);
    return 0;
}
