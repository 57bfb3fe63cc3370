/* target_opts.c - turning the target options (--to and what goes with it;
 * parsed by the option table, options.c) into a sink, and the checks of --to. */
#include "target_opts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../endpoints.h"
#include "../util/fsutil.h"
#include "cli.h"

int cli_target_is_server(const char *to)
{
    return cm_spec_is_server(to);
}

/* What the server target found, for cli_target_format (one run per process). */
static char server_desc[600];

static void server_log(void *ctx, const cm_note *n)
{
    const cli_target_opts *t = ctx;
    if (t->quiet && n->kind != CM_NOTE_WARNING)
        return;
    char msg[4096];
    cli_note_format(n, msg, sizeof msg);
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
    switch (t->dir.profile) {
    case CM_PROFILE_1_5: return "Chroma persistent directory, format 1.5";
    case CM_PROFILE_0_6: return "Chroma persistent directory, format 0.5/0.6";
    default: return "Chroma persistent directory, format 1.x";
    }
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
