/* thrift_compact.c - see thrift_compact.h. */
#include "thrift_compact.h"

#include <string.h>

void tc_init(tc_reader *r, const void *buf, size_t len, cm_err *err)
{
    r->base = r->p = buf;
    r->end = r->base + len;
    r->depth = 0;
    r->eof = 0;
    r->err = err;
}

size_t tc_pos(const tc_reader *r)
{
    return (size_t)(r->p - r->base);
}

static int truncated(tc_reader *r, const char *what)
{
    r->eof = 1;
    return cm_err_set(r->err, "thrift: %s runs past the end of the data (%zu bytes)", what,
                      (size_t)(r->end - r->base));
}

static int bad(tc_reader *r, const char *what)
{
    r->eof = 0;
    return cm_err_set(r->err, "thrift: %s at byte %zu", what, tc_pos(r));
}

int tc_varint(tc_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return truncated(r, "varint");
        uint8_t b = *r->p++;
        /* the 10th byte may only carry the top bit of a 64-bit value */
        if (shift == 63 && b > 1)
            return bad(r, "varint longer than 64 bits");
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return bad(r, "varint longer than 10 bytes");
}

static int64_t unzigzag(uint64_t u)
{
    /* done in unsigned arithmetic: no signed overflow for any input */
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

int tc_int(tc_reader *r, int type, int64_t *v)
{
    uint64_t u;
    switch (type) {
    case TC_I8:
        if (r->p >= r->end)
            return truncated(r, "i8");
        *v = (int8_t)*r->p++;
        return 0;
    case TC_I16:
    case TC_I32:
    case TC_I64:
        if (tc_varint(r, &u) < 0)
            return -1;
        *v = unzigzag(u);
        if (type == TC_I16 && (*v < INT16_MIN || *v > INT16_MAX))
            return bad(r, "i16 out of range");
        if (type == TC_I32 && (*v < INT32_MIN || *v > INT32_MAX))
            return bad(r, "i32 out of range");
        return 0;
    default:
        return bad(r, "integer expected");
    }
}

int tc_double(tc_reader *r, double *v)
{
    if (r->end - r->p < 8)
        return truncated(r, "double");
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | r->p[i];
    memcpy(v, &u, sizeof *v);
    r->p += 8;
    return 0;
}

int tc_binary(tc_reader *r, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (tc_varint(r, &len) < 0)
        return -1;
    if (len > (uint64_t)(r->end - r->p))
        return truncated(r, "binary value");
    *p = r->p;
    *n = (size_t)len;
    r->p += len;
    return 0;
}

int tc_bool_elem(tc_reader *r, int *v)
{
    if (r->p >= r->end)
        return truncated(r, "bool");
    /* writers use 1 for true and 0 or 2 for false */
    *v = *r->p++ == 1;
    return 0;
}

static int enter(tc_reader *r)
{
    if (r->depth >= TC_MAX_DEPTH)
        return bad(r, "nesting deeper than 64 levels");
    r->depth++;
    return 0;
}

int tc_struct_begin(tc_reader *r, int16_t *last_id)
{
    *last_id = 0;
    return enter(r);
}

int tc_field(tc_reader *r, int16_t *last_id, int16_t *id, int *type)
{
    if (r->p >= r->end)
        return truncated(r, "struct");
    uint8_t b = *r->p++;
    int t = b & 0x0f, delta = b >> 4;
    if (t == TC_STOP) {
        if (delta)
            return bad(r, "bad field header");
        r->depth--;
        return 0;
    }
    if (t > TC_STRUCT)
        return bad(r, "unknown field type");
    if (delta) {
        /* short form: the id is relative to the previous field's */
        int nid = *last_id + delta;
        if (nid > INT16_MAX)
            return bad(r, "field id out of range");
        *id = (int16_t)nid;
    } else {
        int64_t v;
        if (tc_int(r, TC_I16, &v) < 0)
            return -1;
        *id = (int16_t)v;
    }
    *last_id = *id;
    *type = t;
    return 1;
}

static int elem_type_ok(int t)
{
    /* inside containers bool has no value in the type: either 1 or 2 means bool */
    return t >= TC_TRUE && t <= TC_STRUCT;
}

int tc_list_begin(tc_reader *r, int *elem_type, uint32_t *n)
{
    if (r->p >= r->end)
        return truncated(r, "list header");
    uint8_t b = *r->p++;
    uint64_t size = b >> 4;
    if (size == 15 && tc_varint(r, &size) < 0)
        return -1;
    *elem_type = b & 0x0f;
    if (!elem_type_ok(*elem_type))
        return bad(r, "unknown list element type");
    /* every element takes at least one byte */
    if (size > (uint64_t)(r->end - r->p))
        return size > UINT32_MAX ? bad(r, "list size out of range") : truncated(r, "list");
    *n = (uint32_t)size;
    return enter(r);
}

int tc_map_begin(tc_reader *r, int *key_type, int *val_type, uint32_t *n)
{
    uint64_t size;
    if (tc_varint(r, &size) < 0)
        return -1;
    *key_type = *val_type = 0;
    if (size) {
        if (r->p >= r->end)
            return truncated(r, "map header");
        uint8_t b = *r->p++;
        *key_type = b >> 4;
        *val_type = b & 0x0f;
        if (!elem_type_ok(*key_type) || !elem_type_ok(*val_type))
            return bad(r, "unknown map key or value type");
        /* a key and a value take at least one byte each */
        if (size > (uint64_t)(r->end - r->p) / 2)
            return size > UINT32_MAX ? bad(r, "map size out of range") : truncated(r, "map");
    }
    *n = (uint32_t)size;
    return enter(r);
}

void tc_container_end(tc_reader *r)
{
    r->depth--;
}

int tc_skip(tc_reader *r, int type)
{
    int64_t iv;
    double dv;
    const uint8_t *bp;
    size_t bn;
    int et, kt, vt, bv;
    uint32_t n;
    int16_t last, id;
    int k;
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        /* as a field the value was in the type; as an element use tc_bool_elem */
        return 0;
    case TC_I8:
    case TC_I16:
    case TC_I32:
    case TC_I64:
        return tc_int(r, type, &iv);
    case TC_DOUBLE:
        return tc_double(r, &dv);
    case TC_BINARY:
        return tc_binary(r, &bp, &bn);
    case TC_LIST:
    case TC_SET:
        if (tc_list_begin(r, &et, &n) < 0)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            if ((et == TC_TRUE || et == TC_FALSE ? tc_bool_elem(r, &bv) : tc_skip(r, et)) < 0)
                return -1;
        tc_container_end(r);
        return 0;
    case TC_MAP:
        if (tc_map_begin(r, &kt, &vt, &n) < 0)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            if ((kt == TC_TRUE || kt == TC_FALSE ? tc_bool_elem(r, &bv) : tc_skip(r, kt)) < 0)
                return -1;
            if ((vt == TC_TRUE || vt == TC_FALSE ? tc_bool_elem(r, &bv) : tc_skip(r, vt)) < 0)
                return -1;
        }
        tc_container_end(r);
        return 0;
    case TC_STRUCT:
        if (tc_struct_begin(r, &last) < 0)
            return -1;
        while ((k = tc_field(r, &last, &id, &et)) > 0)
            if (tc_skip(r, et) < 0)
                return -1;
        return k;
    default:
        return bad(r, "cannot skip unknown type");
    }
}
