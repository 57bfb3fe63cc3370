#include "source_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../net/http.h"
#include "../util/mem.h"
#include "cli.h"
#include "opts.h"

const char cli_source_kinds[] =
    "SOURCE  one of:\n"
    "  PATH        a chromadb 0.3.x persist_directory (chroma-collections.parquet,\n"
    "              chroma-embeddings.parquet, optional index/)\n"
    "  clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE]  the ClickHouse database\n"
    "              behind a chromadb 0.3.x server (HTTP port 8123, database default;\n"
    "              the password also from CLICKHOUSE_PASSWORD; clickhouses:// for HTTPS)\n"
    "  http[s]://HOST[:PORT][/PREFIX]  a running Chroma server: chromadb 0.3.x,\n"
    "              0.4-0.6 or Chroma 1.x (its REST API generation is detected)\n";

const char cli_source_help_bare[] =
    "source server options (http[s]:// SOURCE):\n"
    "  --header 'NAME: VALUE'    send this header to the server, e.g.\n"
    "                            'Authorization: Bearer TOKEN' (repeatable; values\n"
    "                            are never printed)\n"
    "  --headers JSON|@FILE      headers as a JSON object {\"NAME\": \"VALUE\", ...}\n"
    "  --tenant T, --database D  where the collections are read from\n"
    "                            (default_tenant, default_database)\n"
    "  --cacert FILE             trust the CA certificate(s) in FILE (PEM) for https\n"
    "  --insecure                do not verify the server's certificate\n"
    "  (--from-header, --from-headers, ... are accepted too)\n";

const char cli_source_help[] =
    "  --from-header 'NAME: VALUE'  send this header to the source server, e.g.\n"
    "                            'Authorization: Bearer TOKEN' (repeatable; values\n"
    "                            are never printed)\n"
    "  --from-headers JSON|@FILE headers as a JSON object {\"NAME\": \"VALUE\", ...}\n"
    "  --from-tenant T, --from-database D  where the collections are read from\n"
    "                            (default_tenant, default_database)\n"
    "  --from-cacert FILE        trust the CA certificate(s) in FILE (PEM) for https\n"
    "                            and clickhouses:// (for clickhouses:// without it:\n"
    "                            CURL_CA_BUNDLE, else SSL_CERT_FILE, as curl does)\n"
    "  --from-insecure           do not verify the source server's certificate\n"
    "  (inspect and export take these as --header, --headers, --tenant,\n"
    "  --database, --cacert and --insecure)\n";

/* The option names without their "--" or "--from-" prefix. */
static const char *const names[] = {"header", "headers", "tenant", "database", "cacert", "insecure"};

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

static void push_line(cm_source_opts *o, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = xmalloc(n);
    snprintf(line, n, "%s: %s", name, value);
    o->headers = xrealloc(o->headers, (o->nheaders + 1) * sizeof *o->headers);
    o->headers[o->nheaders++] = line;
}

int cli_source_option(const char *cmd, int argc, char **argv, int *i, cm_source_opts *o, int unprefixed)
{
    const char *a = argv[*i];
    const char *base = NULL;
    char full[32];
    if (strncmp(a, "--from-", 7) == 0)
        base = a + 7;
    else if (unprefixed && strncmp(a, "--", 2) == 0)
        base = a + 2;
    if (!base)
        return 0;
    const char *name = NULL;
    for (size_t k = 0; k < sizeof names / sizeof names[0] && !name; k++) {
        size_t n = strlen(names[k]);
        if (strncmp(base, names[k], n) == 0 && (base[n] == '\0' || base[n] == '='))
            name = names[k];
    }
    if (!name)
        return 0;
    snprintf(full, sizeof full, "%.*s%s", (int)(base - a), a, name);
    if (strcmp(name, "insecure") == 0) {
        if (base[strlen(name)] == '=')
            return cli_usage_error(cmd, "%s takes no value", full), -1;
        o->insecure = 1;
        return 1;
    }
    const char *v = NULL;
    int r = opt_value(argc, argv, i, full, &v);
    if (r <= 0)
        return cli_usage_error(cmd, "%s needs a value", full), -1;
    cm_err err = {0};
    if (strcmp(name, "header") == 0) {
        /* Checked here (a usage error that never shows the value); the
         * source parses the line again. */
        if (!strchr(v, ':'))
            return cli_usage_error(cmd, "%s takes 'Name: value'; this one has no ':' (not shown: it may hold a secret)",
                                   full),
                   -1;
        http_headers hs = {0};
        int rc = http_headers_add_line(&hs, v, &err);
        if (rc == 0)
            push_line(o, hs.h[0].name, hs.h[0].value);
        http_headers_free(&hs);
        if (rc < 0)
            return cli_usage_error(cmd, "%s: %s", full, err.msg), -1;
    } else if (strcmp(name, "headers") == 0) {
        size_t len = strlen(v);
        char *text = NULL;
        if (v[0] == '@') {
            text = read_small_file(v + 1, &len);
            if (!text)
                return cli_usage_error(cmd, "%s @%s: cannot read the file: %s", full, v + 1, strerror(errno)), -1;
        }
        http_headers hs = {0};
        int rc = http_headers_add_json(&hs, text ? text : v, len, &err);
        if (text) {
            memset(text, 0, len);
            free(text);
        }
        for (size_t k = 0; rc == 0 && k < hs.n; k++)
            push_line(o, hs.h[k].name, hs.h[k].value);
        http_headers_free(&hs);
        if (rc < 0)
            return cli_usage_error(cmd, "%s: %s", full, err.msg), -1;
    } else if (strcmp(name, "tenant") == 0 || strcmp(name, "database") == 0) {
        if (!*v)
            return cli_usage_error(cmd, "%s needs a name", full), -1;
        for (const char *q = v; *q; q++)
            if ((unsigned char)*q < ' ')
                return cli_usage_error(cmd, "%s: the name has a control character", full), -1;
        if (name[0] == 't')
            o->tenant = v;
        else
            o->database = v;
    } else if (strcmp(name, "cacert") == 0) {
        FILE *f = fopen(v, "rb");
        if (!f)
            return cli_usage_error(cmd, "%s %s: cannot read the file: %s", full, v, strerror(errno)), -1;
        fclose(f);
        o->cacert = v;
    }
    return 1;
}

void cli_source_opts_free(cm_source_opts *o)
{
    for (size_t i = 0; i < o->nheaders; i++) {
        /* header lines hold secrets: clear them before freeing */
        volatile char *p = o->headers[i];
        while (*p)
            *p++ = 0;
        free(o->headers[i]);
    }
    free(o->headers);
    memset(o, 0, sizeof *o);
}
