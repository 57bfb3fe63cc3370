/* policy.c - the choices of policy.h: names of each choice for messages and
 * reports, and the verdicts the pipeline and verify both apply. */
#include "policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../format/json.h"
#include "../util/mem.h"
#include "../util/utf8.h"
#include "python_json.h"

void cm_policy_free(cm_policy *p)
{
    for (size_t i = 0; i < p->nrenames; i++) {
        free(p->renames[i].from);
        free(p->renames[i].to);
    }
    free(p->renames);
    for (size_t i = 0; i < p->nonly; i++)
        free(p->only[i]);
    free(p->only);
    memset(p, 0, sizeof *p);
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_ipv4(const char *s)
{
    int parts = 0, digits = 0;
    for (const char *p = s;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 3)
                return 0;
        } else if (*p == '.' || *p == '\0') {
            if (!digits)
                return 0;
            parts++;
            digits = 0;
            if (!*p)
                break;
        } else {
            return 0;
        }
    }
    return parts == 4;
}

/* NULL for strict UTF-8, else which kind of fault. */
static const char *text_problem(const char *s, size_t n)
{
    size_t at = utf8_invalid_at(s, n);
    unsigned unit;
    if (at == n)
        return NULL;
    return utf8_surrogate_at((const unsigned char *)s + at, n - at, &unit) ? "a lone UTF-16 surrogate (not UTF-8 text)"
                                                                           : "bytes that are not UTF-8 text";
}

typedef enum key_fault { KEY_OK, KEY_NOT_TEXT, KEY_RESERVED } key_fault;

static key_fault key_fault_of(const char *key, size_t len)
{
    if (text_problem(key, len))
        return KEY_NOT_TEXT;
    if (len >= 7 && memcmp(key, "chroma:", 7) == 0)
        return KEY_RESERVED;
    return KEY_OK;
}

const char *cm_name_problem(const char *name)
{
    size_t n = strlen(name);
    if (n < 3)
        return "is shorter than 3 characters";
    if (n > 63)
        return "is longer than 63 characters";
    if (!is_alnum(name[0]) || !is_alnum(name[n - 1]))
        return "must start and end with a letter or digit";
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
            return "may only contain letters, digits, '.', '_' and '-'";
    if (strstr(name, ".."))
        return "contains '..'";
    if (is_ipv4(name))
        return "is an IPv4 address";
    return NULL;
}

const char *cm_mval_problem(const cm_mval *v)
{
    switch (v->type) {
    case CM_M_NULL: return "null value";
    case CM_M_BIGINT: return "integer outside 64 bits";
    case CM_M_NESTED: return v->s_len && v->s[0] == '[' ? "list value" : "nested object";
    case CM_M_FLOAT: return isfinite(v->f) ? NULL : "NaN or Infinity";
    case CM_M_STR: return text_problem(v->s, v->s_len);
    default: return NULL;
    }
}

const char *cm_mkey_problem(const char *key, size_t len)
{
    switch (key_fault_of(key, len)) {
    case KEY_NOT_TEXT: return "key that is not UTF-8 text (e.g. a lone UTF-16 surrogate)";
    case KEY_RESERVED: return "key in the 'chroma:' namespace Chroma reserves";
    case KEY_OK: break;
    }
    return NULL;
}

const char *cm_mentry_problem(const cm_mval *v)
{
    const char *why = cm_mkey_problem(v->key, v->key_len);
    return why ? why : cm_mval_problem(v);
}

static int key_taken(const cm_meta *m, const char *key, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].key_len == len && memcmp(m->v[i].key, key, len) == 0)
            return 1;
    return 0;
}

/* Stringify's new name for a key Chroma cannot hold (see policy.h). */
static void rename_key(cm_meta *m, cm_mval *v)
{
    char *name;
    if (key_fault_of(v->key, v->key_len) == KEY_RESERVED) {
        name = xmalloc(v->key_len + 2);
        name[0] = '_';
        memcpy(name + 1, v->key, v->key_len + 1);
    } else {
        cm_mval k = {.type = CM_M_STR, .s = v->key, .s_len = v->key_len};
        char *quoted = cm_python_dumps_mval(&k);
        size_t n = strlen(quoted);
        memmove(quoted, quoted + 1, n - 2);
        quoted[n - 2] = '\0';
        name = quoted;
    }
    while (key_taken(m, name, strlen(name))) {
        size_t n = strlen(name);
        char *longer = xmalloc(n + 2);
        longer[0] = '_';
        memcpy(longer + 1, name, n + 1);
        free(name);
        name = longer;
    }
    free(v->key);
    v->key = name;
    v->key_len = strlen(name);
}

size_t cm_meta_apply(cm_meta *m, cm_meta_policy p, cm_meta_changes *ch)
{
    size_t changed = 0;
    for (size_t i = 0; i < m->n;) {
        cm_mval *v = &m->v[i];
        int bad_key = cm_mkey_problem(v->key, v->key_len) != NULL;
        int bad_value = cm_mval_problem(v) != NULL;
        if (!bad_key && !bad_value) {
            i++;
            continue;
        }
        changed++;
        if (p == CM_META_DROP) {
            if (ch)
                ch->values++;
            cm_meta_remove(m, i);
            continue;
        }
        if (bad_key) {
            rename_key(m, v);
            if (ch)
                ch->keys_renamed++;
        }
        if (bad_value) {
            /* Stringify: the JSON text Python's json.dumps gives for the value. */
            char *text = cm_python_dumps_mval(v);
            free(v->s);
            v->type = CM_M_STR;
            v->s = text;
            v->s_len = strlen(text);
            if (ch)
                ch->values++;
        }
        i++;
    }
    return changed;
}

const char *cm_policy_target_name(const cm_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nrenames; i++)
        if (strcmp(p->renames[i].from, name) == 0)
            return p->renames[i].to;
    return name;
}

int cm_policy_selected(const cm_policy *p, const char *name)
{
    if (!p->nonly)
        return 1;
    for (size_t i = 0; i < p->nonly; i++)
        if (strcmp(p->only[i], name) == 0)
            return 1;
    return 0;
}

static int want_int(const cm_mval *v, long lo, long *out, cm_err *err)
{
    if (v->type != CM_M_INT || v->i < lo || v->i > 1000000000)
        return cm_err_set(err, "collection metadata '%s' must be an integer >= %ld", v->key, lo);
    *out = (long)v->i;
    return 0;
}

int cm_hnsw_cfg_from_meta(const cm_meta *m, cm_hnsw_cfg *cfg, cm_err *err)
{
    /* Chroma's defaults (rust/types/src/hnsw_configuration.rs@1.0.20). */
    cfg->space = CM_SPACE_L2;
    cfg->M = 16;
    cfg->ef_construction = 100;
    cfg->ef_search = 100;
    cfg->num_threads = 0;
    cfg->has_num_threads = 0;
    cfg->sync_threshold = 1000;
    cfg->batch_size = 100;
    cfg->resize_factor = 1.2;
    if (!m)
        return 0;
    for (size_t i = 0; i < m->n; i++) {
        const cm_mval *v = &m->v[i];
        if (strncmp(v->key, "hnsw:", 5) != 0)
            continue;
        const char *k = v->key + 5;
        int rc = 0;
        if (strcmp(k, "space") == 0) {
            if (v->type != CM_M_STR || cm_space_parse(v->s, &cfg->space) < 0)
                rc = cm_err_set(err, "collection metadata 'hnsw:space' must be \"l2\", \"ip\" or \"cosine\"");
        } else if (strcmp(k, "M") == 0) {
            rc = want_int(v, 2, &cfg->M, err);
        } else if (strcmp(k, "construction_ef") == 0) {
            rc = want_int(v, 1, &cfg->ef_construction, err);
        } else if (strcmp(k, "search_ef") == 0) {
            rc = want_int(v, 1, &cfg->ef_search, err);
        } else if (strcmp(k, "num_threads") == 0) {
            rc = want_int(v, 1, &cfg->num_threads, err);
            cfg->has_num_threads = 1;
        } else if (strcmp(k, "sync_threshold") == 0) {
            rc = want_int(v, 2, &cfg->sync_threshold, err);
        } else if (strcmp(k, "batch_size") == 0) {
            rc = want_int(v, 2, &cfg->batch_size, err);
        } else if (strcmp(k, "resize_factor") == 0) {
            if (v->type == CM_M_FLOAT && isfinite(v->f) && v->f > 1.0)
                cfg->resize_factor = v->f;
            else if (v->type == CM_M_INT && v->i > 1)
                cfg->resize_factor = (double)v->i;
            else
                rc = cm_err_set(err, "collection metadata 'hnsw:resize_factor' must be a number > 1");
        } else {
            rc = cm_err_set(err, "collection metadata key '%s' is not an HNSW setting Chroma knows", v->key);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}
