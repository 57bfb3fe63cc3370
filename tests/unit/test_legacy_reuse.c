/* test_legacy_reuse.c - reusing a legacy hnswlib index: the graph and maps
 * chromadb 0.3.x left (src/legacy/prior_index.c, the single-file parser in
 * src/index/hnsw_files.c) and the decision and conversion on them
 * (src/index/hnsw_reuse.c).
 *
 * Each case builds a small legacy index/ folder by hand: a graph built with
 * our HNSW builder, written as Chroma's four files and re-assembled into
 * hnswlib's single-file layout (header without the version int, level 0, link
 * lists), plus id_to_uuid / uuid_to_id / index_metadata pickles made by a tiny
 * pickle writer below (the same opcodes chromadb 0.3.x's pickles use: PROTO,
 * EMPTY_DICT, MARK, SETITEMS, BININT, SHORT_BINUNICODE, STACK_GLOBAL uuid.UUID,
 * NEWOBJ, BUILD {'int': LONG1}). Then it stages the "records" the way the
 * chroma_dir sink does and checks hnsw_reuse_run's answer and files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "index/hnsw.h"
#include "index/hnsw_reuse.h"
#include "legacy/prior_index.h"

#define COLL "0d7a3c9e-1b2f-4c5d-8e9f-a0b1c2d3e4f5"

static uint64_t rng_state = 777;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double drand(void)
{
    return (double)(rnd() >> 11) * 0x1.0p-52 - 1.0;
}

/* ---- files --------------------------------------------------------------- */

static char *path2(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
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

static void spit(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    if (len)
        fwrite(b, 1, len, f);
    fclose(f);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static char *mkdtemp_dup(void)
{
    const char *t = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/lreuse.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        exit(2);
    }
    return strdup(tmpl);
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- a tiny pickle writer ------------------------------------------------- */

typedef struct pb {
    unsigned char *b;
    size_t n, cap;
} pb;

static void pb_put(pb *p, const void *d, size_t n)
{
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + 64;
        p->b = realloc(p->b, p->cap);
    }
    memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void pb_byte(pb *p, unsigned c)
{
    unsigned char b = (unsigned char)c;
    pb_put(p, &b, 1);
}

static void pb_int(pb *p, int64_t v) /* BININT */
{
    unsigned char b[5] = {'J'};
    for (int i = 0; i < 4; i++)
        b[1 + i] = (unsigned char)((uint64_t)v >> (8 * i));
    pb_put(p, b, 5);
}

static void pb_str(pb *p, const char *s) /* SHORT_BINUNICODE */
{
    pb_byte(p, 0x8c);
    pb_byte(p, (unsigned)strlen(s));
    pb_put(p, s, strlen(s));
}

static void pb_float(pb *p, double d) /* BINFLOAT, big-endian */
{
    uint64_t u;
    memcpy(&u, &d, 8);
    pb_byte(p, 'G');
    for (int i = 7; i >= 0; i--)
        pb_byte(p, (unsigned)(u >> (8 * i)) & 0xff);
}

static int hexv(char c)
{
    return c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
}

/* uuid.UUID(hex): STACK_GLOBAL uuid UUID, EMPTY_TUPLE, NEWOBJ, BUILD {'int': n} */
static void pb_uuid(pb *p, const char *u36)
{
    unsigned char be[16];
    int k = 0;
    for (size_t i = 0; u36[i] && k < 32; i++) {
        if (u36[i] == '-')
            continue;
        if (k % 2 == 0)
            be[k / 2] = (unsigned char)(hexv(u36[i]) << 4);
        else
            be[k / 2] |= (unsigned char)hexv(u36[i]);
        k++;
    }
    pb_str(p, "uuid");
    pb_str(p, "UUID");
    pb_byte(p, 0x93); /* STACK_GLOBAL */
    pb_byte(p, ')');
    pb_byte(p, 0x81); /* NEWOBJ */
    pb_byte(p, '}');
    pb_str(p, "int");
    pb_byte(p, 0x8a); /* LONG1, little-endian two's complement, 17 bytes */
    pb_byte(p, 17);
    for (int i = 15; i >= 0; i--)
        pb_byte(p, be[i]);
    pb_byte(p, 0);
    pb_byte(p, 's');
    pb_byte(p, 'b');
}

static void pb_begin_dict(pb *p)
{
    pb_byte(p, 0x80);
    pb_byte(p, 4);
    pb_byte(p, '}');
    pb_byte(p, '(');
}

static void pb_end_dict(pb *p)
{
    pb_byte(p, 'u');
    pb_byte(p, '.');
}

/* ---- building a legacy store ---------------------------------------------- */

typedef struct scen {
    size_t n, dim;
    hnsw_space space;
    uint64_t label_base;  /* legacy label of legacy element k: label_base + k */
    size_t missing;       /* the last `missing` records are not in the index */
    size_t stale;         /* live elements whose records are not written */
    size_t deleted;       /* soft-deleted elements (not in the maps) */
    size_t foreign;       /* map entries for labels the index lacks */
    int old_meta;         /* 'elements' instead of curr_elements/total_elements_added */
    long curr_delta;      /* curr_elements minus the live count (chromadb 0.3.x's _load(count) leaves it off) */
    int reverse;          /* stage the records in reverse order */
    size_t M;
} scen;

typedef struct fx {
    char *root, *idx, *out;
    hnsw_index *staged;
    char **keys;       /* per staged element */
    size_t *staged_rec; /* per staged element: record number */
    double *vec;       /* per record: dim doubles */
    char (*uuid)[37];  /* per record */
    size_t n, dim, nlegacy;
    uint64_t *legacy_label; /* per legacy element */
    long *legacy_rec;       /* per legacy element: record, or -1 */
} fx;

static void make_uuid(char out[37], uint64_t k)
{
    snprintf(out, 37, "%08llx-%04llx-4%03llx-8%03llx-%012llx", (unsigned long long)(rnd() & 0xffffffffu),
             (unsigned long long)(k & 0xffff), (unsigned long long)(rnd() & 0xfff), (unsigned long long)(rnd() & 0xfff),
             (unsigned long long)(rnd() & 0xffffffffffffull));
}

static char *file_of(const fx *f, const char *prefix, const char *ext)
{
    char name[200];
    snprintf(name, sizeof name, "%s%s%s", prefix, COLL, ext);
    return path2(f->idx, name);
}

static void fx_build(fx *f, const scen *s)
{
    memset(f, 0, sizeof *f);
    f->root = mkdtemp_dup();
    f->idx = path2(f->root, "index");
    f->out = path2(f->root, "out");
    mkdir(f->idx, 0755);
    mkdir(f->out, 0755);
    f->n = s->n;
    f->dim = s->dim;
    size_t extra = s->stale + s->deleted;
    size_t in_index = s->n - s->missing;
    f->nlegacy = in_index + extra;
    f->vec = malloc((s->n + extra) * s->dim * sizeof *f->vec);
    f->uuid = malloc((s->n + extra) * sizeof *f->uuid);
    for (size_t i = 0; i < (s->n + extra) * s->dim; i++)
        f->vec[i] = drand() * 3.0;
    for (size_t r = 0; r < s->n + extra; r++)
        make_uuid(f->uuid[r], r);
    size_t M = s->M ? s->M : 16;

    /* the legacy graph: records 0..in_index-1, then stale, then deleted */
    hnsw_params hp = {.dim = s->dim, .M = M, .ef_construction = 100, .space = s->space, .seed = 100, .threads = 1};
    cm_err err = {0};
    hnsw_index *lg = hnsw_new(&hp, f->nlegacy ? f->nlegacy : 1, &err);
    f->legacy_label = malloc((f->nlegacy + 1) * sizeof *f->legacy_label);
    f->legacy_rec = malloc((f->nlegacy + 1) * sizeof *f->legacy_rec);
    for (size_t k = 0; k < f->nlegacy; k++) {
        size_t r = k < in_index ? k : s->n + (k - in_index);
        f->legacy_label[k] = s->label_base + k;
        f->legacy_rec[k] = k < in_index ? (long)r : -1;
        if (hnsw_stage_f64(lg, f->vec + r * s->dim, f->legacy_label[k], &err) < 0) {
            fprintf(stderr, "stage: %s\n", err.msg);
            exit(2);
        }
    }
    if (hnsw_build(lg, NULL, NULL, &err) < 0 || hnsw_write_chroma_files(lg, f->root, &err) < 0) {
        fprintf(stderr, "legacy build: %s\n", err.msg);
        exit(2);
    }
    hnsw_free(lg);
    /* four files -> one hnswlib file */
    size_t hl, dl, ll;
    char *hp_ = path2(f->root, "header.bin"), *dp = path2(f->root, "data_level0.bin"),
         *lp = path2(f->root, "link_lists.bin"), *np = path2(f->root, "length.bin");
    unsigned char *h = slurp(hp_, &hl), *d = slurp(dp, &dl), *l = slurp(lp, &ll);
    size_t rec = (size_t)le64(h + 28), off_label = (size_t)le64(h + 36);
    (void)off_label;
    for (size_t k = in_index + s->stale; k < f->nlegacy; k++)
        d[k * rec + 2] |= 1; /* soft-deleted */
    put_le64(h + 12, f->nlegacy + 10); /* max_elements: hnswlib's capacity, above the count */
    size_t total = 96 + dl + ll;
    unsigned char *one = malloc(total);
    memcpy(one, h + 4, 96);
    memcpy(one + 96, d, dl);
    memcpy(one + 96 + dl, l, ll);
    char *ip = file_of(f, "index_", ".bin");
    spit(ip, one, total);
    free(ip);
    free(one);
    free(h);
    free(d);
    free(l);
    unlink(hp_);
    unlink(dp);
    unlink(lp);
    unlink(np);
    free(hp_);
    free(dp);
    free(lp);
    free(np);

    /* the maps: live elements only (0.3.x removes deleted ids) */
    pb a = {0}, b = {0}, m = {0};
    pb_begin_dict(&a);
    pb_begin_dict(&b);
    for (size_t k = 0; k < in_index + s->stale; k++) {
        size_t r = k < in_index ? k : s->n + (k - in_index);
        pb_int(&a, (int64_t)f->legacy_label[k]);
        pb_uuid(&a, f->uuid[r]);
        char hex[33];
        int q = 0;
        for (const char *c = f->uuid[r]; *c; c++)
            if (*c != '-')
                hex[q++] = *c;
        hex[q] = '\0';
        pb_str(&b, hex);
        pb_int(&b, (int64_t)f->legacy_label[k]);
    }
    for (size_t k = 0; k < s->foreign; k++) {
        char u[37];
        make_uuid(u, 5000 + k);
        pb_int(&a, (int64_t)(s->label_base + f->nlegacy + 100 + k));
        pb_uuid(&a, u);
        pb_str(&b, u); /* the hyphenated form is accepted too */
        pb_int(&b, (int64_t)(s->label_base + f->nlegacy + 100 + k));
    }
    pb_end_dict(&a);
    pb_end_dict(&b);
    pb_begin_dict(&m);
    pb_str(&m, "dimensionality");
    pb_int(&m, (int64_t)s->dim);
    if (s->old_meta) {
        pb_str(&m, "elements");
        pb_int(&m, (int64_t)f->nlegacy);
    } else {
        pb_str(&m, "curr_elements");
        pb_int(&m, (int64_t)(in_index + s->stale) + s->curr_delta);
        pb_str(&m, "total_elements_added");
        pb_int(&m, (int64_t)f->nlegacy);
    }
    pb_str(&m, "time_created");
    pb_float(&m, 1689285022.5);
    pb_end_dict(&m);
    char *p1 = file_of(f, "id_to_uuid_", ".pkl"), *p2 = file_of(f, "uuid_to_id_", ".pkl"),
         *p3 = file_of(f, "index_metadata_", ".pkl");
    spit(p1, a.b, a.n);
    spit(p2, b.b, b.n);
    spit(p3, m.b, m.n);
    free(p1);
    free(p2);
    free(p3);
    free(a.b);
    free(b.b);
    free(m.b);

    /* the records, staged as the sink does: labels 1..n in write order */
    f->staged = hnsw_new(&hp, s->n, &err);
    f->keys = malloc(s->n * sizeof *f->keys);
    f->staged_rec = malloc(s->n * sizeof *f->staged_rec);
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->reverse ? s->n - 1 - i : i;
        f->staged_rec[i] = r;
        f->keys[i] = f->uuid[r];
        if (hnsw_stage_f64(f->staged, f->vec + r * s->dim, i + 1, &err) < 0) {
            fprintf(stderr, "stage: %s\n", err.msg);
            exit(2);
        }
    }
}

static void fx_free(fx *f)
{
    rm_rf(f->root);
    hnsw_free(f->staged);
    free(f->keys);
    free(f->staged_rec);
    free(f->vec);
    free(f->uuid);
    free(f->legacy_label);
    free(f->legacy_rec);
    free(f->root);
    free(f->idx);
    free(f->out);
}

/* The last answer's counts (what was kept and inserted). */
static hnsw_reuse_result last;

/* One run on the fixture's legacy index: total != NULL keeps tombstones
 * and repairs (as the directory writer does), else the exact path. why:
 * the reason, or "reused". */
static int fx_try_ex(fx *f, hnsw_space sp, uint32_t *total, char *why, size_t cap, cm_err *err)
{
    cm_prior_index *prior = legacy_prior_index_open(f->idx, COLL);
    hnsw_reuse_in in = {.prior = prior, .space = sp, .staged = f->staged, .keys = (const char *const *)f->keys};
    int rc = hnsw_reuse_run(&in, f->out, total != NULL, &last, err);
    legacy_prior_index_free(prior);
    if (rc == 1 && total)
        *total = last.total_labels;
    snprintf(why, cap, "%s", rc == 1 ? "reused" : last.reason);
    return rc;
}

static int fx_try(fx *f, hnsw_space sp, char *why, size_t cap)
{
    cm_err err = {0};
    int rc = fx_try_ex(f, sp, NULL, why, cap, &err);
    if (rc < 0)
        fprintf(stderr, "hnsw_reuse_run: %s\n", err.msg);
    return rc;
}

/* The four files written: a valid Chroma index, labels renumbered, vectors,
 * links and norms right. */
static void check_output(fx *f, const scen *s, uint32_t total)
{
    cm_err err = {0};
    hnsw_index *h = hnsw_read_chroma_files(f->out, s->space, &err);
    CHECK_MSG(h != NULL, "%s", err.msg);
    if (!h)
        return;
    CHECK_INT(hnsw_count(h), f->nlegacy);
    size_t hl;
    char *hp = path2(f->out, "header.bin");
    unsigned char *hdr = slurp(hp, &hl);
    free(hp);
    CHECK_INT(hl, 100);
    CHECK_INT(hdr[0], 1);
    CHECK_INT(le64(hdr + 12), f->nlegacy); /* max_elements = count */
    CHECK_INT(le64(hdr + 20), f->nlegacy);
    free(hdr);
    size_t dl;
    char *dp = path2(f->out, "data_level0.bin");
    unsigned char *d = slurp(dp, &dl);
    free(dp);
    size_t rec = dl / f->nlegacy;
    uint64_t next_retired = f->n + 1;
    size_t live = 0;
    for (size_t k = 0; k < f->nlegacy; k++) {
        uint64_t lab = hnsw_label(h, k);
        int deleted = d[k * rec + 2] & 1;
        long r = f->legacy_rec[k];
        if (r >= 0) {
            live++;
            /* staged element i holds record r; its label is i + 1 */
            size_t i = 0;
            while (i < f->n && f->staged_rec[i] != (size_t)r)
                i++;
            CHECK_INT(lab, i + 1);
            CHECK(!deleted);
            CHECK(memcmp(hnsw_vector(h, k), hnsw_vector(f->staged, i), f->dim * 4) == 0);
            CHECK(hnsw_norm(h, k) == hnsw_norm(f->staged, i));
        } else {
            CHECK(deleted);
            CHECK_INT(lab, next_retired);
            next_retired++;
        }
    }
    CHECK_INT(live, f->n);
    if (total)
        CHECK_INT(total, next_retired - 1);
    free(d);
    /* every record finds itself */
    size_t found = 0;
    for (size_t i = 0; i < f->n; i++) {
        uint64_t lab[3];
        float dist[3];
        size_t got = hnsw_search(h, hnsw_vector(f->staged, i), 3, 50, lab, dist);
        for (size_t q = 0; q < got; q++)
            if (lab[q] == i + 1)
                found++;
    }
    CHECK_MSG(found == f->n, "self-queries found %zu of %zu", found, f->n);
    hnsw_free(h);
}

static int contains(const char *s, const char *sub)
{
    return s && strstr(s, sub) != NULL;
}

/* ---- cases --------------------------------------------------------------- */

static void test_exact(hnsw_space sp, int old_meta, uint64_t base, int reverse)
{
    scen s = {.n = 60, .dim = 24, .space = sp, .label_base = base, .old_meta = old_meta, .reverse = reverse};
    fx f;
    fx_build(&f, &s);
    char why[200];
    int rc = fx_try(&f, sp, why, sizeof why);
    CHECK_MSG(rc == 1, "space %d base %llu: %s", (int)sp, (unsigned long long)base, why);
    if (rc == 1)
        check_output(&f, &s, 0);
    fx_free(&f);
}

static void expect_no(const scen *s, void (*mutate)(fx *), const char *want)
{
    fx f;
    fx_build(&f, s);
    if (mutate)
        mutate(&f);
    char why[200] = "";
    int rc = fx_try(&f, s->space, why, sizeof why);
    CHECK_MSG(rc == 0 && contains(why, want), "want 0 and '%s', got %d '%s'", want, rc, why);
    fx_free(&f);
}

static void test_stale_missing_deleted_foreign(void)
{
    scen s = {.n = 40, .dim = 8, .space = HNSW_L2, .label_base = 1};
    scen st = s;
    st.stale = 1;
    expect_no(&st, NULL, "1 stale index entry");
    scen mi = s;
    mi.missing = 2;
    expect_no(&mi, NULL, "2 of 40 records are not in the index");
    scen de = s;
    de.deleted = 3;
    expect_no(&de, NULL, "3 soft-deleted elements");
    scen fo = s;
    fo.foreign = 5;
    expect_no(&fo, NULL, "shared-map bug");
    scen fo0 = fo;
    fo0.label_base = 0;
    fo0.old_meta = 1;
    expect_no(&fo0, NULL, "shared-map bug");
}

/* The first record's vector, one ulp away in the legacy file. */
static void flip_one_ulp(fx *f)
{
    char *ip = file_of(f, "index_", ".bin");
    size_t len;
    unsigned char *b = slurp(ip, &len);
    uint64_t rec = le64(b + 24), off_data = le64(b + 40);
    unsigned char *v = b + 96 + 7 * rec + off_data + 4 * 3; /* element 7 = record 7, component 3 */
    v[0] ^= 1;
    spit(ip, b, len);
    free(b);
    free(ip);
}

static void test_vectors(void)
{
    scen s = {.n = 30, .dim = 16, .space = HNSW_L2, .label_base = 1};
    expect_no(&s, flip_one_ulp, "1 vector differ");
    expect_no(&s, flip_one_ulp, "up to 1 ulp");
    scen c = s;
    c.space = HNSW_COSINE;
    expect_no(&c, flip_one_ulp, "up to 1 ulp");
}

/* The records have another dimension than the index. */
static void test_dimension(void)
{
    scen s = {.n = 20, .dim = 10, .space = HNSW_L2, .label_base = 1};
    fx f;
    fx_build(&f, &s);
    hnsw_params hp = {.dim = 11, .M = 16, .ef_construction = 100, .space = HNSW_L2, .seed = 100, .threads = 1};
    cm_err err = {0};
    hnsw_free(f.staged);
    f.staged = hnsw_new(&hp, s.n, &err);
    double *v = calloc(11, sizeof *v);
    for (size_t i = 0; i < s.n; i++) {
        memcpy(v, f.vec + f.staged_rec[i] * 10, 10 * sizeof *v);
        hnsw_stage_f64(f.staged, v, i + 1, &err);
    }
    free(v);
    char why[200];
    int rc = fx_try(&f, HNSW_L2, why, sizeof why);
    CHECK_MSG(rc == 0 && contains(why, "dimension 10, the records 11"), "%d %s", rc, why);
    fx_free(&f);
    /* and M */
    scen m = s;
    m.M = 8;
    fx_build(&f, &m);
    hnsw_free(f.staged);
    hp.dim = 10;
    f.staged = hnsw_new(&hp, s.n, &err);
    for (size_t i = 0; i < s.n; i++)
        hnsw_stage_f64(f.staged, f.vec + f.staged_rec[i] * 10, i + 1, &err);
    rc = fx_try(&f, HNSW_L2, why, sizeof why);
    CHECK_MSG(rc == 0 && contains(why, "M=8"), "%d %s", rc, why);
    fx_free(&f);
}

/* tombstones kept (keep_tombstones) */
static void test_ex(void)
{
    scen s = {.n = 40, .dim = 12, .space = HNSW_COSINE, .label_base = 1, .deleted = 5, .reverse = 1};
    fx f;
    fx_build(&f, &s);
    char why[200];
    uint32_t total = 0;
    cm_err err = {0};
    int rc = fx_try_ex(&f, HNSW_COSINE, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 1, "%d %s %s", rc, why, err.msg);
    CHECK_INT(total, 45);
    CHECK(last.deleted == 5 && last.stale == 0 && last.replaced == 0 && last.outcome == HNSW_REUSE_REUSED);
    if (rc == 1)
        check_output(&f, &s, total);
    fx_free(&f);

    scen st = s;
    st.deleted = 2;
    st.stale = 3;
    st.space = HNSW_IP;
    fx_build(&f, &st);
    rc = fx_try_ex(&f, HNSW_IP, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 1, "%d %s %s", rc, why, err.msg);
    CHECK_INT(total, 45);
    if (rc == 1)
        check_output(&f, &st, total);
    fx_free(&f);

    scen many = s;
    many.n = 10;
    many.deleted = 11;
    fx_build(&f, &many);
    rc = fx_try_ex(&f, HNSW_COSINE, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 0 && contains(why, "tombstones"), "%d %s", rc, why);
    fx_free(&f);
}

/* The result of a repair: every record live exactly once under its staged
 * label with the staged vector, `tomb` deleted elements, and each record's
 * own vector finds it first (l2 and cosine: in ip another vector may score
 * higher than the query's own). */
static void check_repaired(fx *f, hnsw_space sp, size_t tomb)
{
    cm_err err = {0};
    hnsw_index *h = hnsw_read_chroma_files(f->out, sp, &err);
    CHECK_MSG(h != NULL, "%s", err.msg);
    if (!h)
        return;
    CHECK_INT(hnsw_count(h), f->n + tomb);
    size_t *where = malloc((f->n + 1) * sizeof *where);
    for (size_t i = 0; i <= f->n; i++)
        where[i] = SIZE_MAX;
    size_t deleted = 0, dup = 0;
    for (size_t k = 0; k < hnsw_count(h); k++) {
        uint64_t lab = hnsw_label(h, k);
        if (hnsw_is_deleted(h, k)) {
            deleted++;
            CHECK(lab > f->n); /* a retired label */
        } else if (lab >= 1 && lab <= f->n) {
            dup += where[lab] != SIZE_MAX;
            where[lab] = k;
        }
    }
    CHECK_INT(deleted, tomb);
    CHECK_INT(dup, 0);
    size_t first = 0;
    for (size_t i = 0; i < f->n; i++) {
        size_t k = where[i + 1];
        CHECK_MSG(k != SIZE_MAX, "label %zu is not live in the result", i + 1);
        if (k == SIZE_MAX)
            continue;
        CHECK(memcmp(hnsw_vector(h, k), hnsw_vector(f->staged, i), f->dim * 4) == 0);
        CHECK(hnsw_norm(h, k) == hnsw_norm(f->staged, i));
        uint64_t lab;
        float dist;
        if (hnsw_search(h, hnsw_vector(f->staged, i), 1, 50, &lab, &dist) == 1 && lab == i + 1)
            first++;
    }
    CHECK_MSG(first == f->n, "%zu of %zu records find themselves first", first, f->n);
    free(where);
    hnsw_free(h);
}

/* Records the index lacks, and records whose vector changed, are inserted
 * into the legacy graph (lenient mode only); past half the records, rebuild. */
static void test_repair(void)
{
    char why[300];
    uint32_t total = 0;
    cm_err err = {0};
    fx f;
    scen s = {.n = 60, .dim = 12, .space = HNSW_L2, .label_base = 1, .missing = 6, .reverse = 1};
    fx_build(&f, &s);
    int rc = fx_try_ex(&f, HNSW_L2, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 1 && last.inserted_missing == 6 && last.outcome == HNSW_REUSE_REPAIRED, "%d %s %s", rc, why,
              err.msg);
    CHECK_INT(total, 60);
    if (rc == 1)
        check_repaired(&f, HNSW_L2, 0);
    fx_free(&f);
    /* the exact path still refuses */
    fx_build(&f, &s);
    rc = fx_try(&f, HNSW_L2, why, sizeof why);
    CHECK_MSG(rc == 0 && contains(why, "6 of 60 records are not in the index"), "%d %s", rc, why);
    fx_free(&f);

    /* missing records and tombstones together, cosine */
    scen md = s;
    md.space = HNSW_COSINE;
    md.deleted = 3;
    md.stale = 2;
    fx_build(&f, &md);
    rc = fx_try_ex(&f, HNSW_COSINE, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 1 && last.inserted_missing == 6 && last.stale == 2 && last.deleted == 3 && last.replaced == 0,
              "%d %s %s", rc, why, err.msg);
    CHECK_INT(total, 65);
    if (rc == 1)
        check_repaired(&f, HNSW_COSINE, 5);
    fx_free(&f);

    /* a changed vector: the old element a tombstone, the record inserted anew */
    scen ch = {.n = 30, .dim = 16, .space = HNSW_COSINE, .label_base = 1};
    fx_build(&f, &ch);
    flip_one_ulp(&f);
    rc = fx_try_ex(&f, HNSW_COSINE, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 1 && last.replaced == 1 && last.inserted_missing == 0 && last.outcome == HNSW_REUSE_REPAIRED,
              "%d %s %s", rc, why, err.msg);
    CHECK_INT(total, 31);
    if (rc == 1)
        check_repaired(&f, HNSW_COSINE, 1);
    fx_free(&f);

    /* more missing than present: rebuild */
    scen many = {.n = 20, .dim = 8, .space = HNSW_L2, .label_base = 1, .missing = 11};
    fx_build(&f, &many);
    rc = fx_try_ex(&f, HNSW_L2, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 0 && contains(why, "11 of 20 records are not in the index: more than are in it"), "%d %s", rc,
              why);
    fx_free(&f);
}

/* ---- damaged inputs ------------------------------------------------------ */

static size_t cut_at;
static void truncate_index(fx *f)
{
    char *ip = file_of(f, "index_", ".bin");
    size_t len;
    unsigned char *b = slurp(ip, &len);
    spit(ip, b, cut_at < len ? cut_at : len);
    free(b);
    free(ip);
}

static size_t poke_at;
static uint32_t poke_val;
static void poke_index(fx *f)
{
    char *ip = file_of(f, "index_", ".bin");
    size_t len;
    unsigned char *b = slurp(ip, &len);
    if (poke_at + 4 <= len)
        memcpy(b + poke_at, &poke_val, 4);
    spit(ip, b, len);
    free(b);
    free(ip);
}

static const char *which_pickle;
static void drop_pickle(fx *f)
{
    char *p = file_of(f, which_pickle, ".pkl");
    unlink(p);
    free(p);
}

static void garble_pickle(fx *f)
{
    char *p = file_of(f, which_pickle, ".pkl");
    size_t len;
    unsigned char *b = slurp(p, &len);
    if (len > 20)
        b[2] = 0xEE; /* after PROTO: an opcode the reader does not know */
    spit(p, b, len);
    free(b);
    free(p);
}

static void cut_pickle(fx *f)
{
    char *p = file_of(f, which_pickle, ".pkl");
    size_t len;
    unsigned char *b = slurp(p, &len);
    spit(p, b, len / 2); /* no STOP */
    free(b);
    free(p);
}

static void append_byte(fx *f)
{
    char *ip = file_of(f, "index_", ".bin");
    size_t len;
    unsigned char *b = slurp(ip, &len);
    b = realloc(b, len + 1);
    b[len] = 0;
    spit(ip, b, len + 1);
    free(b);
    free(ip);
}

/* The maps disagree: uuid_to_id points the first record at the second label. */
static void swap_u2i(fx *f)
{
    char *p = file_of(f, "uuid_to_id_", ".pkl");
    size_t len;
    unsigned char *b = slurp(p, &len);
    /* entries: SHORT_BINUNICODE (2 + 32 bytes) then BININT (5 bytes), from offset 4 */
    size_t e0 = 4 + 34, e1 = 4 + 39 + 34;
    unsigned char t[5];
    memcpy(t, b + e0, 5);
    memcpy(b + e0, b + e1, 5);
    memcpy(b + e1, t, 5);
    spit(p, b, len);
    free(b);
    free(p);
}

static void wrong_meta_dim(fx *f)
{
    char *p = file_of(f, "index_metadata_", ".pkl");
    pb m = {0};
    pb_begin_dict(&m);
    pb_str(&m, "dimensionality");
    pb_int(&m, 7);
    pb_str(&m, "elements");
    pb_int(&m, (int64_t)f->nlegacy);
    pb_end_dict(&m);
    spit(p, m.b, m.n);
    free(m.b);
    free(p);
}

static void wrong_meta_count(fx *f)
{
    char *p = file_of(f, "index_metadata_", ".pkl");
    pb m = {0};
    pb_begin_dict(&m);
    pb_str(&m, "dimensionality");
    pb_int(&m, (int64_t)f->dim);
    pb_str(&m, "elements");
    pb_int(&m, (int64_t)f->nlegacy + 1);
    pb_end_dict(&m);
    spit(p, m.b, m.n);
    free(m.b);
    free(p);
}

static void reduce_pickle(fx *f) /* a pickle that would call a function: rejected, never run */
{
    char *p = file_of(f, "id_to_uuid_", ".pkl");
    static const unsigned char evil[] = "\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R.";
    spit(p, evil, sizeof evil - 1);
    free(p);
}

/* chromadb 0.3.x's Hnswlib._load(curr_elements) overwrites curr_elements
 * with the row count its caller passes in (which already holds the batch
 * being added, and duplicate rows), and add() counts that batch again: the
 * counter says nothing about the file. A matching index is reused whatever
 * it says; the file and the maps still decide. */
static void test_curr_elements_ignored(void)
{
    scen s = {.n = 26, .dim = 8, .space = HNSW_COSINE, .label_base = 1, .curr_delta = 10};
    fx f;
    fx_build(&f, &s);
    char why[200] = "";
    int rc = fx_try(&f, s.space, why, sizeof why);
    CHECK_MSG(rc == 1 && last.outcome == HNSW_REUSE_REUSED && !last.stale && !last.deleted, "curr_elements 36 for 26 elements: got %d '%s'", rc, why);
    if (rc == 1)
        check_output(&f, &s, 0);
    fx_free(&f);
    /* below the live count, with soft-deleted elements kept as tombstones */
    scen lo = {.n = 30, .dim = 8, .space = HNSW_L2, .label_base = 1, .deleted = 4, .curr_delta = -3};
    fx_build(&f, &lo);
    uint32_t total = 0;
    cm_err err = {0};
    rc = fx_try_ex(&f, lo.space, &total, why, sizeof why, &err);
    CHECK_MSG(rc == 1 && last.deleted == 4, "deleted: got %d '%s'", rc, why);
    fx_free(&f);
    /* a damaged file or a changed vector still rebuilds, whatever the counter says */
    expect_no(&s, flip_one_ulp, "1 vector differs");
    cut_at = 200;
    expect_no(&s, truncate_index, "index file damaged");
}

static void test_damaged(void)
{
    scen s = {.n = 50, .dim = 6, .space = HNSW_L2, .label_base = 1};
    static const size_t cuts[] = {0, 1, 50, 95, 96, 97, 96 + 100, 96 + 50 * 64, 96 + 50 * 64 + 2};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        cut_at = cuts[k];
        expect_no(&s, truncate_index, "index file damaged");
    }
    /* truncated at the very end: links run past the end */
    fx f;
    fx_build(&f, &s);
    char *ip = file_of(&f, "index_", ".bin");
    size_t len;
    unsigned char *b = slurp(ip, &len);
    free(b);
    free(ip);
    fx_free(&f);
    cut_at = len - 1;
    expect_no(&s, truncate_index, "index file damaged");
    expect_no(&s, append_byte, "follow the last element");

    /* header fields and records: rec size 4 + 128 + 24 + 8 = 164 */
    struct {
        size_t at;
        uint32_t v;
        const char *want;
    } pokes[] = {
        {0, 5, "offsetLevel0"},                       /* offsetLevel0 */
        {16, 0xFFFFFFF0u, "elements"},                /* cur_element_count (low half) */
        {20, 1, "elements"},                          /* cur_element_count (high half) */
        {24, 100, "size_data_per_element"},           /* rec size */
        {32, 13, "label_offset"},                     /* label offset */
        {48, 0xFFFFFFFFu, "entry point"},             /* maxlevel -1 */
        {52, 9999, "entry point"},                    /* entry point */
        {72, 17, "M 17"},                             /* M */
        {84, 0xFFFFFFFFu, "mult"},                    /* mult: NaN */
        {88, 0, "ef_construction"},                   /* efc */
        {96 + 164 * 3, 40, "level-0 links"},          /* link count > maxM0 */
        {96 + 164 * 3, 0x00020001, "unknown flags"},  /* flags 0x02 */
        {96 + 164 * 3 + 4, 4000, "links to 4000"},    /* a link out of range */
    };
    for (size_t k = 0; k < sizeof pokes / sizeof *pokes; k++) {
        poke_at = pokes[k].at;
        poke_val = pokes[k].v;
        expect_no(&s, poke_index, pokes[k].want);
    }

    const char *pk[] = {"id_to_uuid_", "uuid_to_id_", "index_metadata_"};
    for (int k = 0; k < 3; k++) {
        which_pickle = pk[k];
        expect_no(&s, drop_pickle, "cannot read");
        expect_no(&s, garble_pickle, pk[k]);
        expect_no(&s, cut_pickle, pk[k]);
    }
    expect_no(&s, reduce_pickle, "id_to_uuid_");
    expect_no(&s, swap_u2i, "disagree on 2 records");
    expect_no(&s, wrong_meta_dim, "dimension 7");
    expect_no(&s, wrong_meta_count, "51 elements added");
}

/* Random damage anywhere in the index file: never a crash, never a reuse of
 * a file whose records or graph changed in a way that matters. */
static void test_random_damage(void)
{
    scen s = {.n = 30, .dim = 5, .space = HNSW_L2, .label_base = 1};
    fx f;
    fx_build(&f, &s);
    char *ip = file_of(&f, "index_", ".bin");
    size_t len;
    unsigned char *orig = slurp(ip, &len);
    int reused = 0, refused = 0;
    for (int t = 0; t < 300; t++) {
        unsigned char *b = malloc(len);
        memcpy(b, orig, len);
        size_t at = (size_t)(rnd() % len);
        b[at] ^= (unsigned char)(1u << (rnd() % 8));
        size_t n = len;
        if (t % 5 == 0)
            n = (size_t)(rnd() % len);
        spit(ip, b, n);
        free(b);
        char why[200];
        int rc = fx_try(&f, HNSW_L2, why, sizeof why);
        if (rc == 1)
            reused++;
        else if (rc == 0)
            refused++;
    }
    CHECK_INT(reused + refused, 300);
    CHECK(refused > 0);
    free(orig);
    free(ip);
    fx_free(&f);
}

static void test_available_and_io(void)
{
    scen s = {.n = 10, .dim = 4, .space = HNSW_L2, .label_base = 1};
    fx f;
    fx_build(&f, &s);
    cm_prior_index *prior = legacy_prior_index_open(f.idx, COLL);
    CHECK(prior != NULL);
    static const char *const none[] = {"00000000-0000-0000-0000-000000000000", "../index/x", ""};
    for (size_t k = 0; k < sizeof none / sizeof none[0]; k++)
        CHECK(legacy_prior_index_open(f.idx, none[k]) == NULL);
    CHECK(legacy_prior_index_open(NULL, COLL) == NULL);
    /* unwritable target: an I/O error, not a "no" */
    char *bad = path2(f.root, "no/such/dir");
    hnsw_reuse_in in = {.prior = prior, .space = HNSW_L2, .staged = f.staged, .keys = (const char *const *)f.keys};
    hnsw_reuse_result r;
    cm_err err = {0};
    int rc = hnsw_reuse_run(&in, bad, 0, &r, &err);
    CHECK_INT(rc, -1);
    CHECK(err.set && contains(err.msg, "header.bin"));
    free(bad);
    /* a record uuid that is no uuid */
    char *saved = f.keys[3];
    f.keys[3] = "not-a-uuid";
    rc = hnsw_reuse_run(&in, f.out, 0, &r, &err);
    CHECK(rc == 0 && contains(r.reason, "is not a uuid"));
    /* two records with one uuid */
    f.keys[3] = f.keys[4];
    rc = hnsw_reuse_run(&in, f.out, 0, &r, &err);
    CHECK(rc == 0 && contains(r.reason, "share the legacy uuid"));
    f.keys[3] = saved;
    /* released after each run, the prior index loads again */
    rc = hnsw_reuse_run(&in, f.out, 0, &r, &err);
    CHECK(rc == 1 && r.outcome == HNSW_REUSE_REUSED);
    /* the index file gone after the folder was listed */
    char *bin = path2(f.idx, "index_" COLL ".bin");
    CHECK(unlink(bin) == 0);
    rc = hnsw_reuse_run(&in, f.out, 0, &r, &err);
    CHECK(rc == 0 && contains(r.reason, "cannot read ") && contains(r.reason, "/index_" COLL ".bin"));
    free(bin);
    legacy_prior_index_free(prior);
    fx_free(&f);
}

int main(void)
{
    test_exact(HNSW_L2, 0, 1, 0);
    test_exact(HNSW_L2, 1, 0, 1);      /* labels from 0 (chromadb <= 0.3.14), records in another order */
    test_exact(HNSW_COSINE, 0, 1, 1);
    test_exact(HNSW_IP, 1, 1, 0);
    test_stale_missing_deleted_foreign();
    test_repair();
    test_vectors();
    test_dimension();
    test_ex();
    test_damaged();
    test_curr_elements_ignored();
    test_random_damage();
    test_available_and_io();
    return check_done("test_legacy_reuse");
}
