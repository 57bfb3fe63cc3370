/* cmd_verify.c - `chroma-migrate verify --from SOURCE --to TARGET`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../endpoints.h"
#include "../chroma/rest_verify.h"
#include "../util/mem.h"
#include "cli.h"
#include "target_opts.h"
#include "options.h"
#include "policy_opts.h"
#include "source_opts.h"
#include "verify_report.h"

static const char verify_help[] =
    "usage: chroma-migrate verify --from SOURCE --to TARGET [options]\n\n"
    "Proves a migration: every collection and record of SOURCE, under the policies\n"
    "the migration used, is compared with TARGET - ids, documents byte for byte,\n"
    "metadata values and types, embeddings (float32; cosine within a few ulps),\n"
    "distance space and HNSW parameters. For a persistent directory it also checks\n"
    "the HNSW files' structure against the pickle and the SQLite rows. For both\n"
    "it queries sampled records with their own embedding: the first answer must\n"
    "be the record or one no farther from it (an equal vector; under ip a longer\n"
    "one), within float32 rounding. Every problem counted is listed.\n\n"
    "%s\n"
    "TARGET is a persistent directory or a Chroma server (http[s]://HOST:PORT, API v1\n"
    "or v2): a server is read through its API - records by id, its count, and\n"
    "self-queries through its query API (its HNSW files cannot be checked there).\n\n"
    "The policies are read from the target directory's " CM_MANIFEST_NAME " (written by\n"
    "migrate); a server cannot hold it, so give the migration's policy options.\n"
    "Policy options given here replace the recorded ones.\n\n";

static const char verify_help_end[] =
    "\n"
    "exit: 0 everything matches, 3 a mismatch was found, 1 failure, 2 usage\n";

/* The server named by --to, opened as a verify target. */
static cm_source *open_server_target(const char *to, const cli_target_opts *t, cm_err *err)
{
    cm_source_opts so = {0};
    if (t) {
        so.tenant = t->http.tenant;
        so.database = t->http.database;
        so.cacert = t->http.cacert;
        so.insecure = t->http.insecure;
    }
    return chroma_server_open_target(to, &so, t ? &t->http.headers : NULL, err);
}

int cli_run_verify(cm_source *src, const char *to, const cli_target_opts *t, const cm_policy *pol, int64_t sample,
                   int json, int quiet)
{
    cm_err err = {0};
    cm_source *server = NULL;
    if (cli_target_is_server(to) && !(server = open_server_target(to, t, &err))) {
        cli_error("verify: %s", cli_err_text(&err));
        return EXIT_FAIL;
    }
    cli_progress *pg = cli_progress_new(quiet || json, 0);
    cm_progress pr;
    cli_progress_bind(pg, &pr);
    cm_verify v;
    int rc = server ? cm_verify_server(src, server, pol, sample, &pr, &v, &err)
                    : cm_verify_dir(src, to, pol, sample, &pr, &v, &err);
    if (server)
        cm_source_close(server);
    cli_progress_end(pg);
    cli_progress_free(pg);
    if (rc < 0) {
        cli_error("verify: %s", cli_err_text(&err));
        cm_verify_free(&v);
        return cli_interrupted() ? EXIT_INTERRUPTED : EXIT_FAIL;
    }
    if (json) {
        json_out o = {0};
        cli_verify_json(&o, &v);
        jo_raw(&o, "\n", 1);
        fwrite(o.buf, 1, o.len, stdout);
        jo_free(&o);
    } else {
        cli_verify_print_text(quiet ? stderr : stdout, &v, to);
    }
    int code = v.mismatches ? EXIT_MISMATCH : EXIT_OK;
    cm_verify_free(&v);
    return code;
}

int cmd_verify(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, CLI_VERIFY);
    int code = cli_parse(argc, argv, &a);
    if (code == 1) {
        printf(verify_help, cli_source_kinds);
        cli_print_options(stdout, CLI_VERIFY);
        fputs(verify_help_end, stdout);
        code = EXIT_OK;
        goto out;
    }
    if (code != 0)
        goto out;
    code = EXIT_USAGE;
    const char *from = a.from, *to = a.to;
    cli_target_opts *tgt = &a.target;
    if (!from || !to) {
        cli_usage_error("verify", "give both --from SOURCE and --to TARGET");
        goto out;
    }
    const char *misplaced = cli_target_is_server(to) ? tgt->dir_given : tgt->http.given;
    if (misplaced) {
        cli_usage_error("verify", "%s does not apply to %s", misplaced, to);
        goto out;
    }
    cm_err err = {0};
    if (!a.pol_given && !cli_target_is_server(to) && cli_policy_from_manifest(to, &a.pol, &err) < 0) {
        cli_error("verify: %s", cli_err_text(&err));
        code = EXIT_FAIL;
        goto out;
    }
    cm_source *src = cm_source_open(from, &a.source, &err);
    if (!src) {
        cli_error("%s", cli_err_text(&err));
        code = EXIT_FAIL;
        goto out;
    }
    cli_install_interrupt();
    code = cli_run_verify(src, to, tgt, &a.pol, a.sample, a.json, a.quiet);
    cm_source_close(src);
out:
    cli_args_free(&a);
    return code;
}
