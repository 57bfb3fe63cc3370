/* analyze.c - the first pass: every record of a collection is looked at once
 * (ids counted in a strmap, dimensions, what Chroma cannot hold), so that a
 * run needing a decision stops before a byte is written. */
#include "analyze.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../format/json.h"
#include "../util/mem.h"
#include "../util/utf8.h"
#include "policy.h"

void cm_issue_add(cm_issue *is, const cm_record *r, const char *fmt, ...)
{
    is->count++;
    if (is->nex >= CM_MAX_EXAMPLES)
        return;
    cm_example *e = &is->ex[is->nex++];
    e->id = r->id ? xmemdup0(r->id, r->id_len) : NULL;
    e->row = r->src_row;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    e->detail = xstrdup(buf);
}

static void issue_free(cm_issue *is)
{
    for (size_t i = 0; i < is->nex; i++) {
        free(is->ex[i].id);
        free(is->ex[i].detail);
    }
    memset(is, 0, sizeof *is);
}

void cm_stats_free(cm_stats *st)
{
    issue_free(&st->dup_ids);
    issue_free(&st->missing_id);
    issue_free(&st->missing_emb);
    issue_free(&st->unsent);
    issue_free(&st->nonfinite_emb);
    issue_free(&st->wrong_dim);
    issue_free(&st->bad_meta);
    issue_free(&st->meta_not_object);
    issue_free(&st->bad_text);
    strmap_free(st->ids);
    memset(st, 0, sizeof *st);
}

const char *cm_record_emb_problem(const cm_record *r)
{
    if (!r->emb)
        return "no embedding";
    if (r->dim == 0)
        return "empty embedding";
    if (r->emb_has_null)
        return "embedding has null elements";
    return NULL;
}

const char *cm_record_text_problem(const cm_record *r)
{
    if (r->id && !utf8_valid(r->id, r->id_len))
        return "id";
    if (r->doc && !utf8_valid(r->doc, r->doc_len))
        return "document";
    return NULL;
}

static void note_text(cm_stats *st, const cm_record *r)
{
    const char *what = cm_record_text_problem(r);
    if (!what)
        return;
    char why[96];
    if (strcmp(what, "id") == 0)
        utf8_describe(r->id, r->id_len, why, sizeof why);
    else
        utf8_describe(r->doc, r->doc_len, why, sizeof why);
    cm_issue_add(&st->bad_text, r, "the %s is not UTF-8 text: %s", what, why);
}

static void note_meta(cm_stats *st, const cm_record *r)
{
    if (r->meta_raw) {
        cm_issue_add(&st->meta_not_object, r, "metadata is %s: %.60s%s", r->meta_raw_why, r->meta_raw,
                     r->meta_raw_len > 60 ? "..." : "");
        return;
    }
    for (size_t i = 0; r->has_meta && i < r->meta.n; i++) {
        const char *why = cm_mentry_problem(&r->meta.v[i]);
        if (why) {
            json_out k = {0};
            jo_str(&k, r->meta.v[i].key, r->meta.v[i].key_len);
            cm_issue_add(&st->bad_meta, r, "key %s: %s", k.buf, why);
            jo_free(&k);
            return;
        }
    }
}

static void note_dim(cm_stats *st, int64_t dim)
{
    for (int64_t i = 0; i < st->dims_n; i++)
        if (st->dim_value[i] == dim) {
            st->dim_count[i]++;
            return;
        }
    if (st->dims_n < CM_MAX_DIMS) {
        st->dim_value[st->dims_n] = dim;
        st->dim_count[st->dims_n++] = 1;
    }
}

int cm_analyze(cm_source *src, const cm_collection *c, cm_stats *st, int (*tick)(void *, int64_t), void *ctx,
               cm_err *err)
{
    memset(st, 0, sizeof *st);
    st->ids = strmap_new();
    st->dim = -1;
    cm_reader *rd = src->ops->open(src, c, err);
    if (!rd)
        return -1;
    cm_record r = {0};
    int rc;
    while ((rc = src->ops->next(rd, &r, err)) == 1) {
        int64_t idx = st->records++;
        if (tick && (idx & 1023) == 0 && tick(ctx, idx)) {
            rc = cm_err_set(err, "interrupted");
            break;
        }
        if (r.doc)
            st->documents++;
        if (r.has_meta || r.meta_raw)
            st->metadatas++;
        if (!r.id) {
            cm_issue_add(&st->missing_id, &r, "record has no id");
        } else {
            if (r.id_len == 0)
                cm_issue_add(&st->missing_id, &r, "the id is the empty string, which Chroma refuses");
            int created;
            strmap_val *v = strmap_upsert(st->ids, r.id, r.id_len, &created);
            if (created) {
                v->first = idx;
                st->unique_ids++;
            } else {
                cm_issue_add(&st->dup_ids, &r, "id seen %u time(s) before", v->count);
            }
            v->last = idx;
            v->count++;
        }
        const char *ep = cm_record_emb_problem(&r);
        if (r.unsent) { /* nothing but its id came: not a record without an embedding */
            cm_issue_add(&st->unsent, &r, "the server could not send it");
        } else if (ep) {
            cm_issue_add(&st->missing_emb, &r, "%s", ep);
        } else {
            note_dim(st, (int64_t)r.dim);
            for (size_t i = 0; i < r.dim; i++)
                if (!isfinite(r.emb[i]) || fabs(r.emb[i]) >= CM_F32_OVERFLOW) {
                    cm_issue_add(&st->nonfinite_emb, &r, "embedding value %zu is %g (not a finite float32)", i,
                                 r.emb[i]);
                    break;
                }
        }
        note_text(st, &r);
        note_meta(st, &r);
    }
    cm_record_clear(&r);
    cm_meta_free(&r.meta);
    src->ops->close(rd);
    if (rc < 0)
        return -1;
    int64_t best = -1;
    for (int64_t i = 0; i < st->dims_n; i++)
        if (best < 0 || st->dim_count[i] > st->dim_count[best])
            best = i;
    st->dim = best < 0 ? -1 : st->dim_value[best];
    if (st->dims_n > 1) {
        /* The mismatching records are counted here; their ids come from a
         * second look only when needed (migrate lists them when it stops). */
        for (int64_t i = 0; i < st->dims_n; i++)
            if (i != best)
                st->wrong_dim.count += st->dim_count[i];
    }
    return 0;
}
