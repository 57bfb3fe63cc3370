/* dir_reader.c - see dir_reader.h. Layout facts: docs/formats.md
 * #persistent-directory, #rows, #seq-ids and #hnsw-files. */
#include "dir_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "../core/meta_json.h"
#include "../format/json.h"
#include "../format/pickle.h"
#include "../util/fsutil.h"
#include "../util/mem.h"

struct cdr {
    char *dir, *db_path;
    sqlite3 *db;
    sqlite3_stmt *get_row, *get_meta;
};

static int sql_fail(cdr *d, cm_err *err, const char *what)
{
    return cm_err_set(err, "%s: %s: %s", d->db_path, what, sqlite3_errmsg(d->db));
}

cdr *cdr_open(const char *dir, cm_err *err)
{
    cdr *d = xcalloc(1, sizeof *d);
    d->dir = xstrdup(dir);
    d->db_path = fs_join(dir, "chroma.sqlite3");
    struct stat st;
    if (stat(d->db_path, &st) != 0) {
        cm_err_set(err, "%s: no chroma.sqlite3 here: not a Chroma persistent directory", dir);
        cdr_close(d);
        return NULL;
    }
    if (sqlite3_open_v2(d->db_path, &d->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db,
                           "SELECT id FROM embeddings WHERE segment_id = ? AND embedding_id = ?", -1,
                           &d->get_row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db,
                           "SELECT key, string_value, int_value, float_value, bool_value FROM embedding_metadata "
                           "WHERE id = ? ORDER BY rowid",
                           -1, &d->get_meta, NULL) != SQLITE_OK) {
        sql_fail(d, err, "cannot read");
        cdr_close(d);
        return NULL;
    }
    return d;
}

void cdr_close(cdr *d)
{
    if (!d)
        return;
    sqlite3_finalize(d->get_row);
    sqlite3_finalize(d->get_meta);
    if (d->db)
        sqlite3_close(d->db);
    free(d->dir);
    free(d->db_path);
    free(d);
}

void cdr_colls_free(cdr_coll *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].id);
        free(c[i].name);
        free(c[i].vec_seg);
        free(c[i].meta_seg);
        free(c[i].config_json);
        free(c[i].schema_json);
        cm_meta_free(&c[i].meta);
    }
    free(c);
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xmemdup0(t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* One typed value from (str, int, float, bool) columns starting at col:
 * the first non-NULL wins, as Chroma reads it. */
static int read_typed(sqlite3_stmt *st, int col, cm_mval *v)
{
    if (sqlite3_column_type(st, col) != SQLITE_NULL) {
        v->type = CM_M_STR;
        v->s = col_text(st, col);
        v->s_len = (size_t)sqlite3_column_bytes(st, col);
    } else if (sqlite3_column_type(st, col + 1) != SQLITE_NULL) {
        v->type = CM_M_INT;
        v->i = sqlite3_column_int64(st, col + 1);
    } else if (sqlite3_column_type(st, col + 2) != SQLITE_NULL) {
        v->type = CM_M_FLOAT;
        v->f = sqlite3_column_double(st, col + 2);
    } else if (sqlite3_column_type(st, col + 3) != SQLITE_NULL) {
        v->type = CM_M_BOOL;
        v->b = sqlite3_column_int(st, col + 3) != 0;
    } else {
        return -1;
    }
    return 0;
}

static int load_kv(cdr *d, const char *sql, const char *owner, cm_meta *m, cm_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(d, err, "reading metadata");
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        cm_mval *v = cm_meta_add(m, k ? k : "", k ? (size_t)sqlite3_column_bytes(st, 0) : 0);
        if (read_typed(st, 1, v) < 0)
            v->type = CM_M_NULL;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_fail(d, err, "reading metadata");
}

/* The HNSW object of a collection schema (docs/formats.md#collection-schema):
 * "#embedding"'s vector index, else the defaults'; *space is beside it. */
static jv *schema_hnsw(jv *schema, jv **space)
{
    jv *keys = jv_get(schema, "keys");
    jv *bases[2] = {keys ? jv_get(keys, "#embedding") : NULL, jv_get(schema, "defaults")};
    for (int k = 0; k < 2; k++) {
        jv *fl = bases[k] ? jv_get(bases[k], "float_list") : NULL;
        jv *idx = fl ? jv_get(fl, "vector_index") : NULL;
        jv *conf = idx ? jv_get(idx, "config") : NULL;
        if (conf && conf->type == JV_OBJECT) {
            *space = jv_get(conf, "space");
            return jv_get(conf, "hnsw");
        }
    }
    return NULL;
}

/* Effective HNSW settings, the way Chroma 1.x resolves them: the schema's
 * (1.3+, when schema_str is set: config_json_str is then ignored), else the
 * config JSON's vector_index.hnsw, else the VECTOR segment's hnsw:*
 * metadata (the legacy fallback), else the defaults. */
static int effective_hnsw(cdr *d, cdr_coll *c, cm_err *err)
{
    cm_hnsw_cfg_from_meta(NULL, &c->hnsw, NULL);
    jv *cfg = NULL, *h = NULL, *space = NULL;
    if (c->schema_json && (cfg = json_parse(c->schema_json, strlen(c->schema_json), NULL)) &&
        cfg->type == JV_OBJECT) {
        h = schema_hnsw(cfg, &space);
    } else {
        jv_free(cfg);
        cfg = c->config_json ? json_parse(c->config_json, strlen(c->config_json), NULL) : NULL;
        jv *vi = cfg ? jv_get(cfg, "vector_index") : NULL;
        h = vi ? jv_get(vi, "hnsw") : NULL;
        space = h && h->type == JV_OBJECT ? jv_get(h, "space") : NULL;
    }
    int from_config = 0;
    if (space && space->type == JV_STRING)
        cm_space_parse(space->u.str.s, &c->hnsw.space);
    if (h && h->type == JV_OBJECT) {
        jv *x;
        if ((x = jv_get(h, "ef_construction")) && x->type == JV_INT)
            c->hnsw.ef_construction = (long)x->u.i;
        if ((x = jv_get(h, "ef_search")) && x->type == JV_INT)
            c->hnsw.ef_search = (long)x->u.i;
        if ((x = jv_get(h, "max_neighbors")) && x->type == JV_INT)
            c->hnsw.M = (long)x->u.i;
        if ((x = jv_get(h, "sync_threshold")) && x->type == JV_INT)
            c->hnsw.sync_threshold = (long)x->u.i;
        if ((x = jv_get(h, "batch_size")) && x->type == JV_INT)
            c->hnsw.batch_size = (long)x->u.i;
        if ((x = jv_get(h, "resize_factor")) && (x->type == JV_FLOAT || x->type == JV_INT))
            c->hnsw.resize_factor = x->type == JV_FLOAT ? x->u.f : (double)x->u.i;
    }
    cm_hnsw_cfg def;
    cm_hnsw_cfg_from_meta(NULL, &def, NULL);
    from_config = memcmp(&def, &c->hnsw, sizeof def) != 0;
    jv_free(cfg);
    if (from_config)
        return 0;
    cm_meta sm = {0};
    int rc = load_kv(d,
                     "SELECT key, str_value, int_value, float_value, bool_value FROM segment_metadata "
                     "WHERE segment_id = ? ORDER BY rowid",
                     c->vec_seg, &sm, err);
    if (rc == 0 && sm.n && cm_hnsw_cfg_from_meta(&sm, &c->hnsw, err) < 0)
        rc = cm_err_prefix(err, "collection '%s': VECTOR segment metadata", c->name);
    cm_meta_free(&sm);
    return rc;
}

/* Whether collections has schema_str (sysdb 10, Chroma 1.3+). */
static int has_schema_str(cdr *d)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(d->db, "SELECT 1 FROM pragma_table_info('collections') WHERE name = 'schema_str'", -1, &st,
                           NULL) == SQLITE_OK)
        found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

#define LIST_SQL(schema)                                                                                               \
    "SELECT c.id, c.name, c.dimension, c.config_json_str, "                                                            \
    "(SELECT id FROM segments WHERE collection = c.id AND scope = 'VECTOR'), "                                         \
    "(SELECT id FROM segments WHERE collection = c.id AND scope = 'METADATA'), " schema " FROM collections c "         \
    "ORDER BY c.rowid"

int cdr_list(cdr *d, cdr_coll **out, size_t *n, cm_err *err)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(d->db,
                           has_schema_str(d) ? LIST_SQL("c.schema_str") : LIST_SQL("NULL"), -1, &st, NULL) !=
        SQLITE_OK)
        return sql_fail(d, err, "listing collections");
    cdr_coll *res = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res = xrealloc(res, (cnt + 1) * sizeof *res);
        cdr_coll *c = &res[cnt++];
        memset(c, 0, sizeof *c);
        c->id = col_text(st, 0);
        c->name = col_text(st, 1);
        c->dim = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
        c->config_json = col_text(st, 3);
        c->vec_seg = col_text(st, 4);
        c->meta_seg = col_text(st, 5);
        c->schema_json = col_text(st, 6);
        if (!c->id || !c->name || !c->vec_seg || !c->meta_seg) {
            sqlite3_finalize(st);
            *out = res;
            *n = cnt;
            return cm_err_set(err, "%s: collection '%s' is missing its id, name or a segment", d->db_path,
                              c->name ? c->name : "?");
        }
    }
    sqlite3_finalize(st);
    *out = res;
    *n = cnt;
    if (rc != SQLITE_DONE)
        return sql_fail(d, err, "listing collections");
    for (size_t i = 0; i < cnt; i++) {
        if (load_kv(d,
                    "SELECT key, str_value, int_value, float_value, bool_value FROM collection_metadata "
                    "WHERE collection_id = ? ORDER BY rowid",
                    res[i].id, &res[i].meta, err) < 0 ||
            effective_hnsw(d, &res[i], err) < 0)
            return -1;
        res[i].has_meta = res[i].meta.n > 0;
    }
    return 0;
}

int64_t cdr_count(cdr *d, const cdr_coll *c, cm_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(d->db, "SELECT count(*) FROM embeddings WHERE segment_id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_fail(d, err, "counting records");
    sqlite3_bind_text(st, 1, c->meta_seg, -1, SQLITE_STATIC);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (n < 0)
        return sql_fail(d, err, "counting records");
    return n;
}

static void vproblem(cdr_vec *v, const char *fmt, ...) CM_PRINTF(2, 3);
static void vproblem(cdr_vec *v, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = v->problems ? strlen(v->problems) : 0, add = strlen(line);
    v->problems = xrealloc(v->problems, old + add + 2);
    memcpy(v->problems + old, line, add);
    v->problems[old + add] = '\n';
    v->problems[old + add + 1] = '\0';
    v->nproblems++;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        buf = xgrow(buf, &cap, n + 65536, 1);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

void cdr_vec_free(cdr_vec *v)
{
    hnsw_free(v->h);
    strmap_free(v->label_of);
    free(v->internal_of);
    free(v->problems);
    memset(v, 0, sizeof *v);
}

/* index_metadata.pickle of vdir, loaded (NULL: a problem was recorded). */
static pk_value *load_index_pickle(const char *vdir, const cdr_coll *c, cdr_vec *v)
{
    char *pp = fs_join(vdir, "index_metadata.pickle");
    size_t plen = 0;
    char *pdata = slurp(pp, &plen);
    free(pp);
    if (!pdata) {
        vproblem(v, "collection '%s': index_metadata.pickle is missing", c->name);
        return NULL;
    }
    cm_err e = {0};
    pk_value *root = pk_load(pdata, plen, &e);
    free(pdata);
    if (!root)
        vproblem(v, "collection '%s': index_metadata.pickle: %s", c->name, e.msg);
    return root;
}

/* id_to_label into v->label_of (and v->max_label), the labels it maps into
 * mapped[] (*nmapped); label_to_id must say the same thing back. */
static void read_label_maps(const cdr_coll *c, const pk_value *i2l, const pk_value *l2i, cdr_vec *v, int64_t *mapped,
                            size_t *nmapped)
{
    v->label_of = strmap_new();
    v->max_label = 0;
    *nmapped = 0;
    for (size_t i = 0; i < i2l->u.dict.n; i++) {
        const pk_pair *p = &i2l->u.dict.pairs[i];
        int64_t label;
        if (p->key->type != PK_STR || !pk_get_int64(p->value, &label) || label < 1) {
            vproblem(v, "collection '%s': pickle id_to_label has a bad entry", c->name);
            continue;
        }
        strmap_upsert(v->label_of, p->key->u.str.s, p->key->u.str.len, NULL)->first = label;
        mapped[(*nmapped)++] = label;
        if (label > v->max_label)
            v->max_label = label;
    }
    strmap *back = strmap_new();
    for (size_t k = 0; k < l2i->u.dict.n; k++) {
        int64_t l2;
        const pk_pair *q = &l2i->u.dict.pairs[k];
        if (q->value->type == PK_STR && pk_get_int64(q->key, &l2))
            strmap_upsert(back, q->value->u.str.s, q->value->u.str.len, NULL)->first = l2;
    }
    size_t bad_back = 0;
    for (size_t i = 0; i < i2l->u.dict.n; i++) {
        const pk_pair *p = &i2l->u.dict.pairs[i];
        strmap_val *b = p->key->type == PK_STR ? strmap_get(back, p->key->u.str.s, p->key->u.str.len) : NULL;
        strmap_val *f = p->key->type == PK_STR ? strmap_get(v->label_of, p->key->u.str.s, p->key->u.str.len) : NULL;
        if (!b || !f || b->first != f->first)
            bad_back++;
    }
    strmap_free(back);
    if (bad_back)
        vproblem(v, "collection '%s': pickle label_to_id disagrees with id_to_label for %zu ids", c->name, bad_back);
    if (l2i->u.dict.n != i2l->u.dict.n)
        vproblem(v, "collection '%s': pickle maps differ in size (%zu vs %zu)", c->name, i2l->u.dict.n,
                 l2i->u.dict.n);
}

/* One deleted HNSW element (label l): a tombstone (Chroma leaves one per
 * delete; a reused legacy index may carry some) whose label must be retired
 * - known to no id, yet within total_elements_added so that Chroma never
 * hands it out again. */
static void check_tombstone(const cdr_coll *c, cdr_vec *v, size_t i, uint64_t l, int64_t total,
                            const unsigned char *live)
{
    if (l == 0 || (total >= 0 && (int64_t)l > total))
        vproblem(v, "collection '%s': deleted HNSW element %zu has label %llu beyond "
                    "total_elements_added %lld (Chroma could hand it out again)",
                 c->name, i, (unsigned long long)l, (long long)total);
    else if ((int64_t)l <= v->max_label && v->internal_of[l] == -2)
        vproblem(v, "collection '%s': label %llu is on two deleted HNSW elements", c->name, (unsigned long long)l);
    else if ((int64_t)l <= v->max_label && live[l])
        vproblem(v, "collection '%s': HNSW element %zu is deleted, but the pickle still maps an id to "
                    "its label %llu",
                 c->name, i, (unsigned long long)l);
    else if ((int64_t)l <= v->max_label)
        v->internal_of[l] = -2;
}

/* v->internal_of from the HNSW files' labels, each checked against the
 * pickle's (mapped: the labels it gives an id). */
static void match_elements(const cdr_coll *c, cdr_vec *v, int64_t total, const int64_t *mapped, size_t nmapped)
{
    v->internal_of = xmalloc((size_t)(v->max_label + 1) * sizeof *v->internal_of);
    for (int64_t l = 0; l <= v->max_label; l++)
        v->internal_of[l] = -1;
    unsigned char *live = xcalloc((size_t)v->max_label + 1, 1);
    for (size_t k = 0; k < nmapped; k++)
        live[mapped[k]] = 1;
    size_t tombstones = 0;
    for (size_t i = 0; i < hnsw_count(v->h); i++) {
        uint64_t l = hnsw_label(v->h, i);
        if (hnsw_is_deleted(v->h, i)) {
            tombstones++;
            check_tombstone(c, v, i, l, total, live);
            continue;
        }
        if ((int64_t)l > v->max_label || l == 0)
            vproblem(v, "collection '%s': HNSW element %zu has label %llu that the pickle does not know", c->name, i,
                     (unsigned long long)l);
        else if (v->internal_of[l] >= 0)
            vproblem(v, "collection '%s': label %llu appears twice in the HNSW files", c->name,
                     (unsigned long long)l);
        else
            v->internal_of[l] = (int64_t)i;
    }
    free(live);
    if (hnsw_count(v->h) - tombstones != strmap_size(v->label_of))
        vproblem(v, "collection '%s': the HNSW files hold %zu live elements, the pickle maps %zu ids", c->name,
                 hnsw_count(v->h) - tombstones, strmap_size(v->label_of));
}

int cdr_load_vectors(cdr *d, const cdr_coll *c, cdr_vec *v, cm_err *err)
{
    (void)err;
    memset(v, 0, sizeof *v);
    char *vdir = fs_join(d->dir, c->vec_seg);
    struct stat st;
    if (stat(vdir, &st) != 0) {
        free(vdir);
        if (c->dim >= 0)
            vproblem(v, "collection '%s': the vector folder %s is missing", c->name, c->vec_seg);
        return 0;
    }
    cm_err e = {0};
    v->h = hnsw_read_chroma_files(vdir, (hnsw_space)c->hnsw.space, &e);
    if (!v->h)
        vproblem(v, "collection '%s': HNSW files: %s", c->name, e.msg);
    pk_value *root = load_index_pickle(vdir, c, v);
    free(vdir);
    if (!root)
        return 0;
    const pk_value *state = root->type == PK_OBJECT ? root->u.obj.state : root;
    const pk_value *i2l = pk_dict_get(state, "id_to_label");
    const pk_value *l2i = pk_dict_get(state, "label_to_id");
    const pk_value *dimv = pk_dict_get(state, "dimensionality");
    const pk_value *tot = pk_dict_get(state, "total_elements_added");
    int64_t dim = -1, total = -1;
    if (!i2l || i2l->type != PK_DICT || !l2i || l2i->type != PK_DICT || !pk_dict_get(state, "id_to_seq_id")) {
        vproblem(v, "collection '%s': index_metadata.pickle lacks id_to_label, label_to_id or id_to_seq_id",
                 c->name);
        pk_free(root);
        return 0;
    }
    if (dimv && pk_get_int64(dimv, &dim) && dim != c->dim)
        vproblem(v, "collection '%s': pickle dimensionality %lld differs from the collection's %lld", c->name,
                 (long long)dim, (long long)c->dim);
    if (!tot || !pk_get_int64(tot, &total))
        vproblem(v, "collection '%s': pickle has no total_elements_added", c->name);
    int64_t *mapped = xmalloc((i2l->u.dict.n + 1) * sizeof *mapped);
    size_t nmapped = 0;
    read_label_maps(c, i2l, l2i, v, mapped, &nmapped);
    if (total >= 0 && total < v->max_label)
        vproblem(v, "collection '%s': pickle total_elements_added %lld is below the largest label %lld", c->name,
                 (long long)total, (long long)v->max_label);
    pk_free(root);
    if (v->h)
        match_elements(c, v, total, mapped, nmapped);
    free(mapped);
    return 0;
}

int cdr_get(cdr *d, const cdr_coll *c, const cdr_vec *v, const char *id, size_t id_len, cm_record *r, cm_err *err)
{
    sqlite3_stmt *st = d->get_row;
    sqlite3_bind_text(st, 1, c->meta_seg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, (int)id_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t rowid = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_fail(d, err, "looking up a record");
    if (rowid < 0)
        return 0;
    cm_record_clear(r);
    r->id = xmemdup0(id, id_len);
    r->id_len = id_len;
    st = d->get_meta;
    sqlite3_bind_int64(st, 1, rowid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        size_t klen = (size_t)sqlite3_column_bytes(st, 0);
        if (k && strcmp(k, "chroma:document") == 0) {
            const unsigned char *t = sqlite3_column_text(st, 1);
            if (t) {
                r->doc_len = (size_t)sqlite3_column_bytes(st, 1);
                r->doc = xmemdup0(t, r->doc_len);
            }
            continue;
        }
        cm_mval *mv = cm_meta_add(&r->meta, k ? k : "", k ? klen : 0);
        if (read_typed(st, 1, mv) < 0)
            mv->type = CM_M_NULL;
        r->has_meta = 1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sql_fail(d, err, "reading record metadata");
    if (v && v->h && v->label_of) {
        strmap_val *lv = strmap_get(v->label_of, id, id_len);
        int64_t internal = lv && lv->first <= v->max_label ? v->internal_of[lv->first] : -1;
        if (internal >= 0) {
            const float *x = hnsw_vector(v->h, (size_t)internal);
            size_t dim = (size_t)c->dim;
            float norm = c->hnsw.space == CM_SPACE_COSINE ? hnsw_norm(v->h, (size_t)internal) : 1.0f;
            r->emb = xmalloc(dim * sizeof *r->emb + 1);
            r->dim = dim;
            for (size_t i = 0; i < dim; i++)
                r->emb[i] = c->hnsw.space == CM_SPACE_COSINE ? (double)(x[i] * norm) : (double)x[i];
        }
    }
    return 1;
}
