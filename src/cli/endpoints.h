/* endpoints.h - turning --from/--to and their options into a source and a sink.
 *
 * Kept apart from the commands so that each kind of source or target adds
 * its options and its constructor here, and migrate/inspect/verify share them. */
#ifndef CM_CLI_ENDPOINTS_H
#define CM_CLI_ENDPOINTS_H

#include "../core/sink.h"
#include "../core/source.h"
#include "../sink/chroma_dir.h"

typedef struct cli_target_opts {
    chroma_dir_opts dir;
} cli_target_opts;

/* If argv[*i] is a target option, consumes it (and its value) and returns 1;
 * 0 if it is not one; -1 after printing a usage error. */
int cli_target_option(int argc, char **argv, int *i, cli_target_opts *t);
/* Help lines for the target options. */
extern const char cli_target_help[];
/* Creates the sink for --to. */
cm_sink *cli_open_target(const char *to, const cli_target_opts *t, cm_err *err);
/* A short description of the target format, for the summary. */
const char *cli_target_format(const char *to, const cli_target_opts *t);
void cli_target_opts_free(cli_target_opts *t);

#endif
