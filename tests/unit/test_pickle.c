/* test_pickle.c - the PersistentData writer and the safe reader
 * (src/format/pickle.c). */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "chroma/persistent_data.h"
#include "format/pickle.h"

static char tmpdir[256];

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *b = malloc(cap);
    size_t k;
    while ((k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    *len = n;
    return b;
}

/* ---- expected bytes, assembled independently of the writer ---- */

typedef struct buf {
    unsigned char b[4096];
    size_t n;
} buf;

static void b_raw(buf *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void b_byte(buf *b, int c)
{
    b->b[b->n++] = (unsigned char)c;
}
static void b_str(buf *b, const char *s)
{
    size_t n = strlen(s);
    b_byte(b, 'X');
    b_byte(b, (int)(n & 0xff));
    b_byte(b, (int)((n >> 8) & 0xff));
    b_byte(b, 0);
    b_byte(b, 0);
    b_raw(b, s, n);
}

static void test_writer_bytes(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.pickle", tmpdir);
    cm_err err = {0};
    pdata_writer *w = pdata_begin(path, &err);
    CHECK_MSG(w != NULL, "%s", err.msg);
    if (!w)
        return;
    CHECK_INT(pdata_add(w, "a", 1, 1, 5), 0);
    CHECK_INT(pdata_add(w, "b\xc3\xa9", 3, 2, 70000), 0);
    CHECK_INT(pdata_add(w, "c", 1, 300, 65535), 0);
    CHECK_INT(pdata_finish(w, 3, 300, 1, (int64_t)1 << 40, &err), 0);

    buf e = {{0}, 0};
    b_byte(&e, 0x80);
    b_byte(&e, 2);
    b_byte(&e, 'c');
    b_raw(&e, "chromadb.segment.impl.vector.local_persistent_hnsw\nPersistentData\n", 66);
    b_raw(&e, "\x29\x81\x7d\x28", 4);
    b_str(&e, "dimensionality");
    b_raw(&e, "K\x03", 2);
    b_str(&e, "total_elements_added");
    b_raw(&e, "M\x2c\x01", 3);
    b_str(&e, "max_seq_id");
    b_raw(&e, "\x8a\x06\x00\x00\x00\x00\x00\x01", 8);
    b_str(&e, "id_to_label");
    b_raw(&e, "}(", 2);
    b_str(&e, "a");
    b_raw(&e, "K\x01", 2);
    b_str(&e, "b\xc3\xa9");
    b_raw(&e, "K\x02", 2);
    b_str(&e, "c");
    b_raw(&e, "M\x2c\x01", 3);
    b_byte(&e, 'u');
    b_str(&e, "label_to_id");
    b_raw(&e, "}(", 2);
    b_raw(&e, "K\x01", 2);
    b_str(&e, "a");
    b_raw(&e, "K\x02", 2);
    b_str(&e, "b\xc3\xa9");
    b_raw(&e, "M\x2c\x01", 3);
    b_str(&e, "c");
    b_byte(&e, 'u');
    b_str(&e, "id_to_seq_id");
    b_raw(&e, "}(", 2);
    b_str(&e, "a");
    b_raw(&e, "K\x05", 2);
    b_str(&e, "b\xc3\xa9");
    b_raw(&e, "J\x70\x11\x01\x00", 5);
    b_str(&e, "c");
    b_raw(&e, "M\xff\xff", 3);
    b_byte(&e, 'u');
    b_raw(&e, "ub.", 3);

    size_t n = 0;
    unsigned char *got = read_all(path, &n);
    CHECK(got != NULL);
    CHECK_INT(n, e.n);
    if (got) {
        size_t i = 0;
        while (i < n && i < e.n && got[i] == e.b[i])
            i++;
        CHECK_MSG(i == n && n == e.n, "first difference at byte %zu", i);
    }
    free(got);

    /* no entries, no max_seq_id: empty maps are a bare EMPTY_DICT */
    snprintf(path, sizeof path, "%s/empty.pickle", tmpdir);
    w = pdata_begin(path, &err);
    CHECK(w != NULL);
    CHECK_INT(pdata_finish(w, 0, 0, 0, 0, &err), 0);
    buf z = {{0}, 0};
    b_raw(&z, "\x80\x02" "c", 3);
    b_raw(&z, "chromadb.segment.impl.vector.local_persistent_hnsw\nPersistentData\n", 66);
    b_raw(&z, "\x29\x81\x7d\x28", 4);
    b_str(&z, "dimensionality");
    b_raw(&z, "K\x00", 2);
    b_str(&z, "total_elements_added");
    b_raw(&z, "K\x00", 2);
    b_str(&z, "id_to_label");
    b_byte(&z, '}');
    b_str(&z, "label_to_id");
    b_byte(&z, '}');
    b_str(&z, "id_to_seq_id");
    b_byte(&z, '}');
    b_raw(&z, "ub.", 3);
    got = read_all(path, &n);
    CHECK(got && n == z.n && memcmp(got, z.b, n) == 0);
    free(got);

    /* ints across the encodings: J for i32, LONG1 beyond */
    snprintf(path, sizeof path, "%s/ints.pickle", tmpdir);
    w = pdata_begin(path, &err);
    CHECK(w != NULL);
    CHECK_INT(pdata_add(w, "x", 1, 65536, 0x7fffffffu), 0);
    CHECK_INT(pdata_add(w, "y", 1, 0x80000000u, 0xffffffffu), 0);
    CHECK_INT(pdata_finish(w, 1536, 0xffffffffu, 1, 0, &err), 0);
    got = read_all(path, &n);
    CHECK(got != NULL);
    if (got) {
        /* LONG1 for 2^32-1 is 5 bytes: ff ff ff ff 00 */
        static const unsigned char l_u32max[] = {0x8a, 5, 0xff, 0xff, 0xff, 0xff, 0x00};
        static const unsigned char l_2p31[] = {0x8a, 5, 0x00, 0x00, 0x00, 0x80, 0x00};
        static const unsigned char j_i32max[] = {'J', 0xff, 0xff, 0xff, 0x7f};
        static const unsigned char j_65536[] = {'J', 0x00, 0x00, 0x01, 0x00};
        int found[4] = {0};
        for (size_t i = 0; i + 7 <= n; i++) {
            found[0] |= memcmp(got + i, l_u32max, 7) == 0;
            found[1] |= memcmp(got + i, l_2p31, 7) == 0;
        }
        for (size_t i = 0; i + 5 <= n; i++) {
            found[2] |= memcmp(got + i, j_i32max, 5) == 0;
            found[3] |= memcmp(got + i, j_65536, 5) == 0;
        }
        CHECK(found[0] && found[1] && found[2] && found[3]);
        pk_value *v = pk_load(got, n, &err);
        CHECK_MSG(v != NULL, "%s", err.msg);
        if (v && v->type == PK_OBJECT) {
            const pk_value *st = v->u.obj.state;
            int64_t x = 0;
            CHECK(pk_get_int64(pk_dict_get(st, "total_elements_added"), &x) && x == 0xffffffffLL);
            CHECK(pk_get_int64(pk_dict_get(st, "dimensionality"), &x) && x == 1536);
            const pk_value *seq = pk_dict_get(st, "id_to_seq_id");
            CHECK(seq && seq->u.dict.n == 2);
            if (seq && seq->u.dict.n == 2) {
                CHECK(pk_get_int64(seq->u.dict.pairs[0].value, &x) && x == 0x7fffffffLL);
                CHECK(pk_get_int64(seq->u.dict.pairs[1].value, &x) && x == 0xffffffffLL);
            }
            const pk_value *l2i = pk_dict_get(st, "label_to_id");
            CHECK(l2i && l2i->u.dict.n == 2 && pk_get_int64(l2i->u.dict.pairs[1].key, &x) && x == 0x80000000LL);
        }
        pk_free(v);
    }
    free(got);
}

static void test_writer_errors(void)
{
    cm_err err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/no/such/dir/x.pickle", tmpdir);
    CHECK(pdata_begin(path, &err) == NULL);
    CHECK(strstr(err.msg, path) != NULL);

    snprintf(path, sizeof path, "%s/bad.pickle", tmpdir);
    pdata_writer *w = pdata_begin(path, &err);
    CHECK(w != NULL);
    CHECK_INT(pdata_add(w, "\xff", 1, 1, 1), -1);          /* invalid UTF-8 */
    CHECK_INT(pdata_add(w, "\xed\xa0\x80", 3, 1, 1), -1);  /* surrogate */
    CHECK_INT(pdata_add(w, "ok", 2, 7, 1), 0);
    cm_err_clear(&err);
    CHECK_INT(pdata_finish(w, 3, 6, 0, 0, &err), -1); /* 6 < largest label 7 */
    CHECK(strstr(err.msg, "largest label") != NULL);
    CHECK(access(path, F_OK) != 0); /* a failed finish leaves no file */

    w = pdata_begin(path, &err);
    CHECK(w != NULL);
    CHECK_INT(pdata_add(w, "ok", 2, 1, 1), 0);
    pdata_abort(w);
    CHECK(access(path, F_OK) != 0);
    pdata_abort(NULL);
    CHECK_INT(pdata_add(NULL, "a", 1, 1, 1), -1);
}

/* A big map: 3000 entries (3 SETITEMS batches), unicode ids, labels beyond
 * 65535, read back with our own reader. */
static void test_writer_large(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/large.pickle", tmpdir);
    cm_err err = {0};
    pdata_writer *w = pdata_begin(path, &err);
    CHECK(w != NULL);
    if (!w)
        return;
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        char id[64];
        int k = snprintf(id, sizeof id, "id-%d-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", i);
        CHECK_INT(pdata_add(w, id, (size_t)k, (uint32_t)(65000 + i), (uint32_t)i * 1000003u), 0);
    }
    CHECK_INT(pdata_finish(w, 384, 65000 + N - 1, 1, 123456789, &err), 0);

    size_t n = 0;
    unsigned char *data = read_all(path, &n);
    CHECK(data != NULL);
    int batches = 0;
    pk_value *v = data ? pk_load(data, n, &err) : NULL;
    CHECK_MSG(v != NULL, "%s", err.msg);
    if (v) {
        CHECK(v->type == PK_OBJECT && !v->u.obj.reduce);
        CHECK(pk_is_class(v, "chromadb.segment.impl.vector.local_persistent_hnsw", "PersistentData"));
        CHECK(!pk_is_class(v, "uuid", "UUID"));
        CHECK(v->u.obj.args && v->u.obj.args->type == PK_TUPLE && v->u.obj.args->u.seq.n == 0);
        const pk_value *st = v->u.obj.state;
        CHECK(st && st->type == PK_DICT && st->u.dict.n == 6);
        static const char *keys[] = {"dimensionality", "total_elements_added", "max_seq_id",
                                     "id_to_label",    "label_to_id",          "id_to_seq_id"};
        for (size_t i = 0; st && i < 6 && i < st->u.dict.n; i++) {
            const pk_value *k = st->u.dict.pairs[i].key;
            CHECK(k->type == PK_STR && strcmp(k->u.str.s, keys[i]) == 0);
        }
        int64_t x = 0;
        CHECK(pk_get_int64(pk_dict_get(st, "max_seq_id"), &x) && x == 123456789);
        CHECK(pk_get_int64(pk_dict_get(st, "total_elements_added"), &x) && x == 65000 + N - 1);
        const pk_value *i2l = pk_dict_get(st, "id_to_label"), *l2i = pk_dict_get(st, "label_to_id"),
                       *i2s = pk_dict_get(st, "id_to_seq_id");
        CHECK(i2l && l2i && i2s);
        if (i2l && l2i && i2s) {
            CHECK_INT(i2l->u.dict.n, N);
            CHECK_INT(l2i->u.dict.n, N);
            CHECK_INT(i2s->u.dict.n, N);
            int ok = 1;
            for (int i = 0; i < N && i2l->u.dict.n == N && l2i->u.dict.n == N && i2s->u.dict.n == N; i++) {
                char id[64];
                int k = snprintf(id, sizeof id, "id-%d-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", i);
                const pk_pair *a = &i2l->u.dict.pairs[i], *b = &l2i->u.dict.pairs[i], *c = &i2s->u.dict.pairs[i];
                int64_t la = -1, lb = -1, sq = -1;
                ok &= a->key->type == PK_STR && a->key->u.str.len == (size_t)k && memcmp(a->key->u.str.s, id, (size_t)k) == 0;
                ok &= pk_get_int64(a->value, &la) && la == 65000 + i;
                ok &= pk_get_int64(b->key, &lb) && lb == la;
                ok &= b->value->type == PK_STR && b->value->u.str.len == (size_t)k &&
                      memcmp(b->value->u.str.s, id, (size_t)k) == 0;
                ok &= c->key->type == PK_STR && memcmp(c->key->u.str.s, id, (size_t)k) == 0;
                ok &= pk_get_int64(c->value, &sq) && sq == (int64_t)((uint32_t)i * 1000003u);
            }
            CHECK(ok);
        }
        pk_free(v);
    }
    /* SETITEMS batching: 3 per map of 3000, plus the outer one */
    for (size_t i = 0; data && i < n; i++) {
        /* count SETITEMS opcodes: after a BININT/BINUNICODE value; cheap check:
         * 'u' bytes directly followed by 'X' (next key), '(' (next batch) or 'u'/'b'. */
        if (data[i] == 'u' && i + 1 < n && (data[i + 1] == 'X' || data[i + 1] == '(' || data[i + 1] == 'u' ||
                                            data[i + 1] == 'b'))
            batches++;
    }
    CHECK_MSG(batches >= 10, "found %d SETITEMS", batches);
    free(data);
}

/* ---- reader ---- */

static pk_value *load(const void *p, size_t n, cm_err *err)
{
    cm_err_clear(err);
    /* exact-size copy so ASan sees any overread */
    void *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    pk_value *v = pk_load(copy, n, err);
    free(copy);
    return v;
}

static void expect_reject(const char *what, const void *p, size_t n, const char *needle)
{
    cm_err err = {0};
    pk_value *v = load(p, n, &err);
    CHECK_MSG(v == NULL, "%s: should be rejected", what);
    CHECK_MSG(err.set && strstr(err.msg, needle), "%s: message '%s' lacks '%s'", what, err.msg, needle);
    pk_free(v);
}

static void test_reader_basics(void)
{
    cm_err err = {0};
    /* protocol 2: {'a': [1, -2, 70000, None, True, False, 1.5, b'xy', ('t',)], 'big': 2**64, 'neg': -2**63} */
    static const unsigned char p1[] =
        "\x80\x02}q\x00(X\x01\x00\x00\x00" "aq\x01]q\x02(K\x01J\xfe\xff\xff\xffJp\x11\x01\x00N\x88\x89"
        "G?\xf8\x00\x00\x00\x00\x00\x00" "C\x02xyX\x01\x00\x00\x00t\x85" "eX\x03\x00\x00\x00" "big\x8a\x09"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x01X\x03\x00\x00\x00neg\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80u.";
    pk_value *v = load(p1, sizeof p1 - 1, &err);
    CHECK_MSG(v != NULL, "%s", err.msg);
    if (v) {
        CHECK(v->type == PK_DICT && v->u.dict.n == 3);
        const pk_value *a = pk_dict_get(v, "a");
        CHECK(a && a->type == PK_LIST && a->u.seq.n == 9);
        if (a && a->u.seq.n == 9) {
            pk_value **it = a->u.seq.items;
            CHECK(it[0]->type == PK_INT && it[0]->u.i == 1);
            CHECK(it[1]->type == PK_INT && it[1]->u.i == -2);
            CHECK(it[2]->type == PK_INT && it[2]->u.i == 70000);
            CHECK(it[3]->type == PK_NONE);
            CHECK(it[4]->type == PK_BOOL && it[4]->u.b == 1);
            CHECK(it[5]->type == PK_BOOL && it[5]->u.b == 0);
            CHECK(it[6]->type == PK_FLOAT && it[6]->u.f == 1.5);
            CHECK(it[7]->type == PK_BYTES && it[7]->u.str.len == 2 && memcmp(it[7]->u.str.s, "xy", 2) == 0);
            CHECK(it[8]->type == PK_TUPLE && it[8]->u.seq.n == 1 && it[8]->u.seq.items[0]->type == PK_STR);
        }
        const pk_value *big = pk_dict_get(v, "big");
        CHECK(big && big->type == PK_BIGINT && big->u.str.len == 9);
        const pk_value *neg = pk_dict_get(v, "neg");
        int64_t x = 0;
        CHECK(neg && pk_get_int64(neg, &x) && x == INT64_MIN);
        CHECK(pk_dict_get(v, "zz") == NULL);
        CHECK(pk_dict_get(a, "a") == NULL);
        CHECK_STR(pk_type_name(PK_DICT), "dict");
    }
    pk_free(v);

    /* memo sharing: [x, x] where x = [] is shared (DAG, freed once) */
    static const unsigned char p2[] = "\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00]\x94(]\x94h\x01" "e.";
    v = load(p2, sizeof p2 - 1, &err);
    CHECK_MSG(v != NULL, "%s", err.msg);
    if (v) {
        CHECK(v->type == PK_LIST && v->u.seq.n == 2 && v->u.seq.items[0] == v->u.seq.items[1]);
    }
    pk_free(v);

    /* GLOBAL + REDUCE: recorded, not called (protocol 0/1 style
     * copyreg._reconstructor(uuid.UUID, object, None) + BUILD) */
    static const unsigned char p3[] =
        "ccopyreg\n_reconstructor\n(cuuid\nUUID\nc__builtin__\nobject\nNtR}X\x03\x00\x00\x00int\x8a\x01\x2asb.";
    v = load(p3, sizeof p3 - 1, &err);
    CHECK_MSG(v != NULL, "%s", err.msg);
    if (v) {
        CHECK(v->type == PK_OBJECT && v->u.obj.reduce == 1);
        CHECK(pk_is_class(v, "uuid", "UUID"));
        char hex[33];
        CHECK_INT(pk_uuid_hex(v, hex, &err), 0);
        CHECK_STR(hex, "0000000000000000000000000000002a");
    }
    pk_free(v);

    /* os.system via REDUCE parses as a record, nothing runs */
    static const unsigned char p4[] = "\x80\x02" "cos\nsystem\nX\x04\x00\x00\x00trueh\x85R.";
    v = load(p4, sizeof p4 - 1, &err);
    CHECK(v == NULL); /* BINGET 'h' of an unset memo entry */
    static const unsigned char p5[] = "\x80\x02" "cos\nsystem\nX\x04\x00\x00\x00true\x85R.";
    v = load(p5, sizeof p5 - 1, &err);
    CHECK_MSG(v != NULL, "%s", err.msg);
    CHECK(v && pk_is_class(v, "os", "system") && v->u.obj.reduce && v->u.obj.state == NULL);
    char hex[33];
    CHECK_INT(pk_uuid_hex(v, hex, &err), -1);
    pk_free(v);

    /* LONG1 edge cases */
    static const unsigned char l0[] = "\x8a\x00.";
    v = load(l0, 3, &err);
    CHECK(v && v->type == PK_INT && v->u.i == 0);
    pk_free(v);
    static const unsigned char lm1[] = "\x8a\x01\xff.";
    v = load(lm1, 4, &err);
    CHECK(v && v->type == PK_INT && v->u.i == -1);
    pk_free(v);
    static const unsigned char lpad[] = "\x8a\x0a\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00."; /* 5, padded */
    v = load(lpad, sizeof lpad - 1, &err);
    CHECK(v && v->type == PK_INT && v->u.i == 5);
    pk_free(v);
    static const unsigned char l4[] = "\x8b\x02\x00\x00\x00\x00\x80."; /* -32768 */
    v = load(l4, sizeof l4 - 1, &err);
    CHECK(v && v->type == PK_INT && v->u.i == -32768);
    pk_free(v);
}

static void test_reader_rejects(void)
{
    expect_reject("INST", "(i__main__\nX\n.", 14, "0x69 'i' (INST)");
    expect_reject("OBJ", "(cos\nsystem\no.", 14, "(OBJ)");
    expect_reject("PERSID", "P1\n.", 4, "(PERSID)");
    expect_reject("BINPERSID", "N" "Q.", 3, "(BINPERSID)");
    expect_reject("EXT1", "\x80\x02\x82\x01.", 5, "0x82 (EXT1)");
    expect_reject("EXT2", "\x83\x01\x00.", 4, "EXT2");
    expect_reject("unknown", "\xff.", 2, "0xff");
    expect_reject("STRING", "S'x'\n.", 6, "STRING");
    expect_reject("protocol 6", "\x80\x06N.", 4, "protocol 6");
    expect_reject("empty", "", 0, "ends before STOP");
    expect_reject("no stop", "N", 1, "ends before STOP");
    expect_reject("underflow", "a.", 2, "stack underflow");
    expect_reject("leftover", "NN.", 3, "left on the stack");
    expect_reject("mark fence", "N(a.", 4, "stack underflow");
    expect_reject("append to dict", "}Na.", 4, "not a list");
    expect_reject("setitem on list", "]NNs.", 5, "not a dict");
    expect_reject("odd setitems", "}(Nu.", 5, "odd");
    expect_reject("setitems no mark", "}NNu.", 5, "no MARK");
    expect_reject("binget unset", "h\x05.", 3, "memo entry 5");
    expect_reject("huge memo index", "Nr\xff\xff\xff\xff.", 7, "memo index");
    expect_reject("newobj non-tuple", "cuuid\nUUID\nN\x81.", 14, "not a tuple");
    expect_reject("newobj non-class", "N)\x81.", 4, "not a class");
    expect_reject("build on dict", "}}b.", 4, "BUILD");
    expect_reject("stack_global non-str", "NN\x93.", 4, "two strings");
    expect_reject("global NUL", "cos\0x\nsystem\n.", 15, "NUL");
    expect_reject("global no newline", "cos", 3, "newline");
    expect_reject("frame too long", "\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", 11, "FRAME");
    expect_reject("string too long", "X\xff\xff\x00\x00" "ab.", 8, "longer than the data");
    expect_reject("LONG4 negative", "\x8b\xff\xff\xff\xff.", 6, "negative");
    /* a list that contains itself: L = []; L.append(L) */
    expect_reject("cycle", "]\x94h\x00" "a.", 6, "cycle");
    /* a dict inside itself via SETITEM */
    expect_reject("cycle 2", "}q\x00X\x01\x00\x00\x00kh\x00s.", 13, "cycle");

    /* nesting: PK_MAX_DEPTH tuples is fine, one more is not */
    for (int extra = 0; extra <= 1; extra++) {
        int depth = PK_MAX_DEPTH + extra;
        size_t n = (size_t)depth + 2;
        unsigned char *p = malloc(n);
        p[0] = 'N';
        memset(p + 1, 0x85, (size_t)depth);
        p[n - 1] = '.';
        cm_err err = {0};
        pk_value *v = load(p, n, &err);
        if (extra)
            CHECK_MSG(v == NULL && strstr(err.msg, "deeper"), "depth %d: %s", depth, err.msg);
        else
            CHECK_MSG(v != NULL, "depth %d: %s", depth, err.msg);
        pk_free(v);
        free(p);
    }
    /* very deep: no stack overflow */
    {
        size_t n = 2000000;
        unsigned char *p = malloc(n);
        p[0] = 'N';
        memset(p + 1, 0x85, n - 2);
        p[n - 1] = '.';
        cm_err err = {0};
        pk_value *v = pk_load(p, n, &err);
        CHECK(v == NULL && strstr(err.msg, "deeper"));
        free(p);
    }
    /* a long DAG chain of shared tuples stays linear: x = (x, x) 40 times */
    {
        unsigned char p[1024];
        size_t n = 0;
        p[n++] = 'N';
        for (int i = 0; i < 40; i++) {
            p[n++] = 'q';
            p[n++] = 0;
            p[n++] = 'h';
            p[n++] = 0;
            p[n++] = 0x86;
        }
        p[n++] = '.';
        cm_err err = {0};
        pk_value *v = load(p, n, &err);
        CHECK_MSG(v != NULL, "%s", err.msg);
        pk_free(v);
    }
    /* memory bound: APPENDS of a million BINGETs is linear, not a blow-up */
    {
        size_t reps = 500000;
        size_t n = 4 + reps * 2 + 2;
        unsigned char *p = malloc(n);
        size_t k = 0;
        p[k++] = ']';
        p[k++] = 'q';
        p[k++] = 0;
        p[k++] = '(';
        for (size_t i = 0; i < reps; i++) {
            p[k++] = 'h';
            p[k++] = 0;
        }
        p[k++] = 'e';
        p[k++] = '.';
        cm_err err = {0};
        pk_value *v = pk_load(p, k, &err);
        /* the list contains itself: a cycle */
        CHECK(v == NULL && strstr(err.msg, "cycle"));
        free(p);
    }
}

static const char *fixture_root(void)
{
    const char *env = getenv("CM_FIXTURES");
    static const char *cands[] = {"../shared/fixtures/legacy", "/work/shared/fixtures/legacy"};
    if (env && *env)
        return env;
    for (size_t i = 0; i < 2; i++) {
        struct stat st;
        if (stat(cands[i], &st) == 0 && S_ISDIR(st.st_mode))
            return cands[i];
    }
    return NULL;
}

typedef struct lab {
    char hex[33];
    int64_t label;
} lab;

static int lab_cmp(const void *a, const void *b)
{
    const lab *x = a, *y = b;
    int c = strcmp(x->hex, y->hex);
    if (c)
        return c;
    return (x->label > y->label) - (x->label < y->label);
}

static pk_value *load_file(const char *path, cm_err *err)
{
    size_t n = 0;
    unsigned char *d = read_all(path, &n);
    if (!d) {
        cm_err_set(err, "%s: cannot read", path);
        return NULL;
    }
    pk_value *v = pk_load(d, n, err);
    free(d);
    return v;
}

/* Truncation at every byte and single-byte corruption: clean errors only. */
static void mangle(const unsigned char *d, size_t n)
{
    int clean = 0;
    for (size_t k = 0; k < n; k++) {
        cm_err err = {0};
        pk_value *v = load(d, k, &err);
        if (!v && err.set)
            clean++;
        pk_free(v);
    }
    CHECK_MSG(clean == (int)n, "%d of %zu truncations failed cleanly", clean, n);
    unsigned char *c = malloc(n);
    static const unsigned char repl[] = {0x00, 0xff, 'h', 'b', 's', 'u', '(', 0x8a, 0x94, 0x93, 0x81, '.'};
    for (size_t k = 0; k < n; k++)
        for (size_t r = 0; r < sizeof repl; r++) {
            memcpy(c, d, n);
            c[k] = repl[r];
            cm_err err = {0};
            pk_value *v = pk_load(c, n, &err);
            pk_free(v);
        }
    free(c);
}

static void test_fixtures(void)
{
    const char *root = fixture_root();
    if (!root) {
        fprintf(stderr, "test_pickle: fixtures not found, skipping them\n");
        return;
    }
    DIR *top = opendir(root);
    CHECK(top != NULL);
    if (!top)
        return;
    int pairs = 0, metas = 0, entries = 0, mangled = 0;
    struct dirent *de;
    while ((de = readdir(top))) {
        if (de->d_name[0] == '.')
            continue;
        char idx[1024];
        snprintf(idx, sizeof idx, "%s/%s/index", root, de->d_name);
        DIR *d = opendir(idx);
        if (!d)
            continue;
        struct dirent *fe;
        while ((fe = readdir(d))) {
            const char *nm = fe->d_name;
            char path[2048];
            cm_err err = {0};
            if (strncmp(nm, "index_metadata_", 15) == 0) {
                snprintf(path, sizeof path, "%s/%s", idx, nm);
                pk_value *m = load_file(path, &err);
                CHECK_MSG(m != NULL, "%s: %s", path, err.msg);
                int64_t dim = 0;
                CHECK_MSG(m && m->type == PK_DICT && pk_get_int64(pk_dict_get(m, "dimensionality"), &dim) && dim > 0,
                          "%s", path);
                const pk_value *tc = pk_dict_get(m, "time_created");
                CHECK(tc && tc->type == PK_FLOAT && tc->u.f > 1.6e9);
                pk_free(m);
                metas++;
                continue;
            }
            if (strncmp(nm, "id_to_uuid_", 11) != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", idx, nm);
            char path2[2048];
            snprintf(path2, sizeof path2, "%s/uuid_to_id_%s", idx, nm + 11);
            pk_value *a = load_file(path, &err);
            CHECK_MSG(a != NULL, "%s: %s", path, err.msg);
            pk_value *b = load_file(path2, &err);
            CHECK_MSG(b != NULL, "%s: %s", path2, err.msg);
            if (!a || !b || a->type != PK_DICT || b->type != PK_DICT) {
                CHECK(0);
                pk_free(a);
                pk_free(b);
                continue;
            }
            pairs++;
            size_t na = a->u.dict.n, nb = b->u.dict.n;
            entries += (int)na;
            lab *la = calloc(na + 1, sizeof *la), *lb = calloc(nb + 1, sizeof *lb);
            int ok = 1;
            for (size_t i = 0; i < na; i++) {
                ok &= pk_get_int64(a->u.dict.pairs[i].key, &la[i].label);
                ok &= pk_is_class(a->u.dict.pairs[i].value, "uuid", "UUID");
                ok &= pk_uuid_hex(a->u.dict.pairs[i].value, la[i].hex, &err) == 0;
            }
            for (size_t i = 0; i < nb; i++) {
                const pk_value *k = b->u.dict.pairs[i].key;
                ok &= k->type == PK_STR && k->u.str.len == 32;
                if (k->type == PK_STR && k->u.str.len == 32)
                    memcpy(lb[i].hex, k->u.str.s, 33);
                ok &= pk_get_int64(b->u.dict.pairs[i].value, &lb[i].label);
            }
            CHECK_MSG(ok, "%s: unexpected types (%s)", path, err.msg);
            /* Every id_to_uuid entry is in uuid_to_id; with equal sizes the two
             * are inverse. (chromadb <= 0.3.14 stored extra entries in
             * uuid_to_id: sizes differ there.) */
            if (strstr(path, "PierreAnders")) {
                CHECK(na == 1 && la[0].label == 1 && strcmp(la[0].hex, "a1e185019eaa41f7830dfb845dc87b9f") == 0);
            }
            if (strstr(path, "id_to_uuid_f29adc7f-4178-4c82-8fb2-1ae513520fe8")) {
                CHECK(na == 7 && la[0].label == 1 && strcmp(la[0].hex, "25096a6e438947d6be7da11e5abbaa60") == 0 &&
                      la[6].label == 7 && strcmp(la[6].hex, "d37131e111bf4227b70fda01fb7ae7fe") == 0);
            }
            if (strstr(path, "id_to_uuid_bd296562-5090-4781-825f-8c7d3b9f6c2e"))
                CHECK(na == 30 && nb == 38);
            qsort(lb, nb, sizeof *lb, lab_cmp);
            size_t found = 0;
            for (size_t i = 0; i < na; i++)
                found += bsearch(&la[i], lb, nb, sizeof *lb, lab_cmp) != NULL;
            CHECK_MSG(found == na, "%s: %zu of %zu labels found in uuid_to_id", path, found, na);
            if (na == nb) {
                qsort(la, na, sizeof *la, lab_cmp);
                int inv = 1;
                for (size_t i = 0; i < na; i++)
                    inv &= lab_cmp(&la[i], &lb[i]) == 0;
                CHECK_MSG(inv, "%s: maps are not inverse", path);
            }
            free(la);
            free(lb);
            pk_free(a);
            pk_free(b);

            /* mangle the small ones */
            if (mangled < 4) {
                size_t n = 0;
                unsigned char *d1 = read_all(path, &n);
                if (d1 && n <= 1600) {
                    mangle(d1, n);
                    mangled++;
                }
                free(d1);
            }
        }
        closedir(d);
    }
    closedir(top);
    CHECK_MSG(pairs >= 18, "only %d id map pairs found", pairs);
    CHECK_MSG(metas >= 18, "only %d index_metadata pickles found", metas);
    CHECK_MSG(entries == 766, "%d id_to_uuid entries (Python counts 766)", entries);
    CHECK(mangled >= 2);
}

static void test_truncate_written(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.pickle", tmpdir);
    size_t n = 0;
    unsigned char *d = read_all(path, &n);
    CHECK(d != NULL);
    if (d)
        mangle(d, n);
    free(d);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/test_pickle.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_writer_bytes();
    test_writer_errors();
    test_writer_large();
    test_reader_basics();
    test_reader_rejects();
    test_fixtures();
    test_truncate_written();
    /* clean up */
    static const char *files[] = {"tiny.pickle", "empty.pickle", "ints.pickle", "large.pickle", "bad.pickle"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return check_done("test_pickle");
}
