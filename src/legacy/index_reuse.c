/* index_reuse.c - converting a chromadb 0.3.x hnswlib index into Chroma's
 * four HNSW files when, and only when, it provably holds exactly the records
 * being written (see index_reuse.h and legacy_reuse_ext.h).
 *
 * What "provably" means here, checked in this order (the first failure is the
 * reason reported):
 *  1. index_<uuid>.bin parses with every offset, count, level and link in
 *     bounds (hnswlib_file.c); its dimension and M are the collection's.
 *  2. index_metadata_<uuid>.pkl agrees on the dimension and on the elements
 *     ever added (its curr_elements is not a live count: see check_metadata).
 *  3. id_to_uuid / uuid_to_id hold no entry whose label is not an element of
 *     this index (chromadb <= 0.3.14 kept one map for all collections) and
 *     agree with each other on every record.
 *  4. Every record is in the maps, and its element is live; every live
 *     element belongs to a record (no stale entries).
 *  5. Every record's vector in the index equals the staged vector bit for bit
 *     (float32 of the Parquet doubles, normalised for cosine). hnswlib's
 *     cosine normalisation (sum of squares in float, v * 1/(sqrt(sum)+1e-30))
 *     is the same arithmetic as hnsw.c's, so no tolerance is needed: on the
 *     real stores every vector matched exactly, 0 ulp (see the report).
 *  6. No soft-deleted elements (legacy_reuse_try) - or, with
 *     legacy_reuse_try_ex, tombstones kept with retired labels.
 * legacy_reuse_try_ex relaxes 4 and 5: records missing from the index, or
 * whose vector differs, are inserted into the converted graph afterwards
 * (insert_missing), up to half of the records.
 * The index_<uuid>.bin of the space is not stored anywhere: the collection's
 * hnsw:space chose it in 0.3.x as it does now, and for cosine step 5 also
 * proves the stored vectors are the normalised ones.
 *
 * Writing: the same graph (records in their legacy internal order, the same
 * links, levels, entry point, M, maxM0, mult, ef_construction), labels
 * renumbered to the staged labels, length.bin from the staged norms, header
 * with persistence version 1 and max_elements = count. Each file fsynced. */
#include "index_reuse.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../format/pickle.h"
#include "../util/fsutil.h"
#include "../util/le.h"
#include "../util/mem.h"
#include "../util/outfile.h"
#include "../util/uuid.h"
#include "../index/hnsw_impl.h" /* the staged index's dim and M (hnsw.h has no accessors yet) */
#include "hnswlib_file.h"
#include "index_reuse_ext.h"

#define NONE 0xFFFFFFFFu
#define MAX_PICKLE_BYTES ((size_t)1 << 30)
#define CHROMA_HEADER_SIZE 100

/* ---- small helpers ------------------------------------------------------- */

static int say(char *why, size_t cap, const char *fmt, ...) CM_PRINTF(3, 4);
static int say(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* A collection uuid goes into file names: hex digits and hyphens only. */
static int safe_uuid(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-'))
            return 0;
        if (n > 64)
            return 0;
    }
    return 1;
}

static char *index_path(const char *dir, const char *prefix, const char *uuid, const char *ext)
{
    size_t n = strlen(prefix) + strlen(uuid) + strlen(ext) + 1;
    char *name = xmalloc(n);
    snprintf(name, n, "%s%s%s", prefix, uuid, ext);
    char *p = fs_join(dir, name);
    free(name);
    return p;
}

/* Reads a whole regular file of at most max bytes. */
static int read_whole(const char *path, size_t max, unsigned char **out, size_t *len, cm_err *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cm_err_set(err, "%s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cm_err_set(err, "%s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cm_err_set(err, "not a regular file");
    }
    if ((uint64_t)st.st_size > (uint64_t)max) {
        close(fd);
        return cm_err_set(err, "%llu bytes is too large", (unsigned long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = xmalloc(n ? n : 1);
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got > (1u << 24) ? (1u << 24) : n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            free(buf);
            close(fd);
            return cm_err_set(err, "%s", r < 0 ? strerror(e) : "the file shrank while being read");
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 0;
}

typedef struct u128 {
    uint64_t hi, lo;
} u128;

/* 32 hex digits, or the hyphenated 8-4-4-4-12 form, as two 64-bit halves
 * (the key of uuid_map). */
static int parse_uuid(const char *s, size_t len, u128 *out)
{
    cm_uuid u;
    if (cm_uuid_parse(s, len, &u) < 0)
        return -1;
    out->hi = out->lo = 0;
    for (int k = 0; k < 8; k++) {
        out->hi = (out->hi << 8) | u.b[k];
        out->lo = (out->lo << 8) | u.b[8 + k];
    }
    return 0;
}

/* A label -> uuid value: a uuid.UUID object, or a uuid string. */
static int value_uuid(const pk_value *v, u128 *out)
{
    if (v && (v->type == PK_STR))
        return parse_uuid(v->u.str.s, v->u.str.len, out);
    char hex[33];
    if (pk_uuid_hex(v, hex, NULL) < 0)
        return -1;
    return parse_uuid(hex, 32, out);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* ---- two open-addressing maps: uuid -> record, label -> element ---------- */

typedef struct uuid_map {
    u128 *keys;
    uint32_t *vals; /* NONE: empty */
    size_t mask;
} uuid_map;

typedef struct label_map {
    uint64_t *keys;
    uint32_t *vals;
    size_t mask;
} label_map;

static size_t table_size(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap <<= 1;
    return cap;
}

static void uuid_map_init(uuid_map *m, size_t n)
{
    size_t cap = table_size(n);
    m->keys = xmalloc(cap * sizeof *m->keys);
    m->vals = xmalloc(cap * sizeof *m->vals);
    memset(m->vals, 0xFF, cap * sizeof *m->vals);
    m->mask = cap - 1;
}

/* Inserts k -> v unless present; returns the value now stored for k. */
static uint32_t uuid_map_put(uuid_map *m, u128 k, uint32_t v)
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

static uint32_t uuid_map_get(const uuid_map *m, u128 k)
{
    size_t i = (size_t)mix64(k.hi ^ mix64(k.lo)) & m->mask;
    while (m->vals[i] != NONE) {
        if (m->keys[i].hi == k.hi && m->keys[i].lo == k.lo)
            return m->vals[i];
        i = (i + 1) & m->mask;
    }
    return NONE;
}

static void label_map_init(label_map *m, size_t n)
{
    size_t cap = table_size(n);
    m->keys = xmalloc(cap * sizeof *m->keys);
    m->vals = xmalloc(cap * sizeof *m->vals);
    memset(m->vals, 0xFF, cap * sizeof *m->vals);
    m->mask = cap - 1;
}

static uint32_t label_map_put(label_map *m, uint64_t k, uint32_t v)
{
    size_t i = (size_t)mix64(k) & m->mask;
    while (m->vals[i] != NONE) {
        if (m->keys[i] == k)
            return m->vals[i];
        i = (i + 1) & m->mask;
    }
    m->keys[i] = k;
    m->vals[i] = v;
    return v;
}

static uint32_t label_map_get(const label_map *m, uint64_t k)
{
    size_t i = (size_t)mix64(k) & m->mask;
    while (m->vals[i] != NONE) {
        if (m->keys[i] == k)
            return m->vals[i];
        i = (i + 1) & m->mask;
    }
    return NONE;
}

/* The norm of a stored vector, for elements no record owns (tombstones). */
static float stored_norm(const hl_index *x, size_t i)
{
    const unsigned char *b = hl_vector_bytes(x, i);
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
static int write_chroma_files(const hl_index *x, const hnsw_index *staged, const uint32_t *elem_rec,
                              uint64_t first_retired, const char *dir, cm_err *err)
{
    unsigned char hdr[CHROMA_HEADER_SIZE];
    hn_header hh = {.count = x->count,
                    .rec_size = x->rec_size,
                    .off_label = x->off_label,
                    .off_data = x->off_data,
                    .maxM = x->maxM,
                    .maxM0 = x->maxM0,
                    .M = x->M,
                    .efc = x->efc,
                    .maxlevel = x->maxlevel,
                    .entry = x->entry,
                    .mult = x->mult};
    hn_chroma_header(hdr, &hh);

    out_file o;
    if (out_open(&o, dir, "header.bin", err) < 0)
        return -1;
    out_put(&o, hdr, sizeof hdr, err);
    if (out_close(&o, err) < 0)
        return -1;

    size_t n = (size_t)x->count;
    unsigned char *rec = xmalloc((size_t)x->rec_size);
    if (out_open(&o, dir, "data_level0.bin", err) < 0) {
        free(rec);
        return -1;
    }
    uint64_t retired = first_retired;
    for (size_t i = 0; i < n && !o.failed; i++) {
        memcpy(rec, hl_record(x, i), (size_t)x->rec_size);
        rec[3] = 0; /* unused; hnswlib leaves it 0 */
        uint64_t label;
        if (elem_rec[i] != NONE) {
            label = hnsw_label(staged, elem_rec[i]);
        } else {
            label = retired++;
            rec[2] |= HL_DELETED;
        }
        le_put64(rec + x->off_label, label);
        out_put(&o, rec, (size_t)x->rec_size, err);
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

    if (out_open(&o, dir, "link_lists.bin", err) < 0)
        return -1;
    for (size_t i = 0; i < n && !o.failed; i++) {
        unsigned char len[4];
        size_t bytes = (size_t)x->levels[i] * x->links_size;
        le_put32(len, (uint32_t)bytes);
        out_put(&o, len, 4, err);
        if (bytes)
            out_put(&o, hl_upper_bytes(x, i), bytes, err);
    }
    return out_close(&o, err);
}

/* ---- the decision -------------------------------------------------------- */

typedef struct job {
    const legacy_reuse_in *in;
    char *why;
    size_t why_cap;
    size_t n; /* records */
    size_t dim;
    unsigned char *file;
    size_t file_len;
    hl_index x;
    int parsed;
    pk_value *i2u, *u2i, *meta;
    uuid_map recs;
    label_map labels;
    uint32_t *rec_elem_a, *rec_elem_b; /* per record: element per id_to_uuid / uuid_to_id */
    uint32_t *elem_rec;                /* per element: owning record */
    uint32_t *elem_seen;               /* per element: id_to_uuid entries naming it */
    uint32_t *missing;                 /* records to insert into the graph (lenient only) */
    size_t nmissing;
    size_t stale;   /* live elements of no record being written (tombstones) */
    size_t changed; /* records whose stored vector differs, inserted anew (old element a tombstone) */
} job;

static void job_free(job *j)
{
    free(j->file);
    free(j->missing);
    if (j->parsed)
        hl_free(&j->x);
    pk_free(j->i2u);
    pk_free(j->u2i);
    pk_free(j->meta);
    free(j->recs.keys);
    free(j->recs.vals);
    free(j->labels.keys);
    free(j->labels.vals);
    free(j->rec_elem_a);
    free(j->rec_elem_b);
    free(j->elem_rec);
    free(j->elem_seen);
}

/* Loads one pickle; 0 with the reason in why when it cannot be used. */
static int load_pickle(job *j, const char *prefix, pk_value **out)
{
    char *p = index_path(j->in->index_dir, prefix, j->in->collection_uuid, ".pkl");
    unsigned char *buf = NULL;
    size_t len = 0;
    cm_err e = {0};
    int ok = read_whole(p, MAX_PICKLE_BYTES, &buf, &len, &e) == 0;
    if (!ok) { /* the whole path: "Permission denied" must say where */
        say(j->why, j->why_cap, "cannot read %s: %s", p, e.msg);
        free(p);
        return 0;
    }
    free(p);
    *out = pk_load(buf, len, &e);
    free(buf);
    if (!*out)
        return say(j->why, j->why_cap, "%s%s.pkl: %s", prefix, j->in->collection_uuid, e.msg);
    if ((*out)->type != PK_DICT)
        return say(j->why, j->why_cap, "%s%s.pkl is a %s, not a dict", prefix, j->in->collection_uuid,
                   pk_type_name((*out)->type));
    return 1;
}

static int meta_int(const pk_value *meta, const char *key, int64_t *v)
{
    const pk_value *p = pk_dict_get(meta, key);
    return p && pk_get_int64(p, v);
}

/* Step 2: index_metadata agrees with the file on the dimension and on the
 * number of elements ever added: 0.3.15-0.3.22 'elements', 0.3.26+
 * 'total_elements_added' (labels handed out = hnswlib's cur_element_count;
 * only add() changes it).
 * 'curr_elements' is not consulted: chromadb 0.3.29's Hnswlib._load(
 * curr_elements) overwrites it on every load with the collection's row count
 * its caller passes in (already holding the batch being added, and duplicate
 * rows), and add() then counts that batch again, so real stores with a
 * matching index show it above the live count. Which elements are live is
 * read from the file's deleted flags and the id maps (steps 3 and 4). */
static int check_metadata(job *j)
{
    int64_t dim, total;
    if (!meta_int(j->meta, "dimensionality", &dim))
        return say(j->why, j->why_cap, "index metadata has no dimensionality");
    if ((uint64_t)dim != j->x.dim)
        return say(j->why, j->why_cap, "index metadata says dimension %lld, the index file %zu", (long long)dim,
                   j->x.dim);
    if (!meta_int(j->meta, "total_elements_added", &total) && !meta_int(j->meta, "elements", &total))
        return say(j->why, j->why_cap, "index metadata has no element count (total_elements_added or elements)");
    if ((uint64_t)total != j->x.count)
        return say(j->why, j->why_cap, "index metadata counts %lld elements added, the index file holds %llu",
                   (long long)total, (unsigned long long)j->x.count);
    return 1;
}

typedef struct map_counts {
    size_t entries;
    size_t foreign;  /* label is no element of this index */
    size_t extra;    /* element exists, uuid is not a record being written */
    size_t dup;      /* a record or an element named twice */
    size_t bad;      /* not label <-> uuid */
} map_counts;

/* Step 3, one map. a: id_to_uuid (label -> uuid); else uuid_to_id. */
static void scan_map(job *j, const pk_value *map, int a, uint32_t *rec_elem, map_counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t k = 0; k < map->u.dict.n; k++) {
        const pk_value *lv = a ? map->u.dict.pairs[k].key : map->u.dict.pairs[k].value;
        const pk_value *uv = a ? map->u.dict.pairs[k].value : map->u.dict.pairs[k].key;
        int64_t label;
        u128 u;
        c->entries++;
        if (!pk_get_int64(lv, &label) || label < 0 || value_uuid(uv, &u) < 0) {
            c->bad++;
            continue;
        }
        uint32_t e = label_map_get(&j->labels, (uint64_t)label);
        if (e == NONE) {
            c->foreign++;
            continue;
        }
        if (a && j->elem_seen[e]++ > 0)
            c->dup++;
        uint32_t r = uuid_map_get(&j->recs, u);
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

/* Step 1: the file parses, with the collection's dimension and M. */
static int check_file(job *j)
{
    const legacy_reuse_in *in = j->in;
    char *path = index_path(in->index_dir, "index_", in->collection_uuid, ".bin");
    cm_err e = {0};
    int ok = read_whole(path, SIZE_MAX / 4, &j->file, &j->file_len, &e) == 0;
    if (!ok) {
        say(j->why, j->why_cap, "cannot read %s: %s", path, e.msg);
        free(path);
        return 0;
    }
    free(path);
    if (hl_parse(&j->x, j->file, j->file_len, &e) < 0)
        return say(j->why, j->why_cap, "index file damaged: %s", e.msg);
    j->parsed = 1;
    if (j->x.dim != j->dim)
        return say(j->why, j->why_cap, "the index has dimension %zu, the records %zu", j->x.dim, j->dim);
    if (j->x.M != in->staged->M)
        return say(j->why, j->why_cap, "the index was built with M=%llu, the collection asks for M=%zu",
                   (unsigned long long)j->x.M, in->staged->M);
    return 1;
}

/* The records' uuids and the index's labels, each looked up by value. */
static int index_keys(job *j)
{
    uuid_map_init(&j->recs, j->n);
    for (size_t i = 0; i < j->n; i++) {
        u128 u;
        const char *k = j->in->keys[i];
        if (!k || parse_uuid(k, strlen(k), &u) < 0)
            return say(j->why, j->why_cap, "record %zu's legacy uuid '%.40s' is not a uuid", i + 1, k ? k : "");
        if (uuid_map_put(&j->recs, u, (uint32_t)i) != (uint32_t)i)
            return say(j->why, j->why_cap, "two records share the legacy uuid %.40s", k);
    }
    size_t m = (size_t)j->x.count;
    label_map_init(&j->labels, m);
    for (size_t i = 0; i < m; i++) {
        uint64_t l = hl_label(&j->x, i);
        if (label_map_put(&j->labels, l, (uint32_t)i) != (uint32_t)i)
            return say(j->why, j->why_cap, "label %llu appears twice in the index", (unsigned long long)l);
    }
    return 1;
}

/* Step 3: both id maps name only elements of this index, each once. */
static int check_maps(job *j)
{
    size_t m = (size_t)j->x.count;
    j->rec_elem_a = xmalloc((j->n ? j->n : 1) * sizeof *j->rec_elem_a);
    j->rec_elem_b = xmalloc((j->n ? j->n : 1) * sizeof *j->rec_elem_b);
    memset(j->rec_elem_a, 0xFF, j->n * sizeof *j->rec_elem_a);
    memset(j->rec_elem_b, 0xFF, j->n * sizeof *j->rec_elem_b);
    j->elem_seen = xcalloc(m ? m : 1, sizeof *j->elem_seen);
    map_counts ca, cb;
    scan_map(j, j->i2u, 1, j->rec_elem_a, &ca);
    scan_map(j, j->u2i, 0, j->rec_elem_b, &cb);
    if (ca.bad || cb.bad)
        return say(j->why, j->why_cap, "the id maps hold %zu entries that are not label <-> uuid", ca.bad + cb.bad);
    if (ca.foreign || cb.foreign)
        return say(j->why, j->why_cap,
                   "the id maps hold %zu entries for labels this index lacks (other collections': the "
                   "chromadb <= 0.3.14 shared-map bug)",
                   ca.foreign > cb.foreign ? ca.foreign : cb.foreign);
    if (ca.dup || cb.dup)
        return say(j->why, j->why_cap, "the id maps name a record or an element twice");
    return 1;
}

/* Step 4: records <-> live elements (j->elem_rec, j->missing, j->stale). */
static int match_records(job *j, int lenient)
{
    size_t m = (size_t)j->x.count;
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
        } else if (hl_is_deleted(&j->x, a)) {
            dead++;
            j->missing[j->nmissing++] = (uint32_t)i;
        } else {
            j->elem_rec[a] = (uint32_t)i;
        }
    }
    if (disagree)
        return say(j->why, j->why_cap, "id_to_uuid and uuid_to_id disagree on %zu records", disagree);
    /* Records the graph lacks (added after chromadb last saved its index, or
     * whose element was deleted) can be inserted into it, as hnswlib adds to
     * a loaded index; an element a map names for a record left out that way
     * becomes a tombstone like any stale one. Past half the records a new
     * graph is as cheap and as good. */
    if ((missing || dead) && (!lenient || j->nmissing > j->n - j->nmissing))
        return say(j->why, j->why_cap, "%zu of %zu records are not in the index%s%s", missing + dead, j->n,
                   dead ? " (or deleted there)" : "", lenient ? ": more than are in it" : "");
    j->stale = 0;
    for (size_t i = 0; i < m; i++)
        if (j->elem_rec[i] == NONE && !hl_is_deleted(&j->x, i))
            j->stale++;
    if (j->stale && !lenient)
        return say(j->why, j->why_cap, "%zu stale index entr%s for records not being written", j->stale,
                   j->stale == 1 ? "y" : "ies");
    return 1;
}

/* How far the stored vectors are from the staged ones: the count that
 * differ, the first such record and the largest ulp distance (UINT64_MAX
 * when a stored value is not finite). */
static size_t count_differing(job *j, size_t *first, uint64_t *max_ulp)
{
    size_t differ = 0, m = (size_t)j->x.count, vbytes = j->dim * sizeof(float);
    *max_ulp = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t r = j->elem_rec[i];
        if (r == NONE)
            continue;
        const unsigned char *a = hl_vector_bytes(&j->x, i);
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
    size_t first = 0, m = (size_t)j->x.count, vbytes = j->dim * sizeof(float);
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
            if (r != NONE && memcmp(hl_vector_bytes(&j->x, i), hnsw_vector(j->in->staged, r), vbytes) != 0) {
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
    return say(j->why, j->why_cap, "%zu %s from the records' embeddings (%s; first: %.36s)", differ,
               differ == 1 ? "vector differs" : "vectors differ", ulps, j->in->keys[first]);
}

/* Step 6: tombstones, kept only in lenient mode and only while fewer than
 * the records. */
static int check_tombstones(job *j, int lenient)
{
    size_t tomb = j->x.ndeleted + j->stale + j->changed;
    if (tomb && !lenient)
        return say(j->why, j->why_cap,
                   "%zu soft-deleted element%s (keeping %s needs total_elements_added above the record count)",
                   tomb, tomb == 1 ? "" : "s", tomb == 1 ? "it" : "them");
    if (tomb > j->n)
        return say(j->why, j->why_cap, "%zu of %zu index elements would be deleted tombstones", tomb,
                   (size_t)j->x.count);
    return 1;
}

/* 1: reusable (j->elem_rec filled, j->stale and j->changed counted,
 * j->missing the records to insert); 0: why says why. `lenient`
 * (legacy_reuse_try_ex) keeps tombstones and accepts records the index
 * lacks, up to as many as it has. The steps are those of the file comment. */
static int decide(job *j, int lenient)
{
    if (!check_file(j))
        return 0;
    if (!load_pickle(j, "index_metadata_", &j->meta) || !load_pickle(j, "id_to_uuid_", &j->i2u) ||
        !load_pickle(j, "uuid_to_id_", &j->u2i))
        return 0;
    return check_metadata(j) && index_keys(j) && check_maps(j) && match_records(j, lenient) &&
           check_vectors(j, lenient) && check_tombstones(j, lenient);
}

/* Links the records the legacy graph lacks into it, as hnswlib adds to an
 * index it loaded: the four files just written are read back with room for
 * them, the records staged as the staged index holds them (vector and norm,
 * not rounded again), built in, and the files written again. */
static int insert_missing(const legacy_reuse_in *in, const uint32_t *recs, size_t n, const char *dir, cm_err *err)
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

void legacy_reuse_detail(const legacy_reuse_result *r, char *buf, size_t cap)
{
    if (!buf || !cap)
        return;
    buf[0] = '\0';
    if (r->outcome == LEGACY_REUSE_REBUILT)
        return;
    /* "3 stale, 2 deleted and 4 replaced elements kept as deleted" */
    char kept[160] = "", ins[120] = "";
    const size_t kinds[3] = {r->stale, r->deleted, r->replaced};
    static const char *const kind_names[3] = {"stale", "deleted", "replaced"};
    size_t nk = 0, o = 0, tomb = r->stale + r->deleted + r->replaced;
    for (int k = 0; k < 3; k++)
        nk += kinds[k] != 0;
    for (int k = 0, seen = 0; k < 3; k++) {
        if (!kinds[k])
            continue;
        seen++;
        o += (size_t)snprintf(kept + o, sizeof kept - o, "%s%zu %s", seen == 1 ? "" : seen == (int)nk ? " and " : ", ",
                              kinds[k], kind_names[k]);
    }
    if (tomb)
        snprintf(kept + o, sizeof kept - o, " element%s kept as deleted", tomb == 1 ? "" : "s");
    size_t added = r->inserted_missing, changed = r->replaced;
    if (added && changed)
        snprintf(ins, sizeof ins, "%zu missing and %zu changed records inserted into the graph", added, changed);
    else if (added || changed)
        snprintf(ins, sizeof ins, "%zu %s record%s inserted into the graph", added + changed,
                 added ? "missing" : "changed", added + changed == 1 ? "" : "s");
    snprintf(buf, cap, "%s%s%s", ins, *ins && *kept ? ", " : "", kept);
}

/* The converted graph's counts into *res (after decide said yes). */
static void fill_result(const job *j, legacy_reuse_result *res)
{
    res->stale = j->stale;
    res->deleted = j->x.ndeleted;
    res->replaced = j->changed;
    res->inserted_missing = j->nmissing - j->changed;
    res->outcome = j->nmissing ? LEGACY_REUSE_REPAIRED : LEGACY_REUSE_REUSED;
}

int legacy_reuse_run(const legacy_reuse_in *in, const char *out_dir, int keep_tombstones, legacy_reuse_result *res,
                     cm_err *err)
{
    memset(res, 0, sizeof *res);
    res->outcome = LEGACY_REUSE_REBUILT;
    char *why = res->reason;
    size_t why_cap = sizeof res->reason;
    if (!in || !in->staged || !in->keys || !in->index_dir || !safe_uuid(in->collection_uuid))
        return say(why, why_cap, "no legacy index for this collection");
    if (!le_host())
        return say(why, why_cap, "reusing hnswlib files needs a little-endian host");
    job j;
    memset(&j, 0, sizeof j);
    j.in = in;
    j.why = why;
    j.why_cap = why_cap;
    j.n = hnsw_count(in->staged);
    j.dim = in->staged->dim;
    if (j.n == 0)
        return say(why, why_cap, "no records");
    if (in->staged->space != in->space)
        return say(why, why_cap, "internal: the staged index has another space");
    int rc = decide(&j, keep_tombstones);
    if (rc == 1) {
        size_t ntomb = j.x.ndeleted + j.stale + j.changed;
        uint64_t max_label = 0;
        for (size_t i = 0; i < j.n; i++) {
            uint64_t l = hnsw_label(in->staged, i);
            if (l > max_label)
                max_label = l;
        }
        if (max_label + ntomb > UINT32_MAX) {
            rc = say(why, why_cap, "labels would pass 2^32");
        } else if (write_chroma_files(&j.x, in->staged, j.elem_rec, max_label + 1, out_dir, err) < 0) {
            rc = -1;
        } else {
            res->total_labels = (uint32_t)(max_label + ntomb);
            fill_result(&j, res);
        }
    }
    uint32_t *missing = j.missing;
    size_t nmissing = rc == 1 ? j.nmissing : 0;
    j.missing = NULL;
    job_free(&j); /* the legacy file's memory goes back before the graph is loaded again */
    if (nmissing && insert_missing(in, missing, nmissing, out_dir, err) < 0)
        rc = -1;
    free(missing);
    if (rc != 1)
        res->outcome = LEGACY_REUSE_REBUILT;
    return rc;
}

/* The old one-line answer: the reason, "reused" or "reused; <detail>". */
static int reuse_text(const legacy_reuse_in *in, const char *out_dir, uint32_t *total_labels, char *why,
                      size_t why_cap, cm_err *err)
{
    legacy_reuse_result r;
    int rc = legacy_reuse_run(in, out_dir, total_labels != NULL, &r, err);
    if (rc == 1 && total_labels)
        *total_labels = r.total_labels;
    if (why && why_cap) {
        char detail[300];
        legacy_reuse_detail(&r, detail, sizeof detail);
        if (rc != 1)
            snprintf(why, why_cap, "%s", r.reason);
        else
            snprintf(why, why_cap, "reused%s%s", *detail ? "; " : "", detail);
    }
    return rc;
}

int legacy_reuse_try(const legacy_reuse_in *in, const char *out_dir, char *why, size_t why_cap, cm_err *err)
{
    return reuse_text(in, out_dir, NULL, why, why_cap, err);
}

int legacy_reuse_try_ex(const legacy_reuse_in *in, const char *out_dir, uint32_t *total_labels, char *why,
                        size_t why_cap, cm_err *err)
{
    uint32_t dummy;
    return reuse_text(in, out_dir, total_labels ? total_labels : &dummy, why, why_cap, err);
}

int legacy_reuse_available(const char *index_dir, const char *collection_uuid)
{
    if (!index_dir || !safe_uuid(collection_uuid))
        return 0;
    char *p = index_path(index_dir, "index_", collection_uuid, ".bin");
    struct stat st;
    /* A folder this user may not search still holds an index: try it, so
     * the reason given is "permission denied", not "no legacy index". */
    int ok = stat(p, &st) == 0 ? S_ISREG(st.st_mode) : errno == EACCES;
    free(p);
    return ok;
}
