/* pipeline.c - runs a migration: the analysis pass, the blockers, then the
 * write pass that hands each prepared record to the sink. cm_prepare_record
 * is the one place a record's fate is decided, shared with verify. */
#include "pipeline.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/mem.h"
#include "../util/utf8.h"
#include "python_json.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int tick(void *ctx, int64_t done)
{
    const cm_progress *pr = ctx;
    if (pr && pr->advance)
        pr->advance(pr->ctx, done);
    return pr && pr->cancelled && pr->cancelled(pr->ctx);
}

static void build_tick(void *ctx, size_t done, size_t total)
{
    (void)total;
    (void)tick(ctx, (int64_t)done);
}

static void phase(const cm_progress *pr, const char *ph, const char *coll, int64_t total)
{
    if (pr && pr->phase)
        pr->phase(pr->ctx, ph, coll, total);
}

static void blockers_free(cm_run *run);

void cm_run_free(cm_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        cm_collection_free(&run->c[i].src);
        free(run->c[i].target_name);
        cm_stats_free(&run->c[i].st);
    }
    free(run->c);
    blockers_free(run);
    memset(run, 0, sizeof *run);
}

static int has_collection(const cm_collection *cols, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++)
        if (strcmp(cols[j].name, name) == 0)
            return 1;
    return 0;
}

/* "X: no such collection in LOC; it has: a, b" - the names the user can
 * pick from, so a typo is fixed without another inspect. The CLI names the
 * option (hint) in front. */
static int no_such(cm_hint opt, const char *arg, const cm_collection *cols, size_t n, const char *where,
                   cm_err *err)
{
    char names[1024];
    size_t o = 0;
    names[0] = '\0';
    for (size_t j = 0; j < n && o + 1 < sizeof names; j++) {
        int w = snprintf(names + o, sizeof names - o, "%s'%s'", j ? ", " : "", cols[j].name);
        if (w < 0 || (size_t)w >= sizeof names - o) {
            snprintf(names + o, sizeof names - o, "%s...", j ? ", " : "");
            break;
        }
        o += (size_t)w;
    }
    if (n == 0)
        cm_err_set(err, "%s: no such collection in %s, which has no collections", arg, where);
    else
        cm_err_set(err, "%s: no such collection in %s; its %zu collection%s: %s", arg, where, n,
                   n == 1 ? " is" : "s are", names);
    return cm_err_mark(err, CM_ERR_SELECTION, opt, arg);
}

int cm_run_check_names(const cm_policy *p, const cm_collection *cols, size_t n, const char *where, cm_err *err)
{
    for (size_t i = 0; i < p->nonly; i++)
        if (!has_collection(cols, n, p->only[i]))
            return no_such(CM_HINT_COLLECTION, p->only[i], cols, n, where, err);
    for (size_t i = 0; i < p->nrenames; i++)
        if (!has_collection(cols, n, p->renames[i].from)) {
            char arg[600];
            snprintf(arg, sizeof arg, "%s=%s", p->renames[i].from, p->renames[i].to);
            return no_such(CM_HINT_RENAME_ARG, arg, cols, n, where, err);
        }
    return 0;
}

int cm_run_analyze(cm_source *src, const cm_policy *p, const cm_progress *pr, cm_run *run, cm_err *err)
{
    double t0 = now();
    memset(run, 0, sizeof *run);
    cm_collection *cols = NULL;
    size_t n = 0;
    if (src->ops->list(src, &cols, &n, err) < 0)
        return -1;
    if (cm_run_check_names(p, cols, n, src->location, err) < 0) {
        cm_collections_free(cols, n);
        return -1;
    }
    run->c = xcalloc(n ? n : 1, sizeof *run->c);
    for (size_t j = 0; j < n; j++) {
        if (!cm_policy_selected(p, cols[j].name))
            continue;
        cm_coll_result *cr = &run->c[run->n++];
        cm_collection_copy(&cr->src, &cols[j]);
        cr->target_name = xstrdup(cm_policy_target_name(p, cols[j].name));
        phase(pr, "reading", cr->src.name, cr->src.count_hint);
        /* The space and HNSW settings as far as the metadata says, so that a
         * report of a run that stops before writing names them right. */
        if (cm_hnsw_cfg_from_meta(cr->src.has_meta ? &cr->src.meta : NULL, &cr->hnsw, NULL) < 0)
            cm_hnsw_cfg_from_meta(NULL, &cr->hnsw, NULL);
        if (cm_analyze(src, &cr->src, &cr->st, tick, (void *)pr, err) < 0) {
            cm_collections_free(cols, n);
            return -1;
        }
    }
    cm_collections_free(cols, n);
    run->seconds = now() - t0;
    return 0;
}

static cm_blocker *blk_add(cm_run *run, size_t *cap, cm_blocker_kind kind, const char *collection)
{
    run->blockers = xgrow(run->blockers, cap, run->nblockers + 1, sizeof *run->blockers);
    cm_blocker *b = &run->blockers[run->nblockers++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->collection = xstrdup(collection);
    return b;
}

static void examples(char *out, size_t cap, const cm_issue *is)
{
    size_t o = 0;
    out[0] = '\0';
    char shown[300];
    for (size_t i = 0; i < is->nex && o + 1 < cap; i++) {
        const char *id = is->ex[i].id ? utf8_shown(is->ex[i].id, strlen(is->ex[i].id), shown, sizeof shown) : "(none)";
        int n = snprintf(out + o, cap - o, "%sid '%s' (row %lld): %s", i ? "; " : "", id, (long long)is->ex[i].row,
                         is->ex[i].detail);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    if (is->count > (int64_t)is->nex && o + 1 < cap)
        snprintf(out + o, cap - o, "; ... %lld more", (long long)(is->count - (int64_t)is->nex));
}

/* A blocker about records: their number and examples. */
static void blk_records(cm_run *run, size_t *cap, cm_blocker_kind kind, const char *name, const cm_issue *is)
{
    if (!is->count)
        return;
    char ex[1600];
    examples(ex, sizeof ex, is);
    cm_blocker *b = blk_add(run, cap, kind, name);
    b->count = is->count;
    b->examples = xstrdup(ex);
}

/* The collection's name and metadata (before any record). */
static void blk_collection(cm_run *run, size_t *cap, size_t i, const cm_policy *p)
{
    cm_coll_result *cr = &run->c[i];
    const char *name = cr->src.name;
    const char *why = cm_name_problem(cr->target_name);
    if (why) {
        cm_blocker *b = blk_add(run, cap, CM_BLK_BAD_NAME, cr->target_name);
        b->other = xstrdup(name);
        b->detail = xstrdup(why);
    }
    for (size_t j = 0; j < i; j++)
        if (strcmp(run->c[j].target_name, cr->target_name) == 0) {
            cm_blocker *b = blk_add(run, cap, CM_BLK_NAME_CLASH, name);
            b->other = xstrdup(run->c[j].src.name);
            b->detail = xstrdup(cr->target_name);
        }
    for (size_t k = 0; cr->src.has_meta && k < cr->src.meta.n; k++) {
        const char *mp = cm_mentry_problem(&cr->src.meta.v[k]);
        if (mp && p->meta == CM_META_ERROR) {
            cm_blocker *b = blk_add(run, cap, CM_BLK_META_KEY, name);
            b->other = xstrdup(cr->src.meta.v[k].key);
            b->detail = xstrdup(mp);
        }
    }
    cm_hnsw_cfg cfg;
    cm_err e = {0};
    if (cm_hnsw_cfg_from_meta(cr->src.has_meta ? &cr->src.meta : NULL, &cfg, &e) < 0)
        blk_add(run, cap, CM_BLK_HNSW_META, name)->detail = xstrdup(e.msg);
}

/* Embeddings of more than one dimension: the counts per dimension. */
static void blk_dims(cm_run *run, size_t *cap, const cm_coll_result *cr)
{
    char dims[512];
    size_t o = 0;
    dims[0] = '\0';
    for (int64_t d = 0; d < cr->st.dims_n && o + 1 < sizeof dims; d++) {
        int w = snprintf(dims + o, sizeof dims - o, "%s%lld dims: %lld records", d ? ", " : "",
                         (long long)cr->st.dim_value[d], (long long)cr->st.dim_count[d]);
        if (w > 0)
            o += (size_t)w;
    }
    cm_blocker *b = blk_add(run, cap, CM_BLK_WRONG_DIM, cr->src.name);
    b->detail = xstrdup(dims);
    b->dim = cr->st.dim;
}

static void blockers_free(cm_run *run)
{
    for (size_t i = 0; i < run->nblockers; i++) {
        free(run->blockers[i].collection);
        free(run->blockers[i].other);
        free(run->blockers[i].examples);
        free(run->blockers[i].detail);
    }
    free(run->blockers);
    run->blockers = NULL;
    run->nblockers = 0;
}

size_t cm_run_blockers(cm_run *run, const cm_policy *p)
{
    blockers_free(run);
    size_t cap = 0;
    for (size_t i = 0; i < run->n; i++) {
        const cm_coll_result *cr = &run->c[i];
        const char *name = cr->src.name;
        blk_collection(run, &cap, i, p);
        if (p->meta == CM_META_ERROR) {
            blk_records(run, &cap, CM_BLK_BAD_META, name, &cr->st.bad_meta);
            blk_records(run, &cap, CM_BLK_META_NOT_OBJECT, name, &cr->st.meta_not_object);
        }
        if (p->dup == CM_DUP_ERROR)
            blk_records(run, &cap, CM_BLK_DUP_IDS, name, &cr->st.dup_ids);
        if (p->skip_invalid)
            continue;
        blk_records(run, &cap, CM_BLK_MISSING_ID, name, &cr->st.missing_id);
        blk_records(run, &cap, CM_BLK_BAD_TEXT, name, &cr->st.bad_text);
        blk_records(run, &cap, CM_BLK_UNSENT, name, &cr->st.unsent);
        blk_records(run, &cap, CM_BLK_MISSING_EMB, name, &cr->st.missing_emb);
        blk_records(run, &cap, CM_BLK_NONFINITE_EMB, name, &cr->st.nonfinite_emb);
        if (cr->st.wrong_dim.count)
            blk_dims(run, &cap, cr);
    }
    return run->nblockers;
}

/* Decides whether record number idx of the collection is the copy of its id
 * that gets written. */
static int keep_copy(const cm_coll_result *cr, const cm_policy *p, const cm_record *r, int64_t idx)
{
    strmap_val *v = strmap_get(cr->st.ids, r->id, r->id_len);
    if (!v)
        return 1;
    return p->dup == CM_DUP_LAST ? v->last == idx : v->first == idx;
}

/* Metadata text that is no JSON object: gone under drop, kept whole as one
 * string under stringify (policy.h names the key). */
static void settle_raw_meta(cm_record *r, cm_meta_policy p, cm_meta_changes *ch)
{
    if (p == CM_META_STRINGIFY) {
        cm_meta_clear(&r->meta);
        cm_mval *v = cm_meta_add(&r->meta, CM_LEGACY_METADATA_KEY, strlen(CM_LEGACY_METADATA_KEY));
        v->type = CM_M_STR;
        if (utf8_valid(r->meta_raw, r->meta_raw_len)) {
            v->s = r->meta_raw;
            v->s_len = r->meta_raw_len;
        } else { /* text that is not even UTF-8: its json.dumps form */
            cm_mval raw = {.type = CM_M_STR, .s = r->meta_raw, .s_len = r->meta_raw_len};
            v->s = cm_python_dumps_mval(&raw);
            v->s_len = strlen(v->s);
            free(r->meta_raw);
        }
        r->has_meta = 1;
    } else {
        free(r->meta_raw);
    }
    r->meta_raw = NULL;
    r->meta_raw_len = 0;
    if (ch)
        ch->whole++;
}

cm_verdict cm_prepare_record(const cm_coll_result *cr, const cm_policy *p, cm_record *r, int64_t idx,
                             cm_meta_changes *ch)
{
    if (!r->id || !r->id_len)
        return CM_SKIP_NO_ID;
    if (!keep_copy(cr, p, r, idx))
        return CM_SKIP_DUPLICATE;
    if (r->unsent)
        return CM_SKIP_UNSENT;
    if (cm_record_emb_problem(r))
        return CM_SKIP_NO_EMB;
    if ((int64_t)r->dim != cr->st.dim)
        return CM_SKIP_WRONG_DIM;
    for (size_t k = 0; k < r->dim; k++)
        if (!isfinite(r->emb[k]) || fabs(r->emb[k]) >= CM_F32_OVERFLOW)
            return CM_SKIP_NONFINITE;
    if (cm_record_text_problem(r))
        return CM_SKIP_BAD_TEXT;
    if (r->meta_raw)
        settle_raw_meta(r, p->meta, ch);
    if (r->has_meta) {
        cm_meta_apply(&r->meta, p->meta, ch);
        if (r->meta.n == 0)
            r->has_meta = 0; /* {} is "no metadata" in Chroma >= 0.4 */
    }
    return CM_KEEP;
}

/* A target that acknowledges records itself says what was written. */
static void take_sink_counts(cm_sink *sink, cm_coll_result *cr)
{
    if (sink->ops->counts)
        sink->ops->counts(sink, &cr->written, &cr->already, &cr->in_doubt);
}

/* Returns 0, -1 when it stopped before the sink began the collection, -2
 * after. */
static int write_collection(cm_source *src, cm_sink *sink, const cm_policy *p, const cm_progress *pr,
                            cm_coll_result *cr, cm_err *err)
{
    double t0 = now();
    cm_meta cmeta = {0};
    if (cr->src.has_meta) {
        cm_meta_copy(&cmeta, &cr->src.meta);
        cm_meta_apply(&cmeta, p->meta, NULL);
    }
    if (cm_hnsw_cfg_from_meta(cr->src.has_meta ? &cmeta : NULL, &cr->hnsw, err) < 0) {
        cm_meta_free(&cmeta);
        return cm_err_prefix(err, "collection '%s'", cr->src.name);
    }
    cm_target_collection tc = {
        .name = cr->target_name,
        .source_id = cr->src.id,
        .meta = cmeta.n ? &cmeta : NULL,
        .hnsw = cr->hnsw,
        .dim = cr->st.dim,
        .max_records = (int64_t)strmap_size(cr->st.ids),
        .prior = src->ops->prior_index ? src->ops->prior_index(src, &cr->src) : NULL,
    };
    int rc = sink->ops->begin_collection(sink, &tc, err);
    cm_reader *rd = rc < 0 ? NULL : src->ops->open(src, &cr->src, err);
    if (!rd) {
        cm_meta_free(&cmeta);
        return -2;
    }
    phase(pr, "writing", cr->target_name, cr->st.records);
    cm_record r = {0};
    int64_t idx = 0;
    while ((rc = src->ops->next(rd, &r, err)) == 1) {
        int64_t i = idx++;
        if ((i & 1023) == 0 && tick((void *)pr, i)) {
            rc = cm_err_set(err, "interrupted");
            break;
        }
        switch (cm_prepare_record(cr, p, &r, i, &cr->meta_changes)) {
        case CM_SKIP_NO_ID: cr->skipped_no_id++; continue;
        case CM_SKIP_DUPLICATE: cr->dup_dropped++; continue;
        case CM_SKIP_UNSENT: cr->skipped_unsent++; continue;
        case CM_SKIP_NO_EMB: cr->skipped_no_emb++; continue;
        case CM_SKIP_WRONG_DIM: cr->skipped_wrong_dim++; continue;
        case CM_SKIP_NONFINITE: cr->skipped_nonfinite++; continue;
        case CM_SKIP_BAD_TEXT: cr->skipped_bad_text++; continue;
        case CM_KEEP: break;
        }
        if (sink->ops->add(sink, &r, err) < 0) {
            rc = -1;
            break;
        }
        cr->written++;
    }
    cm_record_clear(&r);
    cm_meta_free(&r.meta);
    src->ops->close(rd);
    cm_meta_free(&cmeta);
    if (rc < 0)
        return -2;
    (void)tick((void *)pr, idx);
    if (sink->ops->builds_index)
        phase(pr, "indexing", cr->target_name, cr->written);
    if (sink->ops->end_collection(sink, build_tick, (void *)pr, err) < 0)
        return -2;
    take_sink_counts(sink, cr);
    const cm_index_outcome *io = sink->ops->index_outcome ? sink->ops->index_outcome(sink) : NULL;
    if (io)
        cr->index = *io;
    cr->seconds = now() - t0;
    return 0;
}

int cm_run_write(cm_source *src, cm_sink *sink, const cm_policy *p, const cm_progress *pr, cm_run *run, cm_err *err)
{
    double t0 = now();
    if (pr && pr->plan) {
        int64_t records = 0;
        for (size_t i = 0; i < run->n; i++)
            records += run->c[i].st.records;
        pr->plan(pr->ctx, run->n, sink->ops->builds_index ? 2 * records : records);
    }
    for (size_t i = 0; i < run->n; i++) {
        int wrc = write_collection(src, sink, p, pr, &run->c[i], err);
        if (wrc < 0) {
            sink->ops->abort(sink);
            if (wrc == -2) /* the sink had begun this collection */
                take_sink_counts(sink, &run->c[i]);
            return -1;
        }
    }
    if (sink->ops->finish(sink, err) < 0) {
        sink->ops->abort(sink);
        return -1;
    }
    run->seconds += now() - t0;
    return 0;
}
