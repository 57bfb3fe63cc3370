/* verify_int.h - what the two kinds of verify target share (not a public
 * API): record and metadata comparison, the collection settings check and
 * the totals. verify.c reads a persistent directory, server.c a
 * server over HTTP. */
#ifndef CM_CORE_VERIFY_INT_H
#define CM_CORE_VERIFY_INT_H

#include "verify.h"

#define VF_DIM_UNKNOWN INT64_MIN

double vf_now(void);
void vf_add_line(char **buf, const char *fmt, ...) CM_PRINTF(2, 3);
/* NULL when equal; else what differs, written into buf. */
const char *vf_meta_diff(const cm_record *a, const cm_record *b, char *buf, size_t cap);
const char *vf_record_diff(const cm_record *want, const cm_record *got, cm_space space, char *buf, size_t cap);
/* The collection as the migration should have written it: its metadata
 * under the policy, its HNSW settings (cr->hnsw). */
void vf_expect_collection(cm_verify_coll *vc, cm_coll_result *cr, const cm_policy *p);
/* Space, HNSW parameters, dimension (VF_DIM_UNKNOWN: not known) and
 * collection metadata against what was expected; with
 * hnsw_keys_are_settings the hnsw:* metadata keys are left to the settings. */
void vf_settings_check(cm_verify_coll *vc, const cm_coll_result *cr, const cm_hnsw_cfg *got, int64_t got_dim,
                       const cm_meta *got_meta, int hnsw_keys_are_settings);
/* extra = target_count - matched, with an example line. */
void vf_note_extra(cm_verify_coll *vc);
/* What every comparison needs besides the target. */
typedef struct vf_args {
    cm_source *src;
    const cm_policy *p;
    int64_t sample;
    const cm_progress *pr;
} vf_args;
/* Compares one expected collection (cr) with the target's collection
 * number j (whose name is name_of(target, j)). */
typedef int (*vf_one_fn)(void *target, size_t j, const vf_args *a, cm_coll_result *cr, cm_verify_coll *vc,
                         cm_err *err);
/* extras_counted: the target's other collections count as mismatches. */
typedef const char *(*vf_name_fn)(void *target, size_t j);
int vf_run(const vf_args *a, size_t nt, vf_name_fn name_of, vf_one_fn one, void *target, int extras_counted,
           cm_verify *out, cm_err *err);
/* The next record the migration should have written (the policies applied
 * to the source's next ones; *idx counts the source's): 1, 0 at the end, -1. */
int vf_next_expected(const vf_args *a, cm_reader *rd, cm_coll_result *cr, int64_t *idx, cm_record *r, cm_err *err);
/* One sampled self-query (verify_self.c): the record id, queried with q
 * (dim floats, as the target holds it), whose first answer was hit_id
 * (NULL: none) at hit_dist (NAN: not given). */
typedef struct vf_self_query {
    const char *id;
    size_t id_len;
    const float *q;
    size_t dim;
    const char *hit_id;
    size_t hit_len;
    double hit_dist;
    /* When the first answer does not pass: the record's rank (2..) among the
     * first VF_SELF_K answers of the same query, 0 when it is not there. HNSW
     * search is approximate - the real Chroma server's own index, built from
     * many equal vectors, was seen to place a record second - so the rule is
     * "the record, or one no farther, first; or the record among the first
     * VF_SELF_K", for both targets. */
    int rank;
} vf_self_query;
#define VF_SELF_K 10
/* The record's distance to itself in space, in double. */
double vf_self_distance(cm_space space, const float *q, size_t dim);
/* The float32 rounding allowed in a distance to q, relative to its magnitude. */
double vf_distance_tolerance(cm_space space, const float *q, size_t dim);
/* The rule both targets use: the answer is the record itself, or a record no
 * farther than the record's own distance (within the rounding allowed). */
int vf_self_found(cm_space space, const vf_self_query *sq);
/* Counts sq in vc->sampled / self_first; a miss goes to vc->ex_self. */
void vf_self_judge(cm_verify_coll *vc, cm_space space, const vf_self_query *sq);
/* Adds up out->mismatches. */
void vf_totals(cm_verify *out);

#endif
