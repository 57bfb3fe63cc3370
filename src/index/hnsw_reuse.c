/* hnsw_reuse.c - converting a prior hnswlib graph (prior_index.h: for now
 * chromadb 0.3.x's index, offered by the legacy source) into Chroma's four
 * HNSW files when, and only when, it provably holds exactly the records
 * being written (see hnsw_reuse.h). It works on the prior index object
 * only and opens no file of the source.
 *
 * What "provably" means here, checked in this order (the first failure is the
 * reason reported):
 *  1. the prior graph loads (its file parses with every offset, count, level
 *     and link in bounds: hnsw_files.c); its dimension and M are the
 *     collection's.
 *  2. its labels load (for the legacy store: index_metadata agrees with the
 *     file on the dimension and on the elements ever added, and the id maps
 *     load: legacy/prior_index.c).
 *  3. the label maps hold no entry whose label is not an element of this
 *     index (chromadb <= 0.3.14 kept one map for all collections) and
 *     agree with each other on every record.
 *  4. Every record is in the maps, and its element is live; every live
 *     element belongs to a record (no stale entries).
 *  5. Every record's vector in the index equals the staged vector bit for bit
 *     (float32 of the Parquet doubles, normalised for cosine). hnswlib's
 *     cosine normalisation (sum of squares in float, v * 1/(sqrt(sum)+1e-30))
 *     is the same arithmetic as hnsw.c's, so no tolerance is needed: on the
 *     real stores every vector matched exactly, 0 ulp.
 *  6. No soft-deleted elements - or, with keep_tombstones, tombstones kept
 *     with retired labels.
 * keep_tombstones relaxes 4 and 5: records missing from the index, or
 * whose vector differs, are inserted into the converted graph afterwards
 * (insert_missing), up to half of the records.
 * The space of the prior graph is not stored anywhere: the collection's
 * hnsw:space chose it in 0.3.x as it does now, and for cosine step 5 also
 * proves the stored vectors are the normalised ones.
 *
 * Writing: the same graph (records in their prior internal order, the same
 * links, levels, entry point, M, maxM0, mult, ef_construction), labels
 * renumbered to the staged labels, length.bin from the staged norms, the
 * header through hnsw_files.c's codec (persistence version 1, max_elements =
 * count). Each file fsynced. */
#include "hnsw_reuse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/le.h"
#include "../util/mem.h"
#include "../util/outfile.h"
#include "../util/uuid.h"
#include "hnsw_files.h"
#include "hnsw_impl.h" /* the staged index's dim, M, space and threads */

#define NONE 0xFFFFFFFFu

/* ---- small helpers ------------------------------------------------------- */

typedef struct u128 {
    uint64_t hi, lo;
} u128;

/* A uuid as two 64-bit halves (a key of key_map). */
static u128 u128_of(const cm_uuid *u)
{
    u128 out = {0, 0};
    for (int k = 0; k < 8; k++) {
        out.hi = (out.hi << 8) | u->b[k];
        out.lo = (out.lo << 8) | u->b[8 + k];
    }
    return out;
}

/* 32 hex digits, or the hyphenated 8-4-4-4-12 form. */
static int parse_uuid(const char *s, size_t len, u128 *out)
{
    cm_uuid u;
    if (cm_uuid_parse(s, len, &u) < 0)
        return -1;
    *out = u128_of(&u);
    return 0;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* ---- one open-addressing map, 128-bit keys: uuid -> record, label -> element */

typedef struct key_map {
    u128 *keys;
    uint32_t *vals; /* NONE: empty */
    size_t mask;
} key_map;

/* A label as a key of the same map as the uuids (its own map, never mixed). */
static u128 label_key(uint64_t label)
{
    u128 k = {0, label};
    return k;
}

static size_t table_size(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap <<= 1;
    return cap;
}

static void key_map_init(key_map *m, size_t n)
{
    size_t cap = table_size(n);
    m->keys = xmalloc(cap * sizeof *m->keys);
    m->vals = xmalloc(cap * sizeof *m->vals);
    memset(m->vals, 0xFF, cap * sizeof *m->vals);
    m->mask = cap - 1;
}

/* Inserts k -> v unless present; returns the value now stored for k. */
static uint32_t key_map_put(key_map *m, u128 k, uint32_t v)
{
    size_t i = (size_t)mix64(k.hi ^ mix64(k.lo)) & m->mask;
    while (m->vals[i] != NONE) {
        if (m->keys[i].hi == k.hi && m->keys[i].lo == k.lo)
            return m->vals[i];
        i = (i + 1) & m->mask;
    }
    m->keys[i] = k;
    m->vals[i] = v;
    return v;
}

static uint32_t key_map_get(const key_map *m, u128 k)
{
    size_t i = (size_t)mix64(k.hi ^ mix64(k.lo)) & m->mask;
    while (m->vals[i] != NONE) {
        if (m->keys[i].hi == k.hi && m->keys[i].lo == k.lo)
            return m->vals[i];
        i = (i + 1) & m->mask;
    }
    return NONE;
}

/* The norm of a stored vector, for elements no record owns (tombstones). */
static float stored_norm(const hnswlib_file *x, size_t i)
{
    const unsigned char *b = hnswlib_vector_bytes(x, i);
    float sum = 0.0f;
    for (size_t k = 0; k < x->dim; k++) {
        float f;
        memcpy(&f, b + 4 * k, sizeof f);
        sum += f * f;
    }
    return sqrtf(sum);
}

/* elem_rec[e]: the staged record that owns element e, or NONE (a tombstone:
 * written deleted, with the next retired label). */
static int write_chroma_files(const hnswlib_file *x, const hnsw_index *staged, const uint32_t *elem_rec,
                              uint64_t first_retired, const char *dir, cm_err *err)
{
    if (hnsw_write_header_bin(dir, &x->hd, err) < 0)
        return -1;
    out_file o;
    size_t n = (size_t)x->hd.count;
    unsigned char *rec = xmalloc((size_t)x->hd.rec_size);
    if (out_open(&o, dir, "data_level0.bin", err) < 0) {
        free(rec);
        return -1;
    }
    uint64_t retired = first_retired;
    for (size_t i = 0; i < n && !o.failed; i++) {
        memcpy(rec, hnswlib_record(x, i), (size_t)x->hd.rec_size);
        rec[3] = 0; /* unused; hnswlib leaves it 0 */
        uint64_t label;
        if (elem_rec[i] != NONE) {
            label = hnsw_label(staged, elem_rec[i]);
        } else {
            label = retired++;
            rec[2] |= HNSWLIB_DELETED;
        }
        le_put64(rec + x->hd.off_label, label);
        out_put(&o, rec, (size_t)x->hd.rec_size, err);
    }
    free(rec);
    if (out_close(&o, err) < 0)
        return -1;

    if (out_open(&o, dir, "length.bin", err) < 0)
        return -1;
    for (size_t i = 0; i < n && !o.failed; i++) {
        float norm = elem_rec[i] != NONE ? hnsw_norm(staged, elem_rec[i]) : stored_norm(x, i);
        out_put(&o, &norm, sizeof norm, err);
    }
    if (out_close(&o, err) < 0)
        return -1;

    return hnswlib_write_link_lists(dir, n, x->levels, x->buf, x->upper, x->links_size, err);
}

/* ---- the decision -------------------------------------------------------- */

typedef struct job {
    const hnsw_reuse_in *in;
    char *why;
    size_t why_cap;
    size_t n; /* records */
    size_t dim;
    const hnswlib_file *x; /* the prior graph (the prior index's, until released) */
    cm_prior_labels lab;
    key_map recs;   /* record uuid -> record */
    key_map labels; /* label -> element */
    uint32_t *rec_elem_a, *rec_elem_b; /* per record: element per the forward / reverse map */
    uint32_t *elem_rec;                /* per element: owning record */
    uint32_t *elem_seen;               /* per element: forward-map entries naming it */
    uint32_t *missing;                 /* records to insert into the graph (lenient only) */
    size_t nmissing;
    size_t stale;   /* live elements of no record being written (tombstones) */
    size_t changed; /* records whose stored vector differs, inserted anew (old element a tombstone) */
} job;

static void job_free(job *j)
{
    free(j->missing);
    free(j->recs.keys);
    free(j->recs.vals);
    free(j->labels.keys);
    free(j->labels.vals);
    free(j->rec_elem_a);
    free(j->rec_elem_b);
    free(j->elem_rec);
    free(j->elem_seen);
}

typedef struct map_counts {
    size_t foreign;  /* label is no element of this index */
    size_t extra;    /* element exists, uuid is not a record being written */
    size_t dup;      /* a record or an element named twice */
} map_counts;

/* Step 3, one map. fwd: label -> key (whose elements are counted in
 * elem_seen); else key -> label. */
static void scan_map(job *j, const cm_prior_pair *map, size_t n, int fwd, uint32_t *rec_elem, map_counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t k = 0; k < n; k++) {
        uint32_t e = key_map_get(&j->labels, label_key(map[k].label));
        if (e == NONE) {
            c->foreign++;
            continue;
        }
        if (fwd && j->elem_seen[e]++ > 0)
            c->dup++;
        uint32_t r = key_map_get(&j->recs, u128_of(&map[k].key));
        if (r == NONE) {
            c->extra++;
            continue;
        }
        if (rec_elem[r] != NONE)
            c->dup++;
        else
            rec_elem[r] = e;
    }
}

/* ulp distance between two floats' bit patterns (both finite). */
static uint64_t ulp_diff(uint32_t a, uint32_t b)
{
    int64_t ia = (a & 0x80000000u) ? -(int64_t)(a & 0x7FFFFFFFu) : (int64_t)a;
    int64_t ib = (b & 0x80000000u) ? -(int64_t)(b & 0x7FFFFFFFu) : (int64_t)b;
    return (uint64_t)(ia > ib ? ia - ib : ib - ia);
}

/* Step 1: the prior graph loads, with the collection's dimension and M. */
static int check_graph(job *j)
{
    const hnsw_reuse_in *in = j->in;
    if (!in->prior->ops->graph(in->prior, &j->x, j->why, j->why_cap))
        return 0;
    if (j->x->dim != j->dim)
        return cm_reason(j->why, j->why_cap, "the index has dimension %zu, the records %zu", j->x->dim, j->dim);
    if (j->x->hd.M != in->staged->M)
        return cm_reason(j->why, j->why_cap, "the index was built with M=%llu, the collection asks for M=%zu",
                   (unsigned long long)j->x->hd.M, in->staged->M);
    return 1;
}

/* The records' uuids and the index's labels, each looked up by value. */
static int index_keys(job *j)
{
    key_map_init(&j->recs, j->n);
    for (size_t i = 0; i < j->n; i++) {
        u128 u;
        const char *k = j->in->keys[i];
        if (!k || parse_uuid(k, strlen(k), &u) < 0)
            return cm_reason(j->why, j->why_cap, "record %zu's legacy uuid '%.40s' is not a uuid", i + 1, k ? k : "");
        if (key_map_put(&j->recs, u, (uint32_t)i) != (uint32_t)i)
            return cm_reason(j->why, j->why_cap, "two records share the legacy uuid %.40s", k);
    }
    size_t m = (size_t)j->x->hd.count;
    key_map_init(&j->labels, m);
    for (size_t i = 0; i < m; i++) {
        uint64_t l = hnswlib_label(j->x, i);
        if (key_map_put(&j->labels, label_key(l), (uint32_t)i) != (uint32_t)i)
            return cm_reason(j->why, j->why_cap, "label %llu appears twice in the index", (unsigned long long)l);
    }
    return 1;
}

/* Step 3: both id maps name only elements of this index, each once. */
static int check_maps(job *j)
{
    size_t m = (size_t)j->x->hd.count;
    j->rec_elem_a = xmalloc((j->n ? j->n : 1) * sizeof *j->rec_elem_a);
    j->rec_elem_b = xmalloc((j->n ? j->n : 1) * sizeof *j->rec_elem_b);
    memset(j->rec_elem_a, 0xFF, j->n * sizeof *j->rec_elem_a);
    memset(j->rec_elem_b, 0xFF, j->n * sizeof *j->rec_elem_b);
    j->elem_seen = xcalloc(m ? m : 1, sizeof *j->elem_seen);
    map_counts ca, cb;
    scan_map(j, j->lab.fwd, j->lab.nfwd, 1, j->rec_elem_a, &ca);
    scan_map(j, j->lab.rev, j->lab.nrev, 0, j->rec_elem_b, &cb);
    if (j->lab.bad)
        return cm_reason(j->why, j->why_cap, "the id maps hold %zu entries that are not label <-> uuid", j->lab.bad);
    if (ca.foreign || cb.foreign)
        return cm_reason(j->why, j->why_cap,
                   "the id maps hold %zu entries for labels this index lacks (other collections': the "
                   "chromadb <= 0.3.14 shared-map bug)",
                   ca.foreign > cb.foreign ? ca.foreign : cb.foreign);
    if (ca.dup || cb.dup)
        return cm_reason(j->why, j->why_cap, "the id maps name a record or an element twice");
    return 1;
}

/* Step 4: records <-> live elements (j->elem_rec, j->missing, j->stale). */
static int match_records(job *j, int lenient)
{
    size_t m = (size_t)j->x->hd.count;
    j->elem_rec = xmalloc((m ? m : 1) * sizeof *j->elem_rec);
    memset(j->elem_rec, 0xFF, m * sizeof *j->elem_rec);
    size_t missing = 0, disagree = 0, dead = 0;
    j->missing = xmalloc((j->n ? j->n : 1) * sizeof *j->missing);
    for (size_t i = 0; i < j->n; i++) {
        uint32_t a = j->rec_elem_a[i], b = j->rec_elem_b[i];
        if (a == NONE || b == NONE) {
            missing++;
            j->missing[j->nmissing++] = (uint32_t)i;
        } else if (a != b) {
            disagree++;
        } else if (hnswlib_is_deleted(j->x, a)) {
            dead++;
            j->missing[j->nmissing++] = (uint32_t)i;
        } else {
            j->elem_rec[a] = (uint32_t)i;
        }
    }
    if (disagree)
        return cm_reason(j->why, j->why_cap, "id_to_uuid and uuid_to_id disagree on %zu records", disagree);
    /* Records the graph lacks (added after chromadb last saved its index, or
     * whose element was deleted) can be inserted into it, as hnswlib adds to
     * a loaded index; an element a map names for a record left out that way
     * becomes a tombstone like any stale one. Past half the records a new
     * graph is as cheap and as good. */
    if ((missing || dead) && (!lenient || j->nmissing > j->n - j->nmissing))
        return cm_reason(j->why, j->why_cap, "%zu of %zu records are not in the index%s%s", missing + dead, j->n,
                   dead ? " (or deleted there)" : "", lenient ? ": more than are in it" : "");
    j->stale = 0;
    for (size_t i = 0; i < m; i++)
        if (j->elem_rec[i] == NONE && !hnswlib_is_deleted(j->x, i))
            j->stale++;
    if (j->stale && !lenient)
        return cm_reason(j->why, j->why_cap, "%zu stale index entr%s for records not being written", j->stale,
                   j->stale == 1 ? "y" : "ies");
    return 1;
}

/* How far the stored vectors are from the staged ones: the count that
 * differ, the first such record and the largest ulp distance (UINT64_MAX
 * when a stored value is not finite). */
static size_t count_differing(job *j, size_t *first, uint64_t *max_ulp)
{
    size_t differ = 0, m = (size_t)j->x->hd.count, vbytes = j->dim * sizeof(float);
    *max_ulp = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t r = j->elem_rec[i];
        if (r == NONE)
            continue;
        const unsigned char *a = hnswlib_vector_bytes(j->x, i);
        const unsigned char *b = (const unsigned char *)hnsw_vector(j->in->staged, r);
        if (memcmp(a, b, vbytes) == 0)
            continue;
        if (!differ++)
            *first = r;
        for (size_t k = 0; k < j->dim; k++) {
            uint32_t ua, ub;
            memcpy(&ua, a + 4 * k, 4);
            memcpy(&ub, b + 4 * k, 4);
            if (ua != ub) {
                uint64_t d = ((ua & 0x7F800000u) == 0x7F800000u) ? UINT64_MAX : ulp_diff(ua, ub);
                if (d > *max_ulp)
                    *max_ulp = d;
            }
        }
    }
    return differ;
}

/* Step 5: every vector, bit for bit (j->changed: records re-inserted). */
static int check_vectors(job *j, int lenient)
{
    size_t first = 0, m = (size_t)j->x->hd.count, vbytes = j->dim * sizeof(float);
    uint64_t max_ulp;
    size_t differ = count_differing(j, &first, &max_ulp);
    /* An update the index never saw: in lenient mode the old element is kept
     * as a tombstone and the record inserted anew, as for a missing one (a
     * stored vector that is not finite could still mislead searches that
     * pass through it: rebuild then). */
    j->changed = 0;
    if (differ && lenient && max_ulp != UINT64_MAX && j->nmissing + differ <= j->n - j->nmissing - differ) {
        for (size_t i = 0; i < m; i++) {
            uint32_t r = j->elem_rec[i];
            if (r != NONE && memcmp(hnswlib_vector_bytes(j->x, i), hnsw_vector(j->in->staged, r), vbytes) != 0) {
                j->elem_rec[i] = NONE;
                j->missing[j->nmissing++] = r;
                j->changed++;
            }
        }
        return 1;
    }
    if (!differ)
        return 1;
    char ulps[40];
    if (max_ulp == UINT64_MAX)
        snprintf(ulps, sizeof ulps, "not finite");
    else
        snprintf(ulps, sizeof ulps, "up to %llu ulp", (unsigned long long)max_ulp);
    return cm_reason(j->why, j->why_cap, "%zu %s from the records' embeddings (%s; first: %.36s)", differ,
               differ == 1 ? "vector differs" : "vectors differ", ulps, j->in->keys[first]);
}

/* Step 6: tombstones, kept only in lenient mode and only while fewer than
 * the records. */
static int check_tombstones(job *j, int lenient)
{
    size_t tomb = j->x->ndeleted + j->stale + j->changed;
    if (tomb && !lenient)
        return cm_reason(j->why, j->why_cap,
                   "%zu soft-deleted element%s (keeping %s needs total_elements_added above the record count)",
                   tomb, tomb == 1 ? "" : "s", tomb == 1 ? "it" : "them");
    if (tomb > j->n)
        return cm_reason(j->why, j->why_cap, "%zu of %zu index elements would be deleted tombstones", tomb,
                   (size_t)j->x->hd.count);
    return 1;
}

/* 1: reusable (j->elem_rec filled, j->stale and j->changed counted,
 * j->missing the records to insert); 0: why says why. `lenient`
 * (keep_tombstones) keeps tombstones and accepts records the index
 * lacks, up to as many as it has. The steps are those of the file comment. */
static int decide(job *j, int lenient)
{
    if (!check_graph(j) || !j->in->prior->ops->labels(j->in->prior, &j->lab, j->why, j->why_cap))
        return 0;
    return index_keys(j) && check_maps(j) && match_records(j, lenient) &&
           check_vectors(j, lenient) && check_tombstones(j, lenient);
}

/* Links the records the legacy graph lacks into it, as hnswlib adds to an
 * index it loaded: the four files just written are read back with room for
 * them, the records staged as the staged index holds them (vector and norm,
 * not rounded again), built in, and the files written again. */
static int insert_missing(const hnsw_reuse_in *in, const uint32_t *recs, size_t n, const char *dir, cm_err *err)
{
    hnsw_index *h = hnsw_read_chroma_files_room(dir, in->space, n, err);
    if (!h)
        return cm_err_prefix(err, "reading back the converted legacy index");
    h->threads = in->staged->threads;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = hnsw_stage_prepared(h, hnsw_vector(in->staged, recs[i]), hnsw_norm(in->staged, recs[i]),
                                 hnsw_label(in->staged, recs[i]), err);
    if (rc == 0)
        rc = hnsw_build(h, NULL, NULL, err);
    if (rc == 0)
        rc = hnsw_write_chroma_files(h, dir, err);
    hnsw_free(h);
    return rc < 0 ? cm_err_prefix(err, "inserting %zu missing records into the legacy index", n) : 0;
}

/* The converted graph's counts into *res (after decide said yes). */
static void fill_result(const job *j, hnsw_reuse_result *res)
{
    res->stale = j->stale;
    res->deleted = j->x->ndeleted;
    res->replaced = j->changed;
    res->inserted_missing = j->nmissing - j->changed;
    res->outcome = j->nmissing ? HNSW_REUSE_REPAIRED : HNSW_REUSE_REUSED;
}

int hnsw_reuse_run(const hnsw_reuse_in *in, const char *out_dir, int keep_tombstones, hnsw_reuse_result *res,
                   cm_err *err)
{
    memset(res, 0, sizeof *res);
    res->outcome = HNSW_REUSE_REBUILT;
    char *why = res->reason;
    size_t why_cap = sizeof res->reason;
    if (!in || !in->staged || !in->keys || !in->prior)
        return cm_reason(why, why_cap, "no legacy index for this collection");
    if (!le_host())
        return cm_reason(why, why_cap, "reusing hnswlib files needs a little-endian host");
    job j;
    memset(&j, 0, sizeof j);
    j.in = in;
    j.why = why;
    j.why_cap = why_cap;
    j.n = hnsw_count(in->staged);
    j.dim = in->staged->dim;
    if (j.n == 0)
        return cm_reason(why, why_cap, "no records");
    if (in->staged->space != in->space)
        return cm_reason(why, why_cap, "internal: the staged index has another space");
    int rc = decide(&j, keep_tombstones);
    if (rc == 1) {
        size_t ntomb = j.x->ndeleted + j.stale + j.changed;
        uint64_t max_label = 0;
        for (size_t i = 0; i < j.n; i++) {
            uint64_t l = hnsw_label(in->staged, i);
            if (l > max_label)
                max_label = l;
        }
        if (max_label + ntomb > UINT32_MAX) {
            rc = cm_reason(why, why_cap, "labels would pass 2^32");
        } else if (write_chroma_files(j.x, in->staged, j.elem_rec, max_label + 1, out_dir, err) < 0) {
            rc = -1;
        } else {
            res->total_labels = (uint32_t)(max_label + ntomb);
            fill_result(&j, res);
        }
    }
    uint32_t *missing = j.missing;
    size_t nmissing = rc == 1 ? j.nmissing : 0;
    j.missing = NULL;
    job_free(&j);
    in->prior->ops->release(in->prior); /* the prior graph's memory goes back before the graph is loaded again */
    if (nmissing && insert_missing(in, missing, nmissing, out_dir, err) < 0)
        rc = -1;
    free(missing);
    if (rc != 1)
        res->outcome = HNSW_REUSE_REBUILT;
    return rc;
}
