/* persist_dir.h - chromadb 0.3.x persist_directory (DuckDB-written Parquet). */
#ifndef CM_SOURCE_LEGACY_DIR_H
#define CM_SOURCE_LEGACY_DIR_H

#include "../core/source.h"

/* 1 if path looks like a legacy store (has chroma-collections.parquet). */
int legacy_dir_detect(const char *path);
cm_source *legacy_dir_open(const char *path, cm_err *err);

#endif
