/* json.h - a JSON reader and writer that keep what a migration must keep.
 *
 * A leaf module (no Chroma knowledge). Unlike general-purpose libraries it
 * preserves the distinctions Chroma metadata depends on:
 *   - numbers: an integer literal that fits int64 is JV_INT; a literal with
 *     '.', 'e' or 'E' is JV_FLOAT (so 1.0 stays a float, -0.0 keeps its sign);
 *     an integer literal outside int64 is JV_BIGINT (its text is kept);
 *   - Python's json.dumps extensions NaN, Infinity, -Infinity are accepted as
 *     JV_FLOAT with the non-finite value (callers decide whether to allow them);
 *   - strings are bytes with a length: "\u0000" gives a NUL byte; \uD83D\uDE00
 *     surrogate pairs become one 4-byte UTF-8 sequence; a lone surrogate is
 *     encoded as WTF-8 (3 bytes) rather than rejected, as Python does;
 *   - objects keep their keys in document order (duplicates: the last wins,
 *     as in Python, but the position of the first is kept).
 * Nesting depth is limited (JSON_MAX_DEPTH) so hostile input cannot exhaust
 * the stack. */
#ifndef CM_FORMAT_JSON_H
#define CM_FORMAT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

#define JSON_MAX_DEPTH 512

typedef enum jv_type {
    JV_NULL,
    JV_BOOL,
    JV_INT,
    JV_BIGINT,
    JV_FLOAT,
    JV_STRING,
    JV_ARRAY,
    JV_OBJECT,
} jv_type;

typedef struct jv jv;

typedef struct jv_member {
    char *key; /* NUL-terminated copy; may also contain NULs: use key_len */
    size_t key_len;
    jv *value;
} jv_member;

struct jv {
    jv_type type;
    union {
        int b;
        int64_t i;
        double f;
        struct {
            char *s; /* NUL-terminated for convenience; may contain NULs */
            size_t len;
        } str;      /* JV_STRING, and JV_BIGINT (the literal's text) */
        struct {
            jv **items;
            size_t n;
        } arr;
        struct {
            jv_member *members;
            size_t n;
        } obj;
    } u;
};

/* Parses exactly one JSON value (surrounding whitespace allowed). On error
 * returns NULL and sets a message with the byte offset. */
jv *json_parse(const char *text, size_t len, cm_err *err);
void jv_free(jv *v);

/* Object member lookup by NUL-terminated key; NULL if absent or not object. */
jv *jv_get(const jv *obj, const char *key);

/* ---- writing ---- */

typedef struct json_out {
    char *buf;
    size_t len, cap;
} json_out;

void jo_raw(json_out *o, const char *s, size_t n);
void jo_cstr(json_out *o, const char *s);          /* raw, NUL-terminated */
/* A JSON string literal: escapes ", \, control characters (\b \f \n \r \t,
 * others as \u00XX); DEL and valid UTF-8 are copied as they are. A WTF-8
 * surrogate (what the reader makes of a lone "\ud800") is written back as
 * its \uXXXX escape, so parse -> write -> parse keeps the bytes. Any other
 * invalid UTF-8 byte is escaped as \u00XX so the output is always valid
 * JSON (it then reads back as U+00XX, i.e. the bytes change). */
void jo_str(json_out *o, const char *s, size_t n);
void jo_int(json_out *o, int64_t v);
/* The shortest text that reads back to the same double ("1.0" for integral
 * values, so a float stays a float); NaN/Infinity written as Python does. */
void jo_float(json_out *o, double v);
/* Writes any parsed value back (compact form, ", " not used). */
void jo_value(json_out *o, const jv *v);
/* The same walk in another dialect: the separators between items and after
 * a key, and how floats and strings are written (core/python_json.c writes
 * Python's json.dumps this way). */
typedef struct jo_style {
    const char *item_sep, *key_sep;
    void (*num)(json_out *o, double v);
    void (*str)(json_out *o, const char *s, size_t n);
} jo_style;
void jo_value_as(json_out *o, const jv *v, const jo_style *st);
void jo_free(json_out *o);

#endif
