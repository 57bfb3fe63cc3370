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

static int write_link_lists(const hnsw_index *h, const char *dir, cm_err *err)
{
    out_file o;
    if (out_open(&o, dir, "link_lists.bin", err) < 0)
        return -1;
    for (size_t i = 0; i < h->count && !o.failed; i++) {
        unsigned char len[4];
        size_t bytes = (size_t)h->levels[i] * h->links_size;
        le_put32(len, (uint32_t)bytes);
        out_put(&o, len, 4, err);
        if (bytes)
            out_put(&o, h->upper + h->upper_off[i], bytes, err);
    }
    return out_close(&o, err);
}

int hnsw_write_chroma_files(const hnsw_index *h, const char *dir, cm_err *err)
{
    if (!le_host())
        return cm_err_set(err, "writing Chroma's HNSW files needs a little-endian host");
    if (h->linked != h->count)
        return cm_err_set(err, "internal: %zu staged HNSW elements are not built yet", h->count - h->linked);
    unsigned char hdr[HNSW_HEADER_BIN_SIZE];
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
    hnsw_header_bin_encode(hdr, &hh);
    if (write_one(dir, "header.bin", hdr, sizeof hdr, err) < 0 ||
        write_one(dir, "data_level0.bin", h->data, h->count * h->rec_size, err) < 0 ||
        write_one(dir, "length.bin", h->norms, h->count * sizeof *h->norms, err) < 0 ||
        write_link_lists(h, dir, err) < 0)
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

static int read_level0(hnsw_index *h, const char *dir, cm_err *err)
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
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < h->count; i++) {
        unsigned char *r = hn_rec(h, (uint32_t)i);
        size_t n = hn_list_count(r);
        if (n > h->maxM0)
            return cm_err_set(err, "data_level0.bin: element %zu has %zu links, more than maxM0 %zu", i, n, h->maxM0);
        if (r[2] & ~HN_DELETED)
            return cm_err_set(err, "data_level0.bin: element %zu has unknown flags 0x%02x", i, r[2]);
        if (r[2] & HN_DELETED)
            h->ndeleted++;
        r[3] = 0; /* unused byte; our build lock */
        const uint32_t *ids = hn_list_ids(r);
        for (size_t j = 0; j < n; j++)
            if (ids[j] >= h->count)
                return cm_err_set(err, "data_level0.bin: element %zu links to %u, but there are %zu elements", i,
                                  ids[j], h->count);
    }
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
static int read_link_lists(hnsw_index *h, const char *dir, cm_err *err)
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
    size_t pos = 0;
    for (size_t i = 0; i < h->count; i++) {
        if (size - pos < 4)
            return cm_err_set(err, "link_lists.bin ends before element %zu", i);
        uint32_t len = le_get32(h->upper + pos);
        pos += 4;
        if (len % h->links_size != 0)
            return cm_err_set(err, "link_lists.bin: element %zu has %u bytes of links, not a multiple of %zu", i, len,
                              h->links_size);
        if (len > size - pos)
            return cm_err_set(err, "link_lists.bin: element %zu's %u bytes of links run past the end", i, len);
        h->levels[i] = (int)(len / h->links_size);
        h->upper_off[i] = pos;
        pos += len;
    }
    if (pos != size)
        return cm_err_set(err, "link_lists.bin has %zu bytes after the last element", size - pos);
    for (size_t i = 0; i < h->count; i++) {
        if (h->levels[i] > h->maxlevel)
            return cm_err_set(err, "link_lists.bin: element %zu has level %d, above the top level %d", i, h->levels[i],
                              h->maxlevel);
        for (int l = 1; l <= h->levels[i]; l++) {
            unsigned char *ll = hn_list(h, (uint32_t)i, l);
            size_t n = hn_list_count(ll);
            if (n > h->maxM)
                return cm_err_set(err, "link_lists.bin: element %zu has %zu links at level %d, more than maxM %zu", i,
                                  n, l, h->maxM);
            const uint32_t *ids = hn_list_ids(ll);
            for (size_t j = 0; j < n; j++) {
                if (ids[j] >= h->count)
                    return cm_err_set(err, "link_lists.bin: element %zu links to %u at level %d, but there are %zu elements",
                                      i, ids[j], l, h->count);
                if (h->levels[ids[j]] < l)
                    return cm_err_set(err, "link_lists.bin: element %zu links to %u at level %d, which stops at level %d",
                                      i, ids[j], l, h->levels[ids[j]]);
            }
        }
    }
    if (h->count && h->levels[h->entry] != h->maxlevel)
        return cm_err_set(err, "header.bin: entry point %u has level %d, not the top level %d", h->entry,
                          h->levels[h->entry], h->maxlevel);
    return 0;
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
    if (read_level0(h, dir, err) < 0 || read_lengths(h, dir, err) < 0 || read_link_lists(h, dir, err) < 0) {
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

static int single_check_level0(hnswlib_file *x, cm_err *err)
{
    for (size_t i = 0; i < x->hd.count; i++) {
        const unsigned char *r = hnswlib_record(x, i);
        size_t n = le_get16(r);
        if (n > x->hd.maxM0)
            return cm_err_set(err, "element %zu has %zu level-0 links, more than maxM0 %llu", i, n,
                              (unsigned long long)x->hd.maxM0);
        if (r[2] & ~HNSWLIB_DELETED)
            return cm_err_set(err, "element %zu has unknown flags 0x%02x", i, r[2]);
        if (r[2] & HNSWLIB_DELETED)
            x->ndeleted++;
        for (size_t j = 0; j < n; j++) {
            uint32_t id = le_get32(r + 4 + 4 * j);
            if (id >= x->hd.count)
                return cm_err_set(err, "element %zu links to %u at level 0, but there are %llu elements", i, id,
                                  (unsigned long long)x->hd.count);
        }
    }
    return 0;
}

static int single_read_link_lists(hnswlib_file *x, size_t pos, cm_err *err)
{
    for (size_t i = 0; i < x->hd.count; i++) {
        if (x->len - pos < 4)
            return cm_err_set(err, "the link lists end before element %zu", i);
        uint32_t bytes = le_get32(x->buf + pos);
        pos += 4;
        if (bytes % x->links_size != 0)
            return cm_err_set(err, "element %zu has %u bytes of upper-level links, not a multiple of %zu", i, bytes,
                              x->links_size);
        if (bytes > x->len - pos)
            return cm_err_set(err, "element %zu's %u bytes of upper-level links run past the end of the file", i,
                              bytes);
        size_t level = bytes / x->links_size;
        if (level > (size_t)x->hd.maxlevel)
            return cm_err_set(err, "element %zu has level %zu, above the top level %d", i, level, x->hd.maxlevel);
        x->levels[i] = (uint32_t)level;
        x->upper[i] = pos;
        pos += bytes;
    }
    if (pos != x->len)
        return cm_err_set(err, "%zu bytes follow the last element's links", x->len - pos);
    for (size_t i = 0; i < x->hd.count; i++) {
        for (uint32_t l = 1; l <= x->levels[i]; l++) {
            const unsigned char *b = x->buf + x->upper[i] + (size_t)(l - 1) * x->links_size;
            size_t n = le_get16(b);
            if (n > x->hd.maxM)
                return cm_err_set(err, "element %zu has %zu links at level %u, more than maxM %llu", i, n, l,
                                  (unsigned long long)x->hd.maxM);
            for (size_t j = 0; j < n; j++) {
                uint32_t id = le_get32(b + 4 + 4 * j);
                if (id >= x->hd.count)
                    return cm_err_set(err, "element %zu links to %u at level %u, but there are %llu elements", i, id,
                                      l, (unsigned long long)x->hd.count);
                if (x->levels[id] < l)
                    return cm_err_set(err, "element %zu links to %u at level %u, which stops at level %u", i, id, l,
                                      x->levels[id]);
            }
        }
    }
    if (x->hd.count && x->levels[x->hd.entry] != (uint32_t)x->hd.maxlevel)
        return cm_err_set(err, "the entry point %u has level %u, not the top level %d", x->hd.entry,
                          x->levels[x->hd.entry], x->hd.maxlevel);
    return 0;
}

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
    if (single_check_level0(x, err) < 0 || single_read_link_lists(x, HNSWLIB_FIELDS_SIZE + n * (size_t)x->hd.rec_size, err) < 0) {
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
