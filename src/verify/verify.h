/* verify.h - proving a migration record by record.
 *
 * Streams each source collection again, applies the same policies the
 * migration used (cm_prepare_record), and looks every expected record up in
 * the target: id, document bytes, metadata values and types, embedding
 * (float32; cosine within a few ulps, since the target keeps unit vectors and
 * norms), then counts what the target has beyond that. For a persistent
 * directory it also checks the HNSW files' structure against the pickle and
 * the embeddings rows; for both kinds of target, how many sampled records
 * their index finds when queried with their own vector (the record itself
 * or one no farther from it: verify_self.c). Memory: one collection at a time. */
#ifndef CM_CORE_VERIFY_H
#define CM_CORE_VERIFY_H

#include "../core/analyze.h"
#include "../core/pipeline.h"

typedef struct cm_verify_coll {
    char *name;             /* target name */
    int found;              /* the target has the collection */
    int64_t expected, target_count, matched, missing, extra, different;
    cm_issue ex_missing, ex_extra, ex_different;
    cm_issue ex_self;       /* sampled records their self-query did not find (sampled - self_first) */
    char *settings;         /* mismatching space / HNSW parameters / metadata, one per line, or NULL */
    char *structure;        /* structural problems, one per line, or NULL */
    int structure_na;       /* a server target: its HNSW files cannot be checked */
    int64_t sampled, self_first;
} cm_verify_coll;

typedef struct cm_verify {
    cm_verify_coll *c;
    size_t n;
    char **extra_collections; /* in the target, not expected */
    size_t nextra;
    int extras_uncounted;     /* a server target: its other collections may be anyone's, so they are listed only */
    int64_t mismatches;       /* total of everything that is wrong */
    double seconds;
} cm_verify;

/* target: a persistent directory. sample: records to self-query per
 * collection (0: none). */
int cm_verify_dir(cm_source *src, const char *target, const cm_policy *p, int64_t sample, const cm_progress *pr,
                  cm_verify *out, cm_err *err);
/* target: a Chroma server opened with chroma_server_open_target (v1/v2):
 * records compared through its get API, self-queries through its query API;
 * the HNSW file structure is not visible there (structure_na). */
int cm_verify_server(cm_source *src, cm_source *tgt, const cm_policy *p, int64_t sample, const cm_progress *pr,
                     cm_verify *out, cm_err *err);
void cm_verify_free(cm_verify *v);

#endif
