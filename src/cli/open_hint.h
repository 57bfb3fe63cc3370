/* open_hint.h - how to open a migration's result from Python and JS. */
#ifndef CM_CLI_OPEN_HINT_H
#define CM_CLI_OPEN_HINT_H

#include <stdio.h>

#include "../net/http.h"

/* Prints "open it:" and a Python and a JS line for --to (a directory or a
 * server URL). hs (may be NULL): the headers the clients must send too,
 * shown by name only. tenant/database (may be NULL): shown when not the
 * defaults. */
void cli_how_to_open(FILE *f, const char *to, const http_headers *hs, const char *tenant, const char *database);

#endif
