/* hnswlib_file.c - reading hnswlib's single-file layout (see hnswlib_file.h).
 *
 * The file is untrusted: every size is bounded by the bytes actually there
 * before it is used, and the graph is checked the way Chroma's loader would
 * need it to be (links inside the index, link counts within maxM/maxM0,
 * linked elements present at that level, the entry point on the top level),
 * so that what passes can be written out as Chroma's files unchanged. */
#include "hnswlib_file.h"

#include <math.h>
#include <stdlib.h>

#include "../util/le.h"
#include "../util/mem.h"

/* Limits shared with Chroma-file reading in hnsw_files.c, so a converted
 * index always loads there too. */
#define HL_MAX_M 10000u
#define HL_MAX_DIM (1u << 20)
#define HL_MAX_EFC (1u << 20)
#define HL_MAX_ELEMENTS 0x7FFFFFFFu

static int check_header(const hl_index *x, cm_err *err)
{
    if (x->offset_level0 != 0)
        return cm_err_set(err, "offsetLevel0 is %llu, hnswlib always writes 0", (unsigned long long)x->offset_level0);
    if (x->M < 2 || x->M > HL_MAX_M || x->maxM != x->M || x->maxM0 != 2 * x->M)
        return cm_err_set(err, "M %llu, maxM %llu, maxM0 %llu are not hnswlib's (2 <= M <= %u, maxM = M, maxM0 = 2M)",
                          (unsigned long long)x->M, (unsigned long long)x->maxM, (unsigned long long)x->maxM0,
                          HL_MAX_M);
    if (x->off_data != 4 + 4 * x->maxM0)
        return cm_err_set(err, "offsetData %llu, expected %llu", (unsigned long long)x->off_data,
                          (unsigned long long)(4 + 4 * x->maxM0));
    if (x->off_label <= x->off_data || (x->off_label - x->off_data) % 4 != 0 ||
        (x->off_label - x->off_data) / 4 > HL_MAX_DIM)
        return cm_err_set(err, "label_offset %llu does not leave room for a vector after offsetData %llu",
                          (unsigned long long)x->off_label, (unsigned long long)x->off_data);
    if (x->rec_size != x->off_label + 8)
        return cm_err_set(err, "size_data_per_element %llu, expected %llu", (unsigned long long)x->rec_size,
                          (unsigned long long)(x->off_label + 8));
    if (x->count > HL_MAX_ELEMENTS)
        return cm_err_set(err, "%llu elements is more than this tool handles", (unsigned long long)x->count);
    if (x->count > x->max_elements)
        return cm_err_set(err, "cur_element_count %llu exceeds max_elements %llu", (unsigned long long)x->count,
                          (unsigned long long)x->max_elements);
    if (!(x->mult > 0 && x->mult <= 10))
        return cm_err_set(err, "mult %g is implausible", x->mult);
    if (x->efc < 1 || x->efc > HL_MAX_EFC)
        return cm_err_set(err, "ef_construction %llu is implausible", (unsigned long long)x->efc);
    if (x->count > 0 && (x->entry >= x->count || x->maxlevel < 0))
        return cm_err_set(err, "entry point %u at level %d is not one of the %llu elements", x->entry, x->maxlevel,
                          (unsigned long long)x->count);
    if (x->count == 0 && x->maxlevel != -1)
        return cm_err_set(err, "an empty index with top level %d", x->maxlevel);
    return 0;
}

static int check_level0(hl_index *x, cm_err *err)
{
    for (size_t i = 0; i < x->count; i++) {
        const unsigned char *r = hl_record(x, i);
        size_t n = le_get16(r);
        if (n > x->maxM0)
            return cm_err_set(err, "element %zu has %zu level-0 links, more than maxM0 %llu", i, n,
                              (unsigned long long)x->maxM0);
        if (r[2] & ~HL_DELETED)
            return cm_err_set(err, "element %zu has unknown flags 0x%02x", i, r[2]);
        if (r[2] & HL_DELETED)
            x->ndeleted++;
        for (size_t j = 0; j < n; j++) {
            uint32_t id = le_get32(r + 4 + 4 * j);
            if (id >= x->count)
                return cm_err_set(err, "element %zu links to %u at level 0, but there are %llu elements", i, id,
                                  (unsigned long long)x->count);
        }
    }
    return 0;
}

static int read_link_lists(hl_index *x, size_t pos, cm_err *err)
{
    for (size_t i = 0; i < x->count; i++) {
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
        if (level > (size_t)x->maxlevel)
            return cm_err_set(err, "element %zu has level %zu, above the top level %d", i, level, x->maxlevel);
        x->levels[i] = (uint32_t)level;
        x->upper[i] = pos;
        pos += bytes;
    }
    if (pos != x->len)
        return cm_err_set(err, "%zu bytes follow the last element's links", x->len - pos);
    for (size_t i = 0; i < x->count; i++) {
        for (uint32_t l = 1; l <= x->levels[i]; l++) {
            const unsigned char *b = x->buf + x->upper[i] + (size_t)(l - 1) * x->links_size;
            size_t n = le_get16(b);
            if (n > x->maxM)
                return cm_err_set(err, "element %zu has %zu links at level %u, more than maxM %llu", i, n, l,
                                  (unsigned long long)x->maxM);
            for (size_t j = 0; j < n; j++) {
                uint32_t id = le_get32(b + 4 + 4 * j);
                if (id >= x->count)
                    return cm_err_set(err, "element %zu links to %u at level %u, but there are %llu elements", i, id,
                                      l, (unsigned long long)x->count);
                if (x->levels[id] < l)
                    return cm_err_set(err, "element %zu links to %u at level %u, which stops at level %u", i, id, l,
                                      x->levels[id]);
            }
        }
    }
    if (x->count && x->levels[x->entry] != (uint32_t)x->maxlevel)
        return cm_err_set(err, "the entry point %u has level %u, not the top level %d", x->entry,
                          x->levels[x->entry], x->maxlevel);
    return 0;
}

int hl_parse(hl_index *x, const void *buf, size_t len, cm_err *err)
{
    memset(x, 0, sizeof *x);
    x->buf = buf;
    x->len = len;
    if (len < HL_HEADER_SIZE)
        return cm_err_set(err, "%zu bytes, shorter than the %d-byte header", len, HL_HEADER_SIZE);
    const unsigned char *p = buf;
    x->offset_level0 = le_get64(p + 0);
    x->max_elements = le_get64(p + 8);
    x->count = le_get64(p + 16);
    x->rec_size = le_get64(p + 24);
    x->off_label = le_get64(p + 32);
    x->off_data = le_get64(p + 40);
    x->maxlevel = (int32_t)le_get32(p + 48);
    x->entry = le_get32(p + 52);
    x->maxM = le_get64(p + 56);
    x->maxM0 = le_get64(p + 64);
    x->M = le_get64(p + 72);
    uint64_t mb = le_get64(p + 80);
    memcpy(&x->mult, &mb, sizeof mb);
    x->efc = le_get64(p + 88);
    if (check_header(x, err) < 0)
        return -1;
    x->dim = (size_t)((x->off_label - x->off_data) / 4);
    x->links_size = 4 + 4 * (size_t)x->maxM;
    /* count <= 2^31 and rec_size < 2^23, so the product cannot overflow */
    size_t avail = len - HL_HEADER_SIZE;
    if (x->count > avail / x->rec_size)
        return cm_err_set(err, "%llu elements of %llu bytes do not fit in the %zu bytes after the header",
                          (unsigned long long)x->count, (unsigned long long)x->rec_size, avail);
    x->level0 = p + HL_HEADER_SIZE;
    size_t n = (size_t)x->count;
    x->levels = xmalloc((n ? n : 1) * sizeof *x->levels);
    x->upper = xmalloc((n ? n : 1) * sizeof *x->upper);
    if (check_level0(x, err) < 0 || read_link_lists(x, HL_HEADER_SIZE + n * (size_t)x->rec_size, err) < 0) {
        hl_free(x);
        return -1;
    }
    return 0;
}

void hl_free(hl_index *x)
{
    if (!x)
        return;
    free(x->levels);
    free(x->upper);
    x->levels = NULL;
    x->upper = NULL;
}
