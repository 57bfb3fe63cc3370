/* self_query.c - the one rule by which both verify targets (a persistent
 * directory, verify.c, and a server, verify_server.c) judge a self-query:
 * a sampled record queried with its own vector.
 *
 * "The record comes back first" is too strict a test. Under ip (1 - dot)
 * a longer vector pointing the same way is nearer to the record than the
 * record itself, and in every space another record with an equal vector is
 * exactly as near; which of equals an index returns first is arbitrary. So a
 * self-query succeeds when its first answer is the record, or any record no
 * farther from the query than the record itself - the record's own distance
 * computed here in double, and allowed the float32 rounding an index makes
 * when it computes distances (a bound relative to the vector's magnitude). A
 * failure is kept as an example that names both ids and both distances, so
 * every counted miss is explained in the report. */
#include <math.h>
#include <string.h>

#include "verify_int.h"

double vf_self_distance(cm_space space, const float *q, size_t dim)
{
    if (space != CM_SPACE_IP)
        return 0; /* l2: |q - q|^2; cosine: 1 - cos(q, q) */
    double dot = 0;
    for (size_t i = 0; i < dim; i++)
        dot += (double)q[i] * (double)q[i];
    return 1.0 - dot;
}

double vf_distance_tolerance(cm_space space, const float *q, size_t dim)
{
    double n2 = 0;
    for (size_t i = 0; i < dim; i++)
        n2 += (double)q[i] * (double)q[i];
    /* What the float32 sum of dim products can be off by, as a fraction of
     * the sum of their magnitudes (the classic gamma_n bound, u = 2^-24),
     * plus one rounding of the result; doubled because the index may also
     * round the query and the stored vector differently (SIMD order). */
    const double u = 0x1p-24;
    double n = (double)(dim ? dim : 1), g = n * u < 0.5 ? n * u / (1 - n * u) : 1;
    double magnitude = space == CM_SPACE_L2 ? n2 : space == CM_SPACE_IP ? 1 + n2 : 2; /* cosine: unit vectors */
    return 2 * (g + u) * magnitude;
}

int vf_self_found(cm_space space, const vf_self_query *sq)
{
    if (!sq->hit_id)
        return 0;
    if (sq->hit_len == sq->id_len && memcmp(sq->hit_id, sq->id, sq->id_len) == 0)
        return 1;
    if (isnan(sq->hit_dist))
        return 0;
    double own = vf_self_distance(space, sq->q, sq->dim);
    return sq->hit_dist <= own + vf_distance_tolerance(space, sq->q, sq->dim);
}

void vf_self_judge(cm_verify_coll *vc, cm_space space, const vf_self_query *sq)
{
    vc->sampled++;
    if (vf_self_found(space, sq) || sq->rank > 0) {
        vc->self_first++;
        return;
    }
    cm_record r = {.id = (char *)sq->id, .id_len = sq->id_len, .src_row = -1};
    if (!sq->hit_id) {
        cm_issue_add(&vc->ex_self, &r, "queried with its own vector, the target returned nothing");
        return;
    }
    char hit[96];
    size_t n = sq->hit_len < 80 ? sq->hit_len : 80;
    memcpy(hit, sq->hit_id, n);
    strcpy(hit + n, sq->hit_len > n ? "..." : "");
    cm_issue_add(&vc->ex_self, &r,
                 "queried with its own vector, the first answer is '%s' at %s distance %.9g, farther than the "
                 "record's own %.9g (allowed float32 rounding %.2g), and the record is not among the first %d: the "
                 "target's index does not find it",
                 hit, cm_space_name(space), sq->hit_dist, vf_self_distance(space, sq->q, sq->dim),
                 vf_distance_tolerance(space, sq->q, sq->dim), VF_SELF_K);
}
