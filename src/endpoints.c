/* endpoints.c - the factories of endpoints.h: the spec's shape picks the
 * concrete source or sink (http[s]:// a server, clickhouse[s]:// ClickHouse,
 * else a directory), so nothing else needs to know them all. */
#include "endpoints.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chroma/rest_source.h"
#include "legacy/clickhouse.h"
#include "legacy/persist_dir.h"

int cm_spec_is_server(const char *spec)
{
    return strncasecmp(spec, "http://", 7) == 0 || strncasecmp(spec, "https://", 8) == 0;
}

cm_source *cm_source_open(const char *spec, const cm_source_opts *opts, cm_err *err)
{
    if (chroma_server_detect(spec))
        return chroma_server_open(spec, opts, err);
    int tls_opts = opts && (opts->cacert || opts->insecure);
    if (opts && (opts->nheaders || opts->tenant || opts->database || (tls_opts && !clickhouse_detect(spec)))) {
        cm_err_set(err, "the header, tenant and database options of a source apply to a Chroma server only, the "
                        "certificate options to it and to clickhouses://");
        cm_err_mark(err, CM_ERR_SOURCE_SPEC, CM_HINT_FROM_SERVER_OPTS, NULL);
        return NULL;
    }
    if (clickhouse_detect(spec))
        return clickhouse_open(spec, opts, err);
    return legacy_dir_open(spec, err);
}

cm_sink *cm_sink_open(const char *spec, const chroma_dir_opts *dir, const chroma_http_opts *server, cm_err *err)
{
    if (cm_spec_is_server(spec)) {
        chroma_http_opts o = *server;
        o.url = spec;
        return chroma_http_create(&o, err);
    }
    return chroma_dir_create(spec, dir, err);
}
