#include "policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../format/json.h"
#include "../util/mem.h"
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

const char *cm_name_problem(const char *name)
{
    size_t n = strlen(name);
    if (n < 3)
        return "shorter than 3 characters";
    if (n > 63)
        return "longer than 63 characters";
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
    default: return NULL;
    }
}

size_t cm_meta_apply(cm_meta *m, cm_meta_policy p)
{
    size_t changed = 0;
    for (size_t i = 0; i < m->n;) {
        cm_mval *v = &m->v[i];
        if (!cm_mval_problem(v)) {
            i++;
            continue;
        }
        changed++;
        if (p == CM_META_DROP) {
            cm_meta_remove(m, i);
            continue;
        }
        /* Stringify: the JSON text Python's json.dumps gives for the value. */
        char *text = cm_python_dumps_mval(v);
        free(v->s);
        v->type = CM_M_STR;
        v->s = text;
        v->s_len = strlen(text);
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
