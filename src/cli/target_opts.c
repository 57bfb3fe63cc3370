#include "target_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../endpoints.h"
#include "../util/fsutil.h"
#include "../util/mem.h"
#include "cli.h"
#include "opts.h"

const char cli_target_help[] =
    "  directory targets:\n"
    "  --chroma-version V        1.0 (default: Chroma 1.x) or 0.6 / 0.5 (Python\n"
    "                            chromadb 0.5.6-0.6.x; Chroma 1.x opens it too)\n"
    "  --threads N               HNSW build threads (default: all cores)\n"
    "  server targets (--to http[s]://HOST[:PORT][/PREFIX]):\n"
    "  --header 'NAME: VALUE'    send this header with every request, e.g.\n"
    "                            'Authorization: Bearer TOKEN' (repeatable; values\n"
    "                            are never printed)\n"
    "  --headers JSON|@FILE      headers as a JSON object {\"NAME\": \"VALUE\", ...}\n"
    "  --tenant T, --database D  where the collections go (default_tenant,\n"
    "                            default_database)\n"
    "  --cacert FILE             trust the CA certificate(s) in FILE (PEM) for https\n"
    "  --insecure                do not verify the server's certificate (https)\n"
    "  --resume                  continue an interrupted migration: collections that\n"
    "                            exist get only the records they do not have yet\n"
    "  --on-existing error|append  a collection that already exists: stop (default)\n"
    "                            or add the records to it\n"
    "  --batch-size N            at most N records per request (default: the\n"
    "                            server's max_batch_size)\n"
    "  --jobs N                  requests in flight at once (default 4)\n"
    "  --timeout S               seconds one request may take (default 300); failed\n"
    "                            or refused connections, timeouts, 408, 429, 502,\n"
    "                            503, 504 are retried with backoff (or Retry-After)\n"
    "                            for 2 minutes once connected (the first contact for\n"
    "                            15 s, so a wrong address fails fast), 500 at most 4\n"
    "                            times, other 4xx not;\n"
    "                            re-sent adds are harmless (Chroma ignores known ids).\n"
    "                            On a stop the server keeps what it acknowledged:\n"
    "                            the error line and --json say how many records\n";

int cli_target_is_server(const char *to)
{
    return cm_spec_is_server(to);
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

/* --headers @FILE: the JSON from a file (keeps the secret off the command
 * line, where other users of the machine can see it). */
static char *read_small_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    size_t k;
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

int cli_target_option(int argc, char **argv, int *i, cli_target_opts *t)
{
    const char *v = NULL;
    const char *a = argv[*i];
    const char *cmd = t->cmd ? t->cmd : "migrate";
    int r;
    /* Seen, not consumed: the command handles them too. */
    if (opt_flag(argv, i, "--quiet") || opt_flag(argv, i, "-q"))
        t->quiet = 1;
    if (opt_flag(argv, i, "--verbose") || opt_flag(argv, i, "-v"))
        t->verbose = 1;

    if ((r = opt_value(argc, argv, i, "--chroma-version", &v)) != 0) {
        if (r < 0)
            return cli_usage_error(cmd, "--chroma-version needs a value"), -1;
        if (strcmp(v, "1.0") == 0 || strcmp(v, "1") == 0)
            t->dir.profile = CM_PROFILE_1_0;
        else if (strcmp(v, "0.6") == 0 || strcmp(v, "0.5") == 0)
            t->dir.profile = CM_PROFILE_0_6;
        else
            return cli_usage_error(cmd, "--chroma-version takes 1.0, 0.6 or 0.5, not '%s'", v), -1;
        if (!t->dir_given)
            t->dir_given = "--chroma-version";
        return 1;
    }
    if ((r = opt_value(argc, argv, i, "--threads", &v)) != 0) {
        long n;
        if (r < 0)
            return cli_usage_error(cmd, "--threads needs a value"), -1;
        if (parse_long(v, 1, 1024, &n) < 0)
            return cli_usage_error(cmd, "--threads takes a number from 1 to 1024, not '%s'", v), -1;
        t->dir.threads = (int)n;
        if (!t->dir_given)
            t->dir_given = "--threads";
        return 1;
    }

    cli_http_opts *h = &t->http;
    static const char *const server_opts[] = {"--header",   "--headers", "--tenant",      "--database",
                                              "--cacert",   "--insecure", "--resume",     "--on-existing",
                                              "--batch-size", "--jobs",  "--timeout"};
    const char *name = NULL;
    for (size_t k = 0; k < sizeof server_opts / sizeof server_opts[0] && !name; k++) {
        size_t n = strlen(server_opts[k]);
        if (strncmp(a, server_opts[k], n) == 0 && (a[n] == '\0' || a[n] == '='))
            name = server_opts[k];
    }
    if (!name)
        return 0;
    if (!h->given)
        h->given = name;
    if (strcmp(name, "--insecure") == 0 || strcmp(name, "--resume") == 0) {
        if (a[strlen(name)] == '=')
            return cli_usage_error(cmd, "%s takes no value", name), -1;
        if (name[2] == 'i')
            h->insecure = 1;
        else
            h->resume = 1;
        return 1;
    }
    r = opt_value(argc, argv, i, name, &v);
    if (r < 0)
        return cli_usage_error(cmd, "%s needs a value", name), -1;
    cm_err err = {0};
    if (strcmp(name, "--header") == 0) {
        if (http_headers_add_line(&h->headers, v, &err) < 0)
            return cli_usage_error(cmd, "%s: %s", name, err.msg), -1;
    } else if (strcmp(name, "--headers") == 0) {
        size_t len = strlen(v);
        char *text = NULL;
        if (v[0] == '@') {
            text = read_small_file(v + 1, &len);
            if (!text)
                return cli_usage_error(cmd, "--headers @%s: cannot read the file: %s", v + 1, strerror(errno)),
                       -1;
        }
        int rc = http_headers_add_json(&h->headers, text ? text : v, len, &err);
        if (text) {
            memset(text, 0, len);
            free(text);
        }
        if (rc < 0)
            return cli_usage_error(cmd, "%s: %s", name, err.msg), -1;
    } else if (strcmp(name, "--tenant") == 0 || strcmp(name, "--database") == 0) {
        if (!*v)
            return cli_usage_error(cmd, "%s needs a name", name), -1;
        for (const char *q = v; *q; q++)
            if ((unsigned char)*q < ' ')
                return cli_usage_error(cmd, "%s: the name has a control character", name), -1;
        if (name[2] == 't')
            h->tenant = v;
        else
            h->database = v;
    } else if (strcmp(name, "--cacert") == 0) {
        FILE *f = fopen(v, "rb");
        if (!f)
            return cli_usage_error(cmd, "--cacert %s: cannot read the file: %s", v, strerror(errno)), -1;
        fclose(f);
        h->cacert = v;
    } else if (strcmp(name, "--on-existing") == 0) {
        if (strcmp(v, "error") == 0)
            h->append = 0;
        else if (strcmp(v, "append") == 0)
            h->append = 1;
        else
            return cli_usage_error(cmd, "--on-existing takes error or append, not '%s'", v), -1;
    } else if (strcmp(name, "--batch-size") == 0) {
        if (parse_long(v, 1, 1000000, &h->batch_size) < 0)
            return cli_usage_error(cmd, "--batch-size takes a number from 1 to 1000000, not '%s'", v), -1;
    } else if (strcmp(name, "--jobs") == 0) {
        long n;
        if (parse_long(v, 1, 64, &n) < 0)
            return cli_usage_error(cmd, "--jobs takes a number from 1 to 64, not '%s'", v), -1;
        h->jobs = (int)n;
    } else if (strcmp(name, "--timeout") == 0) {
        long n;
        if (parse_long(v, 1, 86400, &n) < 0)
            return cli_usage_error(cmd, "--timeout takes seconds from 1 to 86400, not '%s'", v), -1;
        h->timeout_s = (double)n;
    }
    return 1;
}

/* What the server target found, for cli_target_format (one run per process). */
static char server_desc[600];

static void server_log(void *ctx, int important, const char *msg)
{
    const cli_target_opts *t = ctx;
    if (t->quiet && !important)
        return;
    cli_progress_note(msg);
}

cm_sink *cli_open_target(const char *to, const cli_target_opts *t, cm_err *err)
{
    if (cli_target_is_server(to)) {
        if (t->dir_given) {
            cm_err_set(err, "%s applies to a directory target, not to a Chroma server (--to %s)", t->dir_given,
                       strncasecmp(to, "https", 5) == 0 ? "https://..." : "http://...");
            return NULL;
        }
        const cli_http_opts *h = &t->http;
        chroma_http_opts o = {
            .url = to,
            .headers = &h->headers,
            .tenant = h->tenant,
            .database = h->database,
            .cacert = h->cacert,
            .insecure = h->insecure,
            .resume = h->resume,
            .append = h->append,
            .batch_size = h->batch_size,
            .jobs = h->jobs,
            .timeout_s = h->timeout_s,
            .verbose = t->verbose,
            .log = server_log,
            .log_ctx = (void *)t,
        };
        cm_sink *s = cm_sink_open(to, NULL, &o, err);
        if (s)
            snprintf(server_desc, sizeof server_desc, "%s", chroma_http_describe(s));
        return s;
    }
    if (t->http.given) {
        cm_err_set(err, "%s applies to a Chroma server target (--to http://HOST:PORT), not to a directory",
                   t->http.given);
        return NULL;
    }
    return cm_sink_open(to, &t->dir, NULL, err);
}

const char *cli_target_format(const char *to, const cli_target_opts *t)
{
    if (cli_target_is_server(to))
        return server_desc[0] ? server_desc : "Chroma server";
    return t->dir.profile == CM_PROFILE_1_0 ? "Chroma persistent directory, format 1.x"
                                            : "Chroma persistent directory, format 0.5/0.6";
}

void cli_target_opts_free(cli_target_opts *t)
{
    http_headers_free(&t->http.headers);
}

/* "scheme://" at the start of s: the scheme's length, else 0. */
static size_t scheme_len(const char *s)
{
    size_t n = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    while (s[n] && (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '.' || s[n] == '-'))
        n++;
    return strncmp(s + n, "://", 3) == 0 ? n : 0;
}

/* HOST:PORT[/...] with no scheme, e.g. "localhost:8000". */
static int looks_like_host_port(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return 0;
    for (const char *q = s; q < colon; q++)
        if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != '_')
            return 0;
    const char *q = colon + 1;
    size_t digits = 0;
    while (isdigit((unsigned char)*q))
        q++, digits++;
    return digits >= 1 && digits <= 5 && (*q == '\0' || *q == '/');
}

/* The real path `to` would have: itself when it exists, else its parent's
 * real path joined with its name. NULL when neither resolves. */
static char *real_target(const char *to)
{
    char *r = realpath(to, NULL);
    if (r)
        return r;
    char *parent = fs_dirname(to), *base = fs_basename(to);
    char *rp = realpath(parent, NULL);
    char *out = rp ? fs_join(rp, base) : NULL;
    free(rp);
    free(parent);
    free(base);
    return out;
}

int cli_check_target(const char *from, const char *to, cm_err *err)
{
    size_t sl = scheme_len(to);
    if (sl && !cli_target_is_server(to))
        return cm_err_set(err, "--to %.*s://...: chroma-migrate writes a folder or a Chroma server (http:// or "
                               "https://), not %.*s://",
                          (int)sl, to, (int)sl, to);
    if (!sl && looks_like_host_port(to) && fs_dir_state(to) < 0)
        return cm_err_set(err, "--to %s looks like a server address; give http://%s for a Chroma server, or ./%s "
                               "for a folder of that name",
                          to, to, to);
    if (sl || !from || scheme_len(from))
        return 0;
    char *rf = realpath(from, NULL), *rt = real_target(to);
    int rc = 0;
    if (rf && rt) {
        size_t n = strlen(rf);
        if (strncmp(rt, rf, n) == 0 && (rt[n] == '\0' || rt[n] == '/' || n == 1))
            rc = cm_err_set(err, "--to %s is inside the source folder %s; the result would be written into the store "
                                 "being read: choose a --to outside it",
                            to, from);
    }
    free(rf);
    free(rt);
    return rc;
}

const char *cli_location_shown(const char *loc, char *buf, size_t cap)
{
    size_t sl = scheme_len(loc);
    const char *auth = loc + sl + 3;
    const char *end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *q = auth; sl && q < end; q++)
        if (*q == '@')
            at = q;
    if (!at) {
        snprintf(buf, cap, "%s", loc);
        return buf;
    }
    snprintf(buf, cap, "%.*s***%s", (int)(auth - loc), loc, at);
    return buf;
}
