/* source_opts.h - options for sources reached over the network.
 *
 * migrate and verify name them --from-header, --from-headers, --from-tenant,
 * --from-database, --from-cacert, --from-insecure (the unprefixed forms
 * belong to an HTTP target); inspect and export, which have only a source,
 * also take them unprefixed. */
#ifndef CM_CLI_SOURCE_OPTS_H
#define CM_CLI_SOURCE_OPTS_H

#include "../core/source.h"

/* 1: consumed argv[*i] (and its value); 0: not a source option; -1: usage
 * error printed. With unprefixed, --header etc. are accepted too. */
int cli_source_option(const char *cmd, int argc, char **argv, int *i, cm_source_opts *o, int unprefixed);
extern const char cli_source_help[];
/* What a SOURCE can be (every command that reads one shows it). */
extern const char cli_source_kinds[];
/* The source server options in the form inspect and export take them. */
extern const char cli_source_help_bare[];
void cli_source_opts_free(cm_source_opts *o);

#endif
