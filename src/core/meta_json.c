/* meta_json.c - metadata between its JSON text and the typed model: reading
 * keeps what Chroma cannot store as such (for the policies to decide), writing
 * gives the text Chroma itself stores. */
#include "meta_json.h"

#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

void cm_mval_from_jv(cm_mval *d, const jv *v)
{
    switch (v->type) {
    case JV_STRING:
        d->type = CM_M_STR;
        d->s = xmemdup0(v->u.str.s, v->u.str.len);
        d->s_len = v->u.str.len;
        break;
    case JV_INT:
        d->type = CM_M_INT;
        d->i = v->u.i;
        break;
    case JV_FLOAT:
        d->type = CM_M_FLOAT;
        d->f = v->u.f;
        break;
    case JV_BOOL:
        d->type = CM_M_BOOL;
        d->b = v->u.b;
        break;
    case JV_NULL:
        d->type = CM_M_NULL;
        break;
    case JV_BIGINT:
        d->type = CM_M_BIGINT;
        d->s = xmemdup0(v->u.str.s, v->u.str.len);
        d->s_len = v->u.str.len;
        break;
    case JV_ARRAY:
    case JV_OBJECT: {
        json_out o = {0};
        jo_value(&o, v);
        d->type = CM_M_NESTED;
        d->s = xmemdup0(o.buf ? o.buf : "", o.len);
        d->s_len = o.len;
        jo_free(&o);
        break;
    }
    }
}

int cm_meta_parse(const char *text, size_t len, cm_meta *m, int *present, cm_err *err)
{
    cm_meta_clear(m);
    *present = 0;
    jv *v = json_parse(text, len, err);
    if (!v)
        return -1;
    if (v->type == JV_NULL) {
        jv_free(v);
        return 0;
    }
    if (v->type != JV_OBJECT) {
        jv_free(v);
        return cm_err_set(err, "metadata is JSON but not an object");
    }
    for (size_t i = 0; i < v->u.obj.n; i++) {
        const jv_member *mb = &v->u.obj.members[i];
        cm_mval *d = cm_meta_add(m, mb->key, mb->key_len);
        cm_mval_from_jv(d, mb->value);
    }
    *present = 1;
    jv_free(v);
    return 0;
}

static const char *not_object_why(jv_type t)
{
    switch (t) {
    case JV_ARRAY: return "a JSON list, not an object";
    case JV_STRING: return "a JSON string, not an object";
    case JV_BOOL: return "a JSON boolean, not an object";
    default: return "a JSON number, not an object";
    }
}

void cm_record_meta_from_text(cm_record *r, const char *text, size_t len)
{
    cm_meta_clear(&r->meta);
    r->has_meta = 0;
    free(r->meta_raw);
    r->meta_raw = NULL;
    r->meta_raw_len = 0;
    r->meta_raw_why = NULL;
    jv *v = json_parse(text, len, NULL);
    if (v && v->type == JV_NULL) {
        jv_free(v);
        return;
    }
    if (v && v->type == JV_OBJECT) {
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const jv_member *mb = &v->u.obj.members[i];
            cm_mval_from_jv(cm_meta_add(&r->meta, mb->key, mb->key_len), mb->value);
        }
        r->has_meta = 1;
        jv_free(v);
        return;
    }
    r->meta_raw = xmemdup0(text, len);
    r->meta_raw_len = len;
    r->meta_raw_why = v ? not_object_why(v->type) : "not JSON";
    jv_free(v);
}

void cm_mval_write(json_out *o, const cm_mval *v)
{
    switch (v->type) {
    case CM_M_STR:
        jo_str(o, v->s, v->s_len);
        break;
    case CM_M_INT:
        jo_int(o, v->i);
        break;
    case CM_M_FLOAT:
        jo_float(o, v->f);
        break;
    case CM_M_BOOL:
        jo_cstr(o, v->b ? "true" : "false");
        break;
    case CM_M_NULL:
        jo_cstr(o, "null");
        break;
    case CM_M_BIGINT:
    case CM_M_NESTED:
        jo_raw(o, v->s, v->s_len);
        break;
    }
}

void cm_meta_write(json_out *o, const cm_meta *m)
{
    jo_raw(o, "{", 1);
    for (size_t i = 0; i < m->n; i++) {
        if (i)
            jo_raw(o, ",", 1);
        jo_str(o, m->v[i].key, m->v[i].key_len);
        jo_raw(o, ":", 1);
        cm_mval_write(o, &m->v[i]);
    }
    jo_raw(o, "}", 1);
}
