#include "source_opts.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_source_help[] = "";

int cli_source_option(const char *cmd, int argc, char **argv, int *i, cm_source_opts *o, int unprefixed)
{
    (void)cmd;
    (void)argc;
    (void)argv;
    (void)i;
    (void)o;
    (void)unprefixed;
    return 0;
}

void cli_source_opts_free(cm_source_opts *o)
{
    for (size_t i = 0; i < o->nheaders; i++)
        free(o->headers[i]);
    free(o->headers);
    memset(o, 0, sizeof *o);
}
