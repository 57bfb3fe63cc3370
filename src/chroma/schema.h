/* schema.h - the exact migration files Chroma applies to chroma.sqlite3. */
#ifndef CM_CHROMA_SCHEMA_H
#define CM_CHROMA_SCHEMA_H

#include <stddef.h>

typedef struct cm_migration {
    const char *dir;      /* sysdb, metadb, embeddings_queue */
    int version;
    const char *filename; /* e.g. 00001-collections.sqlite.sql */
    const char *md5;      /* lowercase hex of the text's bytes */
    const char *sql;      /* the full file text, ending in one newline */
} cm_migration;

/* In the order Chroma 1.x applies them: sysdb, metadb, embeddings_queue. */
extern const cm_migration cm_migrations[];
extern const size_t cm_migrations_count;

#endif
