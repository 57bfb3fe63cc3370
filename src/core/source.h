/* source.h - where records come from.
 *
 * A source lists its collections, then streams one collection's records at a
 * time. Implementations: src/legacy/ (persist_directory, ClickHouse) and
 * src/chroma/ (a Chroma server over REST); src/endpoints.c opens the one a
 * spec names. Records are handed out one by one
 * and reused by the caller: a source holds no more than its own read buffers. */
#ifndef CM_CORE_SOURCE_H
#define CM_CORE_SOURCE_H

#include "../util/err.h"
#include "record.h"

typedef struct cm_source cm_source;
typedef struct cm_reader cm_reader; /* one collection's record stream */
/* A graph the source already holds for a collection (index/prior_index.h
 * says what it offers); opaque here: core only hands it to the sink. */
typedef struct cm_prior_index cm_prior_index;

typedef struct cm_source_ops {
    const char *kind; /* for messages and reports, e.g. "legacy persist_directory" */
    /* Fills a fresh array of collections (caller frees with cm_collections_free). */
    int (*list)(cm_source *s, cm_collection **out, size_t *n, cm_err *err);
    /* Opens a stream over collection c (as returned by list). */
    cm_reader *(*open)(cm_source *s, const cm_collection *c, cm_err *err);
    /* 1: *r holds the next record (its previous contents are replaced);
     * 0: end of the collection; -1: error. */
    int (*next)(cm_reader *rd, cm_record *r, cm_err *err);
    void (*close)(cm_reader *rd);
    /* Notes about the store worth telling the user (e.g. a chroma.sqlite3
     * beside the legacy files): how many, *out pointing at them (kept by the
     * source until the next call); notes, not text, because some advise
     * options the caller words (cm_note.hint). May be NULL. */
    size_t (*notes)(cm_source *s, const cm_note **out);
    /* The graph the source holds for collection c (a legacy store's hnswlib
     * index), or NULL: none. Nothing is read until the sink asks; the
     * source owns it, until the next call or destroy. The op may be NULL. */
    cm_prior_index *(*prior_index)(cm_source *s, const cm_collection *c);
    void (*destroy)(cm_source *s);
} cm_source_ops;

struct cm_source {
    const cm_source_ops *ops;
    char *location; /* what the user gave, without secrets */
};

/* Options for sources reached over the network (Chroma servers). Header
 * values are secrets: never put them in messages or reports. */
typedef struct cm_source_opts {
    char **headers; /* "Name: value" lines */
    size_t nheaders;
    const char *tenant, *database; /* NULL: default_tenant / default_database */
    const char *cacert;
    int insecure;
} cm_source_opts;

void cm_source_close(cm_source *s);
void cm_collections_free(cm_collection *c, size_t n);

#endif
