/* option_values.c - where each option's checked value goes (one case per
 * option id), and the values that need more than their kind's check: header
 * lines and header JSON (secrets: never shown), OLD=NEW renames. The
 * parser (options.c) has already checked ranges, choices, names and files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../net/http.h"
#include "../util/mem.h"
#include "cli.h"
#include "option_table.h"
#include "policy_opts.h"

/* --headers @FILE: the JSON from a file (keeps secrets off the command line,
 * where other users of the machine can see it). At most 1 MiB. */
static char *read_small_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, k;
    char *buf = xmalloc(cap);
    while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 >= cap) {
            if (cap >= (1u << 20))
                break;
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parses JSON|@FILE into hs. Returns 0, or -1 after the usage error. */
static int headers_json(const char *cmd, const char *given, const char *v, http_headers *hs)
{
    size_t len = strlen(v);
    char *text = NULL;
    cm_err err = {0};
    if (v[0] == '@') {
        text = read_small_file(v + 1, &len);
        if (!text)
            return cli_usage_error(cmd, "%s @%s: cannot read the file: %s", given, v + 1, strerror(errno)), -1;
    }
    int rc = http_headers_add_json(hs, text ? text : v, len, &err);
    if (text) {
        memset(text, 0, len); /* a secret */
        free(text);
    }
    if (rc < 0) {
        /* the library's message names no flag: say which option it is about */
        cli_usage_error(cmd, "%s: %s", given, err.msg);
    }
    return rc;
}

static void push_line(cm_source_opts *o, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = xmalloc(n);
    snprintf(line, n, "%s: %s", name, value);
    o->headers = xrealloc(o->headers, (o->nheaders + 1) * sizeof *o->headers);
    o->headers[o->nheaders++] = line;
}

static void push_all(cm_source_opts *o, const http_headers *hs)
{
    for (size_t k = 0; k < hs->n; k++)
        push_line(o, hs->h[k].name, hs->h[k].value);
}

int cli_source_add_headers_json(cm_source_opts *o, const char *json, cm_err *err)
{
    http_headers hs = {0};
    int rc = http_headers_add_json(&hs, json, strlen(json), err);
    if (rc == 0)
        push_all(o, &hs);
    http_headers_free(&hs);
    return rc;
}

/* --from-header: checked here (a usage error that never shows the value);
 * the source parses the line again. */
static int source_header(const char *cmd, const char *given, const char *v, cm_source_opts *o)
{
    if (!strchr(v, ':'))
        return cli_usage_error(cmd, "%s takes 'Name: value'; this one has no ':' (not shown: it may hold a secret)",
                               given),
               -1;
    http_headers hs = {0};
    cm_err err = {0};
    int rc = http_headers_add_line(&hs, v, &err);
    if (rc == 0)
        push_all(o, &hs);
    http_headers_free(&hs);
    if (rc < 0)
        cli_usage_error(cmd, "%s: %s", given, err.msg);
    return rc;
}

static int source_headers(const char *cmd, const char *given, const char *v, cm_source_opts *o)
{
    http_headers hs = {0};
    int rc = headers_json(cmd, given, v, &hs);
    if (rc == 0)
        push_all(o, &hs);
    http_headers_free(&hs);
    return rc;
}

static int target_header(const char *cmd, const char *v, http_headers *hs)
{
    cm_err err = {0};
    if (http_headers_add_line(hs, v, &err) < 0)
        return cli_usage_error(cmd, "--header: %s", err.msg), -1;
    return 0;
}

static int add_rename(const char *cmd, const char *v, cm_policy *p)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1])
        return cli_usage_error(cmd, "--rename takes OLD=NEW, not '%s'", v), -1;
    cli_policy_add_rename(p, v, (size_t)(eq - v), eq + 1);
    return 0;
}

/* The options that only set a field. */
static void store_plain(cli_args *a, cli_opt_id id, const cli_value *v)
{
    cli_http_opts *h = &a->target.http;
    switch (id) {
    case OPT_JSON: a->json = 1; break;
    case OPT_QUIET: a->quiet = a->target.quiet = 1; break;
    case OPT_VERBOSE: a->verbose = a->target.verbose = 1; break;
    case OPT_FROM: a->from = v->text; break;
    case OPT_TO: a->to = v->text; break;
    case OPT_SRC_TENANT: a->source.tenant = v->text; break;
    case OPT_SRC_DATABASE: a->source.database = v->text; break;
    case OPT_SRC_CACERT: a->source.cacert = v->text; break;
    case OPT_SRC_INSECURE: a->source.insecure = 1; break;
    case OPT_CHROMA_VERSION: a->target.dir.profile = (int)v->num; break;
    case OPT_THREADS: a->target.dir.threads = (int)v->num; break;
    case OPT_INDEX: a->target.dir.index_mode = (int)v->num; break;
    case OPT_TENANT: h->tenant = v->text; break;
    case OPT_DATABASE: h->database = v->text; break;
    case OPT_CACERT: h->cacert = v->text; break;
    case OPT_INSECURE: h->insecure = 1; break;
    case OPT_RESUME: h->resume = 1; break;
    case OPT_ON_EXISTING: h->append = (int)v->num; break;
    case OPT_BATCH_SIZE: h->batch_size = v->num; break;
    case OPT_JOBS: h->jobs = (int)v->num; break;
    case OPT_TIMEOUT: h->timeout_s = (double)v->num; break;
    case OPT_DUPLICATES: a->pol.dup = (cm_dup_policy)v->num; break;
    case OPT_INVALID_METADATA: a->pol.meta = (cm_meta_policy)v->num; break;
    case OPT_SKIP_INVALID: a->pol.skip_invalid = 1; break;
    case OPT_COLLECTION: cli_policy_add_only(&a->pol, v->text); break;
    case OPT_VERIFY: a->verify = 1; break;
    case OPT_SAMPLE: a->sample = v->num; break;
    default: break;
    }
}

int cli_option_store(cli_args *a, const cli_option *o, const char *given, const cli_value *v)
{
    const char *cmd = a->cmd_name;
    if ((o->marks & MARK_DIR) && !a->target.dir_given)
        a->target.dir_given = o->name;
    if ((o->marks & MARK_SERVER) && !a->target.http.given)
        a->target.http.given = o->name;
    if (o->marks & MARK_POLICY)
        a->pol_given = 1;
    switch (o->id) {
    case OPT_SRC_HEADER: return source_header(cmd, given, v->text, &a->source);
    case OPT_SRC_HEADERS: return source_headers(cmd, given, v->text, &a->source);
    case OPT_HEADER: return target_header(cmd, v->text, &a->target.http.headers);
    case OPT_HEADERS: return headers_json(cmd, given, v->text, &a->target.http.headers);
    case OPT_RENAME: return add_rename(cmd, v->text, &a->pol);
    default: store_plain(a, o->id, v); return 0;
    }
}
