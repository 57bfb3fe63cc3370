/* parquet_meta.c - the footer: FileMetaData, schema, row groups, column chunks.
 *
 * Facts from apache/parquet-format (parquet.thrift). Only the fields a reader
 * needs are kept; everything else (statistics, bloom filter offsets, page
 * indexes, key/value metadata) is skipped. Row-group total_byte_size and the
 * per-column encodings list are not trusted: page headers decide. */
#include "parquet_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/mem.h"

static int rd_i64(tc_reader *r, int type, int64_t *v)
{
    if (type < TC_I8 || type > TC_I64)
        return tc_skip(r, type) < 0 ? -1 : 0;
    return tc_int(r, type, v);
}

static int rd_name(tc_reader *r, int type, char *out, size_t cap)
{
    const uint8_t *p;
    size_t n;
    if (type != TC_BINARY)
        return tc_skip(r, type);
    if (tc_binary(r, &p, &n) < 0)
        return -1;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

typedef struct schema_el {
    int type, type_length, repetition, num_children;
    char name[256];
} schema_el;

static int read_schema_el(tc_reader *r, schema_el *e)
{
    int16_t last = 0, id;
    int t;
    int64_t v;
    memset(e, 0, sizeof *e);
    e->type = -1;
    if (tc_struct_begin(r, &last) < 0)
        return -1;
    int rc;
    while ((rc = tc_field(r, &last, &id, &t)) == 1) {
        v = 0;
        switch (id) {
        case 1: if (rd_i64(r, t, &v) < 0) return -1; e->type = (int)v; break;
        case 2: if (rd_i64(r, t, &v) < 0) return -1; e->type_length = (int)v; break;
        case 3: if (rd_i64(r, t, &v) < 0) return -1; e->repetition = (int)v; break;
        case 4: if (rd_name(r, t, e->name, sizeof e->name) < 0) return -1; break;
        case 5: if (rd_i64(r, t, &v) < 0) return -1; e->num_children = (int)v; break;
        default: if (tc_skip(r, t) < 0) return -1;
        }
    }
    return rc;
}

/* Walks the flattened schema tree (depth first, num_children per group),
 * turning leaves into columns with their dotted path and max levels. */
static int build_columns(pq_file *f, schema_el *els, uint32_t n, cm_err *err)
{
    if (n == 0)
        return cm_err_set(err, "%s: the footer has an empty schema", f->path);
    struct frame {
        int remaining, def, rep;
        size_t path_len;
    } st[64];
    int sp = 0;
    char path[4096] = "";
    st[0] = (struct frame){els[0].num_children, 0, 0, 0};
    f->cols = xcalloc(n, sizeof *f->cols);
    for (uint32_t i = 1; i < n; i++) {
        while (sp > 0 && st[sp].remaining == 0)
            sp--;
        if (st[sp].remaining <= 0)
            return cm_err_set(err, "%s: the schema tree in the footer is malformed", f->path);
        st[sp].remaining--;
        schema_el *e = &els[i];
        size_t base = st[sp].path_len;
        int w = snprintf(path + base, sizeof path - base, "%s%s", base ? "." : "", e->name);
        if (w < 0 || (size_t)w >= sizeof path - base)
            return cm_err_set(err, "%s: a schema path is too long", f->path);
        int def = st[sp].def + (e->repetition != 0);
        int rep = st[sp].rep + (e->repetition == 2);
        if (e->num_children > 0) {
            if (sp + 1 >= 64)
                return cm_err_set(err, "%s: the schema nests too deeply", f->path);
            sp++;
            st[sp] = (struct frame){e->num_children, def, rep, base + (size_t)w};
            continue;
        }
        if (e->type < 0 || e->type > 7)
            return cm_err_set(err, "%s: column '%s' has no valid physical type", f->path, path);
        pq_col *c = &f->cols[f->ncols++];
        c->path = xstrdup(path);
        c->type = (pq_type)e->type;
        c->type_length = e->type_length;
        c->max_def = def;
        c->max_rep = rep;
        if (c->type == PQ_FIXED_LEN_BYTE_ARRAY && c->type_length <= 0)
            return cm_err_set(err, "%s: column '%s' has a bad type_length", f->path, path);
    }
    return 0;
}

static int read_column_meta(pq_file *f, tc_reader *r, pq_chunk *ch)
{
    int16_t last = 0, id;
    int t, rc;
    if (tc_struct_begin(r, &last) < 0)
        return -1;
    while ((rc = tc_field(r, &last, &id, &t)) == 1) {
        int64_t v = 0;
        switch (id) {
        case 1: if (rd_i64(r, t, &v) < 0) return -1; ch->type = (int)v; break;
        case 4: if (rd_i64(r, t, &v) < 0) return -1; ch->codec = (int)v; break;
        case 5: if (rd_i64(r, t, &v) < 0) return -1; ch->num_values = v; break;
        case 7: if (rd_i64(r, t, &v) < 0) return -1; ch->total_compressed = v; break;
        case 9: if (rd_i64(r, t, &v) < 0) return -1; ch->data_offset = v; break;
        case 11: if (rd_i64(r, t, &v) < 0) return -1; ch->dict_offset = v; break;
        default: if (tc_skip(r, t) < 0) return -1;
        }
    }
    (void)f;
    return rc;
}

static int read_row_group(pq_file *f, tc_reader *r, pq_rg *rg, cm_err *err)
{
    int16_t last = 0, id;
    int t, rc;
    if (tc_struct_begin(r, &last) < 0)
        return -1;
    while ((rc = tc_field(r, &last, &id, &t)) == 1) {
        if (id == 1 && t == TC_LIST) {
            int et;
            uint32_t n;
            if (tc_list_begin(r, &et, &n) < 0)
                return -1;
            if (n != f->ncols)
                return cm_err_set(err, "%s: a row group has %u column chunks for %zu columns", f->path, n, f->ncols);
            rg->chunks = xcalloc(n ? n : 1, sizeof *rg->chunks);
            for (uint32_t k = 0; k < n; k++) {
                int16_t l2 = 0, i2;
                int t2, rc2;
                if (tc_struct_begin(r, &l2) < 0)
                    return -1;
                rg->chunks[k].type = -1;
                while ((rc2 = tc_field(r, &l2, &i2, &t2)) == 1) {
                    if (i2 == 1 && t2 == TC_BINARY)
                        return cm_err_set(err, "%s: column chunks in other files are not supported", f->path);
                    if (i2 == 3 && t2 == TC_STRUCT) {
                        if (read_column_meta(f, r, &rg->chunks[k]) < 0)
                            return -1;
                    } else if (tc_skip(r, t2) < 0) {
                        return -1;
                    }
                }
                if (rc2 < 0)
                    return -1;
            }
            tc_container_end(r);
        } else if (id == 3) {
            if (rd_i64(r, t, &rg->num_rows) < 0)
                return -1;
        } else if (tc_skip(r, t) < 0) {
            return -1;
        }
    }
    return rc;
}

static int parse_footer(pq_file *f, const uint8_t *buf, size_t len, cm_err *err)
{
    tc_reader r;
    tc_init(&r, buf, len, err);
    int16_t last = 0, id;
    int t, rc;
    schema_el *els = NULL;
    uint32_t nels = 0;
    int have_schema = 0;
    if (tc_struct_begin(&r, &last) < 0)
        goto bad;
    while ((rc = tc_field(&r, &last, &id, &t)) == 1) {
        if (id == 2 && t == TC_LIST) {
            int et;
            if (tc_list_begin(&r, &et, &nels) < 0)
                goto bad;
            els = xcalloc(nels ? nels : 1, sizeof *els);
            for (uint32_t i = 0; i < nels; i++)
                if (read_schema_el(&r, &els[i]) < 0)
                    goto bad;
            tc_container_end(&r);
            if (build_columns(f, els, nels, err) < 0)
                goto fail;
            have_schema = 1;
        } else if (id == 3) {
            if (rd_i64(&r, t, &f->num_rows) < 0)
                goto bad;
        } else if (id == 4 && t == TC_LIST) {
            if (!have_schema) {
                cm_err_set(err, "%s: the footer lists row groups before the schema", f->path);
                goto fail;
            }
            int et;
            uint32_t n;
            if (tc_list_begin(&r, &et, &n) < 0)
                goto bad;
            f->rgs = xcalloc(n ? n : 1, sizeof *f->rgs);
            for (uint32_t i = 0; i < n; i++) {
                f->nrgs++;
                if (read_row_group(f, &r, &f->rgs[i], err) < 0)
                    goto fail;
            }
            tc_container_end(&r);
        } else if (tc_skip(&r, t) < 0) {
            goto bad;
        }
    }
    if (rc < 0)
        goto bad;
    free(els);
    if (!have_schema)
        return cm_err_set(err, "%s: the footer has no schema", f->path);
    /* Validate every chunk's byte range now, so cursors can trust it. */
    for (size_t g = 0; g < f->nrgs; g++) {
        if (!f->rgs[g].chunks)
            return cm_err_set(err, "%s: row group %zu has no column chunks (damaged footer)", f->path, g);
        for (size_t c = 0; c < f->ncols; c++) {
            pq_chunk *ch = &f->rgs[g].chunks[c];
            int64_t start = ch->dict_offset > 0 && ch->dict_offset < ch->data_offset ? ch->dict_offset : ch->data_offset;
            if (ch->type != (int)f->cols[c].type || start < 4 || ch->total_compressed < 0 ||
                (uint64_t)start > f->size || (uint64_t)ch->total_compressed > f->size - (uint64_t)start ||
                ch->num_values < 0 || f->rgs[g].num_rows < 0)
                return cm_err_set(err,
                                  "%s: row group %zu, column '%s': the footer's offsets or sizes do not fit the "
                                  "file (damaged or truncated?)",
                                  f->path, g, f->cols[c].path);
            ch->start = start;
        }
    }
    return 0;
bad:
    if (!err || !err->set)
        cm_err_set(err, "bad footer");
    cm_err_prefix(err, "%s: cannot read the Parquet footer", f->path);
fail:
    free(els);
    return -1;
}

int pq_read_at(const pq_file *f, uint64_t off, void *buf, size_t n, cm_err *err)
{
    if (off > f->size || n > f->size - off)
        return cm_err_set(err, "%s: a read at offset %llu runs past the end of the file (truncated?)", f->path,
                          (unsigned long long)off);
    if (f->mem) {
        memcpy(buf, f->mem + off, n);
        return 0;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(f->fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return cm_err_set(err, "%s: read failed: %s", f->path, got < 0 ? strerror(errno) : "unexpected end");
        done += (size_t)got;
    }
    return 0;
}

static int open_common(pq_file *f, cm_err *err)
{
    uint8_t tail[8], head[4];
    if (f->size < 12)
        return cm_err_set(err, "%s: %s: too short to be a Parquet file (%llu bytes)", f->path,
                          f->size ? "truncated" : "empty", (unsigned long long)f->size);
    if (pq_read_at(f, 0, head, 4, err) < 0 || pq_read_at(f, f->size - 8, tail, 8, err) < 0)
        return -1;
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
        return cm_err_set(err, "%s: not a Parquet file (no PAR1 magic%s)", f->path,
                          memcmp(head, "PAR1", 4) == 0 ? " at the end: truncated?" : "");
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
    if ((uint64_t)flen > f->size - 12)
        return cm_err_set(err, "%s: the footer length (%u) is larger than the file: damaged or truncated", f->path,
                          flen);
    uint8_t *buf = xmalloc(flen ? flen : 1);
    int rc = pq_read_at(f, f->size - 8 - flen, buf, flen, err);
    if (rc == 0)
        rc = parse_footer(f, buf, flen, err);
    free(buf);
    return rc;
}

int pq_open(const char *path, pq_file **out, cm_err *err)
{
    *out = NULL;
    pq_file *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (f->fd < 0 || fstat(f->fd, &st) != 0) {
        cm_err_set(err, "%s: %s", path, strerror(errno));
        pq_close(f);
        return -1;
    }
    f->size = (uint64_t)st.st_size;
    if (open_common(f, err) < 0) {
        pq_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int pq_open_memory(const void *data, size_t len, const char *name, pq_file **out, cm_err *err)
{
    *out = NULL;
    pq_file *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(name ? name : "(memory)");
    f->fd = -1;
    f->mem = data;
    f->size = len;
    if (open_common(f, err) < 0) {
        pq_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

void pq_close(pq_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    for (size_t i = 0; i < f->ncols; i++)
        free(f->cols[i].path);
    free(f->cols);
    for (size_t i = 0; i < f->nrgs; i++)
        free(f->rgs[i].chunks);
    free(f->rgs);
    free(f->path);
    free(f);
}

const char *pq_path(const pq_file *f) { return f->path; }
size_t pq_num_row_groups(const pq_file *f) { return f->nrgs; }
int64_t pq_row_group_num_rows(const pq_file *f, size_t rg) { return rg < f->nrgs ? f->rgs[rg].num_rows : 0; }
size_t pq_num_columns(const pq_file *f) { return f->ncols; }
pq_type pq_column_type(const pq_file *f, size_t col) { return f->cols[col].type; }
int pq_column_max_def(const pq_file *f, size_t col) { return f->cols[col].max_def; }
int pq_column_max_rep(const pq_file *f, size_t col) { return f->cols[col].max_rep; }

long pq_column_find(const pq_file *f, const char *path)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(f->cols[i].path, path) == 0)
            return (long)i;
    return -1;
}
