/* cmd_verify.c - `chroma-migrate verify --from SOURCE --to TARGET`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"
#include "cli.h"
#include "opts.h"
#include "policy_opts.h"
#include "source_opts.h"
#include "verify_report.h"

static const char verify_help[] =
    "usage: chroma-migrate verify --from SOURCE --to TARGET [options]\n\n"
    "Proves a migration: every collection and record of SOURCE, under the policies\n"
    "the migration used, is compared with TARGET - ids, documents byte for byte,\n"
    "metadata values and types, embeddings (float32; cosine within a few ulps),\n"
    "distance space and HNSW parameters. For a persistent directory it also checks\n"
    "the HNSW files' structure against the pickle and the SQLite rows, and queries\n"
    "sampled records with their own embedding (each must come first).\n\n"
    "The policies are read from the target's " CM_MANIFEST_NAME " (written by migrate);\n"
    "policy options given here replace them:\n%s\n"
    "  --sample N                self-query N records per collection (default 100; 0: none)\n"
    "  --json                    one JSON object on stdout\n"
    "  --quiet                   no progress on stderr\n\n"
    "exit: 0 everything matches, 3 a mismatch was found, 1 failure, 2 usage\n";

int cli_run_verify(cm_source *src, const char *to, const cm_policy *pol, int64_t sample, int json, int quiet)
{
    cm_err err = {0};
    cli_progress *pg = cli_progress_new(quiet || json, 0);
    cm_progress pr;
    cli_progress_bind(pg, &pr);
    cm_verify v;
    int rc = cm_verify_dir(src, to, pol, sample, &pr, &v, &err);
    cli_progress_end(pg);
    cli_progress_free(pg);
    if (rc < 0) {
        cli_error("verify: %s", err.msg);
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
    const char *from = NULL, *to = NULL;
    int json = 0, quiet = 0, given = 0;
    int64_t sample = 100;
    cm_policy pol = {0};
    cm_source_opts so = {0};
    int code = EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_policy_option("verify", argc, argv, &i, &pol, &given)) != 0 ||
            (r = cli_source_option("verify", argc, argv, &i, &so, 0)) != 0) {
            if (r < 0)
                goto out;
        } else if (opt_flag(argv, &i, "--help") || opt_flag(argv, &i, "-h")) {
            printf(verify_help, cli_policy_help);
            code = EXIT_OK;
            goto out;
        } else if (opt_flag(argv, &i, "--json")) {
            json = 1;
        } else if (opt_flag(argv, &i, "--quiet") || opt_flag(argv, &i, "-q")) {
            quiet = 1;
        } else if ((r = opt_value(argc, argv, &i, "--from", &v)) != 0) {
            if (r < 0) {
                cli_usage_error("verify", "--from needs a value");
                goto out;
            }
            from = v;
        } else if ((r = opt_value(argc, argv, &i, "--to", &v)) != 0) {
            if (r < 0) {
                cli_usage_error("verify", "--to needs a value");
                goto out;
            }
            to = v;
        } else if ((r = opt_value(argc, argv, &i, "--sample", &v)) != 0) {
            char *end = NULL;
            sample = r > 0 ? strtoll(v, &end, 10) : -1;
            if (r < 0 || *end || sample < 0) {
                cli_usage_error("verify", "--sample takes a number of records");
                goto out;
            }
        } else {
            cli_usage_error("verify", "unknown option or argument '%s'", argv[i]);
            goto out;
        }
    }
    if (!from || !to) {
        cli_usage_error("verify", "give both --from SOURCE and --to TARGET");
        goto out;
    }
    if (strncmp(to, "http://", 7) == 0 || strncmp(to, "https://", 8) == 0) {
        cli_error("verify: checking a Chroma server over HTTP is not supported yet; give the persistent directory");
        code = EXIT_FAIL;
        goto out;
    }
    cm_err err = {0};
    if (!given && cli_policy_from_manifest(to, &pol, &err) < 0) {
        cli_error("verify: %s", err.msg);
        code = EXIT_FAIL;
        goto out;
    }
    cm_source *src = cm_source_open_ex(from, &so, &err);
    if (!src) {
        cli_error("%s", err.msg);
        code = EXIT_FAIL;
        goto out;
    }
    cli_install_interrupt();
    code = cli_run_verify(src, to, &pol, sample, json, quiet);
    cm_source_close(src);
out:
    cm_policy_free(&pol);
    cli_source_opts_free(&so);
    return code;
}
