/* test_json.c - the JSON reader and writer (src/format/json.c). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "format/json.h"

static jv *parse(const char *s, cm_err *err)
{
    cm_err_clear(err);
    return json_parse(s, strlen(s), err);
}

static jv *parse_ok(const char *s)
{
    cm_err err = {0};
    jv *v = parse(s, &err);
    CHECK_MSG(v != NULL, "parse of %s failed: %s", s, err.msg);
    return v;
}

static void expect_fail(const char *s, const char *needle)
{
    cm_err err = {0};
    jv *v = parse(s, &err);
    CHECK_MSG(v == NULL, "parse of '%s' should fail", s);
    CHECK_MSG(err.set && strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", s, err.msg, needle);
    jv_free(v);
}

static int str_is(const jv *v, const char *bytes, size_t n)
{
    return v && v->type == JV_STRING && v->u.str.len == n && memcmp(v->u.str.s, bytes, n) == 0 &&
           v->u.str.s[n] == '\0';
}

static void test_strings(void)
{
    jv *v = parse_ok("\"\\ud83d\\ude00\"");
    CHECK(str_is(v, "\xf0\x9f\x98\x80", 4));
    jv_free(v);

    v = parse_ok("\"\\uD834\\uDD1E!\"");
    CHECK(str_is(v, "\xf0\x9d\x84\x9e!", 5));
    jv_free(v);

    /* lone surrogates become WTF-8 */
    v = parse_ok("\"\\ud800\"");
    CHECK(str_is(v, "\xed\xa0\x80", 3));
    jv_free(v);
    v = parse_ok("\"\\udc00x\"");
    CHECK(str_is(v, "\xed\xb0\x80x", 4));
    jv_free(v);
    v = parse_ok("\"\\ud800\\u0041\"");
    CHECK(str_is(v, "\xed\xa0\x80" "A", 4));
    jv_free(v);
    v = parse_ok("\"\\ud800\\ud800\\udc00\""); /* high, then a proper pair */
    CHECK(str_is(v, "\xed\xa0\x80\xf0\x90\x80\x80", 7));
    jv_free(v);
    v = parse_ok("\"\\udbff\"");
    CHECK(str_is(v, "\xed\xaf\xbf", 3));
    jv_free(v);

    /* NUL */
    v = parse_ok("\"\\u0000\"");
    CHECK(str_is(v, "\0", 1));
    jv_free(v);
    v = parse_ok("\"a\\u0000b\"");
    CHECK(str_is(v, "a\0b", 3));
    jv_free(v);

    /* all simple escapes */
    v = parse_ok("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\"");
    CHECK(str_is(v, "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac", 13));
    jv_free(v);

    /* raw bytes >= 0x80 copied as they are (even invalid UTF-8) */
    v = parse_ok("\"caf\xc3\xa9 \xff\"");
    CHECK(str_is(v, "caf\xc3\xa9 \xff", 7));
    jv_free(v);
    /* DEL is not a control character for JSON */
    v = parse_ok("\"\x7f\"");
    CHECK(str_is(v, "\x7f", 1));
    jv_free(v);

    /* NUL byte in a key */
    v = parse_ok("{\"a\\u0000b\":1,\"a\":2}");
    CHECK(v && v->type == JV_OBJECT && v->u.obj.n == 2);
    if (v && v->u.obj.n == 2) {
        CHECK_INT(v->u.obj.members[0].key_len, 3);
        CHECK(memcmp(v->u.obj.members[0].key, "a\0b", 4) == 0);
        CHECK(jv_get(v, "a") && jv_get(v, "a")->u.i == 2);
    }
    jv_free(v);

    expect_fail("\"a\nb\"", "raw control character 0x0a");
    expect_fail("\"a\tb\"", "raw control character");
    expect_fail("\"\x01\"", "at byte 1");
    expect_fail("\"\\x\"", "escape");
    expect_fail("\"\\u12\"", "hex");
    expect_fail("\"\\u12g4\"", "hex");
    expect_fail("\"\\ud800\\u12\"", "hex");
    expect_fail("\"abc", "unterminated");
    expect_fail("\"abc\\", "unterminated");
    expect_fail("'abc'", "expected a value");
}

static void test_numbers(void)
{
    jv *v = parse_ok("9223372036854775807");
    CHECK(v && v->type == JV_INT && v->u.i == INT64_MAX);
    jv_free(v);
    v = parse_ok("-9223372036854775808");
    CHECK(v && v->type == JV_INT && v->u.i == INT64_MIN);
    jv_free(v);
    v = parse_ok("9223372036854775808"); /* 2^63 */
    CHECK(v && v->type == JV_BIGINT);
    if (v && v->type == JV_BIGINT)
        CHECK_STR(v->u.str.s, "9223372036854775808");
    jv_free(v);
    v = parse_ok("-9223372036854775809");
    CHECK(v && v->type == JV_BIGINT);
    if (v && v->type == JV_BIGINT)
        CHECK_STR(v->u.str.s, "-9223372036854775809");
    jv_free(v);
    v = parse_ok("18446744073709551616"); /* 2^64 */
    CHECK(v && v->type == JV_BIGINT && v->u.str.len == 20);
    jv_free(v);
    v = parse_ok("184467440737095516160000000000000000");
    CHECK(v && v->type == JV_BIGINT);
    jv_free(v);
    v = parse_ok("9007199254740993"); /* 2^53 + 1: exact, no double rounding */
    CHECK(v && v->type == JV_INT && v->u.i == 9007199254740993LL);
    jv_free(v);
    v = parse_ok("0");
    CHECK(v && v->type == JV_INT && v->u.i == 0);
    jv_free(v);
    v = parse_ok("-0"); /* Python: int 0 */
    CHECK(v && v->type == JV_INT && v->u.i == 0);
    jv_free(v);

    v = parse_ok("-0.0");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 0.0 && signbit(v->u.f));
    jv_free(v);
    v = parse_ok("1.0");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 1.0);
    jv_free(v);
    v = parse_ok("1E2");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 100.0);
    jv_free(v);
    v = parse_ok("1e300");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 1e300);
    jv_free(v);
    v = parse_ok("1e-320");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 1e-320 && v->u.f > 0 && v->u.f < 2.2250738585072014e-308);
    jv_free(v);
    v = parse_ok("5e-324");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 5e-324 && v->u.f > 0);
    jv_free(v);
    v = parse_ok("1e400"); /* as Python's float(): inf */
    CHECK(v && v->type == JV_FLOAT && isinf(v->u.f) && v->u.f > 0);
    jv_free(v);
    v = parse_ok("-1e-400");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 0 && signbit(v->u.f));
    jv_free(v);
    v = parse_ok("0.1");
    CHECK(v && v->type == JV_FLOAT && v->u.f == 0.1);
    jv_free(v);
    /* a long literal (heap copy path) */
    {
        char big[400];
        strcpy(big, "0.");
        memset(big + 2, '3', 300);
        big[302] = '\0';
        v = parse_ok(big);
        CHECK(v && v->type == JV_FLOAT && v->u.f == strtod(big, NULL));
        jv_free(v);
    }

    v = parse_ok("NaN");
    CHECK(v && v->type == JV_FLOAT && isnan(v->u.f));
    jv_free(v);
    v = parse_ok(" Infinity ");
    CHECK(v && v->type == JV_FLOAT && isinf(v->u.f) && v->u.f > 0);
    jv_free(v);
    v = parse_ok("[-Infinity]");
    CHECK(v && v->type == JV_ARRAY && v->u.arr.n == 1 && isinf(v->u.arr.items[0]->u.f) &&
          v->u.arr.items[0]->u.f < 0);
    jv_free(v);

    expect_fail("01", "end of input after the value");
    expect_fail("1.", "digit after '.'");
    expect_fail(".5", "expected a value");
    expect_fail("+1", "expected a value");
    expect_fail("1e", "exponent");
    expect_fail("1e+", "exponent");
    expect_fail("-", "digit");
    expect_fail("-x", "digit");
    expect_fail("nan", "expected a value");
    expect_fail("-NaN", "digit");
    expect_fail("Inf", "expected a value");
    expect_fail("0x10", "end of input");
}

static void test_structure(void)
{
    jv *v = parse_ok(" {\"b\":[1,2.5,\"x\",true,false,null,{}],\"a\":{\"c\":[]}} \n");
    CHECK(v && v->type == JV_OBJECT && v->u.obj.n == 2);
    if (v && v->u.obj.n == 2) {
        CHECK_STR(v->u.obj.members[0].key, "b");
        CHECK_STR(v->u.obj.members[1].key, "a");
        jv *b = jv_get(v, "b");
        CHECK(b && b->type == JV_ARRAY && b->u.arr.n == 7);
        if (b && b->u.arr.n == 7) {
            CHECK(b->u.arr.items[0]->type == JV_INT);
            CHECK(b->u.arr.items[1]->type == JV_FLOAT);
            CHECK(b->u.arr.items[3]->type == JV_BOOL && b->u.arr.items[3]->u.b == 1);
            CHECK(b->u.arr.items[4]->type == JV_BOOL && b->u.arr.items[4]->u.b == 0);
            CHECK(b->u.arr.items[5]->type == JV_NULL);
            CHECK(b->u.arr.items[6]->type == JV_OBJECT && b->u.arr.items[6]->u.obj.n == 0);
        }
        CHECK(jv_get(jv_get(v, "a"), "c") != NULL);
        CHECK(jv_get(v, "zz") == NULL);
        CHECK(jv_get(b, "x") == NULL);
    }
    jv_free(v);

    /* duplicate keys: the last value wins at the first position */
    v = parse_ok("{\"a\":1,\"b\":2,\"a\":3}");
    CHECK(v && v->u.obj.n == 2);
    if (v && v->u.obj.n == 2) {
        CHECK_STR(v->u.obj.members[0].key, "a");
        CHECK_INT(v->u.obj.members[0].value->u.i, 3);
        CHECK_STR(v->u.obj.members[1].key, "b");
    }
    jv_free(v);
    /* ... also in large objects (hashed lookup) */
    {
        json_out o = {0};
        jo_cstr(&o, "{");
        for (int i = 0; i < 500; i++) {
            char b[64];
            snprintf(b, sizeof b, "%s\"k%d\":%d", i ? "," : "", i % 200, i);
            jo_cstr(&o, b);
        }
        jo_cstr(&o, "}");
        v = parse_ok(o.buf);
        CHECK(v && v->u.obj.n == 200);
        if (v && v->u.obj.n == 200) {
            int ok = 1;
            for (int i = 0; i < 200; i++) {
                char k[16];
                snprintf(k, sizeof k, "k%d", i);
                ok &= strcmp(v->u.obj.members[i].key, k) == 0 && v->u.obj.members[i].value->u.i == (i < 100 ? 400 + i : 200 + i);
            }
            CHECK(ok);
        }
        jv_free(v);
        jo_free(&o);
    }

    expect_fail("", "expected a value");
    expect_fail("   ", "at byte 3: expected a value, found end of input");
    expect_fail("{\"a\" 1}", "at byte 5: expected ':'");
    expect_fail("{\"a\":1,}", "at byte 7: expected a string key");
    expect_fail("[1,]", "at byte 3: expected a value");
    expect_fail("[1 2]", "expected ',' or ']'");
    expect_fail("{\"a\":1 \"b\":2}", "expected ',' or '}'");
    expect_fail("{1:2}", "string key");
    expect_fail("[1] [2]", "end of input after the value");
    expect_fail("tru", "expected a value");
    expect_fail("nul", "expected a value");
    expect_fail("[", "expected a value, found end of input");
}

static char *nest(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth + i] = ']';
    }
    s[depth * 2] = '\0';
    return s;
}

static void test_depth(void)
{
    char *s = nest(JSON_MAX_DEPTH);
    cm_err err = {0};
    jv *v = json_parse(s, strlen(s), &err);
    CHECK_MSG(v != NULL, "depth %d: %s", JSON_MAX_DEPTH, err.msg);
    jv_free(v);
    free(s);

    s = nest(JSON_MAX_DEPTH + 1);
    v = json_parse(s, strlen(s), &err);
    CHECK(v == NULL && strstr(err.msg, "nesting deeper"));
    jv_free(v);
    free(s);

    /* objects count too */
    {
        json_out o = {0};
        for (int i = 0; i <= JSON_MAX_DEPTH; i++)
            jo_cstr(&o, "{\"a\":");
        jo_cstr(&o, "1");
        for (int i = 0; i <= JSON_MAX_DEPTH; i++)
            jo_cstr(&o, "}");
        v = json_parse(o.buf, o.len, &err);
        CHECK(v == NULL && strstr(err.msg, "nesting deeper"));
        jo_free(&o);
    }

    /* hostile: a million open brackets must not exhaust the stack */
    size_t n = 1000000;
    char *big = malloc(n);
    memset(big, '[', n);
    v = json_parse(big, n, &err);
    CHECK(v == NULL && strstr(err.msg, "nesting deeper"));
    free(big);
}

/* Deep typed equality; floats compared by bits. */
static int jv_equal(const jv *a, const jv *b)
{
    if (!a || !b || a->type != b->type)
        return 0;
    switch (a->type) {
    case JV_NULL: return 1;
    case JV_BOOL: return a->u.b == b->u.b;
    case JV_INT: return a->u.i == b->u.i;
    case JV_FLOAT:
        if (isnan(a->u.f))
            return isnan(b->u.f);
        return memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0;
    case JV_BIGINT:
    case JV_STRING:
        return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case JV_ARRAY:
        if (a->u.arr.n != b->u.arr.n)
            return 0;
        for (size_t i = 0; i < a->u.arr.n; i++)
            if (!jv_equal(a->u.arr.items[i], b->u.arr.items[i]))
                return 0;
        return 1;
    case JV_OBJECT:
        if (a->u.obj.n != b->u.obj.n)
            return 0;
        for (size_t i = 0; i < a->u.obj.n; i++) {
            const jv_member *x = &a->u.obj.members[i], *y = &b->u.obj.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                !jv_equal(x->value, y->value))
                return 0;
        }
        return 1;
    }
    return 0;
}

static const char *docs[] = {
    "{\"source\":\"doc.pdf\",\"page\":3,\"score\":0.25,\"neg\":-0.0,\"big\":18446744073709551616,"
    "\"tags\":[\"a\",\"b\\u0000c\"],\"emoji\":\"\\ud83d\\ude00\",\"lone\":\"\\udc01\",\"ok\":true,"
    "\"none\":null,\"nan\":NaN,\"inf\":[Infinity,-Infinity],\"tiny\":5e-324,\"huge\":1e300}",
    "[1,-1,9223372036854775807,-9223372036854775808,0.1,1e-07,1e16,123456789012345.0,\"\\\"\\\\\\n\"]",
    "{\"nested\":{\"a\":[{\"b\":[[],{}]},[1.5,[2.5,[3.5]]]],\"k\\t\":\"v\\r\"}}",
    "[\"caf\xc3\xa9\",\"\xe2\x82\xac\",\"\xf0\x9f\x98\x80\",\"\\u007f\\u001f\"]",
};

static void test_roundtrip(void)
{
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
        jv *a = parse_ok(docs[d]);
        json_out o = {0};
        jo_value(&o, a);
        cm_err err = {0};
        jv *b = json_parse(o.buf, o.len, &err);
        CHECK_MSG(b != NULL, "reparse of '%s': %s", o.buf ? o.buf : "", err.msg);
        CHECK_MSG(jv_equal(a, b), "doc %zu differs after a round trip: %s", d, o.buf ? o.buf : "");
        /* writing again gives the same text */
        json_out o2 = {0};
        jo_value(&o2, b);
        CHECK(o2.len == o.len && memcmp(o.buf, o2.buf, o.len) == 0);
        jo_free(&o2);
        jo_free(&o);
        jv_free(a);
        jv_free(b);
    }

    /* compact form */
    jv *v = parse_ok(" { \"a\" : [ 1 , 2 ] , \"b\" : { } } ");
    json_out o = {0};
    jo_value(&o, v);
    CHECK_STR(o.buf, "{\"a\":[1,2],\"b\":{}}");
    jo_free(&o);
    jv_free(v);

    /* random doubles, bit-exact */
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    int bad = 0, n = 0;
    for (int i = 0; i < 100000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double x;
        if (i % 4 == 0) {
            x = (double)(int64_t)(s >> 11) / (double)(1ULL << (s % 50));
        } else {
            uint64_t bits = s;
            memcpy(&x, &bits, sizeof x);
        }
        if (isnan(x))
            continue;
        json_out f = {0};
        jo_float(&f, x);
        cm_err err = {0};
        jv *r = json_parse(f.buf, f.len, &err);
        n++;
        if (!r || r->type != JV_FLOAT || memcmp(&r->u.f, &x, sizeof x) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "float %.17g written as %s does not read back\n", x, f.buf);
        }
        jv_free(r);
        jo_free(&f);
    }
    CHECK_MSG(bad == 0, "%d of %d doubles did not round-trip", bad, n);
}

static void float_is(double d, const char *want)
{
    json_out o = {0};
    jo_float(&o, d);
    CHECK_STR(o.buf, want);
    jo_free(&o);
}

static void test_float_repr(void)
{
    float_is(1.0, "1.0");
    float_is(0.0, "0.0");
    float_is(-0.0, "-0.0");
    float_is(0.1, "0.1");
    float_is(-2.5, "-2.5");
    float_is(1e300, "1e+300");
    float_is(1e-07, "1e-07");
    float_is(0.0001, "0.0001");
    float_is(0.00012, "0.00012");
    float_is(1e16, "1e+16");
    float_is(1e15, "1000000000000000.0");
    float_is(123456789012345.0, "123456789012345.0");
    float_is(1234567890123456.0, "1234567890123456.0");
    float_is(12345678901234568.0, "1.2345678901234568e+16");
    float_is(1e22, "1e+22");
    float_is(1.5e-10, "1.5e-10");
    float_is(0.30000000000000004, "0.30000000000000004");
    float_is(1.7976931348623157e308, "1.7976931348623157e+308");
    float_is(5e-324, "5e-324");
    float_is(1e-320, "1e-320");
    float_is(2.2250738585072014e-308, "2.2250738585072014e-308");
    float_is(1688422220.455521, "1688422220.455521");
    float_is(100.0, "100.0");
    float_is(NAN, "NaN");
    float_is(INFINITY, "Infinity");
    float_is(-INFINITY, "-Infinity");
}

/* jo_float before its fast path (issue 15): libc's correctly rounded %.*e at
 * 15, 16, 17 digits, the first strtod reads back; laid out as Python's repr.
 * The fast path must give these bytes for every value. */
static void libc_repr(double v, char *out, size_t cap)
{
    char buf[64], d[32];
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    const char *q = buf + (buf[0] == '-');
    size_t n = 0;
    for (; *q != 'e'; q++)
        if (*q != '.')
            d[n++] = *q;
    while (n > 1 && d[n - 1] == '0')
        n--;
    d[n] = 0;
    int e = atoi(q + 1);
    size_t k = 0;
    if (buf[0] == '-')
        out[k++] = '-';
    if (e >= 0 && e < 16)
        k += (size_t)snprintf(out + k, cap - k, "%.*s%.*s.%s", (int)((size_t)e + 1 < n ? (size_t)e + 1 : n), d,
                              (size_t)e + 1 > n ? (int)((size_t)e + 1 - n) : 0, "0000000000000000",
                              (size_t)e + 1 < n ? d + e + 1 : "0");
    else if (e < 0 && e >= -4)
        k += (size_t)snprintf(out + k, cap - k, "0.%.*s%s", -e - 1, "0000", d);
    else
        k += (size_t)snprintf(out + k, cap - k, "%c%s%s%se%c%02d", d[0], n > 1 ? "." : "", d + 1, "",
                              e < 0 ? '-' : '+', e < 0 ? -e : e);
    (void)k;
}

static int repr_matches(double x, int *shown)
{
    char want[64];
    libc_repr(x, want, sizeof want);
    json_out o = {0};
    jo_float(&o, x);
    int ok = strcmp(o.buf, want) == 0;
    if (!ok && (*shown)++ < 5)
        fprintf(stderr, "float %a: jo_float wrote %s, libc's shortest digits give %s\n", x, o.buf, want);
    jo_free(&o);
    return ok;
}

static void test_float_fast_path(void)
{
    uint64_t s = 0x2545f4914f6cdd1dULL;
    int bad = 0, shown = 0, n = 0;
    for (int i = 0; i < 400000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double x;
        switch (i % 5) {
        case 0: x = (double)(s >> 11) / 9007199254740992.0 * 2 - 1; break;    /* uniform [-1, 1) */
        case 1: x = (double)(float)((double)(s >> 11) / 9007199254740992.0 - 0.5); break; /* float32 */
        case 2: x = ldexp((double)(s >> 24), -(int)(s % 60)); break;            /* dyadic: ties */
        case 3: x = ldexp(1.0, (int)(s % 80) - 40) * (i & 8 ? -1 : 1); break;   /* powers of two */
        default: {
            uint64_t bits = (s & 0x800fffffffffffffULL) | ((uint64_t)(1003 + s % 50) << 52); /* 1e-6 .. 1e13 */
            memcpy(&x, &bits, sizeof x);
        }
        }
        n++;
        bad += !repr_matches(x, &shown);
        bad += !repr_matches(nextafter(x, INFINITY), &shown);
    }
    for (int e = -8; e <= 14; e++) { /* powers of ten and their neighbours, the range's edges */
        double p = pow(10, e);
        bad += !repr_matches(p, &shown) + !repr_matches(nextafter(p, 0), &shown) +
               !repr_matches(nextafter(p, INFINITY), &shown) + !repr_matches(-p, &shown);
        bad += !repr_matches(p * 9.999999999999999, &shown) + !repr_matches(p * 0.9999999999999995, &shown);
    }
    CHECK_MSG(bad == 0, "%d of %d doubles written with other digits than libc's", bad, n * 2);
}

static void str_out_is(const char *s, size_t n, const char *want)
{
    json_out o = {0};
    jo_str(&o, s, n);
    CHECK_STR(o.buf, want);
    jo_free(&o);
}

static void test_writer_strings(void)
{
    str_out_is("abc", 3, "\"abc\"");
    str_out_is("", 0, "\"\"");
    str_out_is("\"\\\b\f\n\r\t", 7, "\"\\\"\\\\\\b\\f\\n\\r\\t\"");
    str_out_is("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
    str_out_is("a\0b", 3, "\"a\\u0000b\"");
    str_out_is("/", 1, "\"/\"");
    str_out_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* invalid UTF-8: escaped per byte */
    str_out_is("\xff", 1, "\"\\u00ff\"");
    str_out_is("a\xc3", 2, "\"a\\u00c3\"");
    str_out_is("\xc0\xaf", 2, "\"\\u00c0\\u00af\"");         /* overlong */
    str_out_is("\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\""); /* overlong */
    str_out_is("\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\""); /* > U+10FFFF */
    /* WTF-8 surrogates (what the reader makes of a lone \ud800) go back to \uXXXX */
    str_out_is("\xed\xa0\x80", 3, "\"\\ud800\"");
    str_out_is("x\xed\xbf\xbfy", 5, "\"x\\udfffy\"");
    str_out_is("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\""); /* U+D7FF is valid */

    json_out o = {0};
    jo_int(&o, INT64_MIN);
    jo_raw(&o, " ", 1);
    jo_int(&o, INT64_MAX);
    jo_cstr(&o, " ");
    jo_int(&o, 0);
    CHECK_STR(o.buf, "-9223372036854775808 9223372036854775807 0");
    jo_free(&o);
}

/* Every proper prefix of a document that starts with '{', '[' or '"' is
 * invalid: parsing it must fail cleanly (and never crash). */
static void test_truncation(void)
{
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
        size_t n = strlen(docs[d]);
        int fails = 0;
        for (size_t k = 0; k < n; k++) {
            char *copy = malloc(k ? k : 1); /* exact size: ASan catches overreads */
            memcpy(copy, docs[d], k);
            cm_err err = {0};
            jv *v = json_parse(copy, k, &err);
            if (!v && err.set && strstr(err.msg, "at byte"))
                fails++;
            jv_free(v);
            free(copy);
        }
        CHECK_MSG(fails == (int)n, "doc %zu: %d of %zu prefixes failed cleanly", d, fails, n);
    }
    /* and every single-byte corruption must not crash either */
    const char *doc = docs[0];
    size_t n = strlen(doc);
    char *copy = malloc(n);
    static const char repl[] = {'\0', '"', '\\', '{', ']', 'x', '\x80', '9'};
    for (size_t k = 0; k < n; k++) {
        for (size_t r = 0; r < sizeof repl; r++) {
            memcpy(copy, doc, n);
            copy[k] = repl[r];
            cm_err err = {0};
            jv *v = json_parse(copy, n, &err);
            jv_free(v);
        }
    }
    free(copy);
    CHECK(1);
}

int main(void)
{
    test_strings();
    test_numbers();
    test_structure();
    test_depth();
    test_roundtrip();
    test_float_repr();
    test_float_fast_path();
    test_writer_strings();
    test_truncation();
    return check_done("test_json");
}
