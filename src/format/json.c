/* json.c - the JSON reader and writer described in json.h.
 *
 * Reader: recursive descent over a byte buffer with an explicit depth limit.
 * Every value consumes at least one input byte and every decoded string is no
 * longer than its literal, so memory use is linear in the input size.
 *
 * Writer: appends to a growable buffer (json_out). Strings are written with
 * the minimum escaping; floats with the shortest round-tripping digits in
 * Python's repr() layout. */
#include "json.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/hex.h"
#include "../util/mem.h"
#include "../util/utf8.h"

/* ------------------------------------------------------------------------ */
/* reader                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct jp {
    const unsigned char *s;
    size_t len, pos;
    int depth;
    cm_err *err;
} jp;

static jv *parse_value(jp *p);

/* Describes the byte at the current position for error messages. */
static void describe_here(const jp *p, char *out, size_t cap)
{
    if (p->pos >= p->len) {
        snprintf(out, cap, "end of input");
        return;
    }
    unsigned char c = p->s[p->pos];
    if (c >= 0x20 && c < 0x7f && c != '\'')
        snprintf(out, cap, "'%c'", c);
    else
        snprintf(out, cap, "byte 0x%02x", c);
}

static void *fail_expected(jp *p, const char *what)
{
    char here[32];
    describe_here(p, here, sizeof here);
    cm_err_set(p->err, "JSON: at byte %zu: expected %s, found %s", p->pos, what, here);
    return NULL;
}

static void skip_ws(jp *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static jv *new_jv(jv_type t)
{
    jv *v = xcalloc(1, sizeof *v);
    v->type = t;
    return v;
}

static int match_word(jp *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

/* Reads 4 hex digits at p->pos; -1 (error set) if they are not there. */
static long read_hex4(jp *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        if (p->pos >= p->len) {
            fail_expected(p, "4 hex digits after \\u");
            return -1;
        }
        int h = cm_hex_digit(p->s[p->pos]);
        if (h < 0) {
            fail_expected(p, "4 hex digits after \\u");
            return -1;
        }
        v = v * 16 + h;
        p->pos++;
    }
    return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) { /* includes lone surrogates: WTF-8 */
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses a string literal starting at the opening quote. On success returns
 * a malloc'ed NUL-terminated buffer and its length. */
static char *parse_string_raw(jp *p, size_t *out_len)
{
    if (p->pos >= p->len || p->s[p->pos] != '"')
        return fail_expected(p, "'\"'");
    size_t start = ++p->pos;
    /* Find the closing quote to size the buffer: decoded <= literal. */
    size_t end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len) {
        /* Let the decoding loop below report the exact problem, but make sure
         * it stops at the end of input. */
        end = p->len;
    }
    char *buf = xmalloc(end - start + 1);
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len) {
            free(buf);
            cm_err_set(p->err, "JSON: at byte %zu: unterminated string (started at byte %zu)", p->pos,
                       start - 1);
            return NULL;
        }
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            free(buf);
            cm_err_set(p->err, "JSON: at byte %zu: raw control character 0x%02x inside a string (must be escaped)",
                       p->pos, c);
            return NULL;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        if (p->pos >= p->len) {
            free(buf);
            cm_err_set(p->err, "JSON: at byte %zu: unterminated string (started at byte %zu)", p->pos,
                       start - 1);
            return NULL;
        }
        c = p->s[p->pos++];
        switch (c) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            long cp = read_hex4(p);
            if (cp < 0) {
                free(buf);
                return NULL;
            }
            if (cp >= 0xd800 && cp <= 0xdbff && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
                p->s[p->pos + 1] == 'u') {
                size_t save = p->pos;
                p->pos += 2;
                long lo = read_hex4(p);
                if (lo < 0) {
                    free(buf);
                    return NULL;
                }
                if (lo >= 0xdc00 && lo <= 0xdfff)
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                else
                    p->pos = save; /* lone high surrogate; the next escape stands alone */
            }
            n += put_utf8(buf + n, (unsigned long)cp);
            break;
        }
        default:
            p->pos--;
            free(buf);
            return fail_expected(p, "an escape character (one of \"\\/bfnrtu)");
        }
    }
    buf[n] = '\0';
    *out_len = n;
    return buf;
}

static jv *parse_number(jp *p)
{
    size_t start = p->pos;
    int neg = 0, is_float = 0;
    if (p->s[p->pos] == '-') {
        neg = 1;
        p->pos++;
        if (match_word(p, "Infinity")) {
            jv *v = new_jv(JV_FLOAT);
            v->u.f = -INFINITY;
            return v;
        }
    }
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return fail_expected(p, "a digit");
    size_t int_start = p->pos;
    if (p->s[p->pos] == '0') {
        p->pos++;
    } else {
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    }
    size_t int_end = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        is_float = 1;
        p->pos++;
        if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return fail_expected(p, "a digit after '.'");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        is_float = 1;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return fail_expected(p, "a digit in the exponent");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    }
    size_t lit_len = p->pos - start;
    if (is_float) {
        char small[64];
        char *copy = lit_len < sizeof small ? small : xmalloc(lit_len + 1);
        memcpy(copy, p->s + start, lit_len);
        copy[lit_len] = '\0';
        char *endp = NULL;
        errno = 0;
        double d = strtod(copy, &endp);
        /* ERANGE: overflow gives +-inf (as Python's float()), underflow a
         * denormal or signed zero: both are the correctly rounded value. */
        int ok = endp == copy + lit_len;
        if (copy != small)
            free(copy);
        if (!ok) {
            p->pos = start;
            return fail_expected(p, "a number");
        }
        jv *v = new_jv(JV_FLOAT);
        v->u.f = d;
        return v;
    }
    /* Integer: exact, or JV_BIGINT with its text. */
    uint64_t mag = 0;
    int overflow = 0;
    for (size_t i = int_start; i < int_end; i++) {
        unsigned dgt = (unsigned)(p->s[i] - '0');
        if (mag > (UINT64_MAX - dgt) / 10) {
            overflow = 1;
            break;
        }
        mag = mag * 10 + dgt;
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (overflow || mag > limit) {
        jv *v = new_jv(JV_BIGINT);
        v->u.str.s = xmemdup0(p->s + start, lit_len);
        v->u.str.len = lit_len;
        return v;
    }
    jv *v = new_jv(JV_INT);
    if (neg)
        v->u.i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    else
        v->u.i = (int64_t)mag;
    return v;
}

static jv *parse_array(jp *p)
{
    p->pos++; /* '[' */
    jv *v = new_jv(JV_ARRAY);
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return v;
    }
    for (;;) {
        skip_ws(p);
        jv *item = parse_value(p);
        if (!item) {
            jv_free(v);
            return NULL;
        }
        v->u.arr.items = xgrow(v->u.arr.items, &cap, v->u.arr.n + 1, sizeof *v->u.arr.items);
        v->u.arr.items[v->u.arr.n++] = item;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return v;
        }
        jv_free(v);
        return fail_expected(p, "',' or ']' in an array");
    }
}

/* FNV-1a, for duplicate-key detection in large objects. */
static uint64_t key_hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return h;
}

typedef struct keyidx {
    size_t *slots; /* member index + 1; 0 = empty */
    size_t cap;    /* power of two, or 0 while the object is small */
} keyidx;

#define SMALL_OBJECT 16

static void keyidx_insert(keyidx *ix, const jv_member *m, size_t idx)
{
    size_t mask = ix->cap - 1;
    size_t h = (size_t)key_hash(m[idx].key, m[idx].key_len) & mask;
    while (ix->slots[h])
        h = (h + 1) & mask;
    ix->slots[h] = idx + 1;
}

static void keyidx_rebuild(keyidx *ix, const jv_member *m, size_t n)
{
    size_t cap = 64;
    while (cap < n * 2 + 2)
        cap *= 2;
    free(ix->slots);
    ix->slots = xcalloc(cap, sizeof *ix->slots);
    ix->cap = cap;
    for (size_t i = 0; i < n; i++)
        keyidx_insert(ix, m, i);
}

/* Index of an existing member with this key, or (size_t)-1. */
static size_t find_member(const keyidx *ix, const jv_member *m, size_t n, const char *k, size_t kl)
{
    if (!ix->cap) {
        for (size_t i = 0; i < n; i++)
            if (m[i].key_len == kl && memcmp(m[i].key, k, kl) == 0)
                return i;
        return (size_t)-1;
    }
    size_t mask = ix->cap - 1;
    size_t h = (size_t)key_hash(k, kl) & mask;
    while (ix->slots[h]) {
        size_t i = ix->slots[h] - 1;
        if (m[i].key_len == kl && memcmp(m[i].key, k, kl) == 0)
            return i;
        h = (h + 1) & mask;
    }
    return (size_t)-1;
}

static jv *parse_object(jp *p)
{
    p->pos++; /* '{' */
    jv *v = new_jv(JV_OBJECT);
    size_t cap = 0;
    keyidx ix = {0};
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return v;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            fail_expected(p, "a string key in an object");
            goto fail;
        }
        size_t kl = 0;
        char *k = parse_string_raw(p, &kl);
        if (!k)
            goto fail;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            free(k);
            fail_expected(p, "':' after an object key");
            goto fail;
        }
        p->pos++;
        skip_ws(p);
        jv *val = parse_value(p);
        if (!val) {
            free(k);
            goto fail;
        }
        size_t n = v->u.obj.n;
        size_t at = find_member(&ix, v->u.obj.members, n, k, kl);
        if (at != (size_t)-1) {
            /* Duplicate: the last value wins, the first position stays. */
            free(k);
            jv_free(v->u.obj.members[at].value);
            v->u.obj.members[at].value = val;
        } else {
            v->u.obj.members = xgrow(v->u.obj.members, &cap, n + 1, sizeof *v->u.obj.members);
            v->u.obj.members[n].key = k;
            v->u.obj.members[n].key_len = kl;
            v->u.obj.members[n].value = val;
            v->u.obj.n = n + 1;
            if (ix.cap) {
                if ((n + 1) * 2 >= ix.cap)
                    keyidx_rebuild(&ix, v->u.obj.members, n + 1);
                else
                    keyidx_insert(&ix, v->u.obj.members, n);
            } else if (n + 1 > SMALL_OBJECT) {
                keyidx_rebuild(&ix, v->u.obj.members, n + 1);
            }
        }
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            free(ix.slots);
            return v;
        }
        fail_expected(p, "',' or '}' in an object");
        goto fail;
    }
fail:
    free(ix.slots);
    jv_free(v);
    return NULL;
}

static jv *parse_value(jp *p)
{
    if (p->pos >= p->len)
        return fail_expected(p, "a value");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[': {
        if (p->depth >= JSON_MAX_DEPTH) {
            cm_err_set(p->err, "JSON: at byte %zu: nesting deeper than %d levels", p->pos, JSON_MAX_DEPTH);
            return NULL;
        }
        p->depth++;
        jv *v = c == '{' ? parse_object(p) : parse_array(p);
        p->depth--;
        return v;
    }
    case '"': {
        size_t n = 0;
        char *s = parse_string_raw(p, &n);
        if (!s)
            return NULL;
        jv *v = new_jv(JV_STRING);
        v->u.str.s = s;
        v->u.str.len = n;
        return v;
    }
    case 't':
        if (match_word(p, "true")) {
            jv *v = new_jv(JV_BOOL);
            v->u.b = 1;
            return v;
        }
        break;
    case 'f':
        if (match_word(p, "false"))
            return new_jv(JV_BOOL);
        break;
    case 'n':
        if (match_word(p, "null"))
            return new_jv(JV_NULL);
        break;
    case 'N':
        if (match_word(p, "NaN")) {
            jv *v = new_jv(JV_FLOAT);
            v->u.f = NAN;
            return v;
        }
        break;
    case 'I':
        if (match_word(p, "Infinity")) {
            jv *v = new_jv(JV_FLOAT);
            v->u.f = INFINITY;
            return v;
        }
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p);
        break;
    }
    return fail_expected(p, "a value");
}

jv *json_parse(const char *text, size_t len, cm_err *err)
{
    jp p = {(const unsigned char *)text, len, 0, 0, err};
    if (!text && len) {
        cm_err_set(err, "JSON: no input");
        return NULL;
    }
    skip_ws(&p);
    jv *v = parse_value(&p);
    if (!v)
        return NULL;
    skip_ws(&p);
    if (p.pos != p.len) {
        jv_free(v);
        return fail_expected(&p, "end of input after the value");
    }
    return v;
}

void jv_free(jv *v)
{
    if (!v)
        return;
    switch (v->type) {
    case JV_STRING:
    case JV_BIGINT:
        free(v->u.str.s);
        break;
    case JV_ARRAY:
        for (size_t i = 0; i < v->u.arr.n; i++)
            jv_free(v->u.arr.items[i]);
        free(v->u.arr.items);
        break;
    case JV_OBJECT:
        for (size_t i = 0; i < v->u.obj.n; i++) {
            free(v->u.obj.members[i].key);
            jv_free(v->u.obj.members[i].value);
        }
        free(v->u.obj.members);
        break;
    default:
        break;
    }
    free(v);
}

jv *jv_get(const jv *obj, const char *key)
{
    if (!obj || obj->type != JV_OBJECT || !key)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const jv_member *m = &obj->u.obj.members[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
            return m->value;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* writer                                                                    */
/* ------------------------------------------------------------------------ */

void jo_raw(json_out *o, const char *s, size_t n)
{
    /* Keep one spare byte so buf is always NUL-terminated. */
    o->buf = xgrow(o->buf, &o->cap, o->len + n + 1, 1);
    if (n)
        memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

void jo_cstr(json_out *o, const char *s)
{
    jo_raw(o, s, strlen(s));
}


static void jo_u4(json_out *o, unsigned v)
{
    char b[8];
    snprintf(b, sizeof b, "\\u%04x", v & 0xffffu);
    jo_raw(o, b, 6);
}

void jo_str(json_out *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    jo_raw(o, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes copied as they are */
    size_t i = 0;
    unsigned unit;
    while (i < n) {
        unsigned char c = u[i];
        const char *esc = NULL;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t k = utf8_seq(u + i, n - i);
            if (k) {
                i += k;
                continue;
            }
        }
        jo_raw(o, s + run, i - run);
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc) {
            jo_raw(o, esc, 2);
            i++;
        } else if (utf8_surrogate_at(u + i, n - i, &unit)) {
            /* WTF-8 lone surrogate (as the reader produces for "\udXXX"). */
            jo_u4(o, unit);
            i += 3;
        } else {
            jo_u4(o, c); /* control character or an invalid UTF-8 byte */
            i++;
        }
        run = i;
    }
    jo_raw(o, s + run, n - run);
    jo_raw(o, "\"", 1);
}

void jo_int(json_out *o, int64_t v)
{
    char b[32];
    int k = snprintf(b, sizeof b, "%" PRId64, v);
    jo_raw(o, b, (size_t)k);
}

/* Shortest digits, the slow exact way: libc's correctly rounded %.*e at 15,
 * 16, then 17 significant digits, the first that strtod reads back to v. */
static void shortest_digits_libc(double v, char *digits, size_t cap, int *exp10, int *neg)
{
    char buf[64];
    /* Precisions below 15 never give a shorter result than 15 does once
     * trailing zeros are stripped (DBL_DIG), so start there; 17 always
     * round-trips. Subnormals carry fewer bits: search them from 1. */
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    const char *q = buf;
    *neg = 0;
    if (*q == '-') {
        *neg = 1;
        q++;
    }
    size_t n = 0;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && n + 1 < cap)
            digits[n++] = *q;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *exp10 = *q == 'e' ? atoi(q + 1) : 0;
}

/* The same digits without libc's arbitrary-precision printf and strtod
 * (which made export ~40x slower than reading): for a normal v with
 * 1e-6 <= |v| < 1e12 - nearly every embedding value - v = m * 2^-s exactly
 * (m < 2^53), so m * 10^k for k <= 22 fits in 128 bits, and both the
 * correctly rounded p-digit decimal q (round half to even, as printf) and
 * whether it reads back to v (its distance to v against half the gap to
 * v's neighbour, ties to the even mantissa, as strtod) are exact integer
 * arithmetic. Same choice of p as shortest_digits_libc, so the same bytes. */
__extension__ typedef unsigned __int128 u128;

#define P10(k) ((u128)1000000000000000000ull * k)
static const u128 pow10_tab[23] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
                                   100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
                                   1000000000000ull, 10000000000000ull, 100000000000000ull,
                                   1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
                                   1000000000000000000ull, P10(10ull), P10(100ull), P10(1000ull), P10(10000ull)};

/* q = round(m * 10^k / 2^s) and 1 if q reads back to m * 2^-s; m is the
 * 53-bit mantissa. */
static int round_digits(uint64_t m, int s, int k, uint64_t *q)
{
    u128 n = (u128)m * pow10_tab[k];
    u128 half = (u128)1 << (s - 1), low = ((u128)1 << s) - 1;
    uint64_t fl = (uint64_t)(n >> s);
    u128 r = n & low;
    int up = r > half || (r == half && (fl & 1));
    *q = fl + (uint64_t)up;
    u128 diff = up ? ((u128)1 << s) - r : r;
    /* Reads back iff diff < 10^k / 2 (10^k/4 below v when m = 2^52: the
     * gap below a power of two is half as wide); on the boundary strtod
     * picks the even mantissa. */
    u128 lim = (!up && m == ((uint64_t)1 << 52)) ? pow10_tab[k] / 4 : pow10_tab[k] / 2;
    return diff < lim || (diff == lim && (m & 1) == 0);
}

/* The decimal exponent of a = m * 2^-s (10^e <= a < 10^(e+1)), estimated
 * from the binary one and corrected by the exact 15-digit floor; -99 when
 * out of the fast range. */
static int exact_e10(uint64_t m, int s)
{
    /* log10(2^(52-s)) rounded down: off by at most one, corrected below */
    int e = (int)floor((52 - s) * 0.30102999566398120);
    for (int tries = 0; tries < 3; tries++) {
        int k = 14 - e;
        if (k < 2 || k > 22)
            return -99;
        uint64_t fl = (uint64_t)(((u128)m * pow10_tab[k]) >> s);
        if (fl < (uint64_t)pow10_tab[14])
            e--;
        else if (fl >= (uint64_t)pow10_tab[15])
            e++;
        else
            return e;
    }
    return -99;
}

/* 0 if v is outside the fast range (the caller then asks libc). */
static int shortest_digits_fast(double v, char *digits, size_t cap, int *exp10, int *neg)
{
    double a = fabs(v);
    if (!(a >= 1e-6 && a < 1e12) || cap < 20)
        return 0;
    /* a = m * 2^-s from its bits (a is normal here): the 52 stored mantissa
     * bits plus the implicit one, and the biased exponent. */
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    int s = 1075 - (int)(bits >> 52);
    int e10 = exact_e10(m, s);
    if (e10 < -6 || e10 > 12)
        return 0;
    uint64_t q = 0;
    int p = 15;
    for (; p < 17 && !round_digits(m, s, p - 1 - e10, &q); p++)
        ;
    if (p == 17)
        (void)round_digits(m, s, 16 - e10, &q);
    if (q == (uint64_t)pow10_tab[p]) { /* 9.99...5 rounded up to 10.0 */
        q = 1;
        p = 1;
        e10++;
    }
    static const char two[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";
    int i = p - 1;
    for (; i >= 1; i -= 2) { /* two digits per division */
        memcpy(digits + i - 1, two + 2 * (q % 100), 2);
        q /= 100;
    }
    if (i == 0)
        digits[0] = (char)('0' + q);
    while (p > 1 && digits[p - 1] == '0')
        p--;
    digits[p] = '\0';
    *exp10 = e10;
    *neg = v < 0;
    return p;
}

/* The shortest digits of v that read back to it; returns how many. */
static size_t shortest_digits(double v, char *digits, size_t cap, int *exp10, int *neg)
{
    int n = shortest_digits_fast(v, digits, cap, exp10, neg);
    if (n > 0)
        return (size_t)n;
    shortest_digits_libc(v, digits, cap, exp10, neg);
    return strlen(digits);
}

void jo_float(json_out *o, double v)
{
    if (isnan(v)) {
        jo_raw(o, "NaN", 3);
        return;
    }
    if (isinf(v)) {
        if (v > 0)
            jo_raw(o, "Infinity", 8);
        else
            jo_raw(o, "-Infinity", 9);
        return;
    }
    char digits[32];
    int e = 0, neg = 0;
    size_t nd = shortest_digits(v, digits, sizeof digits, &e, &neg);
    /* Written straight into the buffer: at most 1 + 17 + 1 + 20 bytes. */
    o->buf = xgrow(o->buf, &o->cap, o->len + 64, 1);
    char *out = o->buf + o->len;
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    if (e >= -4 && e < 16) { /* Python repr: fixed notation for -4 <= e < 16 */
        if (e >= 0) {
            for (int i = 0; i <= e; i++)
                out[k++] = (size_t)i < nd ? digits[i] : '0';
            out[k++] = '.';
            if ((size_t)e + 1 < nd) {
                for (size_t i = (size_t)e + 1; i < nd; i++)
                    out[k++] = digits[i];
            } else {
                out[k++] = '0';
            }
        } else {
            out[k++] = '0';
            out[k++] = '.';
            for (int i = 0; i < -e - 1; i++)
                out[k++] = '0';
            for (size_t i = 0; i < nd; i++)
                out[k++] = digits[i];
        }
    } else {
        out[k++] = digits[0];
        if (nd > 1) {
            out[k++] = '.';
            for (size_t i = 1; i < nd; i++)
                out[k++] = digits[i];
        }
        k += (size_t)snprintf(out + k, 16, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    o->len += k;
    o->buf[o->len] = '\0';
}

/* Recursion depth follows the tree: parsed trees are at most JSON_MAX_DEPTH
 * deep; trees built by code are the caller's. */
void jo_value_as(json_out *o, const jv *v, const jo_style *st)
{
    if (!v) {
        jo_raw(o, "null", 4);
        return;
    }
    switch (v->type) {
    case JV_NULL: jo_raw(o, "null", 4); break;
    case JV_BOOL: jo_cstr(o, v->u.b ? "true" : "false"); break;
    case JV_INT: jo_int(o, v->u.i); break;
    case JV_BIGINT: jo_raw(o, v->u.str.s, v->u.str.len); break;
    case JV_FLOAT: st->num(o, v->u.f); break;
    case JV_STRING: st->str(o, v->u.str.s, v->u.str.len); break;
    case JV_ARRAY:
        jo_raw(o, "[", 1);
        for (size_t i = 0; i < v->u.arr.n; i++) {
            if (i)
                jo_cstr(o, st->item_sep);
            jo_value_as(o, v->u.arr.items[i], st);
        }
        jo_raw(o, "]", 1);
        break;
    case JV_OBJECT:
        jo_raw(o, "{", 1);
        for (size_t i = 0; i < v->u.obj.n; i++) {
            if (i)
                jo_cstr(o, st->item_sep);
            st->str(o, v->u.obj.members[i].key, v->u.obj.members[i].key_len);
            jo_cstr(o, st->key_sep);
            jo_value_as(o, v->u.obj.members[i].value, st);
        }
        jo_raw(o, "}", 1);
        break;
    }
}

void jo_value(json_out *o, const jv *v)
{
    static const jo_style compact = {",", ":", jo_float, jo_str};
    jo_value_as(o, v, &compact);
}

void jo_free(json_out *o)
{
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
}
