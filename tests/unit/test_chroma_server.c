/* test_chroma_server.c - the Chroma server source's pure parts: versions,
 * routes (rest.h), float32 base64 (util/base64.h), request bodies, page sizing, collection objects (metadata and the
 * server's HNSW configuration), get answers into records (typed metadata,
 * embeddings, lists that cannot be matched), id lists, narrowing a request
 * down to the ids the server cannot send, and putting rows back into the
 * listed order (0.3.x duplicates: every stored row exactly once), ids 0.3.x
 * does not find by id. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "chroma/rest.h"
#include "chroma/rest_source.h"
#include "util/base64.h"
#include "util/mem.h"

static jv *parse(const char *text)
{
    cm_err e = {0};
    jv *v = json_parse(text, strlen(text), &e);
    if (!v)
        fprintf(stderr, "test JSON does not parse: %s\n", e.msg);
    return v;
}

static void test_version(void)
{
    int a, b, c;
    chroma_parse_version("0.4.24", &a, &b, &c);
    CHECK(a == 0 && b == 4 && c == 24);
    chroma_parse_version("1.0.0", &a, &b, &c);
    CHECK(a == 1 && b == 0 && c == 0);
    chroma_parse_version("v0.3", &a, &b, &c);
    CHECK(a == 0 && b == 3 && c == 0);
    chroma_parse_version("0.3.29", &a, &b, &c);
    CHECK(a == 0 && b == 3 && c == 29);
    chroma_parse_version("garbage", &a, &b, &c);
    CHECK(a == 0 && b == 0 && c == 0);
}

static void test_paths(void)
{
    chroma_route v2 = {CHROMA_API_V2_RUST, "my tenant", "db/1"};
    char *p = chroma_path_collections(&v2, NULL, -1, 0);
    CHECK_STR(p, "/api/v2/tenants/my%20tenant/databases/db%2F1/collections");
    free(p);
    p = chroma_path_collections(&v2, NULL, 100, 200);
    CHECK_STR(p, "/api/v2/tenants/my%20tenant/databases/db%2F1/collections?limit=100&offset=200");
    free(p);
    p = chroma_path_collections(&v2, "a b", -1, 0);
    CHECK_STR(p, "/api/v2/tenants/my%20tenant/databases/db%2F1/collections/a%20b");
    free(p);
    p = chroma_path_record(&v2, "32f41558-fd2e-4a64-9dbf-15550b079dad", "get");
    CHECK_STR(p, "/api/v2/tenants/my%20tenant/databases/db%2F1/collections/32f41558-fd2e-4a64-9dbf-15550b079dad/get");
    free(p);
    p = chroma_path_count_collections(&v2);
    CHECK_STR(p, "/api/v2/tenants/my%20tenant/databases/db%2F1/collections_count");
    free(p);
    p = chroma_path_database(&v2);
    CHECK_STR(p, "/api/v2/tenants/my%20tenant/databases/db%2F1");
    free(p);
    p = chroma_path_databases(&v2);
    CHECK_STR(p, "/api/v2/tenants/my%20tenant/databases");
    free(p);
    p = chroma_path_api(&v2, "/pre-flight-checks");
    CHECK_STR(p, "/api/v2/pre-flight-checks");
    free(p);

    chroma_route v1 = {CHROMA_API_V1_TENANTS, "default_tenant", "default_database"};
    p = chroma_path_collections(&v1, NULL, 100, 0);
    CHECK_STR(p, "/api/v1/collections?tenant=default_tenant&database=default_database&limit=100&offset=0");
    free(p);
    p = chroma_path_collections(&v1, "c", -1, 0);
    CHECK_STR(p, "/api/v1/collections/c?tenant=default_tenant&database=default_database");
    free(p);
    p = chroma_path_record(&v1, "abc", "count");
    CHECK_STR(p, "/api/v1/collections/abc/count"); /* record routes ignore tenant/database */
    free(p);
    p = chroma_path_count_collections(&v1);
    CHECK_STR(p, "/api/v1/count_collections?tenant=default_tenant&database=default_database");
    free(p);
    p = chroma_path_database(&v1);
    CHECK_STR(p, "/api/v1/databases/default_database?tenant=default_tenant");
    free(p);

    chroma_route old = {CHROMA_API_V1, NULL, NULL}; /* before 0.4.15: no tenants */
    p = chroma_path_collections(&old, NULL, 10, 20);
    CHECK_STR(p, "/api/v1/collections?limit=10&offset=20");
    free(p);
    p = chroma_path_count_collections(&old);
    CHECK_STR(p, "/api/v1/count_collections");
    free(p);
    p = chroma_path_api(&old, "/pre-flight-checks");
    CHECK_STR(p, "/api/v1/pre-flight-checks");
    free(p);
    chroma_route v03 = {CHROMA_API_03, NULL, NULL};
    p = chroma_path_collections(&v03, NULL, -1, 0);
    CHECK_STR(p, "/api/v1/collections");
    free(p);
    p = chroma_path_record(&v03, "67b24618-6286-4867-9662-cb53da217609", "get");
    CHECK_STR(p, "/api/v1/collections/67b24618-6286-4867-9662-cb53da217609/get");
    free(p);
    CHECK(chroma_api_has_tenants(CHROMA_API_V1_TENANTS) && chroma_api_has_tenants(CHROMA_API_V2_PYTHON));
    CHECK(!chroma_api_has_tenants(CHROMA_API_V1) && !chroma_api_has_tenants(CHROMA_API_03));
    CHECK(chroma_api_is_v2(CHROMA_API_V2_RUST) && !chroma_api_is_v2(CHROMA_API_V1_TENANTS));
}

/* float32 base64 both ways: what the target sends is what the source reads. */
static void test_base64(void)
{
    const double v[] = {1.0, -2.5, 0.1, 3e38, 0};
    for (size_t n = 0; n <= 5; n++) {
        char buf[64];
        cm_b64_f32_encode(v, n, buf);
        size_t len = cm_b64_f32_len(n);
        CHECK(len % 4 == 0 && len <= sizeof buf);
        double *out = NULL;
        size_t dim = 99;
        CHECK_INT(cm_b64_f32_decode(buf, len, &out, &dim), 0);
        CHECK(dim == n);
        for (size_t i = 0; i < n && i < dim; i++)
            CHECK(out[i] == (double)(float)v[i]);
        free(out);
    }
    char one[8];
    cm_b64_f32_encode(v, 1, one);
    CHECK(memcmp(one, "AACAPw==", 8) == 0); /* 1.0f little-endian: 00 00 80 3f */
    double *out = NULL;
    size_t dim;
    CHECK_INT(cm_b64_f32_decode("AACAPw", 6, &out, &dim), 0); /* padding optional */
    CHECK(dim == 1 && out[0] == 1.0);
    free(out);
    CHECK_INT(cm_b64_f32_decode("AACA", 4, &out, &dim), -1); /* 3 bytes: no whole float */
    CHECK_INT(cm_b64_f32_decode("AAC*Pw==", 8, &out, &dim), -1);
}

static void test_bodies(void)
{
    size_t len;
    cs_str ids[] = {{"a1", 2}, {"x\"y\\z", 5}, {"cl\xc3\xa9", 4}, {"nul\0b", 5}};
    char *b = cs_body_get_ids(ids, 4, 1, &len);
    CHECK_STR(b, "{\"ids\":[\"a1\",\"x\\\"y\\\\z\",\"cl\xc3\xa9\",\"nul\\u0000b\"],"
                 "\"include\":[\"embeddings\",\"documents\",\"metadatas\"]}");
    CHECK_INT(len, strlen(b));
    jv *v = parse(b);
    CHECK(v && jv_get(v, "ids")->u.arr.items[3]->u.str.len == 5);
    jv_free(v);
    free(b);
    b = cs_body_get_ids(ids, 1, 0, &len);
    CHECK_STR(b, "{\"ids\":[\"a1\"],\"include\":[]}");
    free(b);
    b = cs_body_get_page(100, 300, 1, &len);
    CHECK_STR(b, "{\"limit\":100,\"offset\":300,\"include\":[\"embeddings\",\"documents\",\"metadatas\"]}");
    free(b);
    b = cs_body_get_page(7, 0, 0, &len);
    CHECK_STR(b, "{\"limit\":7,\"offset\":0,\"include\":[]}");
    free(b);
}

static void test_page_size(void)
{
    /* 4 MiB per answer: 40 KiB records -> about 100 */
    CHECK_INT(cs_next_page(100, 100 * 40960, 100, 4 << 20, 1, 2000), 102);
    /* small records: grows, at most 4x at a time, capped */
    CHECK_INT(cs_next_page(100, 100 * 50, 100, 4 << 20, 1, 2000), 400);
    CHECK_INT(cs_next_page(1600, 1600 * 50, 1600, 4 << 20, 1, 2000), 2000);
    /* huge records: at least lo */
    CHECK_INT(cs_next_page(100, (size_t)100 * (64 << 20), 100, 4 << 20, 1, 2000), 1);
    CHECK_INT(cs_next_page(50, 0, 0, 4 << 20, 1, 2000), 50);
}

static void test_collections(void)
{
    cm_err e = {0};
    char *notes = NULL;
    cm_collection c;
    /* 0.3.29 */
    jv *v = parse("{\"name\":\"rig_cosine\",\"id\":\"67b24618-6286-4867-9662-cb53da217609\",\"metadata\":"
                  "{\"hnsw:space\":\"cosine\",\"owner\":\"rig\",\"n\":3,\"ratio\":0.25,\"big\":9007199254740993}}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK_STR(c.name, "rig_cosine");
    CHECK_STR(c.id, "67b24618-6286-4867-9662-cb53da217609");
    CHECK_INT(c.count_hint, -1);
    CHECK(c.has_meta && c.meta.n == 5);
    CHECK(cm_meta_find(&c.meta, "n")->type == CM_M_INT && cm_meta_find(&c.meta, "n")->i == 3);
    CHECK(cm_meta_find(&c.meta, "ratio")->type == CM_M_FLOAT && cm_meta_find(&c.meta, "ratio")->f == 0.25);
    CHECK(cm_meta_find(&c.meta, "big")->type == CM_M_INT); /* fits int64 */
    CHECK(notes == NULL);
    cm_collection_free(&c);
    jv_free(v);
    /* null and {} metadata: none */
    v = parse("{\"name\":\"rig_nometa\",\"id\":\"eb230ee0-8c6b-472f-87e4-37d4bad2eb15\",\"metadata\":null}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK(!c.has_meta);
    cm_collection_free(&c);
    jv_free(v);
    v = parse("{\"name\":\"x\",\"id\":\"i\",\"metadata\":{}}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK(!c.has_meta);
    cm_collection_free(&c);
    jv_free(v);

    /* Python 0.5.23: l2 in the configuration while the metadata says cosine is normal */
    v = parse("{\"id\":\"c945\",\"name\":\"mig_cosine\",\"configuration_json\":{\"hnsw_configuration\":{\"space\":"
              "\"l2\",\"ef_construction\":100,\"ef_search\":10,\"num_threads\":2,\"M\":16,\"resize_factor\":1.2,"
              "\"batch_size\":100,\"sync_threshold\":1000,\"_type\":\"HNSWConfigurationInternal\"},\"_type\":"
              "\"CollectionConfigurationInternal\"},\"metadata\":{\"hnsw:space\":\"cosine\"},\"dimension\":null,"
              "\"tenant\":\"default_tenant\",\"database\":\"default_database\",\"version\":0,\"log_position\":0}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK_INT(c.meta.n, 1);
    CHECK_STR(cm_meta_find(&c.meta, "hnsw:space")->s, "cosine");
    CHECK(notes == NULL);
    cm_collection_free(&c);
    jv_free(v);
    /* Python: ip in the configuration, cosine in the metadata: noted, metadata kept */
    v = parse("{\"id\":\"72cd\",\"name\":\"mig_both\",\"configuration_json\":{\"hnsw_configuration\":{\"space\":"
              "\"ip\"}},\"metadata\":{\"hnsw:space\":\"cosine\",\"owner\":\"x\"}}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK_STR(cm_meta_find(&c.meta, "hnsw:space")->s, "cosine");
    CHECK(notes && strstr(notes, "mig_both") && strstr(notes, "'ip'") && strstr(notes, "metadata is carried over"));
    free(notes);
    notes = NULL;
    cm_collection_free(&c);
    jv_free(v);

    /* Rust: configuration is what the server uses */
    v = parse("{\"id\":\"332e\",\"name\":\"mig_config\",\"configuration_json\":{\"hnsw\":{\"space\":\"ip\","
              "\"ef_construction\":100,\"ef_search\":100,\"max_neighbors\":32,\"resize_factor\":1.2,"
              "\"sync_threshold\":1000},\"spann\":null,\"embedding_function\":null},\"metadata\":null,"
              "\"dimension\":null}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK(c.has_meta && c.meta.n == 2); /* defaults are not added */
    CHECK_STR(cm_meta_find(&c.meta, "hnsw:space")->s, "ip");
    CHECK(cm_meta_find(&c.meta, "hnsw:M")->type == CM_M_INT && cm_meta_find(&c.meta, "hnsw:M")->i == 32);
    CHECK(notes == NULL);
    cm_collection_free(&c);
    jv_free(v);
    /* Rust: the metadata agrees (same value, int vs float alike) */
    v = parse("{\"id\":\"32f4\",\"name\":\"mig_cosine\",\"configuration_json\":{\"hnsw\":{\"space\":\"cosine\","
              "\"ef_construction\":100,\"ef_search\":100,\"max_neighbors\":16,\"resize_factor\":2.0,"
              "\"sync_threshold\":1000}},\"metadata\":{\"hnsw:space\":\"cosine\",\"hnsw:resize_factor\":2,"
              "\"hnsw:batch_size\":50}}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK_INT(c.meta.n, 3);
    CHECK(cm_meta_find(&c.meta, "hnsw:resize_factor")->type == CM_M_INT);
    CHECK(notes == NULL);
    cm_collection_free(&c);
    jv_free(v);
    /* Rust: the metadata disagrees: the configuration wins, noted */
    v = parse("{\"id\":\"f911\",\"name\":\"mig_both\",\"configuration_json\":{\"hnsw\":{\"space\":\"ip\","
              "\"ef_search\":100}},\"metadata\":{\"hnsw:space\":\"cosine\",\"owner\":\"x\",\"hnsw:search_ef\":20}}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK_STR(cm_meta_find(&c.meta, "hnsw:space")->s, "ip");
    CHECK_INT(cm_meta_find(&c.meta, "hnsw:search_ef")->i, 100);
    CHECK_STR(c.meta.v[1].key, "owner"); /* order kept */
    CHECK(notes && strstr(notes, "hnsw:space \"cosine\"") && strstr(notes, "hnsw:search_ef 20"));
    free(notes);
    notes = NULL;
    cm_collection_free(&c);
    jv_free(v);
    /* spann: only the space */
    v = parse("{\"id\":\"s1\",\"name\":\"sp\",\"configuration_json\":{\"hnsw\":null,\"spann\":{\"space\":\"cosine\","
              "\"search_nprobe\":64}},\"metadata\":null}");
    CHECK_INT(cs_collection_from_json(v, &c, &notes, &e), 0);
    CHECK(c.has_meta && c.meta.n == 1);
    CHECK_STR(cm_meta_find(&c.meta, "hnsw:space")->s, "cosine");
    CHECK(notes && strstr(notes, "SPANN"));
    free(notes);
    notes = NULL;
    cm_collection_free(&c);
    jv_free(v);

    const char *bad[] = {"[]", "{\"id\":\"x\"}", "{\"name\":\"\",\"id\":\"x\"}", "{\"name\":\"n\"}",
                         "{\"name\":\"n\",\"id\":\"x\",\"metadata\":[1]}", "{\"name\":\"n\",\"id\":7}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = parse(bad[i]);
        CHECK_MSG(cs_collection_from_json(v, &c, &notes, &e) == -1, "%s", bad[i]);
        jv_free(v);
    }
}

static void test_get_answers(void)
{
    cm_err e = {0};
    cs_batch b = {0};
    char *why = NULL;
    /* 0.3.29's answer for rig_cosine */
    jv *v = parse("{\"ids\":[\"a1\",\"a2\",\"a3\",\"a4\",\"a6\"],\"embeddings\":[[-0.13,-0.02,0.09,0.2,0.31,0.42,"
                  "-0.47,-0.36],[1.0,0.0,-2.0,0.1,1e-07,-0.0,3.5,123456.789],[-0.39,-0.28,-0.17,-0.06,0.05,0.16,0.27,"
                  "0.38],[-0.02,0.09,0.2,0.31,0.42,-0.47,-0.36,-0.25],[0.1,0.2]],\"documents\":[\"first document\","
                  "\"second: unicode \xc3\xa9\xe2\x98\x83 \\\"quoted\\\"\\ttab\\nnewline\",\"third document, no "
                  "metadata\",null,null],\"metadatas\":[{\"s\":\"str\",\"i\":42,\"f\":3.14,\"b\":true},{\"s\":"
                  "\"x'y\\\"z\",\"i\":-7,\"f\":1e-07,\"b\":false,\"big\":9007199254740993},null,{\"kind\":"
                  "\"no-document\",\"n\":4},null]}");
    CHECK_INT(cs_batch_from_get(v, &b, &why, &e), 0);
    CHECK_INT(b.n, 5);
    CHECK_STR(b.r[0].id, "a1");
    CHECK_INT(b.r[0].dim, 8);
    CHECK(b.r[0].emb[0] == -0.13);
    CHECK(b.r[1].emb[5] == 0.0 && signbit(b.r[1].emb[5]));
    CHECK(b.r[1].emb[4] == 1e-07);
    CHECK_INT(b.r[4].dim, 2);
    CHECK(b.r[1].doc && strstr(b.r[1].doc, "\"quoted\"\ttab\nnewline"));
    CHECK(!b.r[3].doc && !b.r[4].doc);
    CHECK(b.r[0].has_meta && b.r[0].meta.n == 4);
    CHECK(cm_meta_find(&b.r[0].meta, "i")->type == CM_M_INT);
    CHECK(cm_meta_find(&b.r[0].meta, "f")->type == CM_M_FLOAT);
    CHECK(cm_meta_find(&b.r[0].meta, "b")->type == CM_M_BOOL && cm_meta_find(&b.r[0].meta, "b")->b == 1);
    CHECK_STR(cm_meta_find(&b.r[1].meta, "s")->s, "x'y\"z");
    CHECK(cm_meta_find(&b.r[1].meta, "big")->i == 9007199254740993LL);
    CHECK(!b.r[2].has_meta && !b.r[4].has_meta);
    jv_free(v);
    cs_batch_reset(&b);

    /* floats that are integral stay floats, ints stay ints, big ints, nested values, null elements */
    v = parse("{\"ids\":[\"m\"],\"embeddings\":[[1,2.5,null,99999999999999999999]],\"documents\":[\"\"],"
              "\"metadatas\":[{\"f\":1.0,\"i\":1,\"h\":123456789012345678901234,\"n\":null,\"o\":{\"a\":[1]}}],"
              "\"uris\":null,\"included\":[\"embeddings\",\"documents\",\"metadatas\"]}");
    CHECK_INT(cs_batch_from_get(v, &b, &why, &e), 0);
    CHECK(b.r[0].emb[0] == 1.0 && b.r[0].emb[1] == 2.5 && isnan(b.r[0].emb[2]) && b.r[0].emb_has_null);
    CHECK(b.r[0].emb[3] == 1e20);
    CHECK(b.r[0].doc && b.r[0].doc_len == 0); /* "" is a document */
    CHECK(cm_meta_find(&b.r[0].meta, "f")->type == CM_M_FLOAT);
    CHECK(cm_meta_find(&b.r[0].meta, "i")->type == CM_M_INT);
    CHECK(cm_meta_find(&b.r[0].meta, "h")->type == CM_M_BIGINT);
    CHECK(cm_meta_find(&b.r[0].meta, "n")->type == CM_M_NULL);
    CHECK(cm_meta_find(&b.r[0].meta, "o")->type == CM_M_NESTED);
    CHECK_STR(cm_meta_find(&b.r[0].meta, "o")->s, "{\"a\":[1]}");
    jv_free(v);
    cs_batch_reset(&b);

    /* base64 little-endian float32 embeddings: 1.0, -2.0 */
    v = parse("{\"ids\":[\"b\"],\"embeddings\":[\"AACAPwAAAMA=\"],\"documents\":null,\"metadatas\":null}");
    CHECK_INT(cs_batch_from_get(v, &b, &why, &e), 0);
    CHECK(b.r[0].dim == 2 && b.r[0].emb[0] == 1.0 && b.r[0].emb[1] == -2.0);
    jv_free(v);
    cs_batch_reset(&b);

    /* Python 0.5: a record stored without an embedding shortens the list */
    v = parse("{\"ids\":[\"r2\",\"n1\",\"r3\"],\"embeddings\":[[0.9,0.1,0.0],[0.0,1.0,0.5]],\"documents\":"
              "[null,\"no embedding given\",null],\"metadatas\":[null,null,null]}");
    CHECK_INT(cs_batch_from_get(v, &b, &why, &e), 1);
    CHECK(why && strstr(why, "3 ids but 2 embeddings"));
    CHECK_INT(b.n, 0); /* nothing taken */
    free(why);
    why = NULL;
    jv_free(v);
    /* ... and asked for alone, it is a record without an embedding */
    v = parse("{\"ids\":[\"n1\"],\"embeddings\":[],\"documents\":[\"no embedding given\"],\"metadatas\":[null]}");
    CHECK_INT(cs_batch_from_get(v, &b, &why, &e), 0);
    CHECK(b.n == 1 && !b.r[0].emb && b.r[0].doc && why == NULL);
    jv_free(v);
    cs_batch_reset(&b);
    /* empty answers */
    v = parse("{\"ids\":[],\"embeddings\":[],\"documents\":[],\"metadatas\":[]}");
    CHECK_INT(cs_batch_from_get(v, &b, &why, &e), 0);
    CHECK_INT(b.n, 0);
    jv_free(v);
    v = parse("{\"ids\":[],\"embeddings\":null,\"documents\":[],\"metadatas\":[]}");
    CHECK_INT(cs_batch_from_get(v, &b, &why, &e), 0);
    jv_free(v);

    const char *bad[] = {"[]",
                         "{\"error\":\"x\"}",
                         "{\"ids\":[1]}",
                         "{\"ids\":[\"a\"],\"embeddings\":[[\"x\"]]}",
                         "{\"ids\":[\"a\"],\"embeddings\":[7]}",
                         "{\"ids\":[\"a\"],\"documents\":[5]}",
                         "{\"ids\":[\"a\"],\"metadatas\":[[1]]}",
                         "{\"ids\":[\"a\"],\"metadatas\":{}}",
                         "{\"ids\":[\"a\"],\"embeddings\":[\"AAA\"]}",
                         "{\"ids\":[\"a\"],\"embeddings\":[\"AA*A\"]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = parse(bad[i]);
        CHECK_MSG(cs_batch_from_get(v, &b, &why, &e) == -1, "%s", bad[i]);
        cs_batch_reset(&b);
        jv_free(v);
    }
    cs_batch_free(&b);
}

static void test_idlist(void)
{
    cs_idlist l;
    cs_idlist_init(&l);
    jv *v = parse("[\"a\",\"b\",\"a\",null,\"c\",\"a\",\"\"]");
    cm_err e = {0};
    CHECK_INT(cs_idlist_from_json(&l, v, &e), 0);
    jv_free(v);
    CHECK_INT(l.n, 7);
    uint32_t occ[] = {0, 0, 1, 0, 0, 2, 0};
    for (size_t i = 0; i < 7; i++)
        CHECK_INT(l.occ[i], occ[i]);
    CHECK(l.len[3] == CS_NULL_ID && cs_idlist_get(&l, 3).s == NULL);
    CHECK(cs_idlist_get(&l, 6).s && cs_idlist_get(&l, 6).len == 0);
    CHECK_INT(strmap_get(l.m, "a", 1)->count, 3);
    cs_str *ids;
    size_t n = cs_ids_to_fetch(&l, 0, 7, NULL, &ids);
    CHECK_INT(n, 4); /* a b c "" */
    CHECK(n == 4 && ids[2].len == 1 && ids[2].s[0] == 'c');
    free(ids);
    n = cs_ids_to_fetch(&l, 2, 6, NULL, &ids); /* a(again) null c a(again) */
    CHECK(n == 1 && ids[0].s[0] == 'c');
    free(ids);
    cs_idlist_free(&l);

    /* the fingerprint sees order and boundaries */
    cs_idlist x, y;
    cs_idlist_init(&x);
    cs_idlist_init(&y);
    cs_idlist_add(&x, "ab", 2);
    cs_idlist_add(&x, "c", 1);
    cs_idlist_add(&y, "a", 1);
    cs_idlist_add(&y, "bc", 2);
    CHECK(x.fp != y.fp);
    cs_idlist_free(&y);
    cs_idlist_init(&y);
    cs_idlist_add(&y, "ab", 2);
    cs_idlist_add(&y, "c", 1);
    CHECK(x.fp == y.fp);
    cs_idlist_free(&x);
    cs_idlist_free(&y);
}

/* A fake server: ids listed in bad make any request containing them fail. */
typedef struct fake {
    const char *const *bad;
    size_t nbad;
    int calls;
    int all_fail;
    int kind; /* what failing requests return: 1 row-level, 2 other */
} fake;

static int fake_fetch(void *ctx, const cs_str *ids, size_t n, cs_batch *out, char **why, cm_err *err)
{
    fake *f = ctx;
    (void)err;
    f->calls++;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < f->nbad; k++)
            if (f->all_fail || (ids[i].len == strlen(f->bad[k]) && memcmp(ids[i].s, f->bad[k], ids[i].len) == 0)) {
                *why = xstrdup("500 Internal Server Error: ValueError: Out of range float values are not JSON "
                               "compliant");
                return f->kind;
            }
    for (size_t i = n; i-- > 0;) { /* storage order: reversed */
        out->r = xgrow(out->r, &out->cap, out->n + 1, sizeof *out->r);
        cm_record *r = &out->r[out->n++];
        memset(r, 0, sizeof *r);
        r->id = xmemdup0(ids[i].s, ids[i].len);
        r->id_len = ids[i].len;
        r->emb = xmalloc(sizeof(double));
        r->emb[0] = 1;
        r->dim = 1;
    }
    return 0;
}

static void test_narrow(void)
{
    char names[100][8];
    cs_str ids[100];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "r%d", i);
        ids[i].s = names[i];
        ids[i].len = strlen(names[i]);
    }
    const char *const bad[] = {"r7", "r50", "r51", "r99"};
    fake f = {bad, 4, 0, 0, 1};
    cs_batch out = {0};
    cs_badset bs;
    cs_badset_init(&bs);
    cm_err e = {0};
    CHECK_INT(cs_fetch_narrow(fake_fetch, &f, ids, 100, 0, NULL, &out, &bs, &e), 0);
    CHECK_INT(out.n, 96);
    CHECK_INT(bs.n, 4);
    CHECK(cs_badset_has(&bs, "r7", 2) && cs_badset_has(&bs, "r50", 3) && cs_badset_has(&bs, "r51", 3) &&
          cs_badset_has(&bs, "r99", 3));
    CHECK(!cs_badset_has(&bs, "r8", 2));
    CHECK(strstr(bs.why[0], "JSON compliant") != NULL);
    CHECK_MSG(f.calls < 60, "%d requests", f.calls);
    /* each good id came exactly once */
    int seen[100] = {0};
    for (size_t i = 0; i < out.n; i++)
        seen[atoi(out.r[i].id + 1)]++;
    int once = 1;
    for (int i = 0; i < 100; i++)
        once &= seen[i] == (strcmp(names[i], "r7") && strcmp(names[i], "r50") && strcmp(names[i], "r51") &&
                                    strcmp(names[i], "r99")
                                ? 1
                                : 0);
    CHECK(once);
    cs_batch_free(&out);
    cs_badset_free(&bs);

    /* known to have failed already: the first request is not repeated */
    f.calls = 0;
    cs_badset_init(&bs);
    CHECK_INT(cs_fetch_narrow(fake_fetch, &f, ids, 1, 1, "given", &out, &bs, &e), 0);
    CHECK_INT(f.calls, 0);
    CHECK(bs.n == 1 && strcmp(bs.why[0], "given") == 0);
    cs_batch_free(&out);
    cs_badset_free(&bs);

    /* every row NaN: all reported, never a give-up */
    fake all = {bad, 1, 0, 1, 1};
    cs_badset_init(&bs);
    CHECK_INT(cs_fetch_narrow(fake_fetch, &all, ids, 40, 0, NULL, &out, &bs, &e), 0);
    CHECK_INT(bs.n, 40);
    cs_batch_free(&out);
    cs_badset_free(&bs);
    /* a server failing everything for another reason: give up, say so */
    fake broken = {bad, 1, 0, 1, 2};
    cs_badset_init(&bs);
    CHECK_INT(cs_fetch_narrow(fake_fetch, &broken, ids, 100, 0, NULL, &out, &bs, &e), -1);
    CHECK(strstr(e.msg, "fails every request") != NULL);
    CHECK_MSG(broken.calls < 40, "%d requests", broken.calls);
    cs_batch_free(&out);
    cs_badset_free(&bs);
}

static void add_rec(cs_batch *b, const char *id, const char *doc)
{
    b->r = xgrow(b->r, &b->cap, b->n + 1, sizeof *b->r);
    cm_record *r = &b->r[b->n++];
    memset(r, 0, sizeof *r);
    r->id = xstrdup(id);
    r->id_len = strlen(id);
    r->doc = xstrdup(doc);
    r->doc_len = strlen(doc);
}

static void test_assemble(void)
{
    /* 0.3.x: ids listed a b a c b d x(null) e; e cannot be sent. Chunks
     * [0,3) and [3,8). get by ids returns every row with the id. */
    cs_idlist l;
    cs_idlist_init(&l);
    const char *list[] = {"a", "b", "a", "c", "b", "d", NULL, "e"};
    for (size_t i = 0; i < 8; i++)
        cs_idlist_add(&l, list[i], list[i] ? strlen(list[i]) : 0);
    cs_badset bad;
    cs_badset_init(&bad);
    cs_stash st;
    cs_stash_init(&st);
    cs_batch got = {0}, out = {0};
    cm_err e = {0};
    cs_str *ask;
    size_t n = cs_ids_to_fetch(&l, 0, 3, &bad, &ask);
    CHECK(n == 2 && ask[0].s[0] == 'a' && ask[1].s[0] == 'b');
    free(ask);
    add_rec(&got, "b", "b-first");
    add_rec(&got, "a", "a-first");
    add_rec(&got, "a", "a-second");
    add_rec(&got, "b", "b-second");
    CHECK_INT(cs_assemble(&l, 0, 3, &got, &bad, &st, 0, &out, &e), 0);
    CHECK_INT(got.n, 0);
    CHECK_INT(out.n, 3);
    CHECK(out.n == 3 && strcmp(out.r[0].doc, "a-first") == 0 && strcmp(out.r[1].doc, "b-first") == 0 &&
          strcmp(out.r[2].doc, "a-second") == 0);
    CHECK(out.n == 3 && out.r[2].src_row == 2);
    cs_batch_reset(&out);
    cs_badset_add(&bad, "e", 1, "500: not JSON compliant");
    n = cs_ids_to_fetch(&l, 3, 8, &bad, &ask);
    CHECK(n == 2 && ask[0].s[0] == 'c' && ask[1].s[0] == 'd');
    free(ask);
    add_rec(&got, "d", "d");
    add_rec(&got, "c", "c");
    CHECK_INT(cs_assemble(&l, 3, 8, &got, &bad, &st, 100, &out, &e), 0);
    CHECK_INT(out.n, 5);
    if (out.n == 5) {
        CHECK_STR(out.r[0].doc, "c");
        CHECK_STR(out.r[1].doc, "b-second"); /* the stashed second row */
        CHECK_STR(out.r[2].doc, "d");
        CHECK(out.r[3].id == NULL && out.r[3].emb == NULL && out.r[3].src_row == 106); /* null id */
        CHECK(strcmp(out.r[4].id, "e") == 0 && out.r[4].emb == NULL && !out.r[4].doc); /* cannot be sent */
    }
    cs_batch_reset(&out);

    /* the server sends fewer rows than it listed: the collection changed */
    cs_idlist l2;
    cs_idlist_init(&l2);
    cs_idlist_add(&l2, "a", 1);
    cs_idlist_add(&l2, "a", 1);
    add_rec(&got, "a", "only one");
    CHECK_INT(cs_assemble(&l2, 0, 2, &got, NULL, &st, 0, &out, &e), -1);
    CHECK(strstr(e.msg, "listed this id 2 times but sent 1 record") != NULL);
    cs_batch_reset(&out);
    /* or one it was not asked for */
    cs_idlist_free(&l2);
    cs_idlist_init(&l2);
    cs_idlist_add(&l2, "a", 1);
    add_rec(&got, "a", "a");
    add_rec(&got, "zz", "zz");
    CHECK_INT(cs_assemble(&l2, 0, 1, &got, NULL, &st, 0, &out, &e), -1);
    CHECK(strstr(e.msg, "not asked for") != NULL);
    cs_batch_free(&out);
    cs_batch_free(&got);
    cs_idlist_free(&l2);
    cs_idlist_free(&l);
    cs_stash_free(&st);
    cs_badset_free(&bad);
}

/* 0.3.x ids the server does not find by id (its repr()-quoted query): which
 * are looked for in the sorted collection, which rows of a sorted page are
 * taken, and rows of ids not asked for (ClickHouse found another id) dropped. */
static void test_unfound(void)
{
    size_t len;
    char *body = cs_body_get_sorted(50, 100, 1, &len);
    CHECK_STR(body, "{\"sort\":\"uuid\",\"limit\":50,\"offset\":100,\"include\":[\"embeddings\",\"documents\","
                    "\"metadatas\"]}");
    free(body);
    body = cs_body_get_sorted(-1, 0, 0, &len);
    CHECK_STR(body, "{\"include\":[]}");
    free(body);
    /* listed: p zw q zw bad; by id came p and "zwu200b" (another id) only */
    cs_idlist l;
    cs_idlist_init(&l);
    const char *list[] = {"p", "zw\xe2\x80\x8b", "q", "zw\xe2\x80\x8b", "bad", "later"};
    for (size_t i = 0; i < 6; i++)
        cs_idlist_add(&l, list[i], strlen(list[i]));
    cs_badset bad;
    cs_badset_init(&bad);
    cs_badset_add(&bad, "bad", 3, "500");
    cs_batch got = {0}, page = {0};
    add_rec(&got, "p", "p");
    add_rec(&got, "zwu200b", "another id");
    strmap *want = strmap_new();
    int dups = -1;
    CHECK_INT(cs_missing_ids(&l, 0, 5, &got, &bad, want, &dups), 3); /* zw twice, q once */
    CHECK_INT(dups, 1);
    CHECK_INT(strmap_size(want), 2);
    /* a sorted page: later (not wanted), zw, q, p (already came) */
    add_rec(&page, "later", "later");
    add_rec(&page, "zw\xe2\x80\x8b", "zw-1");
    add_rec(&page, "q", "q");
    add_rec(&page, "p", "p-again");
    CHECK_INT(cs_take_wanted(&page, want, &got), 2);
    CHECK_INT(page.n, 0);
    add_rec(&page, "zw\xe2\x80\x8b", "zw-2");
    add_rec(&page, "zw\xe2\x80\x8b", "zw-3 (more than listed)");
    CHECK_INT(cs_take_wanted(&page, want, &got), 1);
    CHECK_INT(got.n, 5);
    cs_keep_asked(&got, &l, 0, 5, &bad);
    CHECK_INT(got.n, 4); /* "zwu200b" dropped */
    CHECK(got.n == 4 && strcmp(got.r[0].id, "p") == 0 && strcmp(got.r[1].doc, "zw-1") == 0 &&
          strcmp(got.r[3].doc, "zw-2") == 0);
    /* assembled: placeholders for bad ids are marked unsent */
    cs_stash st;
    cs_stash_init(&st);
    cs_batch out = {0};
    cm_err e = {0};
    CHECK_INT(cs_assemble(&l, 0, 5, &got, &bad, &st, 0, &out, &e), 0);
    CHECK(out.n == 5 && strcmp(out.r[3].doc, "zw-2") == 0 && out.r[4].unsent && !out.r[4].emb && !out.r[0].unsent);
    strmap_free(want);
    cs_batch_free(&out);
    cs_batch_free(&got);
    cs_batch_free(&page);
    cs_stash_free(&st);
    cs_badset_free(&bad);
    cs_idlist_free(&l);
}

int main(void)
{
    test_version();
    test_paths();
    test_base64();
    test_bodies();
    test_page_size();
    test_collections();
    test_get_answers();
    test_idlist();
    test_narrow();
    test_assemble();
    test_unfound();
    return check_done("test_chroma_server");
}
