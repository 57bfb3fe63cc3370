/* dir_writer.h - a Chroma >= 0.4 persistent directory, written directly. */
#ifndef CM_SINK_CHROMA_DIR_H
#define CM_SINK_CHROMA_DIR_H

#include "../core/sink.h"

typedef enum cm_chroma_profile {
    CM_PROFILE_1_0, /* Chroma 1.x: 16 migrations, INTEGER watermarks, Rust config JSON */
    CM_PROFILE_0_6, /* Python 0.5.6-0.6.x and Rust 1.x: 15 migrations, BLOB watermarks,
                       Python config JSON + hnsw:* segment metadata */
    CM_PROFILE_1_5, /* Chroma 1.5.x (opens in >= 1.2.2): 18 migrations, INTEGER watermarks,
                       config_json_str '{}' and the collection schema in schema_str */
} cm_chroma_profile;

typedef struct chroma_dir_opts {
    cm_chroma_profile profile;
    int threads; /* HNSW build threads; <= 0: all cores */
    /* Written as .chroma-migrate.json in the result (what the run did, for
     * verify); Chroma ignores the file. May be NULL. */
    const char *manifest;
    /* A legacy hnswlib index that provably matches the data: reuse it
     * (AUTO, the default; REUSE fails the run when it cannot), or always
     * build a new graph (REBUILD). */
    enum { CM_INDEX_AUTO = 0, CM_INDEX_REUSE, CM_INDEX_REBUILD } index_mode;
} chroma_dir_opts;

/* dir must not exist or be an empty directory. Everything is written into a
 * hidden sibling folder and renamed into place by finish(). */
cm_sink *chroma_dir_create(const char *dir, const chroma_dir_opts *o, cm_err *err);

#endif
