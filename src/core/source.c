#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "../source/chroma_server.h"
#include "../source/clickhouse.h"
#include "../source/legacy_dir.h"

cm_source *cm_source_open(const char *spec, cm_err *err)
{
    return cm_source_open_ex(spec, NULL, err);
}

cm_source *cm_source_open_ex(const char *spec, const cm_source_opts *opts, cm_err *err)
{
    if (chroma_server_detect(spec))
        return chroma_server_open(spec, opts, err);
    int tls_opts = opts && (opts->cacert || opts->insecure);
    if (opts && (opts->nheaders || opts->tenant || opts->database || (tls_opts && !clickhouse_detect(spec)))) {
        cm_err_set(err, "the header, tenant and database options of a source apply to a Chroma server (--from "
                        "http[s]://...) only, the certificate options to it and to clickhouses://");
        return NULL;
    }
    if (clickhouse_detect(spec))
        return clickhouse_open_ex(spec, opts, err);
    return legacy_dir_open(spec, err);
}

void cm_source_close(cm_source *s)
{
    if (s)
        s->ops->destroy(s);
}

void cm_collections_free(cm_collection *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cm_collection_free(&c[i]);
    free(c);
}
