/* record.c - the record model's memory: records are reused from one to the
 * next, so clearing frees the strings but keeps the metadata array for the
 * next record; freeing gives everything back. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

static void mval_free(cm_mval *v)
{
    free(v->key);
    free(v->s);
}

void cm_meta_clear(cm_meta *m)
{
    for (size_t i = 0; i < m->n; i++)
        mval_free(&m->v[i]);
    m->n = 0;
}

void cm_meta_free(cm_meta *m)
{
    cm_meta_clear(m);
    free(m->v);
    m->v = NULL;
    m->cap = 0;
}

cm_mval *cm_meta_add(cm_meta *m, const char *key, size_t key_len)
{
    m->v = xgrow(m->v, &m->cap, m->n + 1, sizeof *m->v);
    cm_mval *v = &m->v[m->n++];
    memset(v, 0, sizeof *v);
    v->key = xmemdup0(key, key_len);
    v->key_len = key_len;
    return v;
}

const cm_mval *cm_meta_find(const cm_meta *m, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].key_len == len && memcmp(m->v[i].key, key, len) == 0)
            return &m->v[i];
    return NULL;
}

void cm_meta_copy(cm_meta *dst, const cm_meta *src)
{
    cm_meta_clear(dst);
    for (size_t i = 0; i < src->n; i++) {
        const cm_mval *s = &src->v[i];
        cm_mval *d = cm_meta_add(dst, s->key, s->key_len);
        char *k = d->key;
        *d = *s;
        d->key = k;
        d->s = s->s ? xmemdup0(s->s, s->s_len) : NULL;
    }
}

void cm_meta_remove(cm_meta *m, size_t i)
{
    if (i >= m->n)
        return;
    mval_free(&m->v[i]);
    memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
    m->n--;
}

void cm_record_clear(cm_record *r)
{
    free(r->id);
    free(r->emb);
    free(r->doc);
    free(r->key);
    free(r->meta_raw);
    cm_meta meta = r->meta;
    cm_meta_clear(&meta);
    memset(r, 0, sizeof *r);
    r->meta = meta; /* keep the array for reuse */
}

void cm_record_copy(cm_record *dst, const cm_record *src)
{
    cm_record_clear(dst);
    cm_meta meta = dst->meta;
    *dst = *src;
    dst->meta = meta;
    dst->id = src->id ? xmemdup0(src->id, src->id_len) : NULL;
    dst->doc = src->doc ? xmemdup0(src->doc, src->doc_len) : NULL;
    dst->key = src->key ? xmemdup0(src->key, src->key_len) : NULL;
    dst->meta_raw = src->meta_raw ? xmemdup0(src->meta_raw, src->meta_raw_len) : NULL;
    if (src->emb) {
        dst->emb = xmalloc(src->dim * sizeof *dst->emb + 1);
        memcpy(dst->emb, src->emb, src->dim * sizeof *dst->emb);
    }
    cm_meta_copy(&dst->meta, &src->meta);
}

void cm_collection_free(cm_collection *c)
{
    free(c->name);
    free(c->id);
    cm_meta_free(&c->meta);
    memset(c, 0, sizeof *c);
}

void cm_collection_copy(cm_collection *dst, const cm_collection *src)
{
    memset(dst, 0, sizeof *dst);
    dst->name = src->name ? xstrdup(src->name) : NULL;
    dst->id = src->id ? xstrdup(src->id) : NULL;
    dst->has_meta = src->has_meta;
    cm_meta_copy(&dst->meta, &src->meta);
    dst->count_hint = src->count_hint;
}

const char *cm_mtype_name(cm_mtype t)
{
    switch (t) {
    case CM_M_STR: return "str";
    case CM_M_INT: return "int";
    case CM_M_FLOAT: return "float";
    case CM_M_BOOL: return "bool";
    case CM_M_NULL: return "null";
    case CM_M_BIGINT: return "bigint";
    case CM_M_NESTED: return "nested";
    }
    return "?";
}

const char *cm_space_name(cm_space s)
{
    switch (s) {
    case CM_SPACE_L2: return "l2";
    case CM_SPACE_IP: return "ip";
    case CM_SPACE_COSINE: return "cosine";
    }
    return "?";
}

int cm_space_parse(const char *s, cm_space *out)
{
    if (strcmp(s, "l2") == 0)
        *out = CM_SPACE_L2;
    else if (strcmp(s, "ip") == 0)
        *out = CM_SPACE_IP;
    else if (strcmp(s, "cosine") == 0)
        *out = CM_SPACE_COSINE;
    else
        return -1;
    return 0;
}
