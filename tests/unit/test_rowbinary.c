/* test_rowbinary.c - the RowBinary decoder: LEB128 edges, strings, Nullable,
 * Array(Float64) bit-exactness, UUID byte order, and a chroma embeddings row
 * cut at every byte (always "need more", never a wrong value or a crash). */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "format/rowbinary.h"

typedef struct buf {
    uint8_t b[8192];
    size_t n;
} buf;

static void put(buf *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void put_u8(buf *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put_leb(buf *w, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        if (v)
            b |= 0x80;
        put_u8(w, b);
    } while (v);
}

static void put_str(buf *w, const char *s, size_t n)
{
    put_leb(w, n);
    put(w, s, n);
}

static void put_f64(buf *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        put_u8(w, (uint8_t)(u >> (8 * i)));
}

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static int leb(const uint8_t *p, size_t n, uint64_t *v, size_t *used, cm_err *err)
{
    rb_cur c;
    rb_init(&c, p, n);
    int r = rb_uleb128(&c, v, err);
    *used = r == RB_OK ? c.off : c.need;
    return r;
}

static void test_leb128(void)
{
    cm_err err = {0};
    uint64_t v;
    size_t used;
    static const struct {
        uint64_t v;
        size_t len;
    } cases[] = {{0, 1},          {1, 1},          {127, 1},          {128, 2},         {255, 2},
                 {16383, 2},      {16384, 3},      {(1u << 21) - 1, 3}, {1u << 21, 4},  {UINT32_MAX, 5},
                 {(uint64_t)1 << 56, 9}, {INT64_MAX, 9}, {(uint64_t)1 << 63, 10}, {UINT64_MAX, 10}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf w = {.n = 0};
        put_leb(&w, cases[i].v);
        CHECK_INT(w.n, cases[i].len);
        CHECK_INT(leb(w.b, w.n, &v, &used, &err), RB_OK);
        CHECK_MSG(v == cases[i].v, "case %zu: %llu", i, (unsigned long long)v);
        CHECK_INT(used, cases[i].len);
        /* every cut: need exactly one more byte than given */
        for (size_t k = 0; k < w.n; k++) {
            CHECK_INT(leb(w.b, k, &v, &used, &err), RB_NEED);
            CHECK_INT(used, k + 1);
        }
    }
    /* non-canonical but valid: 0x80 0x00 is 0 in two bytes (ClickHouse accepts it too) */
    CHECK_INT(leb((const uint8_t *)"\x80\x00", 2, &v, &used, &err), RB_OK);
    CHECK_INT(v, 0);
    CHECK_INT(used, 2);
    /* 10th byte may only hold bit 63 */
    const uint8_t over[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    CHECK_INT(leb(over, 10, &v, &used, &err), RB_BAD);
    CHECK(strstr(err.msg, "64 bits") != NULL);
    /* 11 bytes */
    const uint8_t eleven[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00};
    cm_err_clear(&err);
    CHECK_INT(leb(eleven, 11, &v, &used, &err), RB_BAD);
    CHECK(strstr(err.msg, "longer than 10 bytes") != NULL);
    /* a cut 10-byte number still asks for more, not BAD */
    CHECK_INT(leb(eleven, 9, &v, &used, &err), RB_NEED);
    CHECK_INT(used, 10);
    /* empty buffer */
    CHECK_INT(leb(over, 0, &v, &used, &err), RB_NEED);
    CHECK_INT(used, 1);
}

static void test_strings(void)
{
    cm_err err = {0};
    buf w = {.n = 0};
    put_str(&w, "", 0);
    put_str(&w, "a\0b", 3);
    char big[300];
    memset(big, 'x', sizeof big);
    put_str(&w, big, sizeof big); /* 2-byte length */
    rb_cur c;
    rb_init(&c, w.b, w.n);
    const uint8_t *s;
    size_t len;
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_OK);
    CHECK_INT(len, 0);
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_OK);
    CHECK_INT(len, 3);
    CHECK(memcmp(s, "a\0b", 3) == 0);
    size_t at = c.off;
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_OK);
    CHECK_INT(len, 300);
    CHECK(s == w.b + at + 2);
    CHECK_INT(c.off, w.n);
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_NEED);
    CHECK_INT(c.need, w.n + 1);

    /* cut inside the 300-byte string: need = its end, cursor unchanged */
    rb_init(&c, w.b, at + 100);
    c.off = at;
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_NEED);
    CHECK_INT(c.need, at + 2 + 300);
    CHECK_INT(c.off, at);

    /* a length beyond the limit is corrupt data, not a wait */
    buf h = {.n = 0};
    put_leb(&h, RB_MAX_LEN + 1);
    rb_init(&c, h.b, h.n);
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_BAD);
    CHECK(strstr(err.msg, "corrupt") != NULL);
    h.n = 0;
    put_leb(&h, UINT64_MAX);
    rb_init(&c, h.b, h.n);
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_BAD);
    /* exactly the limit is allowed (and waited for) */
    h.n = 0;
    put_leb(&h, RB_MAX_LEN);
    rb_init(&c, h.b, h.n);
    CHECK_INT(rb_string(&c, &s, &len, &err), RB_NEED);
    CHECK(c.need == h.n + RB_MAX_LEN);
}

static void test_nullable(void)
{
    cm_err err = {0};
    rb_cur c;
    const uint8_t *s = (const uint8_t *)"x";
    size_t len = 9;
    int is_null = 7;
    rb_init(&c, "\x01", 1);
    CHECK_INT(rb_null_flag(&c, &is_null, &err), RB_OK);
    CHECK_INT(is_null, 1);
    rb_init(&c, "\x01", 1);
    CHECK_INT(rb_nullable_string(&c, &s, &len, &err), RB_OK);
    CHECK(s == NULL);
    CHECK_INT(len, 0);
    CHECK_INT(c.off, 1);
    rb_init(&c, "\x00\x02hi", 4);
    CHECK_INT(rb_nullable_string(&c, &s, &len, &err), RB_OK);
    CHECK_INT(len, 2);
    CHECK(s && memcmp(s, "hi", 2) == 0);
    /* cut after the flag: all or nothing, the cursor stays before the flag */
    rb_init(&c, "\x00\x02h", 3);
    CHECK_INT(rb_nullable_string(&c, &s, &len, &err), RB_NEED);
    CHECK_INT(c.off, 0);
    CHECK_INT(c.need, 4);
    rb_init(&c, "\x00", 1);
    CHECK_INT(rb_nullable_string(&c, &s, &len, &err), RB_NEED);
    CHECK_INT(c.need, 2);
    rb_init(&c, "", 0);
    CHECK_INT(rb_nullable_string(&c, &s, &len, &err), RB_NEED);
    CHECK_INT(c.need, 1);
    /* any other flag byte is not RowBinary (e.g. the 'C' of an appended "Code: ...") */
    for (int b = 2; b < 256; b++) {
        uint8_t one = (uint8_t)b;
        rb_init(&c, &one, 1);
        cm_err_clear(&err);
        if (rb_nullable_string(&c, &s, &len, &err) != RB_BAD || c.off != 0) {
            CHECK_MSG(0, "flag byte %d accepted", b);
            break;
        }
    }
    CHECK(strstr(err.msg, "Nullable flag") != NULL);
}

static void test_arrays(void)
{
    cm_err err = {0};
    double vals[] = {0.0, -0.0, 1e-7, 123456.789, -1e-300, 1e300, 9007199254740992.0, 1.0 / 3,
                     INFINITY, -INFINITY, 4.9406564584124654e-324, 1.7976931348623157e308, NAN};
    size_t nv = sizeof vals / sizeof vals[0];
    uint64_t payload_nan = 0x7ff8000000000123ull; /* a NaN with a payload must come back as is */
    memcpy(&vals[nv - 1], &payload_nan, 8);
    buf w = {.n = 0};
    put_u8(&w, 0xee); /* so the doubles start at an odd address */
    put_leb(&w, 0);   /* [] */
    put_leb(&w, nv);
    for (size_t i = 0; i < nv; i++)
        put_f64(&w, vals[i]);
    rb_cur c;
    rb_init(&c, w.b, w.n);
    c.off = 1;
    const uint8_t *data;
    size_t count;
    CHECK_INT(rb_f64_array(&c, &data, &count, &err), RB_OK);
    CHECK_INT(count, 0);
    size_t start = c.off;
    CHECK_INT(rb_f64_array(&c, &data, &count, &err), RB_OK);
    CHECK_INT(count, nv);
    CHECK_INT(c.off, w.n);
    double out[32];
    rb_f64_copy(out, data, count);
    for (size_t i = 0; i < nv; i++)
        CHECK_MSG(bits(out[i]) == bits(vals[i]), "element %zu: %016llx != %016llx", i,
                  (unsigned long long)bits(out[i]), (unsigned long long)bits(vals[i]));
    /* every cut inside the second array */
    for (size_t k = start; k < w.n; k++) {
        rb_init(&c, w.b, k);
        c.off = start;
        /* inside the count: one more byte; inside the elements: the array's end */
        size_t want = k == start ? start + 1 : w.n;
        if (rb_f64_array(&c, &data, &count, &err) != RB_NEED || c.off != start || c.need != want) {
            CHECK_MSG(0, "cut at %zu: need %zu", k, c.need);
            break;
        }
    }
    /* a count whose bytes exceed the limit */
    buf h = {.n = 0};
    put_leb(&h, RB_MAX_LEN / 8 + 1);
    rb_init(&c, h.b, h.n);
    CHECK_INT(rb_f64_array(&c, &data, &count, &err), RB_BAD);
    h.n = 0;
    put_leb(&h, (uint64_t)1 << 61); /* count * 8 would wrap a 64-bit size */
    rb_init(&c, h.b, h.n);
    CHECK_INT(rb_f64_array(&c, &data, &count, &err), RB_BAD);

    /* scalars */
    buf s = {.n = 0};
    put_f64(&s, -2.5);
    const uint8_t u64[8] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
    put(&s, u64, 8);
    rb_init(&c, s.b, s.n);
    double d;
    uint64_t u;
    CHECK_INT(rb_f64(&c, &d, &err), RB_OK);
    CHECK(d == -2.5);
    CHECK_INT(rb_u64(&c, &u, &err), RB_OK);
    CHECK(u == 0x0102030405060708ull);
    rb_init(&c, s.b, 7);
    CHECK_INT(rb_u64(&c, &u, &err), RB_NEED);
    CHECK_INT(c.need, 8);
}

static void test_uuid(void)
{
    cm_err err = {0};
    /* clickhouse-18.16.md: 6f1a9c0e-8d2b-4c3e-9a41-0b7e2f5d1c88 is sent as
     * 3e4c2b8d0e9c1a6f 881c5d2f7e0b419a (each 64-bit half little-endian) */
    const uint8_t b[16] = {0x3e, 0x4c, 0x2b, 0x8d, 0x0e, 0x9c, 0x1a, 0x6f,
                           0x88, 0x1c, 0x5d, 0x2f, 0x7e, 0x0b, 0x41, 0x9a};
    char out[37];
    rb_cur c;
    rb_init(&c, b, 16);
    CHECK_INT(rb_uuid(&c, out, &err), RB_OK);
    CHECK_STR(out, "6f1a9c0e-8d2b-4c3e-9a41-0b7e2f5d1c88");
    CHECK_INT(c.off, 16);
    for (size_t k = 0; k < 16; k++) {
        rb_init(&c, b, k);
        CHECK_INT(rb_uuid(&c, out, &err), RB_NEED);
        CHECK_INT(c.need, 16);
    }
    const uint8_t z[16] = {0};
    rb_init(&c, z, 16);
    CHECK_INT(rb_uuid(&c, out, &err), RB_OK);
    CHECK_STR(out, "00000000-0000-0000-0000-000000000000");
}

/* A row as the ClickHouse source reads it: id Nullable(String),
 * embedding Array(Float64), document Nullable(String), metadata Nullable(String). */
static int parse_row(rb_cur *c, cm_err *err)
{
    const uint8_t *s, *d;
    size_t len, n;
    int r;
    if ((r = rb_nullable_string(c, &s, &len, err)) != RB_OK)
        return r;
    if ((r = rb_f64_array(c, &d, &n, err)) != RB_OK)
        return r;
    if ((r = rb_nullable_string(c, &s, &len, err)) != RB_OK)
        return r;
    return rb_nullable_string(c, &s, &len, err);
}

static void test_rows_cut_everywhere(void)
{
    cm_err err = {0};
    buf w = {.n = 0};
    size_t ends[3];
    /* row 0: everything present */
    put_u8(&w, 0);
    put_str(&w, "d-00000", 7);
    put_leb(&w, 3);
    put_f64(&w, 1.0);
    put_f64(&w, -0.0);
    put_f64(&w, 0.1);
    put_u8(&w, 0);
    put_str(&w, "doc \xc3\xa9\t\n", 8);
    put_u8(&w, 0);
    put_str(&w, "{\"a\": 1}", 8);
    ends[0] = w.n;
    /* row 1: NULL id, empty embedding, NULL document and metadata */
    put_u8(&w, 1);
    put_leb(&w, 0);
    put_u8(&w, 1);
    put_u8(&w, 1);
    ends[1] = w.n;
    /* row 2: a 200-element embedding (2-byte LEB128 count) and a 200-byte document */
    put_u8(&w, 0);
    put_str(&w, "", 0);
    put_leb(&w, 200);
    for (int i = 0; i < 200; i++)
        put_f64(&w, i * 0.5);
    put_u8(&w, 0);
    char doc[200];
    memset(doc, 'z', sizeof doc);
    put_str(&w, doc, sizeof doc);
    put_u8(&w, 1);
    ends[2] = w.n;

    /* Every prefix of the stream: rows that fit are read; the cut row is
     * RB_NEED with a `need` within the real row, never RB_BAD. */
    int ok = 1;
    for (size_t cut = 0; cut <= w.n && ok; cut++) {
        rb_cur c;
        rb_init(&c, w.b, cut);
        size_t rows = 0;
        for (;;) {
            size_t at = c.off;
            rb_cur rc = c;
            rb_init(&rc, w.b + at, cut - at); /* each row parsed from its own start, as the source does */
            int r = parse_row(&rc, &err);
            if (r == RB_OK) {
                if (at + rc.off != ends[rows]) {
                    CHECK_MSG(0, "cut %zu: row %zu ends at %zu, not %zu", cut, rows, at + rc.off, ends[rows]);
                    ok = 0;
                }
                c.off = at + rc.off;
                rows++;
                if (c.off == cut)
                    break;
                continue;
            }
            if (r != RB_NEED || at + rc.need <= cut || at + rc.need > ends[rows]) {
                CHECK_MSG(0, "cut %zu: row %zu gave %d need %zu (row ends at %zu)", cut, rows, r, rc.need,
                          ends[rows]);
                ok = 0;
            }
            break;
        }
        size_t want_rows = cut >= ends[2] ? 3 : cut >= ends[1] ? 2 : cut >= ends[0] ? 1 : 0;
        if (ok && rows != want_rows) {
            CHECK_MSG(0, "cut %zu: %zu rows, expected %zu", cut, rows, want_rows);
            ok = 0;
        }
    }
    CHECK(ok);

    /* The streaming loop: start with 1 byte, grow to `need` each time: it
     * must reach each row's end in a few steps (no byte-by-byte crawl). */
    size_t have = 1, steps = 0, at = 0, rows = 0;
    while (rows < 3 && steps < 100) {
        rb_cur c;
        rb_init(&c, w.b + at, have - at);
        int r = parse_row(&c, &err);
        steps++;
        if (r == RB_OK) {
            at += c.off;
            CHECK_INT(at, ends[rows]);
            rows++;
            if (have < at + 1)
                have = at + 1;
        } else {
            CHECK_INT(r, RB_NEED);
            have = at + c.need;
        }
    }
    CHECK_INT(rows, 3);
    CHECK_MSG(steps <= 30, "%zu steps", steps); /* about one per field boundary */
}

/* Random bytes: the decoder answers OK/NEED/BAD and never reads outside the buffer (ASan). */
static void test_garbage(void)
{
    cm_err err = {0};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int bad = 0, need = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t b[64];
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[i] = (uint8_t)(round % 3 == 0 ? (x & 1) : x); /* many 0/1 flags too */
        }
        uint8_t *heap = malloc(n ? n : 1);
        memcpy(heap, b, n);
        rb_cur c;
        rb_init(&c, heap, n);
        int r;
        while ((r = parse_row(&c, &err)) == RB_OK && c.off < c.n) {
            rb_init(&c, c.p + c.off, c.n - c.off);
        }
        if (r == RB_BAD)
            bad++;
        if (r == RB_NEED) {
            need++;
            if (c.need <= c.n) {
                CHECK_MSG(0, "round %d: need %zu with %zu bytes", round, c.need, c.n);
                free(heap);
                break;
            }
        }
        free(heap);
    }
    CHECK(bad > 0);
    CHECK(need > 0);
}

int main(void)
{
    test_leb128();
    test_strings();
    test_nullable();
    test_arrays();
    test_uuid();
    test_rows_cut_everywhere();
    test_garbage();
    return check_done("test_rowbinary");
}
