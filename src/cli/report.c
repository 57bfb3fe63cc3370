/* report.c - the parts of inspect's and migrate's reports that describe a
 * collection, its problems and what was done about its index, in JSON and
 * in text. The library hands over counts and kinds; the words are here. */
#include <stdio.h>
#include <string.h>

#include "../core/meta_json.h"
#include "../util/utf8.h"
#include "cli.h"

#include <stdlib.h>

static void jkey(json_out *o, const char *k)
{
    jo_str(o, k, strlen(k));
    jo_raw(o, ":", 1);
}

static void jint(json_out *o, const char *k, int64_t v)
{
    jkey(o, k);
    jo_int(o, v);
    jo_raw(o, ",", 1);
}

void cli_json_source(json_out *o, cm_source *src)
{
    jo_cstr(o, "{\"kind\":");
    jo_str(o, src->ops->kind, strlen(src->ops->kind));
    jo_cstr(o, ",\"location\":");
    jo_str(o, src->location, strlen(src->location));
    const char *notes = cli_source_notes(src);
    jo_cstr(o, ",\"notes\":");
    if (notes)
        jo_str(o, notes, strlen(notes));
    else
        jo_cstr(o, "null");
    jo_raw(o, "}", 1);
}

void cli_json_collection_summary(json_out *o, const cm_coll_result *cr)
{
    const cm_stats *st = &cr->st;
    jkey(o, "name");
    jo_str(o, cr->src.name, strlen(cr->src.name));
    jo_raw(o, ",", 1);
    jkey(o, "id");
    jo_str(o, cr->src.id, strlen(cr->src.id));
    jo_raw(o, ",", 1);
    jint(o, "records", st->records);
    jint(o, "unique_ids", st->unique_ids);
    jint(o, "duplicate_ids", st->dup_ids.count);
    jkey(o, "dimension");
    if (st->dims_n == 1)
        jo_int(o, st->dim);
    else
        jo_cstr(o, "null");
    jo_raw(o, ",", 1);
    jkey(o, "dimensions");
    jo_raw(o, "[", 1);
    for (int64_t i = 0; i < st->dims_n; i++) {
        if (i)
            jo_raw(o, ",", 1);
        jo_int(o, st->dim_value[i]);
    }
    jo_raw(o, "],", 2);
    jint(o, "documents", st->documents);
    jint(o, "metadatas", st->metadatas);
    jkey(o, "metadata");
    if (cr->src.has_meta)
        cm_meta_write(o, &cr->src.meta);
    else
        jo_cstr(o, "null");
    jo_raw(o, ",", 1);
}

static void problem(json_out *o, int *first, const char *kind, int64_t count, const char *msg, const cm_issue *is)
{
    if (!*first)
        jo_raw(o, ",", 1);
    *first = 0;
    jo_raw(o, "{", 1);
    jkey(o, "kind");
    jo_str(o, kind, strlen(kind));
    jo_raw(o, ",", 1);
    jint(o, "count", count);
    jkey(o, "message");
    jo_str(o, msg, strlen(msg));
    if (is) {
        jo_raw(o, ",", 1);
        jkey(o, "examples");
        jo_raw(o, "[", 1);
        for (size_t i = 0; i < is->nex; i++) {
            if (i)
                jo_raw(o, ",", 1);
            jo_raw(o, "{", 1);
            jkey(o, "id");
            if (is->ex[i].id)
                jo_str(o, is->ex[i].id, strlen(is->ex[i].id));
            else
                jo_cstr(o, "null");
            jo_raw(o, ",", 1);
            jint(o, "row", is->ex[i].row);
            jkey(o, "detail");
            jo_str(o, is->ex[i].detail, strlen(is->ex[i].detail));
            jo_raw(o, "}", 1);
        }
        jo_raw(o, "]", 1);
    }
    jo_raw(o, "}", 1);
}

/* Walks every problem of a collection, for both output forms. */
typedef void (*problem_fn)(void *ctx, const char *kind, int64_t count, const char *msg, const cm_issue *is);

static void each_problem(const cm_coll_result *cr, problem_fn fn, void *ctx)
{
    const cm_stats *st = &cr->st;
    char msg[512];
    const char *why = cm_name_problem(cr->target_name);
    if (why) {
        snprintf(msg, sizeof msg, "the name '%s' %s: Chroma >= 0.4 refuses it; migrate with --rename '%s=NEW'",
                 cr->target_name, why, cr->src.name);
        fn(ctx, "invalid_name", 1, msg, NULL);
    }
    for (size_t k = 0; cr->src.has_meta && k < cr->src.meta.n; k++) {
        const char *mp = cm_mentry_problem(&cr->src.meta.v[k]);
        if (mp) {
            snprintf(msg, sizeof msg, "collection metadata key '%s': %s", cr->src.meta.v[k].key, mp);
            fn(ctx, "invalid_collection_metadata", 1, msg, NULL);
        }
    }
    cm_hnsw_cfg cfg;
    cm_err e = {0};
    if (cm_hnsw_cfg_from_meta(cr->src.has_meta ? &cr->src.meta : NULL, &cfg, &e) < 0)
        fn(ctx, "invalid_hnsw_settings", 1, e.msg, NULL);
    if (st->dup_ids.count) {
        snprintf(msg, sizeof msg,
                 "%lld %s an id seen earlier in the collection (Chroma >= 0.4 needs unique ids; the "
                 "first copy is kept unless --duplicates last|error)",
                 (long long)st->dup_ids.count, st->dup_ids.count == 1 ? "record repeats" : "records repeat");
        fn(ctx, "duplicate_ids", st->dup_ids.count, msg, &st->dup_ids);
    }
    if (st->dims_n > 1) {
        snprintf(msg, sizeof msg, "%lld %s a dimension other than %lld (mixed dimensions)",
                 (long long)st->wrong_dim.count, cli_records_have(st->wrong_dim.count), (long long)st->dim);
        fn(ctx, "mixed_dimensions", st->wrong_dim.count, msg, NULL);
    }
    if (st->unsent.count) {
        snprintf(msg, sizeof msg, "%lld %s could not send (only their ids are known)",
                 (long long)st->unsent.count, st->unsent.count == 1 ? "record the server" : "records the server");
        fn(ctx, "unsent_records", st->unsent.count, msg, &st->unsent);
    }
    if (st->missing_emb.count) {
        snprintf(msg, sizeof msg, "%lld %s no usable embedding", (long long)st->missing_emb.count, cli_records_have(st->missing_emb.count));
        fn(ctx, "missing_embeddings", st->missing_emb.count, msg, &st->missing_emb);
    }
    if (st->nonfinite_emb.count) {
        snprintf(msg, sizeof msg, "%lld %s embedding values that are not finite float32",
                 (long long)st->nonfinite_emb.count, cli_records_have(st->nonfinite_emb.count));
        fn(ctx, "nonfinite_embeddings", st->nonfinite_emb.count, msg, &st->nonfinite_emb);
    }
    if (st->missing_id.count) {
        snprintf(msg, sizeof msg, "%lld %s no id or the empty id (Chroma refuses both)",
                 (long long)st->missing_id.count, cli_records_have(st->missing_id.count));
        fn(ctx, "missing_ids", st->missing_id.count, msg, &st->missing_id);
    }
    if (st->bad_meta.count) {
        snprintf(msg, sizeof msg,
                 "%lld %s metadata Chroma >= 0.4 cannot store (null, nested, list, NaN/Infinity, huge "
                 "integers, text that is not UTF-8, keys in the reserved 'chroma:' namespace)",
                 (long long)st->bad_meta.count, cli_records_have(st->bad_meta.count));
        fn(ctx, "invalid_metadata", st->bad_meta.count, msg, &st->bad_meta);
    }
    if (st->meta_not_object.count) {
        snprintf(msg, sizeof msg, "%lld %s metadata that is no JSON object (not JSON, a list, a string, a "
                 "number)", (long long)st->meta_not_object.count, cli_records_have(st->meta_not_object.count));
        fn(ctx, "metadata_not_object", st->meta_not_object.count, msg, &st->meta_not_object);
    }
    if (st->bad_text.count) {
        snprintf(msg, sizeof msg, "%lld %s an id or document that is not UTF-8 text",
                 (long long)st->bad_text.count, cli_records_have(st->bad_text.count));
        fn(ctx, "text_not_utf8", st->bad_text.count, msg, &st->bad_text);
    }
}

typedef struct json_ctx {
    json_out *o;
    int first;
} json_ctx;

static void json_cb(void *ctx, const char *kind, int64_t count, const char *msg, const cm_issue *is)
{
    json_ctx *j = ctx;
    problem(j->o, &j->first, kind, count, msg, is);
}

void cli_json_problems(json_out *o, const cm_coll_result *cr)
{
    json_ctx j = {o, 1};
    jkey(o, "problems");
    jo_raw(o, "[", 1);
    each_problem(cr, json_cb, &j);
    jo_raw(o, "]", 1);
}

static void text_cb(void *ctx, const char *kind, int64_t count, const char *msg, const cm_issue *is)
{
    FILE *f = ctx;
    (void)kind;
    (void)count;
    fprintf(f, "    ! %s\n", msg);
    char shown[300];
    for (size_t i = 0; is && i < is->nex; i++)
        fprintf(f, "        e.g. id '%s' (row %lld): %s\n",
                is->ex[i].id ? utf8_shown(is->ex[i].id, strlen(is->ex[i].id), shown, sizeof shown) : "(none)",
                (long long)is->ex[i].row, is->ex[i].detail);
}

void cli_print_problems_text(FILE *f, const cm_coll_result *cr)
{
    each_problem(cr, text_cb, f);
}

void cli_print_inspect_text(FILE *f, cm_source *src, const cm_run *run)
{
    int64_t total = 0;
    fprintf(f, "source: %s\n        %s\n", src->location, src->ops->kind);
    const char *notes = cli_source_notes(src);
    if (notes)
        fprintf(f, "note:   %s\n", notes);
    fprintf(f, "\n%-32s %10s %10s %6s %10s %10s\n", "collection", "records", "ids", "dim", "documents", "metadatas");
    for (size_t i = 0; i < run->n; i++) {
        const cm_coll_result *cr = &run->c[i];
        char dim[32];
        if (cr->st.dims_n == 1)
            snprintf(dim, sizeof dim, "%lld", (long long)cr->st.dim);
        else
            snprintf(dim, sizeof dim, "%s", cr->st.dims_n ? "mixed" : "-");
        fprintf(f, "%-32s %10lld %10lld %6s %10lld %10lld\n", cr->src.name, (long long)cr->st.records,
               (long long)cr->st.unique_ids, dim, (long long)cr->st.documents, (long long)cr->st.metadatas);
        if (cr->src.has_meta) {
            json_out o = {0};
            cm_meta_write(&o, &cr->src.meta);
            fprintf(f, "    metadata: %.*s\n", (int)o.len, o.buf);
            jo_free(&o);
        }
        cli_print_problems_text(f, cr);
        total += cr->st.records;
    }
    fprintf(f, "\n%zu collection%s, %lld records\n", run->n, run->n == 1 ? "" : "s", (long long)total);
}


/* "3 stale, 2 deleted and 4 replaced elements kept as deleted", preceded by
 * what was inserted: "6 missing records inserted into the graph, ...". */
static void reuse_detail(const cm_index_outcome *r, char *buf, size_t cap)
{
    char kept[160] = "", ins[120] = "";
    const size_t kinds[3] = {r->stale, r->deleted, r->replaced};
    static const char *const kind_names[3] = {"stale", "deleted", "replaced"};
    size_t nk = 0, o = 0, tomb = r->stale + r->deleted + r->replaced;
    for (int k = 0; k < 3; k++)
        nk += kinds[k] != 0;
    for (int k = 0, seen = 0; k < 3; k++) {
        if (!kinds[k])
            continue;
        seen++;
        o += (size_t)snprintf(kept + o, sizeof kept - o, "%s%zu %s", seen == 1 ? "" : seen == (int)nk ? " and " : ", ",
                              kinds[k], kind_names[k]);
    }
    if (tomb)
        snprintf(kept + o, sizeof kept - o, " element%s kept as deleted", tomb == 1 ? "" : "s");
    size_t added = r->inserted_missing, changed = r->replaced;
    if (added && changed)
        snprintf(ins, sizeof ins, "%zu missing and %zu changed records inserted into the graph", added, changed);
    else if (added || changed)
        snprintf(ins, sizeof ins, "%zu %s record%s inserted into the graph", added + changed,
                 added ? "missing" : "changed", added + changed == 1 ? "" : "s");
    snprintf(buf, cap, "%s%s%s", ins, *ins && *kept ? ", " : "", kept);
}

void cli_index_note(const cm_index_outcome *io, char *buf, size_t cap)
{
    char detail[300];
    switch (io->kind) {
    case CM_INDEX_NOTHING: buf[0] = '\0'; break;
    case CM_INDEX_BUILT: snprintf(buf, cap, "built (%s)", io->rebuild_asked ? "--index rebuild" : io->reason); break;
    case CM_INDEX_REUSED:
        reuse_detail(io, detail, sizeof detail);
        if (*detail)
            snprintf(buf, cap, "reused the legacy index (%s)", detail);
        else
            snprintf(buf, cap, "reused the legacy index");
        break;
    }
}
