/* test_hnsw.c - the HNSW builder (src/index/hnsw*.c) and distance kernels. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "index/distance.h"
#include "index/hnsw.h"
#include "index/hnsw_impl.h" /* no_stable: the pruning shortcut switched off */

static uint64_t rng_state = 12345;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float urand(void) /* [-1, 1) */
{
    return (float)((double)(rnd() >> 11) * 0x1.0p-52 - 1.0);
}

static float *random_vectors(size_t n, size_t dim)
{
    float *v = malloc(n * dim * sizeof *v);
    for (size_t i = 0; i < n * dim; i++)
        v[i] = urand();
    return v;
}

static void unit_rows(float *v, size_t n, size_t dim)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < dim; j++)
            s += (double)v[i * dim + j] * v[i * dim + j];
        for (size_t j = 0; j < dim; j++)
            v[i * dim + j] = (float)(v[i * dim + j] / sqrt(s));
    }
}

/* ---- distance kernels ---------------------------------------------------- */

static void test_kernels(void)
{
    static const size_t dims[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 128, 384, 1000, 1536};
    int levels = 0;
    for (int l = CM_SIMD_PORTABLE; l <= CM_SIMD_AVX512; l++) {
        if (!cm_simd_supported((cm_simd)l))
            continue;
        levels++;
        for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
            size_t n = dims[di];
            /* odd offsets: the kernels must not assume alignment */
            float *buf = random_vectors(2 * n + 8, 1);
            const float *a = buf + 1, *b = buf + n + 3;
            double l2 = 0, dot = 0, mag = 0;
            for (size_t i = 0; i < n; i++) {
                double d = (double)a[i] - b[i];
                l2 += d * d;
                dot += (double)a[i] * b[i];
                mag += fabs((double)a[i] * b[i]);
            }
            float got_l2 = cm_dist_l2sq((cm_simd)l)(a, b, n);
            float got_dot = cm_dist_dot((cm_simd)l)(a, b, n);
            float got_ip = cm_dist_ip((cm_simd)l)(a, b, n);
            float port_l2 = cm_dist_l2sq(CM_SIMD_PORTABLE)(a, b, n);
            CHECK_MSG(fabs(got_l2 - l2) <= 1e-5 * (l2 + 1), "%s l2 dim %zu: %g vs %g", cm_simd_name((cm_simd)l), n,
                      got_l2, l2);
            CHECK_MSG(fabs(got_l2 - port_l2) <= 1e-5 * (l2 + 1), "%s vs portable l2 dim %zu", cm_simd_name((cm_simd)l),
                      n);
            CHECK_MSG(fabs(got_dot - dot) <= 1e-5 * (mag + 1), "%s dot dim %zu: %g vs %g", cm_simd_name((cm_simd)l),
                      n, got_dot, dot);
            CHECK_MSG(fabs(got_ip - (1 - dot)) <= 1e-5 * (mag + 1), "%s ip dim %zu", cm_simd_name((cm_simd)l), n);
            free(buf);
        }
    }
    CHECK(levels >= 1);
    printf("distance kernels: %d levels checked (best here: %s)\n", levels, cm_simd_name(cm_simd_choose()));

    /* CM_SIMD caps the level */
    setenv("CM_SIMD", "portable", 1);
    CHECK_INT(cm_simd_choose(), CM_SIMD_PORTABLE);
    setenv("CM_SIMD", "sse", 1);
    CHECK(cm_simd_choose() <= CM_SIMD_SSE);
    setenv("CM_SIMD", "avx2", 1);
    CHECK(cm_simd_choose() <= CM_SIMD_AVX2);
    CHECK(cm_simd_supported(cm_simd_choose()));
    unsetenv("CM_SIMD");
    CHECK(cm_simd_supported(cm_simd_choose()));
}

/* ---- building and searching ---------------------------------------------- */

static hnsw_index *build(const float *v, size_t n, size_t dim, hnsw_space sp, int threads, size_t extra_cap)
{
    hnsw_params p = {.dim = dim, .M = 16, .ef_construction = 100, .space = sp, .seed = 100, .threads = threads};
    cm_err err = {0};
    hnsw_index *h = hnsw_new(&p, n + extra_cap, &err);
    CHECK_MSG(h != NULL, "hnsw_new: %s", err.msg);
    if (!h)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (hnsw_stage_f32(h, v + i * dim, i + 1, &err) < 0) {
            CHECK_MSG(0, "stage: %s", err.msg);
            break;
        }
    CHECK_MSG(hnsw_build(h, NULL, NULL, &err) == 0, "build: %s", err.msg);
    return h;
}

/* Every element queried with its own vector comes back first. */
static void self_query(hnsw_space sp, int threads, const char *simd)
{
    const size_t n = 3000, dim = 24;
    if (simd)
        setenv("CM_SIMD", simd, 1);
    float *v = random_vectors(n, dim);
    if (sp == HNSW_IP)
        unit_rows(v, n, dim); /* with equal norms the nearest by 1-dot is oneself */
    hnsw_index *h = build(v, n, dim, sp, threads, 0);
    if (simd)
        unsetenv("CM_SIMD");
    if (!h) {
        free(v);
        return;
    }
    CHECK_INT(hnsw_count(h), n);
    size_t first = 0, maxbad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t labels[5];
        float d[5];
        size_t got = hnsw_search(h, v + i * dim, 5, 50, labels, d);
        if (got == 5 && labels[0] == i + 1 && fabsf(d[0]) < 1e-5f && d[0] <= d[1] && d[3] <= d[4])
            first++;
        else if (maxbad++ < 3)
            fprintf(stderr, "self query %zu: got %zu, first label %llu at %g\n", i, got,
                    (unsigned long long)(got ? labels[0] : 0), got ? d[0] : -1.0);
    }
    CHECK_MSG(first == n, "space %d threads %d simd %s: %zu of %zu find themselves first", (int)sp, threads,
              simd ? simd : "best", first, n);
    for (size_t i = 0; i < n; i += 97)
        CHECK_INT(hnsw_label(h, i), i + 1);
    hnsw_free(h);
    free(v);
}

/* Graph invariants: counts within bounds, no self or duplicate links. */
static void test_graph_shape(void)
{
    const size_t n = 2000, dim = 16;
    float *v = random_vectors(n, dim);
    hnsw_index *h = build(v, n, dim, HNSW_L2, 2, 0);
    free(v);
    if (!h)
        return;
    char dir[] = "/tmp/test_hnsw_shape.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    cm_err err = {0};
    CHECK_MSG(hnsw_write_chroma_files(h, dir, &err) == 0, "%s", err.msg);
    /* inspect level 0 in the file */
    char path[256];
    snprintf(path, sizeof path, "%s/data_level0.bin", dir);
    FILE *f = fopen(path, "rb");
    size_t rec = 4 + 4 * 32 + 4 * dim + 8;
    unsigned char *buf = malloc(n * rec);
    CHECK(f && fread(buf, 1, n * rec, f) == n * rec);
    if (f)
        fclose(f);
    size_t bad = 0, empty = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r = buf + i * rec;
        unsigned cnt = (unsigned)r[0] | (unsigned)r[1] << 8;
        if (cnt > 32 || r[2] || r[3])
            bad++;
        if (cnt == 0)
            empty++;
        total += cnt;
        for (unsigned j = 0; j < cnt && j < 32; j++) {
            uint32_t a;
            memcpy(&a, r + 4 + 4 * j, 4);
            if (a >= n || a == i)
                bad++;
            for (unsigned k = 0; k < j; k++) {
                uint32_t b;
                memcpy(&b, r + 4 + 4 * k, 4);
                if (a == b)
                    bad++;
            }
        }
        uint64_t label;
        memcpy(&label, r + rec - 8, 8);
        if (label != i + 1)
            bad++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(empty, 0);
    CHECK(total > n * 10); /* a real graph, not a few links */
    free(buf);
    hnsw_free(h);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    CHECK(system(path) == 0);
}

/* ---- files --------------------------------------------------------------- */

static unsigned char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        *len = 0;
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void spit(const char *dir, const char *name, const unsigned char *b, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(b, 1, len, f) == len);
        fclose(f);
    }
}

static const char *names[4] = {"header.bin", "data_level0.bin", "length.bin", "link_lists.bin"};

static int same_files(const char *a, const char *b)
{
    int same = 1;
    for (int i = 0; i < 4; i++) {
        size_t la, lb;
        unsigned char *x = slurp(a, names[i], &la), *y = slurp(b, names[i], &lb);
        if (!x || !y || la != lb || memcmp(x, y, la) != 0) {
            fprintf(stderr, "%s differs\n", names[i]);
            same = 0;
        }
        free(x);
        free(y);
    }
    return same;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)le64((const unsigned char[8]){p[0], p[1], p[2], p[3], 0, 0, 0, 0});
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* Copies the four files of src into a fresh directory. */
static void copy_dir(const char *src, char *dst_template)
{
    CHECK(mkdtemp(dst_template) != NULL);
    for (int i = 0; i < 4; i++) {
        size_t len;
        unsigned char *b = slurp(src, names[i], &len);
        spit(dst_template, names[i], b ? b : (const unsigned char *)"", len);
        free(b);
    }
}

/* Corrupts one file of a copy with fn and expects the reader to refuse it
 * with a message containing `needle`. */
static void expect_rejected(const char *good, const char *file, void (*fn)(unsigned char *, size_t *, void *),
                            void *arg, const char *needle)
{
    char dir[] = "/tmp/test_hnsw_bad.XXXXXX";
    copy_dir(good, dir);
    size_t len;
    unsigned char *b = slurp(dir, file, &len);
    b = realloc(b, len + 64);
    fn(b, &len, arg);
    spit(dir, file, b, len);
    free(b);
    cm_err err = {0};
    hnsw_index *h = hnsw_read_chroma_files(dir, HNSW_L2, &err);
    CHECK_MSG(h == NULL, "corrupted %s (%s) was accepted", file, needle);
    CHECK_MSG(err.set && strstr(err.msg, needle), "corrupted %s: message '%s' lacks '%s'", file, err.msg, needle);
    hnsw_free(h);
    rm_rf(dir);
}

static void bad_link(unsigned char *b, size_t *len, void *arg)
{
    size_t rec = *(size_t *)arg;
    (void)len;
    b[5 * rec + 0] = 3; /* record 5: three links, the first one out of range */
    b[5 * rec + 1] = 0;
    uint32_t bad = 999999;
    memcpy(b + 5 * rec + 4, &bad, 4);
}

static void big_count(unsigned char *b, size_t *len, void *arg)
{
    (void)len;
    (void)arg;
    b[7 * (*(size_t *)arg)] = 200; /* more than maxM0 */
}

static void truncate_half(unsigned char *b, size_t *len, void *arg)
{
    (void)b;
    (void)arg;
    *len /= 2;
}

static void truncate_4(unsigned char *b, size_t *len, void *arg)
{
    (void)b;
    (void)arg;
    *len -= 4;
}

static void add_trailing(unsigned char *b, size_t *len, void *arg)
{
    (void)arg;
    memset(b + *len, 0, 8);
    *len += 8;
}

static void set_u32_at(unsigned char *b, size_t *len, void *arg)
{
    (void)len;
    const uint32_t *pv = arg; /* {offset, value} */
    memcpy(b + pv[0], &pv[1], 4);
}

static void test_files(void)
{
    const size_t n = 1500, dim = 12;
    float *v = random_vectors(n, dim);
    for (size_t i = 0; i < n * dim; i++)
        v[i] *= 3; /* norms far from 1 */
    hnsw_index *h = build(v, n, dim, HNSW_COSINE, 2, 0);
    if (!h) {
        free(v);
        return;
    }
    char d1[] = "/tmp/test_hnsw_a.XXXXXX", d2[] = "/tmp/test_hnsw_b.XXXXXX";
    CHECK(mkdtemp(d1) != NULL && mkdtemp(d2) != NULL);
    cm_err err = {0};
    CHECK_MSG(hnsw_write_chroma_files(h, d1, &err) == 0, "write: %s", err.msg);

    /* header fields */
    size_t hl, l0, ll, lenl;
    unsigned char *hd = slurp(d1, "header.bin", &hl);
    unsigned char *lv0 = slurp(d1, "data_level0.bin", &l0);
    unsigned char *lk = slurp(d1, "link_lists.bin", &ll);
    unsigned char *lens = slurp(d1, "length.bin", &lenl);
    size_t rec = 4 + 4 * 32 + 4 * dim + 8;
    CHECK_INT(hl, 100);
    if (hl == 100) {
        CHECK_INT(le32(hd), 1);
        CHECK_INT(le64(hd + 4), 0);
        CHECK_INT(le64(hd + 12), n);
        CHECK_INT(le64(hd + 20), n);
        CHECK_INT(le64(hd + 28), rec);
        CHECK_INT(le64(hd + 36), 4 + 4 * 32 + 4 * dim);
        CHECK_INT(le64(hd + 44), 4 + 4 * 32);
        int32_t maxlevel = (int32_t)le32(hd + 52);
        uint32_t ep = le32(hd + 56);
        CHECK(maxlevel >= 1 && maxlevel < 10);
        CHECK(ep < n);
        CHECK_INT(le64(hd + 60), 16);
        CHECK_INT(le64(hd + 68), 32);
        CHECK_INT(le64(hd + 76), 16);
        uint64_t mb = le64(hd + 84);
        double mult;
        memcpy(&mult, &mb, 8);
        CHECK(mult == 1 / log(16.0));
        CHECK(fabs(mult - 0.36067376022224085) < 1e-16);
        CHECK_INT(le64(hd + 92), 100);
        /* the entry point's link list length says it is at maxlevel */
        size_t pos = 0, levels_sum = 0;
        int top = -1;
        for (size_t i = 0; i < n && pos + 4 <= ll; i++) {
            uint32_t L = le32(lk + pos);
            CHECK(L % (4 + 4 * 16) == 0);
            int lvl = (int)(L / (4 + 4 * 16));
            if (i == ep)
                CHECK_INT(lvl, maxlevel);
            if (lvl > top)
                top = lvl;
            levels_sum += (size_t)lvl;
            pos += 4 + L;
        }
        CHECK_INT(pos, ll);
        CHECK_INT(top, maxlevel);
        CHECK_INT(ll, 4 * n + levels_sum * (4 + 4 * 16));
    }
    CHECK_INT(l0, n * rec);
    CHECK_INT(lenl, n * 4);
    /* cosine: unit vectors in the records, original norms in length.bin */
    for (size_t i = 0; i < n && l0 == n * rec && lenl == n * 4; i += 37) {
        float norm, x0;
        memcpy(&norm, lens + 4 * i, 4);
        memcpy(&x0, lv0 + i * rec + 132, 4);
        double s = 0;
        for (size_t j = 0; j < dim; j++)
            s += (double)v[i * dim + j] * v[i * dim + j];
        CHECK_MSG(fabs(norm - sqrt(s)) < 1e-4 * sqrt(s), "norm %zu: %g vs %g", i, norm, sqrt(s));
        CHECK(fabs(x0 * norm - v[i * dim]) < 1e-4);
        CHECK(fabsf(hnsw_norm(h, i) - norm) == 0);
    }
    free(hd);
    free(lv0);
    free(lk);
    free(lens);

    /* read back: same vectors, labels, norms, answers; and written again
     * byte for byte the same */
    hnsw_index *r = hnsw_read_chroma_files(d1, HNSW_COSINE, &err);
    CHECK_MSG(r != NULL, "read: %s", err.msg);
    if (r) {
        CHECK_INT(hnsw_count(r), n);
        CHECK_INT(hnsw_dim(r), dim);
        CHECK_INT(hnsw_M(r), 16);
        CHECK_INT(hnsw_space_of(r), HNSW_COSINE);
        size_t same = 0;
        for (size_t i = 0; i < n; i++)
            same += hnsw_label(r, i) == hnsw_label(h, i) && hnsw_norm(r, i) == hnsw_norm(h, i) &&
                    memcmp(hnsw_vector(r, i), hnsw_vector(h, i), dim * sizeof(float)) == 0;
        CHECK_INT(same, n);
        size_t agree = 0;
        for (size_t i = 0; i < 200; i++) {
            uint64_t la[10], lb[10];
            float da[10], db[10];
            size_t na = hnsw_search(h, v + i * dim, 10, 40, la, da);
            size_t nb = hnsw_search(r, v + i * dim, 10, 40, lb, db);
            agree += na == nb && memcmp(la, lb, na * sizeof *la) == 0 && memcmp(da, db, na * sizeof *da) == 0;
        }
        CHECK_INT(agree, 200);
        CHECK_MSG(hnsw_write_chroma_files(r, d2, &err) == 0, "rewrite: %s", err.msg);
        CHECK(same_files(d1, d2));
        hnsw_free(r);
    }

    /* corrupted copies are refused, with a message */
    expect_rejected(d1, "data_level0.bin", bad_link, &rec, "links to 999999");
    expect_rejected(d1, "data_level0.bin", big_count, &rec, "more than maxM0");
    expect_rejected(d1, "data_level0.bin", truncate_half, NULL, "data_level0.bin is");
    expect_rejected(d1, "length.bin", truncate_half, NULL, "length.bin is");
    expect_rejected(d1, "link_lists.bin", truncate_4, NULL, "link_lists.bin");
    expect_rejected(d1, "link_lists.bin", add_trailing, NULL, "follow the last element");
    expect_rejected(d1, "header.bin", truncate_4, NULL, "header.bin is 96 bytes");
    uint32_t version[2] = {0, 2};
    expect_rejected(d1, "header.bin", set_u32_at, version, "persistence version 2");
    uint32_t entry[2] = {56, (uint32_t)n};
    expect_rejected(d1, "header.bin", set_u32_at, entry, "entry point");
    uint32_t label_off[2] = {36, 7};
    expect_rejected(d1, "header.bin", set_u32_at, label_off, "label_offset");
    uint32_t huge[2] = {20, 0x7FFFFFF0u};
    expect_rejected(d1, "header.bin", set_u32_at, huge, "exceeds max_elements");
    /* first element's link list length not a multiple of a block */
    uint32_t odd_len[2] = {0, 5};
    expect_rejected(d1, "link_lists.bin", set_u32_at, odd_len, "not a multiple");
    /* an upper-level link to an element that has no such level: find one
     * element with level >= 1 and point its first link at a level-0 one */
    {
        size_t len;
        unsigned char *lk2 = slurp(d1, "link_lists.bin", &len);
        size_t pos = 0;
        uint32_t target0 = UINT32_MAX, patch_at = 0;
        for (size_t i = 0; i < n && pos + 4 <= len; i++) {
            uint32_t L = le32(lk2 + pos);
            if (L == 0 && target0 == UINT32_MAX)
                target0 = (uint32_t)i;
            if (L && !patch_at && le32(lk2 + pos + 4) > 0)
                patch_at = (uint32_t)(pos + 8); /* first id of its level-1 block */
            pos += 4 + L;
        }
        free(lk2);
        CHECK(patch_at && target0 != UINT32_MAX);
        uint32_t lvl_link[2] = {patch_at, target0};
        expect_rejected(d1, "link_lists.bin", set_u32_at, lvl_link, "which stops at level 0");
        uint32_t far_link[2] = {patch_at, (uint32_t)n + 3};
        expect_rejected(d1, "link_lists.bin", set_u32_at, far_link, "but there are");
    }
    /* a missing file */
    {
        char dir[] = "/tmp/test_hnsw_missing.XXXXXX";
        copy_dir(d1, dir);
        char path[512];
        snprintf(path, sizeof path, "%s/length.bin", dir);
        CHECK(unlink(path) == 0);
        hnsw_index *x = hnsw_read_chroma_files(dir, HNSW_COSINE, &err);
        CHECK(x == NULL && strstr(err.msg, "length.bin"));
        hnsw_free(x);
        rm_rf(dir);
    }
    hnsw_free(h);
    free(v);
    rm_rf(d1);
    rm_rf(d2);
}

/* The pruning shortcut (pairs of links an earlier heuristic run kept are not
 * measured again) gives the very same graph as measuring every pair: one
 * thread, same seed, files byte for byte equal. Duplicate vectors make ties. */
static void prune_shortcut_is_exact(hnsw_space sp, size_t n, size_t dim)
{
    float *v = random_vectors(n, dim);
    for (size_t i = 10; i < n; i += 37)
        memcpy(v + i * dim, v + (i - 10) * dim, dim * sizeof *v);
    char da[] = "/tmp/test_hnsw_pa.XXXXXX", db[] = "/tmp/test_hnsw_pb.XXXXXX";
    CHECK(mkdtemp(da) != NULL && mkdtemp(db) != NULL);
    for (int full = 0; full < 2; full++) {
        hnsw_params p = {.dim = dim, .M = 6, .ef_construction = 40, .space = sp, .seed = 9, .threads = 1};
        cm_err err = {0};
        hnsw_index *h = hnsw_new(&p, n, &err);
        h->no_stable = full;
        for (size_t i = 0; i < n; i++)
            hnsw_stage_f32(h, v + i * dim, i + 1, &err);
        CHECK(hnsw_build(h, NULL, NULL, &err) == 0);
        CHECK_MSG(hnsw_write_chroma_files(h, full ? db : da, &err) == 0, "%s", err.msg);
        hnsw_free(h);
    }
    CHECK_MSG(same_files(da, db), "space %d: the shortcut changed the graph", (int)sp);
    rm_rf(da);
    rm_rf(db);
    free(v);
}

static void test_empty(void)
{
    hnsw_params p = {.dim = 8, .M = 16, .ef_construction = 100, .space = HNSW_L2, .seed = 100, .threads = 0};
    cm_err err = {0};
    hnsw_index *h = hnsw_new(&p, 10, &err);
    CHECK(h != NULL);
    if (!h)
        return;
    CHECK(hnsw_build(h, NULL, NULL, &err) == 0);
    float q[8] = {0};
    uint64_t lab;
    CHECK_INT(hnsw_search(h, q, 1, 10, &lab, NULL), 0);
    char dir[] = "/tmp/test_hnsw_empty.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_MSG(hnsw_write_chroma_files(h, dir, &err) == 0, "%s", err.msg);
    size_t len;
    unsigned char *hd = slurp(dir, "header.bin", &len);
    CHECK_INT(len, 100);
    if (len == 100) {
        CHECK_INT(le32(hd), 1);
        CHECK_INT(le64(hd + 12), 0);
        CHECK_INT(le64(hd + 20), 0);
        CHECK_INT((int32_t)le32(hd + 52), -1);
        CHECK_INT(le32(hd + 56), 0xFFFFFFFFu);
    }
    free(hd);
    free(slurp(dir, "data_level0.bin", &len));
    CHECK_INT(len, 0);
    free(slurp(dir, "link_lists.bin", &len));
    CHECK_INT(len, 0);
    free(slurp(dir, "length.bin", &len));
    CHECK_INT(len, 0);
    hnsw_index *r = hnsw_read_chroma_files(dir, HNSW_L2, &err);
    CHECK_MSG(r != NULL, "reading the empty index: %s", err.msg);
    if (r) {
        CHECK_INT(hnsw_count(r), 0);
        CHECK_INT(hnsw_search(r, q, 1, 10, &lab, NULL), 0);
        hnsw_free(r);
    }
    hnsw_free(h);
    rm_rf(dir);

    /* one element */
    h = hnsw_new(&p, 1, &err);
    q[0] = 1;
    CHECK(hnsw_stage_f32(h, q, 7, &err) == 0);
    CHECK(hnsw_stage_f32(h, q, 8, &err) < 0 && strstr(err.msg, "full"));
    CHECK(hnsw_build(h, NULL, NULL, &err) == 0);
    float d;
    CHECK_INT(hnsw_search(h, q, 3, 10, &lab, &d), 1);
    CHECK_INT(lab, 7);
    hnsw_free(h);
}

static void test_stage(void)
{
    hnsw_params p = {.dim = 4, .M = 8, .ef_construction = 20, .space = HNSW_COSINE, .seed = 1, .threads = 1};
    cm_err err = {0};
    hnsw_index *a = hnsw_new(&p, 4, &err), *b = hnsw_new(&p, 4, &err);
    double d64[4] = {3, 4, 0, 0};
    float f32[4] = {3, 4, 0, 0};
    CHECK(hnsw_stage_f64(a, d64, 1, &err) == 0);
    CHECK(hnsw_stage_f32(b, f32, 1, &err) == 0);
    CHECK(memcmp(hnsw_vector(a, 0), hnsw_vector(b, 0), sizeof f32) == 0);
    CHECK(hnsw_norm(a, 0) == 5.0f);
    CHECK(fabsf(hnsw_vector(a, 0)[0] - 0.6f) < 1e-7f);
    double nan4[4] = {1, NAN, 0, 0}, big4[4] = {1e300, 0, 0, 0};
    CHECK(hnsw_stage_f64(a, nan4, 2, &err) < 0 && strstr(err.msg, "not a finite"));
    CHECK(hnsw_stage_f64(a, big4, 2, &err) < 0);
    float inf4[4] = {INFINITY, 0, 0, 0};
    CHECK(hnsw_stage_f32(b, inf4, 2, &err) < 0);
    CHECK_INT(hnsw_count(a), 1);
    /* a zero vector in cosine: stored as zeros, norm 0 */
    float zero[4] = {0};
    CHECK(hnsw_stage_f32(b, zero, 2, &err) == 0);
    CHECK(hnsw_norm(b, 1) == 0 && hnsw_vector(b, 1)[0] == 0);
    CHECK(hnsw_build(b, NULL, NULL, &err) == 0);
    hnsw_free(a);
    hnsw_free(b);

    hnsw_params bad = p;
    bad.M = 1;
    CHECK(hnsw_new(&bad, 4, &err) == NULL && strstr(err.msg, "M"));
    bad = p;
    bad.dim = 0;
    CHECK(hnsw_new(&bad, 4, &err) == NULL);
}

struct prog {
    size_t calls, last, total;
    int monotonic;
};

static void on_progress(void *ctx, size_t done, size_t total)
{
    struct prog *pr = ctx;
    /* called from the building threads; this test runs one */
    if (done < pr->last)
        pr->monotonic = 0;
    pr->calls++;
    pr->last = done;
    pr->total = total;
}

static void test_progress_and_incremental(void)
{
    const size_t n = 9000, dim = 8;
    float *v = random_vectors(n, dim);
    hnsw_params p = {.dim = dim, .M = 8, .ef_construction = 40, .space = HNSW_L2, .seed = 3, .threads = 1};
    cm_err err = {0};
    hnsw_index *h = hnsw_new(&p, n, &err);
    for (size_t i = 0; i < n / 2; i++)
        hnsw_stage_f32(h, v + i * dim, i + 1, &err);
    struct prog pr = {0, 0, 0, 1};
    CHECK(hnsw_build(h, on_progress, &pr, &err) == 0);
    CHECK_INT(pr.last, n / 2);
    CHECK_INT(pr.total, n / 2);
    CHECK(pr.calls >= 2 && pr.monotonic);
    /* more elements after a build are linked by the next build */
    for (size_t i = n / 2; i < n; i++)
        hnsw_stage_f32(h, v + i * dim, i + 1, &err);
    CHECK(hnsw_build(h, NULL, NULL, &err) == 0);
    size_t found = 0;
    for (size_t i = 0; i < n; i += 7) {
        uint64_t lab;
        if (hnsw_search(h, v + i * dim, 1, 30, &lab, NULL) == 1 && lab == i + 1)
            found++;
    }
    CHECK_INT(found, (n + 6) / 7);
    hnsw_free(h);
    free(v);
}

int main(void)
{
    test_kernels();
    self_query(HNSW_L2, 1, NULL);
    self_query(HNSW_IP, 1, NULL);
    self_query(HNSW_COSINE, 1, NULL);
    self_query(HNSW_L2, 2, NULL);
    self_query(HNSW_COSINE, 2, "portable");
    self_query(HNSW_L2, 2, "sse");
    self_query(HNSW_IP, 2, "avx2");
    test_graph_shape();
    test_files();
    prune_shortcut_is_exact(HNSW_L2, 4000, 20);
    prune_shortcut_is_exact(HNSW_IP, 3000, 8);
    prune_shortcut_is_exact(HNSW_COSINE, 3000, 33);
    test_empty();
    test_stage();
    test_progress_and_incremental();
    return check_done("test_hnsw");
}
