/* source_opts.c - what a SOURCE can be (for --help) and freeing a source's
 * options (their values are parsed by the option table, options.c). */
#include "source_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"
#include "cli.h"

const char cli_source_kinds[] =
    "SOURCE  one of:\n"
    "  PATH        a chromadb 0.3.x persist_directory (chroma-collections.parquet,\n"
    "              chroma-embeddings.parquet, optional index/)\n"
    "  clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE]  the ClickHouse database\n"
    "              behind a chromadb 0.3.x server (HTTP port 8123, database default;\n"
    "              the password also from CLICKHOUSE_PASSWORD; clickhouses:// for HTTPS)\n"
    "  http[s]://HOST[:PORT][/PREFIX]  a running Chroma server: chromadb 0.3.x,\n"
    "              0.4-0.6 or Chroma 1.x (its REST API generation is detected)\n";

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
