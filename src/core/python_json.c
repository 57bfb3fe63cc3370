/* python_json.c - Python's json.dumps dialect on top of format/json.c's
 * value walker: ", " and ": " separators, ASCII only with \\uXXXX escapes
 * (surrogate pairs above U+FFFF), floats as repr() writes them. */
#include "python_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

/* Decodes one UTF-8 sequence; invalid bytes decode as themselves (Latin-1). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n) {
        *cp = c;
        return 1;
    }
    unsigned v = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

static void py_str(json_out *o, const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    char tmp[16];
    jo_raw(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t k = utf8_next(s + i, n - i, &cp);
        i += k;
        switch (cp) {
        case '"': jo_raw(o, "\\\"", 2); continue;
        case '\\': jo_raw(o, "\\\\", 2); continue;
        case '\n': jo_raw(o, "\\n", 2); continue;
        case '\r': jo_raw(o, "\\r", 2); continue;
        case '\t': jo_raw(o, "\\t", 2); continue;
        case '\b': jo_raw(o, "\\b", 2); continue;
        case '\f': jo_raw(o, "\\f", 2); continue;
        default: break;
        }
        if (cp >= 0x20 && cp < 0x7f) {
            char c = (char)cp;
            jo_raw(o, &c, 1);
        } else if (cp < 0x10000) {
            snprintf(tmp, sizeof tmp, "\\u%04x", cp);
            jo_cstr(o, tmp);
        } else {
            unsigned v = cp - 0x10000;
            snprintf(tmp, sizeof tmp, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
            jo_cstr(o, tmp);
        }
    }
    jo_raw(o, "\"", 1);
}

static void py_float(json_out *o, double f)
{
    if (isnan(f))
        jo_cstr(o, "NaN");
    else if (isinf(f))
        jo_cstr(o, f > 0 ? "Infinity" : "-Infinity");
    else
        jo_float(o, f);
}

void cm_python_dumps(json_out *o, const jv *v)
{
    static const jo_style python = {", ", ": ", py_float, py_str};
    jo_value_as(o, v, &python);
}

char *cm_python_dumps_mval(const cm_mval *v)
{
    json_out o = {0};
    switch (v->type) {
    case CM_M_NESTED: {
        jv *parsed = json_parse(v->s, v->s_len, NULL);
        if (parsed) {
            cm_python_dumps(&o, parsed);
            jv_free(parsed);
        } else {
            jo_raw(&o, v->s, v->s_len);
        }
        break;
    }
    case CM_M_NULL: jo_cstr(&o, "null"); break;
    case CM_M_BIGINT: jo_raw(&o, v->s, v->s_len); break;
    case CM_M_FLOAT: py_float(&o, v->f); break;
    case CM_M_INT: jo_int(&o, v->i); break;
    case CM_M_BOOL: jo_cstr(&o, v->b ? "true" : "false"); break;
    case CM_M_STR: py_str(&o, v->s, v->s_len); break;
    }
    char *r = xmemdup0(o.buf ? o.buf : "", o.len);
    jo_free(&o);
    return r;
}
