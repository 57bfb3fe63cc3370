#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "../source/clickhouse.h"
#include "../source/legacy_dir.h"

cm_source *cm_source_open(const char *spec, cm_err *err)
{
    return cm_source_open_ex(spec, NULL, err);
}

cm_source *cm_source_open_ex(const char *spec, const cm_source_opts *opts, cm_err *err)
{
    (void)opts;
    if (clickhouse_detect(spec))
        return clickhouse_open(spec, err);
    if (strncmp(spec, "http://", 7) == 0 || strncmp(spec, "https://", 8) == 0) {
        cm_err_set(err, "%.*s...: this kind of source is not supported yet; give a legacy persist_directory path",
                   (int)(strchr(spec, ':') - spec), spec);
        return NULL;
    }
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
