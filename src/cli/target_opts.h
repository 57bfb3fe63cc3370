/* target_opts.h - the target options of the commands (--to and what goes with it;
 * parsed by the option table, options.c), and turning them into a sink through
 * the factory (src/endpoints.c). migrate and verify share them. */
#ifndef CM_CLI_TARGET_OPTS_H
#define CM_CLI_TARGET_OPTS_H

#include "../core/sink.h"
#include "../core/source.h"
#include "../net/http.h"
#include "../chroma/dir_writer.h"

/* Options of a Chroma server target (--to http[s]://...). */
typedef struct cli_http_opts {
    http_headers headers; /* --header / --headers: values are secrets */
    const char *tenant, *database, *cacert;
    int insecure, resume, append;
    long batch_size;
    int jobs;
    double timeout_s;
    const char *given; /* the first server-only option given, for messages */
} cli_http_opts;

typedef struct cli_target_opts {
    chroma_dir_opts dir;
    const char *dir_given; /* the first directory-only option given */
    cli_http_opts http;
    int quiet, verbose; /* seen (not consumed) for the target's notices */
} cli_target_opts;

/* Creates the sink for --to: a directory, or a Chroma server for http:// and
 * https:// URLs. */
cm_sink *cli_open_target(const char *to, const cli_target_opts *t, cm_err *err);
/* A short description of the target format, for the summary (for a server:
 * "Chroma server 1.0.0 at http://host:port (API v2)" once connected). */
const char *cli_target_format(const char *to, const cli_target_opts *t);
/* 1 when --to names a Chroma server. */
int cli_target_is_server(const char *to);
void cli_target_opts_free(cli_target_opts *t);

/* Refuses, before any work, a --to that cannot be what was meant: a URL of
 * a scheme other than http(s), a HOST:PORT without a scheme (which would
 * otherwise become a folder of that name), or a folder inside the source
 * folder --from (the result would be written into the store being read). */
int cli_check_target(const char *from, const char *to, cm_err *err);

/* loc for a message or report: user and password in a URL become "***"
 * (the rest is shown as given). Returns buf. */
const char *cli_location_shown(const char *loc, char *buf, size_t cap);

#endif
