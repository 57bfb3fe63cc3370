/* hnsw_files.c - the codec of hnswlib's graph files (hnsw_files.h): the
 * header fields, Chroma's four HNSW files (chroma-core/hnswlib's persistent
 * layout: header.bin, data_level0.bin, length.bin, link_lists.bin) and
 * hnswlib's single-file index that chromadb 0.3.x saved.
 *
 * The records in memory are already data_level0.bin's, so writing is one
 * sequential write per file. Reading checks every count, level and link
 * against the header before anything else looks at them; the header fields
 * are decoded and checked in one place for both layouts, so a converted
 * legacy index always loads as Chroma's files too. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/fsutil.h"
#include "../util/le.h"
#include "../util/mem.h"
#include "../util/outfile.h"
#include "hnsw_files.h"
#include "hnsw_impl.h"

#define READ_CHUNK (8u << 20)
/* Bounds of what a header may ask for (beyond HN_MAX_ELEMENTS). */
#define MAX_M 10000u
#define MAX_DIM (1u << 20)
#define MAX_EFC (1u << 20)

/* ---- the header fields ---------------------------------------------------- */

void hnswlib_header_decode(const unsigned char *p, hnswlib_header *h)
{
    h->offset_level0 = le_get64(p + 0);
    h->max_elements = le_get64(p + 8);
    h->count = le_get64(p + 16);
    h->rec_size = le_get64(p + 24);
    h->off_label = le_get64(p + 32);
    h->off_data = le_get64(p + 40);
    h->maxlevel = (int32_t)le_get32(p + 48);
    h->entry = le_get32(p + 52);
    h->maxM = le_get64(p + 56);
    h->maxM0 = le_get64(p + 64);
    h->M = le_get64(p + 72);
    uint64_t mb = le_get64(p + 80);
    memcpy(&h->mult, &mb, sizeof mb);
    h->efc = le_get64(p + 88);
}

void hnsw_header_bin_encode(unsigned char *p, const hnswlib_header *h)
{
    uint64_t mult_bits;
    memcpy(&mult_bits, &h->mult, sizeof mult_bits);
    le_put32(p + 0, HNSW_PERSISTENCE_VERSION);
    unsigned char *f = p + 4;
    le_put64(f + 0, 0);        /* offsetLevel0_ */
    le_put64(f + 8, h->count); /* max_elements_ = count: Chroma grows it on the next add */
    le_put64(f + 16, h->count); /* cur_element_count */
    le_put64(f + 24, h->rec_size);
    le_put64(f + 32, h->off_label);
    le_put64(f + 40, h->off_data);
    le_put32(f + 48, (uint32_t)h->maxlevel);
    le_put32(f + 52, h->entry);
    le_put64(f + 56, h->maxM);
    le_put64(f + 64, h->maxM0);
    le_put64(f + 72, h->M);
    le_put64(f + 80, mult_bits);
    le_put64(f + 88, h->efc);
}

int hnswlib_header_check(const hnswlib_header *h, const char *what, cm_err *err)
{
    if (h->offset_level0 != 0)
        return cm_err_set(err, "%soffsetLevel0 is %llu, hnswlib always writes 0", what,
                          (unsigned long long)h->offset_level0);
    if (h->M < 2 || h->M > MAX_M || h->maxM != h->M || h->maxM0 != 2 * h->M)
        return cm_err_set(err, "%sM %llu, maxM %llu, maxM0 %llu are not hnswlib's (2 <= M <= %u, maxM = M, maxM0 = 2M)",
                          what, (unsigned long long)h->M, (unsigned long long)h->maxM,
                          (unsigned long long)h->maxM0, MAX_M);
    if (h->off_data != 4 + 4 * h->maxM0)
        return cm_err_set(err, "%soffsetData %llu, expected %llu", what, (unsigned long long)h->off_data,
                          (unsigned long long)(4 + 4 * h->maxM0));
    if (h->off_label <= h->off_data || (h->off_label - h->off_data) % 4 != 0 ||
        (h->off_label - h->off_data) / 4 > MAX_DIM)
        return cm_err_set(err, "%slabel_offset %llu does not leave room for a vector after offsetData %llu", what,
                          (unsigned long long)h->off_label, (unsigned long long)h->off_data);
    if (h->rec_size != h->off_label + 8)
        return cm_err_set(err, "%ssize_data_per_element %llu, expected %llu", what, (unsigned long long)h->rec_size,
                          (unsigned long long)(h->off_label + 8));
    if (h->count > HN_MAX_ELEMENTS)
        return cm_err_set(err, "%s%llu elements is more than this tool handles", what, (unsigned long long)h->count);
    if (h->count > h->max_elements)
        return cm_err_set(err, "%scur_element_count %llu exceeds max_elements %llu", what,
                          (unsigned long long)h->count, (unsigned long long)h->max_elements);
    if (!(h->mult > 0 && h->mult <= 10))
        return cm_err_set(err, "%smult %g is implausible", what, h->mult);
    if (h->efc < 1 || h->efc > MAX_EFC)
        return cm_err_set(err, "%sef_construction %llu is implausible", what, (unsigned long long)h->efc);
    if (h->count > 0 && (h->entry >= h->count || h->maxlevel < 0))
        return cm_err_set(err, "%sentry point %u at level %d is not one of the %llu elements", what, h->entry,
                          h->maxlevel, (unsigned long long)h->count);
    return 0;
}

/* ---- the level-0 records and link lists, as both layouts hold them ------- */

/* The level-0 records of a graph (Chroma's data_level0.bin and the single
 * file hold the same ones): link counts within maxM0, no flag but deleted,
 * every link to an element. Counts the deleted ones into *ndeleted. */
static int check_level0(const unsigned char *level0, const hnswlib_header *hd, const char *what, size_t *ndeleted,
                        cm_err *err)
{
    for (size_t i = 0; i < hd->count; i++) {
        const unsigned char *r = level0 + i * hd->rec_size;
        size_t n = le_get16(r);
        if (n > hd->maxM0)
            return cm_err_set(err, "%selement %zu has %zu level-0 links, more than maxM0 %llu", what, i, n,
                              (unsigned long long)hd->maxM0);
        if (r[2] & ~HNSWLIB_DELETED)
            return cm_err_set(err, "%selement %zu has unknown flags 0x%02x", what, i, r[2]);
        if (r[2] & HNSWLIB_DELETED)
            (*ndeleted)++;
        for (size_t j = 0; j < n; j++) {
            uint32_t id = le_get32(r + 4 + 4 * j);
            if (id >= hd->count)
                return cm_err_set(err, "%selement %zu links to %u at level 0, but there are %llu elements", what, i,
                                  id, (unsigned long long)hd->count);
        }
    }
    return 0;
}

/* The upper-level link lists (Chroma's link_lists.bin, the single file's
 * tail): per element a u32 byte length and that many bytes of link blocks,
 * from buf[start] to exactly buf[len]. Fills levels[i] and off[i] (where in
 * buf element i's level-1 block is) and checks every length, level, count
 * and link, and that the entry point is at the top level. */
static int scan_link_lists(const unsigned char *buf, size_t start, size_t len, const hnswlib_header *hd,
                           size_t links_size, const char *what, int *levels, size_t *off, cm_err *err)
{
    size_t pos = start;
    for (size_t i = 0; i < hd->count; i++) {
        if (len - pos < 4)
            return cm_err_set(err, "%sthe link lists end before element %zu", what, i);
        uint32_t bytes = le_get32(buf + pos);
        pos += 4;
        if (bytes % links_size != 0)
            return cm_err_set(err, "%selement %zu has %u bytes of upper-level links, not a multiple of %zu", what, i,
                              bytes, links_size);
        if (bytes > len - pos)
            return cm_err_set(err, "%selement %zu's %u bytes of upper-level links run past the end of the file", what,
                              i, bytes);
        size_t level = bytes / links_size;
        if (level > (size_t)hd->maxlevel)
            return cm_err_set(err, "%selement %zu has level %zu, above the top level %d", what, i, level,
                              hd->maxlevel);
        levels[i] = (int)level;
        off[i] = pos;
        pos += bytes;
    }
    if (pos != len)
        return cm_err_set(err, "%s%zu bytes follow the last element's links", what, len - pos);
    for (size_t i = 0; i < hd->count; i++) {
        for (int l = 1; l <= levels[i]; l++) {
            const unsigned char *b = buf + off[i] + (size_t)(l - 1) * links_size;
            size_t n = le_get16(b);
            if (n > hd->maxM)
                return cm_err_set(err, "%selement %zu has %zu links at level %d, more than maxM %llu", what, i, n, l,
                                  (unsigned long long)hd->maxM);
            for (size_t j = 0; j < n; j++) {
                uint32_t id = le_get32(b + 4 + 4 * j);
                if (id >= hd->count)
                    return cm_err_set(err, "%selement %zu links to %u at level %d, but there are %llu elements", what,
                                      i, id, l, (unsigned long long)hd->count);
                if (levels[id] < l)
                    return cm_err_set(err, "%selement %zu links to %u at level %d, which stops at level %d", what, i,
                                      id, l, levels[id]);
            }
        }
    }
    if (hd->count && levels[hd->entry] != hd->maxlevel)
        return cm_err_set(err, "%sthe entry point %u has level %d, not the top level %d", what, hd->entry,
                          levels[hd->entry], hd->maxlevel);
    return 0;
}

/* ---- writing Chroma's files ----------------------------------------------- */

static int write_one(const char *dir, const char *name, const void *p, size_t n, cm_err *err)
{
    out_file o;
    if (out_open(&o, dir, name, err) < 0)
        return -1;
    if (n)
        out_put(&o, p, n, err);
    return out_close(&o, err);
}

int hnswlib_write_link_lists(const char *dir, size_t count, const int *levels, const unsigned char *base,
                             const size_t *off, size_t links_size, cm_err *err)
{
    out_file o;
    if (out_open(&o, dir, "link_lists.bin", err) < 0)
        return -1;
    for (size_t i = 0; i < count && !o.failed; i++) {
        unsigned char len[4];
        size_t bytes = (size_t)levels[i] * links_size;
        le_put32(len, (uint32_t)bytes);
        out_put(&o, len, 4, err);
        if (bytes)
            out_put(&o, base + off[i], bytes, err);
    }
    return out_close(&o, err);
}

int hnsw_write_header_bin(const char *dir, const hnswlib_header *hd, cm_err *err)
{
    unsigned char hdr[HNSW_HEADER_BIN_SIZE];
    hnsw_header_bin_encode(hdr, hd);
    return write_one(dir, "header.bin", hdr, sizeof hdr, err);
}

int hnsw_write_chroma_files(const hnsw_index *h, const char *dir, cm_err *err)
{
    if (!le_host())
        return cm_err_set(err, "writing Chroma's HNSW files needs a little-endian host");
    if (h->linked != h->count)
        return cm_err_set(err, "internal: %zu staged HNSW elements are not built yet", h->count - h->linked);
    hnswlib_header hh = {.count = h->count,
                         .rec_size = h->rec_size,
                         .off_label = h->off_label,
                         .off_data = h->off_data,
                         .maxM = h->maxM,
                         .maxM0 = h->maxM0,
                         .M = h->M,
                         .efc = h->efc,
                         .maxlevel = h->maxlevel,
                         .entry = h->entry,
                         .mult = h->mult};
    if (hnsw_write_header_bin(dir, &hh, err) < 0 ||
        write_one(dir, "data_level0.bin", h->data, h->count * h->rec_size, err) < 0 ||
        write_one(dir, "length.bin", h->norms, h->count * sizeof *h->norms, err) < 0 ||
        hnswlib_write_link_lists(dir, h->count, h->levels, h->upper, h->upper_off, h->links_size, err) < 0)
        return -1;
    return 0;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct in_file {
    int fd;
    const char *name;
    uint64_t size;
} in_file;

static int in_open(in_file *f, const char *dir, const char *name, cm_err *err)
{
    f->name = name;
    char *path = fs_join(dir, name);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        cm_err_set(err, "%s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        cm_err_set(err, "%s: %s", path, strerror(errno));
        free(path);
        close(f->fd);
        return -1;
    }
    free(path);
    f->size = (uint64_t)st.st_size;
    return 0;
}

static int in_read(in_file *f, void *p, size_t n, cm_err *err)
{
    unsigned char *b = p;
    while (n) {
        size_t chunk = n < READ_CHUNK ? n : READ_CHUNK;
        ssize_t r = read(f->fd, b, chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cm_err_set(err, "reading %s: %s", f->name, strerror(errno));
        if (r == 0)
            return cm_err_set(err, "%s: unexpected end of file", f->name);
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* header.bin: the persistence version, then the fields. */
static int read_header(const char *dir, hnswlib_header *hd, cm_err *err)
{
    in_file f;
    if (in_open(&f, dir, "header.bin", err) < 0)
        return -1;
    unsigned char p[HNSW_HEADER_BIN_SIZE];
    int rc = 0;
    if (f.size != HNSW_HEADER_BIN_SIZE)
        rc = cm_err_set(err, "header.bin is %llu bytes, expected %d", (unsigned long long)f.size,
                        HNSW_HEADER_BIN_SIZE);
    else
        rc = in_read(&f, p, sizeof p, err);
    close(f.fd);
    if (rc < 0)
        return -1;
    int32_t version = (int32_t)le_get32(p);
    if (version != HNSW_PERSISTENCE_VERSION)
        return cm_err_set(err, "header.bin: persistence version %d, expected %d", version, HNSW_PERSISTENCE_VERSION);
    hnswlib_header_decode(p + 4, hd);
    return hnswlib_header_check(hd, "header.bin: ", err);
}

static int read_level0(hnsw_index *h, const hnswlib_header *hd, const char *dir, cm_err *err)
{
    in_file f;
    if (in_open(&f, dir, "data_level0.bin", err) < 0)
        return -1;
    size_t need = h->count * h->rec_size;
    int rc = 0;
    if (f.size < need)
        rc = cm_err_set(err, "data_level0.bin is %llu bytes, %zu elements need %zu", (unsigned long long)f.size,
                        h->count, need);
    else
        rc = in_read(&f, h->data, need, err);
    close(f.fd);
    if (rc < 0 || check_level0(h->data, hd, "data_level0.bin: ", &h->ndeleted, err) < 0)
        return -1;
    for (size_t i = 0; i < h->count; i++)
        hn_rec(h, (uint32_t)i)[3] = 0; /* unused byte; our build lock */
    return 0;
}

static int read_lengths(hnsw_index *h, const char *dir, cm_err *err)
{
    in_file f;
    if (in_open(&f, dir, "length.bin", err) < 0)
        return -1;
    size_t need = h->count * sizeof(float);
    int rc = 0;
    if (f.size < need)
        rc = cm_err_set(err, "length.bin is %llu bytes, %zu elements need %zu", (unsigned long long)f.size, h->count,
                        need);
    else
        rc = in_read(&f, h->norms, need, err);
    close(f.fd);
    return rc;
}

/* The upper levels: the file becomes the arena (its u32 lengths stay in
 * between the blocks, unused). */
static int read_link_lists(hnsw_index *h, const hnswlib_header *hd, const char *dir, cm_err *err)
{
    in_file f;
    if (in_open(&f, dir, "link_lists.bin", err) < 0)
        return -1;
    if (f.size > SIZE_MAX / 2) {
        close(f.fd);
        return cm_err_set(err, "link_lists.bin is too large");
    }
    size_t size = (size_t)f.size;
    free(h->upper);
    h->upper = xmalloc(size ? size : 1);
    h->upper_cap = size ? size : 1;
    h->upper_len = size;
    int rc = in_read(&f, h->upper, size, err);
    close(f.fd);
    if (rc < 0)
        return -1;
    return scan_link_lists(h->upper, 0, size, hd, h->links_size, "link_lists.bin: ", h->levels, h->upper_off, err);
}

hnsw_index *hnsw_read_chroma_files_room(const char *dir, hnsw_space space, size_t room, cm_err *err)
{
    if (!le_host()) {
        cm_err_set(err, "reading Chroma's HNSW files needs a little-endian host");
        return NULL;
    }
    hnswlib_header hd;
    if (read_header(dir, &hd, err) < 0)
        return NULL;
    /* bound what the header asks us to allocate by what the files hold */
    in_file f;
    if (in_open(&f, dir, "data_level0.bin", err) < 0)
        return NULL;
    close(f.fd);
    if (f.size / hd.rec_size < hd.count) {
        cm_err_set(err, "data_level0.bin is %llu bytes, %llu elements need %llu", (unsigned long long)f.size,
                   (unsigned long long)hd.count, (unsigned long long)(hd.count * hd.rec_size));
        return NULL;
    }
    hnsw_params p = {.dim = (size_t)((hd.off_label - hd.off_data) / 4),
                     .M = (size_t)hd.M,
                     .ef_construction = (size_t)hd.efc,
                     .space = space,
                     .seed = 100,
                     .threads = 0};
    if (room > HN_MAX_ELEMENTS - hd.count) {
        cm_err_set(err, "HNSW index of %llu + %zu elements is too large", (unsigned long long)hd.count, room);
        return NULL;
    }
    hnsw_index *h = hnsw_new(&p, (size_t)hd.count + room, err);
    if (!h)
        return NULL;
    h->efc = (size_t)hd.efc;
    h->mult = hd.mult;
    h->count = (size_t)hd.count;
    if (h->count) {
        h->maxlevel = hd.maxlevel;
        h->entry = hd.entry;
    }
    if (read_level0(h, &hd, dir, err) < 0 || read_lengths(h, dir, err) < 0 || read_link_lists(h, &hd, dir, err) < 0) {
        hnsw_free(h);
        return NULL;
    }
    h->linked = h->count;
    return h;
}

hnsw_index *hnsw_read_chroma_files(const char *dir, hnsw_space space, cm_err *err)
{
    return hnsw_read_chroma_files_room(dir, space, 0, err);
}

/* ---- hnswlib's single file (index_<uuid>.bin) ------------------------------ */

int hnswlib_file_parse(hnswlib_file *x, const void *buf, size_t len, cm_err *err)
{
    memset(x, 0, sizeof *x);
    x->buf = buf;
    x->len = len;
    if (len < HNSWLIB_FIELDS_SIZE)
        return cm_err_set(err, "%zu bytes, shorter than the %d-byte header", len, HNSWLIB_FIELDS_SIZE);
    const unsigned char *p = buf;
    hnswlib_header_decode(p, &x->hd);
    if (hnswlib_header_check(&x->hd, "", err) < 0)
        return -1;
    if (x->hd.count == 0 && x->hd.maxlevel != -1)
        return cm_err_set(err, "an empty index with top level %d", x->hd.maxlevel);
    x->dim = (size_t)((x->hd.off_label - x->hd.off_data) / 4);
    x->links_size = 4 + 4 * (size_t)x->hd.maxM;
    /* count <= 2^31 and rec_size < 2^23, so the product cannot overflow */
    size_t avail = len - HNSWLIB_FIELDS_SIZE;
    if (x->hd.count > avail / x->hd.rec_size)
        return cm_err_set(err, "%llu elements of %llu bytes do not fit in the %zu bytes after the header",
                          (unsigned long long)x->hd.count, (unsigned long long)x->hd.rec_size, avail);
    x->level0 = p + HNSWLIB_FIELDS_SIZE;
    size_t n = (size_t)x->hd.count;
    x->levels = xmalloc((n ? n : 1) * sizeof *x->levels);
    x->upper = xmalloc((n ? n : 1) * sizeof *x->upper);
    if (check_level0(x->level0, &x->hd, "", &x->ndeleted, err) < 0 ||
        scan_link_lists(x->buf, HNSWLIB_FIELDS_SIZE + n * (size_t)x->hd.rec_size, len, &x->hd, x->links_size, "",
                        x->levels, x->upper, err) < 0) {
        hnswlib_file_free(x);
        return -1;
    }
    return 0;
}

void hnswlib_file_free(hnswlib_file *x)
{
    if (!x)
        return;
    free(x->levels);
    free(x->upper);
    x->levels = NULL;
    x->upper = NULL;
}
