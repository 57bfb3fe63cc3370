/* cmd_inspect.c - `chroma-migrate inspect SOURCE [--json]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../endpoints.h"
#include "../core/meta_json.h"
#include "cli.h"
#include "options.h"
#include "source_opts.h"

static const char inspect_help[] =
    "usage: chroma-migrate inspect SOURCE [--json] [--quiet]\n\n"
    "Reads a source completely and reports its collections: records, distinct ids,\n"
    "dimension, documents, metadata, and every problem a migration will need a\n"
    "decision for (duplicate ids, mixed dimensions, missing embeddings, metadata\n"
    "values Chroma >= 0.4 cannot store, invalid collection names).\n\n"
    "%s\n";

static const char inspect_help_end[] =
    "\nexit: 0 the source is readable, 1 it is not (one line on stderr says why), 2 usage\n";

static void print_json(cm_source *src, const cm_run *run)
{
    json_out o = {0};
    int64_t total = 0;
    jo_cstr(&o, "{\"source\":");
    cli_json_source(&o, src);
    jo_cstr(&o, ",\"collections\":[");
    for (size_t i = 0; i < run->n; i++) {
        if (i)
            jo_raw(&o, ",", 1);
        jo_raw(&o, "{", 1);
        cli_json_collection_summary(&o, &run->c[i]);
        cli_json_problems(&o, &run->c[i]);
        jo_raw(&o, "}", 1);
        total += run->c[i].st.records;
    }
    jo_cstr(&o, "],\"records\":");
    jo_int(&o, total);
    jo_cstr(&o, "}\n");
    fwrite(o.buf, 1, o.len, stdout);
    jo_free(&o);
}

int cmd_inspect(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, CLI_INSPECT);
    int rc = cli_parse(argc, argv, &a);
    if (rc == 1) {
        printf(inspect_help, cli_source_kinds);
        cli_print_options(stdout, CLI_INSPECT);
        fputs(inspect_help_end, stdout);
    } else if (rc == 0 && !a.from) {
        rc = cli_usage_error("inspect", "give the SOURCE to inspect");
    }
    if (rc != 0) {
        cli_args_free(&a);
        return rc == 1 ? EXIT_OK : rc;
    }
    const char *path = a.from;
    int json = a.json, quiet = a.quiet;
    cm_err err = {0};
    cm_source *src = cm_source_open(path, &a.source, &err);
    cli_args_free(&a);
    if (!src) {
        cli_error("%s", cli_err_text(&err));
        return EXIT_FAIL;
    }
    cli_install_interrupt();
    cli_progress *pg = cli_progress_new(quiet || json, 0);
    cm_progress pr;
    cli_progress_bind(pg, &pr);
    cm_policy pol = {0};
    cm_run run;
    rc = cm_run_analyze(src, &pol, &pr, &run, &err);
    cli_progress_end(pg);
    cli_progress_free(pg);
    if (rc < 0) {
        cli_error("%s", cli_err_text(&err));
        cm_run_free(&run);
        cm_source_close(src);
        return cli_interrupted() ? EXIT_INTERRUPTED : EXIT_FAIL;
    }
    if (json)
        print_json(src, &run);
    else
        cli_print_inspect_text(stdout, src, &run);
    cm_run_free(&run);
    cm_source_close(src);
    return EXIT_OK;
}
