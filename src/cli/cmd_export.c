/* cmd_export.c - `chroma-migrate export SOURCE`: the source's records as
 * JSON Lines, exactly as read (no policies), one object per record:
 * {"collection","collection_id","id","embedding","document","metadata"}.
 * Useful to look at data, and the reader's oracle tests compare it with what
 * DuckDB reads from the same files. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../endpoints.h"
#include "../core/meta_json.h"
#include "../util/mem.h"
#include "cli.h"
#include "options.h"
#include "source_opts.h"

static const char export_help[] =
    "usage: chroma-migrate export SOURCE [--collection NAME]...\n\n"
    "Prints every record of SOURCE as one JSON object per line on stdout, as read,\n"
    "before any policy: {\"collection\", \"collection_id\", \"id\", \"embedding\", \"document\",\n"
    "\"metadata\"}. Metadata keeps its types (1.0 stays a float); missing values are null.\n\n"
    "%s\n";

static void put_opt_str(json_out *o, const char *s, size_t n)
{
    if (s)
        jo_str(o, s, n);
    else
        jo_cstr(o, "null");
}

int cmd_export(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, CLI_EXPORT);
    int rc = cli_parse(argc, argv, &a);
    if (rc == 1) {
        printf(export_help, cli_source_kinds);
        cli_print_options(stdout, CLI_EXPORT);
    } else if (rc == 0 && !a.from) {
        rc = cli_usage_error("export", "give the SOURCE to export");
    }
    if (rc != 0) {
        cli_args_free(&a);
        return rc == 1 ? EXIT_OK : rc;
    }
    const char *path = a.from;
    cm_policy pol = a.pol; /* --collection: the selection; export applies no other policy */
    memset(&a.pol, 0, sizeof a.pol);
    cm_err err = {0};
    cm_source *src = cm_source_open(path, &a.source, &err);
    cli_args_free(&a);
    if (!src) {
        cm_policy_free(&pol);
        cli_error("%s", cli_err_text(&err));
        return EXIT_FAIL;
    }
    cm_collection *cols = NULL;
    size_t n = 0;
    rc = src->ops->list(src, &cols, &n, &err);
    if (rc == 0)
        rc = cm_run_check_names(&pol, cols, n, src->location, &err);
    cm_record r = {0};
    json_out o = {0};
    for (size_t c = 0; rc == 0 && c < n; c++) {
        if (!cm_policy_selected(&pol, cols[c].name))
            continue;
        cm_reader *rd = src->ops->open(src, &cols[c], &err);
        if (!rd) {
            rc = -1;
            break;
        }
        int got;
        while ((got = src->ops->next(rd, &r, &err)) == 1) {
            o.len = 0;
            jo_cstr(&o, "{\"collection\":");
            jo_str(&o, cols[c].name, strlen(cols[c].name));
            jo_cstr(&o, ",\"collection_id\":");
            jo_str(&o, cols[c].id, strlen(cols[c].id));
            jo_cstr(&o, ",\"id\":");
            put_opt_str(&o, r.id, r.id_len);
            jo_cstr(&o, ",\"embedding\":");
            if (r.emb) {
                jo_raw(&o, "[", 1);
                for (size_t k = 0; k < r.dim; k++) {
                    if (k)
                        jo_raw(&o, ",", 1);
                    if (r.emb_has_null && isnan(r.emb[k]))
                        jo_cstr(&o, "null"); /* a NULL element in the source's list */
                    else
                        jo_float(&o, r.emb[k]);
                }
                jo_raw(&o, "]", 1);
            } else {
                jo_cstr(&o, "null");
            }
            jo_cstr(&o, ",\"document\":");
            put_opt_str(&o, r.doc, r.doc_len);
            jo_cstr(&o, ",\"metadata\":");
            if (r.has_meta)
                cm_meta_write(&o, &r.meta);
            else
                jo_cstr(&o, "null");
            jo_cstr(&o, "}\n");
            fwrite(o.buf, 1, o.len, stdout);
        }
        src->ops->close(rd);
        if (got < 0)
            rc = -1;
    }
    jo_free(&o);
    cm_record_clear(&r);
    cm_meta_free(&r.meta);
    cm_collections_free(cols, n);
    cm_source_close(src);
    cm_policy_free(&pol);
    if (rc < 0) {
        cli_error("%s", cli_err_text(&err));
        return EXIT_FAIL;
    }
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
