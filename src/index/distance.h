/* distance.h - float32 distance kernels with run-time SIMD dispatch.
 *
 * Kernels exist for AVX-512F, AVX2+FMA, SSE2 and portable C; the x86 ones
 * are compiled with GCC target attributes, so the file builds with plain -O2
 * and the best level the CPU has is picked at run time. CM_SIMD=portable|sse|
 * avx2|avx512 in the environment caps the level (tests use it to force each
 * path; asking for more than the CPU has gives the best it has).
 *
 * The results differ between levels only by float rounding (summation order).
 */
#ifndef CM_INDEX_DISTANCE_H
#define CM_INDEX_DISTANCE_H

#include <stddef.h>

typedef enum cm_simd {
    CM_SIMD_PORTABLE = 0,
    CM_SIMD_SSE = 1,    /* SSE2 */
    CM_SIMD_AVX2 = 2,   /* AVX2 + FMA */
    CM_SIMD_AVX512 = 3, /* AVX-512F */
} cm_simd;

/* a, b: n floats each (any alignment). */
typedef float (*cm_dist_fn)(const float *a, const float *b, size_t n);

/* Whether this CPU (and this build) can run level l. */
int cm_simd_supported(cm_simd l);
/* The best supported level, capped by CM_SIMD when set. */
cm_simd cm_simd_choose(void);
const char *cm_simd_name(cm_simd l);

/* Kernels of level l (which must be supported): sum((a-b)^2), sum(a*b), and
 * 1 - sum(a*b) (hnswlib's inner-product distance). */
cm_dist_fn cm_dist_l2sq(cm_simd l);
cm_dist_fn cm_dist_dot(cm_simd l);
cm_dist_fn cm_dist_ip(cm_simd l);

#endif
