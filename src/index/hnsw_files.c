/* hnsw_files.c - Chroma's four HNSW files (chroma-core/hnswlib's persistent
 * layout): header.bin, data_level0.bin, length.bin, link_lists.bin.
 *
 * The records in memory are already data_level0.bin's, so writing is one
 * sequential write per file. Reading checks every count, level and link
 * against the header before anything else looks at them. */
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
#include "hnsw_impl.h"

#define HEADER_SIZE 100
#define PERSISTENCE_VERSION 1
#define READ_CHUNK (8u << 20)

/* ---- writing ------------------------------------------------------------- */

void hn_chroma_header(unsigned char *p, const hn_header *h)
{
    uint64_t mult_bits;
    memcpy(&mult_bits, &h->mult, sizeof mult_bits);
    le_put32(p + 0, PERSISTENCE_VERSION);
    le_put64(p + 4, 0);         /* offsetLevel0_ */
    le_put64(p + 12, h->count); /* max_elements_ = count: Chroma grows it on the next add */
    le_put64(p + 20, h->count); /* cur_element_count */
    le_put64(p + 28, h->rec_size);
    le_put64(p + 36, h->off_label);
    le_put64(p + 44, h->off_data);
    le_put32(p + 52, (uint32_t)h->maxlevel);
    le_put32(p + 56, h->entry);
    le_put64(p + 60, h->maxM);
    le_put64(p + 68, h->maxM0);
    le_put64(p + 76, h->M);
    le_put64(p + 84, mult_bits);
    le_put64(p + 92, h->efc);
}

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
    unsigned char hdr[HEADER_SIZE];
    hn_header hh = {.count = h->count,
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
    hn_chroma_header(hdr, &hh);
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

typedef struct header {
    uint64_t max_elements, count, rec_size, off_label, off_data, maxM, maxM0, M, efc;
    int32_t version, maxlevel;
    uint32_t entry;
    uint64_t offset_level0;
    double mult;
} header;

static int read_header(const char *dir, header *hd, cm_err *err)
{
    in_file f;
    if (in_open(&f, dir, "header.bin", err) < 0)
        return -1;
    unsigned char p[HEADER_SIZE];
    int rc = 0;
    if (f.size != HEADER_SIZE)
        rc = cm_err_set(err, "header.bin is %llu bytes, expected %d", (unsigned long long)f.size, HEADER_SIZE);
    else
        rc = in_read(&f, p, sizeof p, err);
    close(f.fd);
    if (rc < 0)
        return -1;
    hd->version = (int32_t)le_get32(p);
    hd->offset_level0 = le_get64(p + 4);
    hd->max_elements = le_get64(p + 12);
    hd->count = le_get64(p + 20);
    hd->rec_size = le_get64(p + 28);
    hd->off_label = le_get64(p + 36);
    hd->off_data = le_get64(p + 44);
    hd->maxlevel = (int32_t)le_get32(p + 52);
    hd->entry = le_get32(p + 56);
    hd->maxM = le_get64(p + 60);
    hd->maxM0 = le_get64(p + 68);
    hd->M = le_get64(p + 76);
    uint64_t mb = le_get64(p + 84);
    memcpy(&hd->mult, &mb, sizeof mb);
    hd->efc = le_get64(p + 92);
    return 0;
}

static int check_header(const header *hd, cm_err *err)
{
    if (hd->version != PERSISTENCE_VERSION)
        return cm_err_set(err, "header.bin: persistence version %d, expected %d", hd->version, PERSISTENCE_VERSION);
    if (hd->offset_level0 != 0)
        return cm_err_set(err, "header.bin: offsetLevel0 is %llu, expected 0", (unsigned long long)hd->offset_level0);
    if (hd->M < 2 || hd->M > 10000 || hd->maxM != hd->M || hd->maxM0 != 2 * hd->M)
        return cm_err_set(err, "header.bin: M %llu, maxM %llu, maxM0 %llu are not hnswlib's (M >= 2, maxM = M, maxM0 = 2M)",
                          (unsigned long long)hd->M, (unsigned long long)hd->maxM, (unsigned long long)hd->maxM0);
    if (hd->off_data != 4 + 4 * hd->maxM0)
        return cm_err_set(err, "header.bin: offsetData %llu, expected %llu", (unsigned long long)hd->off_data,
                          (unsigned long long)(4 + 4 * hd->maxM0));
    if (hd->off_label <= hd->off_data || (hd->off_label - hd->off_data) % 4 != 0 ||
        (hd->off_label - hd->off_data) / 4 > (1u << 20))
        return cm_err_set(err, "header.bin: label_offset %llu does not fit a vector after offsetData %llu",
                          (unsigned long long)hd->off_label, (unsigned long long)hd->off_data);
    if (hd->rec_size != hd->off_label + 8)
        return cm_err_set(err, "header.bin: size_data_per_element %llu, expected %llu", (unsigned long long)hd->rec_size,
                          (unsigned long long)(hd->off_label + 8));
    if (hd->count > HN_MAX_ELEMENTS)
        return cm_err_set(err, "header.bin: %llu elements is more than this tool handles",
                          (unsigned long long)hd->count);
    if (hd->count > hd->max_elements)
        return cm_err_set(err, "header.bin: cur_element_count %llu exceeds max_elements %llu",
                          (unsigned long long)hd->count, (unsigned long long)hd->max_elements);
    if (!(hd->mult > 0 && hd->mult <= 10))
        return cm_err_set(err, "header.bin: mult %g is implausible", hd->mult);
    if (hd->efc < 1 || hd->efc > (1u << 20))
        return cm_err_set(err, "header.bin: ef_construction %llu is implausible", (unsigned long long)hd->efc);
    if (hd->count > 0 && (hd->entry >= hd->count || hd->maxlevel < 0))
        return cm_err_set(err, "header.bin: entry point %u at level %d is not one of the %llu elements", hd->entry,
                          hd->maxlevel, (unsigned long long)hd->count);
    return 0;
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
    header hd;
    if (read_header(dir, &hd, err) < 0 || check_header(&hd, err) < 0)
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
