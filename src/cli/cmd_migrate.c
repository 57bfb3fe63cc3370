/* cmd_migrate.c - `chroma-migrate migrate --from SOURCE --to TARGET`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../endpoints.h"
#include "target_opts.h"
#include "open_hint.h"
#include "policy_opts.h"
#include "source_opts.h"
#include "verify_report.h"
#include "../util/mem.h"
#include "cli.h"
#include "options.h"

static const char migrate_help[] =
    "usage: chroma-migrate migrate --from SOURCE --to TARGET [options]\n\n"
    "Moves every collection (ids, embeddings, documents, metadata, distance space)\n"
    "from SOURCE into TARGET. Nothing is written when something needs a decision:\n"
    "the run stops first and lists the records concerned.\n\n"
    "%s"
    "TARGET  a directory that does not exist or is empty: it becomes a Chroma\n"
    "        persistent directory (open it with chromadb.PersistentClient(path=...)\n"
    "        or `chroma run --path TARGET`). It appears only when complete.\n"
    "        Or http[s]://HOST[:PORT][/PREFIX]: a running Chroma server (0.4-0.6\n"
    "        API v1, >= 0.5.16 and 1.x API v2), fed through its API.\n\n";

static const char migrate_help_end[] =
    "\n"
    "exit: 0 success, 1 failure (a directory target: nothing written; a server keeps\n"
    "      what it acknowledged, and the error says how much), 2 usage, 3 --verify\n"
    "      found a mismatch, 130 interrupted\n";

/* migrate's options: the table's fields (options.h). */
typedef cli_args mopts;

/* 0: parsed; 1: --help printed; else the exit code of a usage error. */
static int parse(int argc, char **argv, mopts *m)
{
    int rc = cli_parse(argc, argv, m);
    if (rc == 1) {
        printf(migrate_help, cli_source_kinds);
        cli_print_options(stdout, CLI_MIGRATE);
        fputs(migrate_help_end, stdout);
        return 1;
    }
    if (rc != 0)
        return rc;
    if (!m->from || !m->to)
        return cli_usage_error("migrate", "give both --from SOURCE and --to TARGET");
    return 0;
}

static void report_json(const mopts *m, cm_source *src, cm_sink *sink, const cm_run *run, const char *error,
                        int status)
{
    json_out o = {0};
    int64_t written = 0, read = 0, already = 0, in_doubt = 0;
    jo_cstr(&o, "{\"status\":");
    jo_cstr(&o, status == 0 ? "\"ok\"" : status == 2 ? "\"needs_decision\"" : "\"failed\"");
    jo_cstr(&o, ",\"source\":");
    cli_json_source(&o, src);
    jo_cstr(&o, ",\"target\":{\"kind\":");
    jo_str(&o, sink->ops->kind, strlen(sink->ops->kind));
    jo_cstr(&o, ",\"location\":");
    char shown[1200];
    cli_location_shown(m->to, shown, sizeof shown);
    jo_str(&o, shown, strlen(shown));
    jo_cstr(&o, ",\"format\":");
    const char *fmt = cli_target_format(m->to, &m->target);
    jo_str(&o, fmt, strlen(fmt));
    jo_cstr(&o, "},\"collections\":[");
    for (size_t i = 0; i < run->n; i++) {
        const cm_coll_result *cr = &run->c[i];
        if (i)
            jo_raw(&o, ",", 1);
        jo_raw(&o, "{", 1);
        cli_json_collection_summary(&o, cr);
        jo_cstr(&o, "\"target_name\":");
        jo_str(&o, cr->target_name, strlen(cr->target_name));
        jo_cstr(&o, ",\"space\":");
        const char *sp = cm_space_name(cr->hnsw.space);
        jo_str(&o, sp, strlen(sp));
        jo_cstr(&o, ",\"written\":");
        jo_int(&o, cr->written);
        jo_cstr(&o, ",\"already_on_target\":");
        jo_int(&o, cr->already);
        jo_cstr(&o, ",\"in_doubt\":");
        jo_int(&o, cr->in_doubt);
        jo_cstr(&o, ",\"skipped\":{\"duplicate_ids\":");
        jo_int(&o, cr->dup_dropped);
        jo_cstr(&o, ",\"missing_id\":");
        jo_int(&o, cr->skipped_no_id);
        jo_cstr(&o, ",\"server_could_not_send\":");
        jo_int(&o, cr->skipped_unsent);
        jo_cstr(&o, ",\"missing_embedding\":");
        jo_int(&o, cr->skipped_no_emb);
        jo_cstr(&o, ",\"wrong_dimension\":");
        jo_int(&o, cr->skipped_wrong_dim);
        jo_cstr(&o, ",\"nonfinite_embedding\":");
        jo_int(&o, cr->skipped_nonfinite);
        jo_cstr(&o, ",\"not_utf8_text\":");
        jo_int(&o, cr->skipped_bad_text);
        jo_cstr(&o, "},\"metadata_values_changed\":");
        jo_int(&o, cr->meta_changes.values);
        jo_cstr(&o, ",\"metadata_keys_renamed\":");
        jo_int(&o, cr->meta_changes.keys_renamed);
        jo_cstr(&o, ",\"metadata_not_object\":");
        jo_int(&o, cr->meta_changes.whole);
        jo_cstr(&o, ",\"index\":");
        char note[400];
        cli_index_note(&cr->index, note, sizeof note);
        if (note[0])
            jo_str(&o, note, strlen(note));
        else
            jo_cstr(&o, "null");
        jo_cstr(&o, ",\"seconds\":");
        jo_float(&o, cr->seconds);
        jo_raw(&o, ",", 1);
        cli_json_problems(&o, cr);
        jo_raw(&o, "}", 1);
        written += cr->written;
        already += cr->already;
        in_doubt += cr->in_doubt;
        read += cr->st.records;
    }
    jo_cstr(&o, "],\"records_read\":");
    jo_int(&o, read);
    jo_cstr(&o, ",\"records_written\":");
    jo_int(&o, written);
    jo_cstr(&o, ",\"records_already_on_target\":");
    jo_int(&o, already);
    jo_cstr(&o, ",\"records_in_doubt\":");
    jo_int(&o, in_doubt);
    /* A server keeps what it acknowledged when the run fails; a directory
     * target appears complete or not at all. */
    jo_cstr(&o, ",\"target_keeps_partial_writes\":");
    jo_cstr(&o, sink->ops->counts ? "true" : "false");
    jo_cstr(&o, ",\"seconds\":");
    jo_float(&o, run->seconds);
    jo_cstr(&o, ",\"error\":");
    if (error)
        jo_str(&o, error, strlen(error));
    else
        jo_cstr(&o, "null");
    jo_cstr(&o, "}\n");
    fwrite(o.buf, 1, o.len, stdout);
    jo_free(&o);
}

/* After a failure or Ctrl-C: what stays on a target that keeps what it
 * acknowledged (a server), per collection, for the error line. */
static void stop_note(char *out, size_t cap, const cm_sink *sink, const cm_run *run)
{
    out[0] = '\0';
    if (!sink || !sink->ops->counts) {
        if (cli_interrupted())
            snprintf(out, cap, " (nothing was written)");
        return;
    }
    int64_t written = 0, doubt = 0;
    for (size_t i = 0; i < run->n; i++)
        written += run->c[i].written, doubt += run->c[i].in_doubt;
    if (!written && !doubt) {
        if (cli_interrupted())
            snprintf(out, cap, " (the server acknowledged no records)");
        return;
    }
    size_t o = (size_t)snprintf(out, cap, "; the server acknowledged %lld records before the stop",
                                (long long)written);
    const char *sep = ": ";
    for (size_t i = 0; i < run->n && o < cap; i++) {
        const cm_coll_result *cr = &run->c[i];
        if (!cr->written)
            continue;
        o += (size_t)snprintf(out + o, cap - o, "%s'%s' %lld", sep, cr->target_name, (long long)cr->written);
        sep = ", ";
    }
    if (doubt && o < cap)
        snprintf(out + o, cap - o, " (%lld more were sent without an answer: they may or may not be there)",
                 (long long)doubt);
}

static void report_text(const mopts *m, cm_source *src, const cm_run *run)
{
    int64_t written = 0, read = 0, skipped = 0, already = 0;
    FILE *f = stdout; /* results on stdout, progress and diagnostics on stderr (as git, rsync) */
    const char *notes = cli_source_notes(src);
    if (notes)
        fprintf(f, "\nnote about the source: %s\n", notes);
    fprintf(f, "\n%-32s %10s %10s %8s  %s\n", "collection", "read", "written", "space", "left out");
    for (size_t i = 0; i < run->n; i++) {
        const cm_coll_result *cr = &run->c[i];
        char name[300];
        if (strcmp(cr->src.name, cr->target_name))
            snprintf(name, sizeof name, "%s -> %s", cr->src.name, cr->target_name);
        else
            snprintf(name, sizeof name, "%s", cr->src.name);
        int64_t sk = cr->dup_dropped + cr->skipped_no_id + cr->skipped_unsent + cr->skipped_no_emb +
                     cr->skipped_wrong_dim + cr->skipped_nonfinite + cr->skipped_bad_text;
        char why[256] = "";
        size_t o = 0;
        const struct {
            int64_t n;
            const char *what;
        } parts[] = {{cr->dup_dropped, "duplicate ids"},
                     {cr->skipped_no_id, "no id"},
                     {cr->skipped_unsent, "the server could not send them"},
                     {cr->skipped_no_emb, "no embedding"},
                     {cr->skipped_wrong_dim, "other dimension"},
                     {cr->skipped_nonfinite, "non-finite embedding"},
                     {cr->skipped_bad_text, "id or document not UTF-8"}};
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
            if (parts[k].n && o < sizeof why) {
                int w = snprintf(why + o, sizeof why - o, "%s%lld %s", o ? ", " : "", (long long)parts[k].n,
                                 parts[k].what);
                if (w > 0)
                    o += (size_t)w;
            }
        fprintf(f, "%-32s %10lld %10lld %8s  %s\n", name, (long long)cr->st.records, (long long)cr->written,
                cm_space_name(cr->hnsw.space), sk ? why : "-");
        char note[400];
        cli_index_note(&cr->index, note, sizeof note);
        if (note[0])
            fprintf(f, "%-32s index: %s\n", "", note);
        if (cr->already)
            fprintf(f, "%-32s already on the target (not sent again): %lld\n", "", (long long)cr->already);
        const cm_meta_changes *mc = &cr->meta_changes;
        int drop = m->pol.meta == CM_META_DROP;
        if (mc->values)
            fprintf(f, "%-32s metadata %s: %lld\n", "", drop ? "keys dropped" : "values stringified",
                    (long long)mc->values);
        if (mc->keys_renamed)
            fprintf(f, "%-32s metadata keys renamed (reserved 'chroma:' or not UTF-8): %lld\n", "",
                    (long long)mc->keys_renamed);
        if (mc->whole)
            fprintf(f, "%-32s metadata that was no JSON object %s: %lld record%s\n", "",
                    drop ? "dropped" : "kept as text under '" CM_LEGACY_METADATA_KEY "'", (long long)mc->whole,
                    mc->whole == 1 ? "" : "s");
        written += cr->written;
        already += cr->already;
        read += cr->st.records;
        skipped += sk;
    }
    char there[80] = "";
    if (already)
        snprintf(there, sizeof there, ", %lld already there", (long long)already);
    fprintf(f, "\nmigrated %zu collection%s: %lld record%s read, %lld written%s, %lld left out, in %.1f s\n", run->n,
            run->n == 1 ? "" : "s", (long long)read, read == 1 ? "" : "s", (long long)written, there,
            (long long)skipped, run->seconds);
    if (cli_target_is_server(m->to)) /* the description names the URL */
        fprintf(f, "result: %s\n", cli_target_format(m->to, &m->target));
    else
        fprintf(f, "result: %s (%s)\n", m->to, cli_target_format(m->to, &m->target));
    if (!cli_target_is_server(m->to) && m->target.dir.profile == CM_PROFILE_1_5)
        fprintf(f, "note: Chroma 1.2.1 and older cannot open this directory (they stop at start on its 18 "
                   "migrations); Chroma 1.0.x users: --chroma-version 1.0\n");
    cli_how_to_open(f, m->to, &m->target.http.headers, m->target.http.tenant, m->target.http.database);
}

int cmd_migrate(int argc, char **argv)
{
    mopts m;
    cli_args_init(&m, CLI_MIGRATE);
    int rc = parse(argc, argv, &m);
    if (rc != 0) {
        cli_args_free(&m);
        return rc == 1 ? EXIT_OK : rc;
    }
    cm_err err = {0};
    if (cli_check_target(m.from, m.to, &err) < 0) {
        cli_error("%s", cli_err_text(&err));
        cli_args_free(&m);
        return EXIT_FAIL;
    }
    cm_source *src = cm_source_open(m.from, &m.source, &err);
    if (!src) {
        cli_error("%s", cli_err_text(&err));
        cli_args_free(&m);
        return EXIT_FAIL;
    }
    cli_install_interrupt();
    cli_progress *pg = cli_progress_new(m.quiet, m.verbose);
    cm_progress pr;
    cli_progress_bind(pg, &pr);
    cm_run run;
    memset(&run, 0, sizeof run);
    int status = 1;
    /* The target is opened (a server probed, a folder checked and its
     * staging folder made) before the source is read, so that a target that
     * cannot work fails in a second, not after a long read. */
    json_out manifest = {0};
    cli_policy_to_json(&manifest, &m.pol, src->location);
    m.target.dir.manifest = manifest.buf;
    cm_sink *sink = cli_open_target(m.to, &m.target, &err);
    rc = sink ? cm_run_analyze(src, &m.pol, &pr, &run, &err) : -1;
    if (rc == 0 && cm_run_blockers(&run, &m.pol) > 0) {
        sink->ops->abort(sink);
        cli_progress_end(pg);
        const char *notes = cli_source_notes(src);
        if (notes)
            fprintf(stderr, "chroma-migrate: note about the source: %s\n", notes);
        fprintf(stderr, "chroma-migrate: nothing was written; these need a decision first:\n");
        for (size_t i = 0; i < run.nblockers; i++) {
            char line[4096];
            cli_blocker_text(&run.blockers[i], line, sizeof line);
            fprintf(stderr, "  - %s\n", line);
        }
        cm_err_set(&err, "the source needs a decision (see the list above)");
        status = 2;
        rc = -1;
    }
    if (rc == 0)
        rc = cm_run_write(src, sink, &m.pol, &pr, &run, &err);
    else if (sink && status != 2)
        sink->ops->abort(sink);
    cli_progress_end(pg);
    if (rc == 0)
        status = 0;
    if (m.json && sink)
        report_json(&m, src, sink, &run, rc < 0 ? cli_err_text(&err) : NULL, status);
    else if (m.json) {
        /* Stopped before a target existed: still one JSON object. */
        cm_sink_ops none = {.kind = cli_target_is_server(m.to) ? "Chroma server" : "Chroma persistent directory"};
        cm_sink fake = {.ops = &none};
        report_json(&m, src, &fake, &run, cli_err_text(&err), status);
    }
    if (rc < 0) {
        if (status != 2) {
            char note[1200];
            stop_note(note, sizeof note, sink, &run);
            cli_error("%s%s", cli_err_text(&err), note);
        }
    } else if (!m.json && !m.quiet) {
        report_text(&m, src, &run);
    }
    int code = rc == 0 ? EXIT_OK : cli_interrupted() ? EXIT_INTERRUPTED : EXIT_FAIL;
    if (rc == 0 && m.verify) {
        if (!m.quiet && !m.json)
            fprintf(stderr, "\nverifying %s ...\n", m.to);
        code = cli_run_verify(src, m.to, &m.target, &m.pol, m.sample, 0, m.json || m.quiet);
    }
    jo_free(&manifest);
    if (sink)
        sink->ops->destroy(sink);
    cli_progress_free(pg);
    cm_run_free(&run);
    cm_source_close(src);
    cli_args_free(&m);
    return code;
}
