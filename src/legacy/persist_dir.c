/* persist_dir.c - streams records out of a chromadb 0.3.x persist_directory.
 *
 * The store is two Parquet files: chroma-collections.parquet (uuid, name,
 * metadata) and chroma-embeddings.parquet (collection_uuid, uuid, embedding
 * DOUBLE[], document, id, metadata) holding every collection's rows together.
 * Listing scans only the collection_uuid column once, to count each
 * collection's rows and note which row groups hold it; reading a collection
 * then decodes only those row groups, a batch of rows at a time, with one
 * cursor per needed column kept in step. The Parquet data is the truth; the
 * index/ folder is advisory: each collection's graph there is offered to
 * the sink as a prior index (prior_index.h), which it reuses only if it
 * provably matches the data. */
#include "persist_dir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/meta_json.h"
#include "../format/parquet.h"
#include "../util/mem.h"
#include "prior_index.h"

#define BATCH_ROWS 1024

enum { COL_CUUID, COL_ID, COL_EMB, COL_DOC, COL_META, COL_UUID, NCOLS };
static const char *const emb_cols[NCOLS] = {"collection_uuid", "id", "embedding.list.element", "document", "metadata",
                                             "uuid"};

typedef struct legacy_coll {
    char *uuid;
    int64_t rows;
    uint8_t *in_rg; /* per row group: holds rows of this collection */
} legacy_coll;

typedef struct legacy_src {
    cm_source base;
    char *dir;
    char *coll_path, *emb_path;
    pq_file *emb;
    long col[NCOLS];
    legacy_coll *colls;
    size_t ncolls;
    int scanned;
    char notes[1024];
    cm_note note; /* notes as the source op gives them */
    char *index_dir; /* index/ when it exists */
    cm_prior_index *prior; /* the last collection's, handed to the sink */
} legacy_src;

struct cm_reader {
    legacy_src *src;
    const legacy_coll *lc;
    char *name;
    size_t rg;        /* current row group */
    int rg_open;
    pq_cursor *cur[NCOLS];
    pq_batch b[NCOLS];
    size_t brow, nrows; /* position in the current batch */
    size_t vpos[NCOLS]; /* value index per flat column */
    size_t lpos;        /* level index in the embedding batch */
    size_t evpos;       /* value index in the embedding batch */
    int64_t row_base;   /* file row number of the batch's first row */
    int64_t rg_row0;
    cm_meta scratch;
};

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Whether the folder may be looked into: stat of an entry failing with
 * EACCES means the folder lacks search permission, which must not read as
 * "the file is not there". Returns 0 if it may, else errno. */
static int search_denied(const char *entry)
{
    struct stat st;
    return stat(entry, &st) != 0 && errno == EACCES ? EACCES : 0;
}

/* index/ that this user cannot read: the legacy HNSW indexes cannot be
 * reused; say so once (the migration still works, building them anew). */
static void note_index_access(legacy_src *ls)
{
    char *probe = join(ls->index_dir, ".");
    int denied = search_denied(probe) || access(ls->index_dir, R_OK | X_OK) != 0;
    free(probe);
    if (denied)
        snprintf(ls->notes, sizeof ls->notes,
                 "%s: permission denied; the legacy HNSW indexes in it cannot be read, so they are built anew "
                 "(give this user read access to the folder to reuse them)",
                 ls->index_dir);
}

int legacy_dir_detect(const char *path)
{
    char *p = join(path, "chroma-collections.parquet");
    int r = exists(p);
    free(p);
    return r;
}

/* Checks that a leaf column exists with the physical type and nesting the
 * legacy writer used, so a foreign Parquet file fails with a clear message
 * instead of being misread. */
static long need_col(pq_file *f, const char *path, pq_type type, int max_rep, cm_err *err)
{
    long c = pq_column_find(f, path);
    if (c < 0) {
        cm_err_set(err, "%s: no column '%s': this is not a chroma 0.3.x %s file (wrong schema)", pq_path(f), path,
                   strrchr(pq_path(f), '/') ? strrchr(pq_path(f), '/') + 1 : pq_path(f));
        return -1;
    }
    if (pq_column_type(f, (size_t)c) != type || pq_column_max_rep(f, (size_t)c) != max_rep) {
        cm_err_set(err, "%s: column '%s' has an unexpected type or nesting: not the chroma 0.3.x schema", pq_path(f),
                   path);
        return -1;
    }
    return c;
}

static void src_destroy(cm_source *s)
{
    legacy_src *ls = (legacy_src *)s;
    if (!ls)
        return;
    for (size_t i = 0; i < ls->ncolls; i++) {
        free(ls->colls[i].uuid);
        free(ls->colls[i].in_rg);
    }
    free(ls->colls);
    pq_close(ls->emb);
    free(ls->dir);
    free(ls->coll_path);
    free(ls->emb_path);
    free(ls->index_dir);
    legacy_prior_index_free(ls->prior);
    free(ls->base.location);
    free(ls);
}

static legacy_coll *find_coll(legacy_src *ls, const char *uuid, size_t len)
{
    for (size_t i = 0; i < ls->ncolls; i++)
        if (strlen(ls->colls[i].uuid) == len && memcmp(ls->colls[i].uuid, uuid, len) == 0)
            return &ls->colls[i];
    return NULL;
}

static legacy_coll *add_coll(legacy_src *ls, const char *uuid, size_t len)
{
    ls->colls = xrealloc(ls->colls, (ls->ncolls + 1) * sizeof *ls->colls);
    legacy_coll *lc = &ls->colls[ls->ncolls++];
    lc->uuid = xmemdup0(uuid, len);
    lc->rows = 0;
    lc->in_rg = xcalloc(pq_num_row_groups(ls->emb) + 1, 1);
    return lc;
}

/* One pass over collection_uuid: rows per collection and which row groups
 * hold them. Rows whose collection is not in chroma-collections.parquet are
 * counted too, so nothing is silently left behind. */
static int scan_uuids(legacy_src *ls, cm_err *err)
{
    if (ls->scanned)
        return 0;
    pq_batch b = {0};
    for (size_t rg = 0; rg < pq_num_row_groups(ls->emb); rg++) {
        pq_cursor *c = NULL;
        if (pq_cursor_open(ls->emb, rg, (size_t)ls->col[COL_CUUID], &c, err) < 0)
            goto fail;
        long got;
        const char *prev = NULL;
        size_t prev_len = 0;
        legacy_coll *lc = NULL;
        while ((got = pq_cursor_read(c, 8192, &b, err)) > 0) {
            size_t v = 0;
            for (size_t i = 0; i < b.n_levels; i++) {
                if (b.def && b.def[i] == 0) {
                    pq_cursor_close(c);
                    cm_err_set(err, "%s: row group %zu has a record with no collection_uuid", ls->emb_path, rg);
                    goto fail;
                }
                const char *u = (const char *)b.ba_data + b.ba_off[v];
                size_t ulen = (size_t)(b.ba_off[v + 1] - b.ba_off[v]);
                v++;
                if (!lc || ulen != prev_len || memcmp(u, prev, ulen) != 0) {
                    lc = find_coll(ls, u, ulen);
                    if (!lc)
                        lc = add_coll(ls, u, ulen);
                }
                lc->rows++;
                lc->in_rg[rg] = 1;
                prev = lc->uuid;
                prev_len = strlen(lc->uuid);
            }
        }
        pq_cursor_close(c);
        if (got < 0)
            goto fail;
    }
    pq_batch_free(&b);
    ls->scanned = 1;
    return 0;
fail:
    pq_batch_free(&b);
    return -1;
}

static int read_collections(legacy_src *ls, cm_collection **out, size_t *nout, cm_err *err)
{
    pq_file *f = NULL;
    if (pq_open(ls->coll_path, &f, err) < 0)
        return -1;
    long cu = need_col(f, "uuid", PQ_BYTE_ARRAY, 0, err);
    long cn = cu < 0 ? -1 : need_col(f, "name", PQ_BYTE_ARRAY, 0, err);
    long cmd = cn < 0 ? -1 : need_col(f, "metadata", PQ_BYTE_ARRAY, 0, err);
    if (cmd < 0) {
        pq_close(f);
        return -1;
    }
    long cols[3] = {cu, cn, cmd};
    cm_collection *res = NULL;
    size_t n = 0;
    pq_batch b[3] = {{0}};
    int rc = -1;
    for (size_t rg = 0; rg < pq_num_row_groups(f); rg++) {
        pq_cursor *c[3] = {0};
        long got[3] = {0};
        int ok = 1;
        for (int k = 0; k < 3 && ok; k++)
            ok = pq_cursor_open(f, rg, (size_t)cols[k], &c[k], err) == 0;
        while (ok) {
            for (int k = 0; k < 3; k++)
                if ((got[k] = pq_cursor_read(c[k], 4096, &b[k], err)) < 0)
                    ok = 0;
            if (!ok || got[0] == 0)
                break;
            if (got[1] != got[0] || got[2] != got[0]) {
                cm_err_set(err, "%s: columns of row group %zu have different row counts", ls->coll_path, rg);
                ok = 0;
                break;
            }
            size_t v[3] = {0};
            for (size_t i = 0; i < (size_t)got[0]; i++) {
                const char *s[3] = {0};
                size_t len[3] = {0};
                for (int k = 0; k < 3; k++) {
                    if (b[k].def && b[k].def[i] == 0)
                        continue;
                    s[k] = (const char *)b[k].ba_data + b[k].ba_off[v[k]];
                    len[k] = (size_t)(b[k].ba_off[v[k] + 1] - b[k].ba_off[v[k]]);
                    v[k]++;
                }
                if (!s[0] || !s[1]) {
                    cm_err_set(err, "%s: a collection row has no %s", ls->coll_path, s[0] ? "name" : "uuid");
                    ok = 0;
                    break;
                }
                res = xrealloc(res, (n + 1) * sizeof *res);
                cm_collection *cc = &res[n++];
                memset(cc, 0, sizeof *cc);
                cc->id = xmemdup0(s[0], len[0]);
                cc->name = xmemdup0(s[1], len[1]);
                cc->count_hint = 0;
                if (s[2] && cm_meta_parse(s[2], len[2], &cc->meta, &cc->has_meta, err) < 0) {
                    cm_err_prefix(err, "%s: collection '%s': metadata", ls->coll_path, cc->name);
                    ok = 0;
                    break;
                }
                if (cc->has_meta && cc->meta.n == 0)
                    cc->has_meta = 0; /* {} is "no metadata" for Chroma >= 0.4 */
            }
        }
        for (int k = 0; k < 3; k++)
            pq_cursor_close(c[k]);
        if (!ok)
            goto out;
    }
    rc = 0;
out:
    for (int k = 0; k < 3; k++)
        pq_batch_free(&b[k]);
    pq_close(f);
    if (rc < 0) {
        cm_collections_free(res, n);
        return -1;
    }
    *out = res;
    *nout = n;
    return 0;
}

static int src_list(cm_source *s, cm_collection **out, size_t *n, cm_err *err)
{
    legacy_src *ls = (legacy_src *)s;
    if (read_collections(ls, out, n, err) < 0)
        return -1;
    if (scan_uuids(ls, err) < 0) {
        cm_collections_free(*out, *n);
        *out = NULL;
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        legacy_coll *lc = find_coll(ls, (*out)[i].id, strlen((*out)[i].id));
        (*out)[i].count_hint = lc ? lc->rows : 0;
    }
    /* Rows that belong to no listed collection would be lost without a word. */
    for (size_t j = 0; j < ls->ncolls; j++) {
        int known = 0;
        for (size_t i = 0; i < *n && !known; i++)
            known = strcmp((*out)[i].id, ls->colls[j].uuid) == 0;
        if (!known) {
            cm_err_set(err,
                       "%s: %lld records belong to collection uuid %s, which is not in chroma-collections.parquet; "
                       "the store is inconsistent (restore chroma-collections.parquet from a backup)",
                       ls->emb_path, (long long)ls->colls[j].rows, ls->colls[j].uuid);
            cm_collections_free(*out, *n);
            *out = NULL;
            return -1;
        }
    }
    return 0;
}

static void close_rg(cm_reader *rd)
{
    for (int k = 0; k < NCOLS; k++) {
        pq_cursor_close(rd->cur[k]);
        rd->cur[k] = NULL;
    }
    rd->rg_open = 0;
}

static void rd_close(cm_reader *rd)
{
    if (!rd)
        return;
    close_rg(rd);
    for (int k = 0; k < NCOLS; k++)
        pq_batch_free(&rd->b[k]);
    cm_meta_free(&rd->scratch);
    free(rd->name);
    free(rd);
}

static cm_reader *src_open(cm_source *s, const cm_collection *c, cm_err *err)
{
    legacy_src *ls = (legacy_src *)s;
    if (scan_uuids(ls, err) < 0)
        return NULL;
    cm_reader *rd = xcalloc(1, sizeof *rd);
    rd->src = ls;
    rd->lc = find_coll(ls, c->id, strlen(c->id));
    rd->name = xstrdup(c->name);
    return rd;
}

/* Reads the next batch of the open row group into all cursors, in step. */
static int next_batch(cm_reader *rd, cm_err *err)
{
    legacy_src *ls = rd->src;
    long got[NCOLS];
    for (int k = 0; k < NCOLS; k++) {
        got[k] = pq_cursor_read(rd->cur[k], BATCH_ROWS, &rd->b[k], err);
        if (got[k] < 0)
            return -1;
    }
    for (int k = 1; k < NCOLS; k++)
        if (got[k] != got[0])
            return cm_err_set(err, "%s: row group %zu: column '%s' has %s rows than column '%s'", ls->emb_path,
                              rd->rg, emb_cols[k], got[k] < got[0] ? "fewer" : "more", emb_cols[0]);
    rd->row_base += (int64_t)rd->nrows;
    rd->nrows = (size_t)got[0];
    rd->brow = 0;
    rd->lpos = rd->evpos = 0;
    memset(rd->vpos, 0, sizeof rd->vpos);
    return got[0] > 0 ? 1 : 0;
}

/* Value of flat column k at the current row; NULL when the row's value is null. */
static const char *flat_value(cm_reader *rd, int k, size_t *len)
{
    pq_batch *b = &rd->b[k];
    if (b->def && b->def[rd->brow] == 0)
        return NULL;
    size_t v = rd->vpos[k]++;
    *len = (size_t)(b->ba_off[v + 1] - b->ba_off[v]);
    return (const char *)b->ba_data + b->ba_off[v];
}

/* Consumes the current row of the embedding column; fills r if want. */
static void take_embedding(cm_reader *rd, cm_record *r, int want)
{
    pq_batch *b = &rd->b[COL_EMB];
    size_t start = rd->lpos, end = start + 1;
    while (end < b->n_levels && b->rep[end] != 0)
        end++;
    size_t nvals = 0, nnull = 0;
    int is_null = 0, is_empty = 0;
    for (size_t i = start; i < end; i++) {
        int d = b->def[i];
        if (d == 3)
            nvals++;
        else if (d == 2)
            nnull++;
        else if (d == 0)
            is_null = 1;
        else
            is_empty = 1;
    }
    if (want && !is_null) {
        size_t dim = is_empty ? 0 : nvals + nnull;
        r->emb = xmalloc((dim ? dim : 1) * sizeof(double));
        r->dim = dim;
        size_t j = 0, v = rd->evpos;
        for (size_t i = start; i < end && !is_empty; i++) {
            if (b->def[i] == 3)
                r->emb[j++] = b->f64[v++];
            else
                r->emb[j++] = NAN; /* a NULL element: the record is invalid (see emb_has_null) */
        }
        r->emb_has_null = nnull > 0;
    }
    rd->evpos += nvals;
    rd->lpos = end;
}

static int rd_next(cm_reader *rd, cm_record *r, cm_err *err)
{
    legacy_src *ls = rd->src;
    if (!rd->lc)
        return 0; /* a collection with no rows at all */
    for (;;) {
        if (!rd->rg_open) {
            while (rd->rg < pq_num_row_groups(ls->emb) && !rd->lc->in_rg[rd->rg]) {
                rd->rg_row0 += pq_row_group_num_rows(ls->emb, rd->rg);
                rd->rg++;
            }
            if (rd->rg >= pq_num_row_groups(ls->emb))
                return 0;
            for (int k = 0; k < NCOLS; k++)
                if (pq_cursor_open(ls->emb, rd->rg, (size_t)ls->col[k], &rd->cur[k], err) < 0)
                    return -1;
            rd->rg_open = 1;
            rd->row_base = rd->rg_row0;
            rd->nrows = rd->brow = 0;
        }
        if (rd->brow >= rd->nrows) {
            int got = next_batch(rd, err);
            if (got < 0)
                return -1;
            if (got == 0) {
                close_rg(rd);
                rd->rg_row0 += pq_row_group_num_rows(ls->emb, rd->rg);
                rd->rg++;
                continue;
            }
        }
        size_t ulen = 0;
        const char *u = flat_value(rd, COL_CUUID, &ulen);
        int mine = u && ulen == strlen(rd->lc->uuid) && memcmp(u, rd->lc->uuid, ulen) == 0;
        if (mine)
            cm_record_clear(r);
        size_t len = 0;
        const char *id = flat_value(rd, COL_ID, &len);
        if (mine && id) {
            r->id = xmemdup0(id, len);
            r->id_len = len;
        }
        take_embedding(rd, r, mine);
        const char *doc = flat_value(rd, COL_DOC, &len);
        if (mine && doc) {
            r->doc = xmemdup0(doc, len);
            r->doc_len = len;
        }
        const char *meta = flat_value(rd, COL_META, &len);
        size_t klen = 0;
        const char *key = flat_value(rd, COL_UUID, &klen);
        if (mine && key) {
            r->key = xmemdup0(key, klen);
            r->key_len = klen;
        }
        int64_t row = rd->row_base + (int64_t)rd->brow;
        rd->brow++;
        if (!mine)
            continue;
        r->src_row = row;
        if (meta)
            cm_record_meta_from_text(r, meta, len);
        return 1;
    }
}

static size_t src_notes(cm_source *s, const cm_note **out)
{
    legacy_src *ls = (legacy_src *)s;
    ls->note.text = ls->notes;
    *out = &ls->note;
    return ls->notes[0] ? 1 : 0;
}

static cm_prior_index *src_prior_index(cm_source *s, const cm_collection *c)
{
    legacy_src *ls = (legacy_src *)s;
    legacy_prior_index_free(ls->prior);
    ls->prior = legacy_prior_index_open(ls->index_dir, c->id);
    return ls->prior;
}

static const cm_source_ops legacy_ops = {
    .kind = "legacy persist_directory (chromadb 0.3.x, DuckDB+Parquet)",
    .list = src_list,
    .open = src_open,
    .next = rd_next,
    .close = rd_close,
    .notes = src_notes,
    .prior_index = src_prior_index,
    .destroy = src_destroy,
};

cm_source *legacy_dir_open(const char *path, cm_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        cm_err_set(err,
                   "%s: %s; give the source as a chromadb 0.3.x persist_directory (the folder holding "
                   "chroma-collections.parquet), clickhouse://HOST[:PORT] or http[s]://HOST[:PORT]",
                   path, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        cm_err_set(err, "%s: not a directory; give the persist_directory that holds chroma-collections.parquet",
                   path);
        return NULL;
    }
    legacy_src *ls = xcalloc(1, sizeof *ls);
    ls->base.ops = &legacy_ops;
    ls->base.location = xstrdup(path);
    ls->dir = xstrdup(path);
    ls->coll_path = join(path, "chroma-collections.parquet");
    ls->emb_path = join(path, "chroma-embeddings.parquet");
    ls->index_dir = join(path, "index");
    if (!exists(ls->index_dir)) {
        free(ls->index_dir);
        ls->index_dir = NULL;
    }
    if (search_denied(ls->coll_path)) {
        cm_err_set(err,
                   "%s: permission denied: this user may not look into the folder (give it read and execute "
                   "permission on it, or run as a user who has them)",
                   path);
        goto fail;
    }
    char *sq = join(path, "chroma.sqlite3");
    int has_new = exists(sq);
    free(sq);
    if (!exists(ls->coll_path)) {
        if (has_new)
            cm_err_set(err,
                       "%s: this is already a Chroma >= 0.4 persistent directory (it has chroma.sqlite3 and no "
                       "chroma-collections.parquet): open it with Chroma directly, there is nothing to migrate",
                       path);
        else
            cm_err_set(err,
                       "%s: not a legacy Chroma store: no chroma-collections.parquet (give the persist_directory "
                       "a chromadb 0.3.x client was created with)",
                       path);
        goto fail;
    }
    if (ls->index_dir)
        note_index_access(ls);
    if (has_new)
        snprintf(ls->notes + strlen(ls->notes), sizeof ls->notes - strlen(ls->notes), "%s"
                 "this folder also holds a chroma.sqlite3 from Chroma >= 0.4; only the legacy Parquet data is read, "
                 "the new-format data beside it is left untouched",
                 ls->notes[0] ? "; " : "");
    if (!exists(ls->emb_path)) {
        cm_err_set(err, "%s: missing; the store has collections but its records file is gone (restore it)",
                   ls->emb_path);
        goto fail;
    }
    if (pq_open(ls->emb_path, &ls->emb, err) < 0)
        goto fail;
    static const pq_type types[NCOLS] = {PQ_BYTE_ARRAY, PQ_BYTE_ARRAY, PQ_DOUBLE, PQ_BYTE_ARRAY, PQ_BYTE_ARRAY,
                                         PQ_BYTE_ARRAY};
    for (int k = 0; k < NCOLS; k++)
        if ((ls->col[k] = need_col(ls->emb, emb_cols[k], types[k], k == COL_EMB ? 1 : 0, err)) < 0)
            goto fail;
    if (pq_column_max_def(ls->emb, (size_t)ls->col[COL_EMB]) != 3) {
        cm_err_set(err, "%s: column 'embedding' is not the 3-level optional LIST of DOUBLE chroma 0.3.x wrote",
                   ls->emb_path);
        goto fail;
    }
    return &ls->base;
fail:
    src_destroy(&ls->base);
    return NULL;
}
