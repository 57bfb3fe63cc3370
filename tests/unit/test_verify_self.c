/* test_verify_self.c - the self-query rule both verify targets share
 * (src/core/verify_self.c): which first answers count as finding a record. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "verify/verify_int.h"

static vf_self_query query(const float *q, size_t dim, const char *hit, double dist)
{
    vf_self_query sq = {.id = "me", .id_len = 2, .q = q, .dim = dim, .hit_id = hit,
                        .hit_len = hit ? strlen(hit) : 0, .hit_dist = dist};
    return sq;
}

int main(void)
{
    const float q[4] = {1.5f, -2.0f, 0.25f, 3.0f}; /* |q|^2 = 15.3125, not normalised */
    double own_ip = vf_self_distance(CM_SPACE_IP, q, 4);
    CHECK(fabs(own_ip - (1 - 15.3125)) < 1e-12);
    CHECK(vf_self_distance(CM_SPACE_L2, q, 4) == 0 && vf_self_distance(CM_SPACE_COSINE, q, 4) == 0);
    double tol = vf_distance_tolerance(CM_SPACE_IP, q, 4);
    CHECK(tol > 1e-6 && tol < 1e-4); /* relative to the magnitude (1 + |q|^2), a few float32 ulps */

    /* the record itself: found whatever the distance (even none given) */
    vf_self_query sq = query(q, 4, "me", NAN);
    CHECK(vf_self_found(CM_SPACE_IP, &sq));
    /* ip: a longer vector the same way is nearer than the record: found */
    sq = query(q, 4, "longer", own_ip - 5);
    CHECK(vf_self_found(CM_SPACE_IP, &sq));
    /* an equal vector, its distance rounded differently by the index: found */
    sq = query(q, 4, "twin", (double)(float)own_ip + tol / 2);
    CHECK(vf_self_found(CM_SPACE_IP, &sq));
    /* farther than the record itself: not found; nor without a distance or an answer */
    sq = query(q, 4, "other", own_ip + 1e-3);
    CHECK(!vf_self_found(CM_SPACE_IP, &sq));
    sq = query(q, 4, "other", NAN);
    CHECK(!vf_self_found(CM_SPACE_IP, &sq));
    sq = query(q, 4, NULL, NAN);
    CHECK(!vf_self_found(CM_SPACE_IP, &sq));
    /* l2 / cosine: an equal vector is at 0 (within rounding); a distinct one is not */
    sq = query(q, 4, "twin", 0);
    CHECK(vf_self_found(CM_SPACE_L2, &sq));
    sq = query(q, 4, "near", 0.01);
    CHECK(!vf_self_found(CM_SPACE_L2, &sq));
    sq = query(q, 4, "scaled", 1.2e-7); /* 2.5 q under cosine: 1 - cos rounds to a few ulps */
    CHECK(vf_self_found(CM_SPACE_COSINE, &sq));
    sq = query(q, 4, "near", 1e-3);
    CHECK(!vf_self_found(CM_SPACE_COSINE, &sq));

    /* judging counts every query; each miss is an example naming both ids */
    cm_verify_coll vc = {0};
    sq = query(q, 4, "me", 0);
    vf_self_judge(&vc, CM_SPACE_IP, &sq);
    sq = query(q, 4, "other", own_ip + 1);
    vf_self_judge(&vc, CM_SPACE_IP, &sq);
    sq = query(q, 4, NULL, NAN);
    vf_self_judge(&vc, CM_SPACE_IP, &sq);
    CHECK_INT(vc.sampled, 3);
    CHECK_INT(vc.self_first, 1);
    CHECK_INT(vc.ex_self.nex, 2);
    CHECK(strcmp(vc.ex_self.ex[0].id, "me") == 0 && strstr(vc.ex_self.ex[0].detail, "'other'") &&
          strstr(vc.ex_self.ex[0].detail, "ip distance"));
    CHECK(strstr(vc.ex_self.ex[1].detail, "returned nothing") != NULL);
    for (size_t i = 0; i < vc.ex_self.nex; i++) {
        free(vc.ex_self.ex[i].id);
        free(vc.ex_self.ex[i].detail);
    }
    /* a miss first, but the record among the first VF_SELF_K answers: found (HNSW is approximate) */
    {
        cm_verify_coll vc2;
        memset(&vc2, 0, sizeof vc2);
        vf_self_query far = query(q, 4, "other", 97.0);
        CHECK(!vf_self_found(CM_SPACE_L2, &far));
        far.rank = 2;
        vf_self_judge(&vc2, CM_SPACE_L2, &far);
        far.rank = 0;
        vf_self_judge(&vc2, CM_SPACE_L2, &far);
        CHECK(vc2.sampled == 2 && vc2.self_first == 1 && vc2.ex_self.count == 1);
        for (size_t i = 0; i < vc2.ex_self.nex; i++) {
            free(vc2.ex_self.ex[i].id);
            free(vc2.ex_self.ex[i].detail);
        }
    }
    return check_done("verify_self");
}
