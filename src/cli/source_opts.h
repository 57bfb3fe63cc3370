/* source_opts.h - the options of a source reached over the network
 * (cm_source_opts; parsed by the option table, options.c: --from-header, ...,
 * and for inspect and export also --header, ...). */
#ifndef CM_CLI_SOURCE_OPTS_H
#define CM_CLI_SOURCE_OPTS_H

#include "../core/source.h"

/* What a SOURCE can be (every command that reads one shows it). */
extern const char cli_source_kinds[];
void cli_source_opts_free(cm_source_opts *o);

#endif
