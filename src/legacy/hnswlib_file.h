/* hnswlib_file.h - hnswlib's single-file index (saveIndex), as chromadb 0.3.x
 * left it in index/index_<uuid>.bin, read from memory with every count,
 * offset, level and link checked before anything trusts it.
 *
 * Layout (little-endian, size_t = 8 bytes): a 96-byte header
 *   offsetLevel0 u64, max_elements u64, cur_element_count u64,
 *   size_data_per_element u64, label_offset u64, offsetData u64,
 *   maxlevel i32, enterpoint_node u32, maxM u64, maxM0 u64, M u64,
 *   mult f64, ef_construction u64
 * then cur_element_count level-0 records of size_data_per_element bytes
 * (u16 link count, u8 flags with bit 0 = deleted, u8 unused, maxM0 u32 links,
 * the vector at offsetData, the u64 label at label_offset), then per element
 * a u32 byte length and that many bytes of upper-level link blocks (one per
 * level 1..level, each a u32 count + maxM u32 ids). This is the same record
 * and link layout as Chroma's data_level0.bin / link_lists.bin. */
#ifndef CM_INDEX_HNSWLIB_FILE_H
#define CM_INDEX_HNSWLIB_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../util/err.h"

#define HL_HEADER_SIZE 96
#define HL_DELETED 0x01u

typedef struct hl_index {
    const unsigned char *buf; /* the whole file (not owned) */
    size_t len;
    /* header, as stored */
    uint64_t offset_level0, max_elements, count, rec_size, off_label, off_data, maxM, maxM0, M, efc;
    int32_t maxlevel;
    uint32_t entry;
    double mult;
    /* derived */
    size_t dim;        /* (label_offset - offsetData) / 4 */
    size_t links_size; /* bytes per upper-level block: 4 + 4 maxM */
    size_t ndeleted;   /* elements with the deleted flag */
    const unsigned char *level0; /* count * rec_size bytes */
    uint32_t *levels;  /* per element: its top level */
    size_t *upper;     /* per element: offset in buf of its level-1 block */
} hl_index;

/* Parses and checks a whole file image. 0, or -1 with err saying what is
 * wrong (x holds nothing to free then). x->buf points into buf, which must
 * outlive x. */
int hl_parse(hl_index *x, const void *buf, size_t len, cm_err *err);
void hl_free(hl_index *x);

static inline const unsigned char *hl_record(const hl_index *x, size_t i)
{
    return x->level0 + i * x->rec_size;
}

static inline uint64_t hl_label(const hl_index *x, size_t i)
{
    const unsigned char *p = hl_record(x, i) + x->off_label;
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

static inline int hl_is_deleted(const hl_index *x, size_t i)
{
    return (hl_record(x, i)[2] & HL_DELETED) != 0;
}

/* The stored vector's bytes (dim float32, little-endian; not necessarily
 * 4-byte aligned in memory). */
static inline const unsigned char *hl_vector_bytes(const hl_index *x, size_t i)
{
    return hl_record(x, i) + x->off_data;
}

/* Element i's upper-level blocks: levels[i] * links_size bytes. */
static inline const unsigned char *hl_upper_bytes(const hl_index *x, size_t i)
{
    return x->buf + x->upper[i];
}

#endif
