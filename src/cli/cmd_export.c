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
#include "opts.h"
#include "source_opts.h"

static const char export_help[] =
    "usage: chroma-migrate export SOURCE [--collection NAME]...\n\n"
    "Prints every record of SOURCE as one JSON object per line on stdout, as read,\n"
    "before any policy: {\"collection\", \"collection_id\", \"id\", \"embedding\", \"document\",\n"
    "\"metadata\"}. Metadata keeps its types (1.0 stays a float); missing values are null.\n\n"
    "%s\n%s\n"
    "  --collection NAME         only this collection (repeatable)\n";

static void put_opt_str(json_out *o, const char *s, size_t n)
{
    if (s)
        jo_str(o, s, n);
    else
        jo_cstr(o, "null");
}

int cmd_export(int argc, char **argv)
{
    const char *path = NULL;
    cm_policy pol = {0};
    cm_source_opts so = {0};
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_source_option("export", argc, argv, &i, &so, 1)) != 0) {
            if (r < 0) {
                cli_source_opts_free(&so);
                cm_policy_free(&pol);
                return EXIT_USAGE;
            }
        } else if (opt_flag(argv, &i, "--help") || opt_flag(argv, &i, "-h")) {
            printf(export_help, cli_source_kinds, cli_source_help_bare);
            return EXIT_OK;
        } else if ((r = opt_value(argc, argv, &i, "--collection", &v)) != 0) {
            if (r < 0)
                return cli_usage_error("export", "--collection needs a name");
            pol.only = xrealloc(pol.only, (pol.nonly + 1) * sizeof *pol.only);
            pol.only[pol.nonly++] = xstrdup(v);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cm_policy_free(&pol);
            return cli_usage_error("export", "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            cm_policy_free(&pol);
            return cli_usage_error("export", "one SOURCE only ('%s' is extra)", argv[i]);
        }
    }
    if (!path) {
        cm_policy_free(&pol);
        return cli_usage_error("export", "give the SOURCE to export");
    }
    cm_err err = {0};
    cm_source *src = cm_source_open_ex(path, &so, &err);
    cli_source_opts_free(&so);
    if (!src) {
        cm_policy_free(&pol);
        cli_error("%s", cli_err_text(&err));
        return EXIT_FAIL;
    }
    cm_collection *cols = NULL;
    size_t n = 0;
    int rc = src->ops->list(src, &cols, &n, &err);
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
