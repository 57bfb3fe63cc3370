/* source.c - what every source shares: closing one, freeing a collection list.
 * The factory that opens a source from a spec is src/endpoints.c (core knows
 * no concrete source). */
#include "source.h"

#include <stdlib.h>
#include <string.h>

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
