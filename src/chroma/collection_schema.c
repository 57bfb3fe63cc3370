/* collection_schema.c - schema_str as Chroma 1.5.9 serialises it: serde's
 * compact JSON with struct fields in declaration order
 * (rust/types/src/collection_schema.rs@1.5.9); only the map of keys has no
 * order in Chroma (a HashMap), and here it is "#embedding", "#document",
 * then the metadata keys as first seen, so that a run is reproducible. */
#include "collection_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/mem.h"
#include "../util/strmap.h"

/* the value types of one key, as bits, in Chroma's field order */
enum { T_STRING = 1, T_INT = 2, T_FLOAT = 4, T_BOOL = 8 };

struct cm_schema_keys {
    strmap *idx; /* key -> first: its index in keys[] */
    char **keys;
    size_t *lens;
    unsigned *types;
    size_t n, cap;
};

cm_schema_keys *cm_schema_keys_new(void)
{
    cm_schema_keys *k = xcalloc(1, sizeof *k);
    k->idx = strmap_new();
    return k;
}

void cm_schema_keys_free(cm_schema_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    free(k->lens);
    free(k->types);
    strmap_free(k->idx);
    free(k);
}

static unsigned type_bit(cm_mtype t)
{
    switch (t) {
    case CM_M_STR: return T_STRING;
    case CM_M_INT: return T_INT;
    case CM_M_FLOAT: return T_FLOAT;
    case CM_M_BOOL: return T_BOOL;
    default: return 0; /* not storable; the policies removed these */
    }
}

void cm_schema_keys_add(cm_schema_keys *k, const cm_meta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const cm_mval *v = &m->v[i];
        unsigned bit = type_bit(v->type);
        if (!bit || (v->key_len >= 7 && memcmp(v->key, "chroma:", 7) == 0))
            continue;
        int created = 0;
        strmap_val *e = strmap_upsert(k->idx, v->key, v->key_len, &created);
        if (created) {
            if (k->n == k->cap) {
                k->cap = k->cap ? 2 * k->cap : 16;
                k->keys = xrealloc(k->keys, k->cap * sizeof *k->keys);
                k->lens = xrealloc(k->lens, k->cap * sizeof *k->lens);
                k->types = xrealloc(k->types, k->cap * sizeof *k->types);
            }
            e->first = (int64_t)k->n;
            k->keys[k->n] = xmemdup0(v->key, v->key_len);
            k->lens[k->n] = v->key_len;
            k->types[k->n++] = 0;
        }
        k->types[e->first] |= bit;
    }
}

/* {"enabled":E,"config":{}} */
static void index_entry(json_out *o, const char *name, int enabled)
{
    char buf[96];
    snprintf(buf, sizeof buf, "\"%s\":{\"enabled\":%s,\"config\":{}}", name, enabled ? "true" : "false");
    jo_cstr(o, buf);
}

/* The value types' index settings: a key entry is a copy of the defaults. */
static void string_type(json_out *o, int fts)
{
    jo_cstr(o, "\"string\":{");
    index_entry(o, "fts_index", fts);
    jo_raw(o, ",", 1);
    index_entry(o, "string_inverted_index", !fts);
    jo_raw(o, "}", 1);
}

static void scalar_type(json_out *o, const char *type)
{
    char name[48];
    snprintf(name, sizeof name, "%s_inverted_index", type);
    jo_raw(o, "\"", 1);
    jo_cstr(o, type);
    jo_cstr(o, "\":{");
    index_entry(o, name, 1);
    jo_raw(o, "}", 1);
}

/* "float_list":{"vector_index":{...}}: disabled in the defaults, enabled with
 * the source key under "#embedding". */
static void vector_type(json_out *o, const cm_hnsw_cfg *h, int on_embedding)
{
    long threads = h->has_num_threads ? h->num_threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    char buf[512];
    snprintf(buf, sizeof buf,
             "\"float_list\":{\"vector_index\":{\"enabled\":%s,\"config\":{\"space\":\"%s\",%s\"hnsw\":{"
             "\"ef_construction\":%ld,\"max_neighbors\":%ld,\"ef_search\":%ld,\"num_threads\":%ld,"
             "\"batch_size\":%ld,\"sync_threshold\":%ld,\"resize_factor\":",
             on_embedding ? "true" : "false", cm_space_name(h->space),
             on_embedding ? "\"source_key\":\"#document\"," : "", h->ef_construction, h->M, h->ef_search, threads,
             h->batch_size, h->sync_threshold);
    jo_cstr(o, buf);
    jo_float(o, h->resize_factor);
    jo_cstr(o, "}}}}");
}

static void key_types(json_out *o, unsigned types)
{
    int first = 1;
    static const struct {
        unsigned bit;
        const char *name;
    } order[] = {{T_STRING, NULL}, {T_INT, "int"}, {T_FLOAT, "float"}, {T_BOOL, "bool"}};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(types & order[i].bit))
            continue;
        if (!first)
            jo_raw(o, ",", 1);
        first = 0;
        if (order[i].bit == T_STRING)
            string_type(o, 0);
        else
            scalar_type(o, order[i].name);
    }
}

void cm_schema_json(json_out *o, const cm_hnsw_cfg *h, const cm_schema_keys *k)
{
    jo_cstr(o, "{\"defaults\":{");
    string_type(o, 0);
    jo_raw(o, ",", 1);
    vector_type(o, h, 0);
    jo_cstr(o, ",\"sparse_vector\":{\"sparse_vector_index\":{\"enabled\":false,\"config\":{\"embedding_function\":"
               "{\"type\":\"unknown\"},\"bm25\":false}}},");
    key_types(o, T_INT | T_FLOAT | T_BOOL);
    jo_cstr(o, "},\"keys\":{\"#embedding\":{");
    vector_type(o, h, 1);
    jo_cstr(o, "},\"#document\":{");
    string_type(o, 1);
    jo_raw(o, "}", 1);
    for (size_t i = 0; k && i < k->n; i++) {
        jo_raw(o, ",", 1);
        jo_str(o, k->keys[i], k->lens[i]);
        jo_cstr(o, ":{");
        key_types(o, k->types[i]);
        jo_raw(o, "}", 1);
    }
    jo_cstr(o, "}}");
}
