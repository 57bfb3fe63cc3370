/* hnsw_files.h - the one codec of hnswlib's on-disk graph
 * (docs/formats.md#hnsw-files), shared by every reader and writer of it:
 *  - the 13 header fields hnswlib writes (HNSWLIB_FIELDS_SIZE bytes);
 *  - Chroma's header.bin: a persistence version, then those fields
 *    (HNSW_HEADER_BIN_SIZE bytes), read and written by hnsw_files.c with
 *    data_level0.bin, length.bin and link_lists.bin (hnsw.h);
 *  - hnswlib's own single file (saveIndex), as chromadb 0.3.x left it in
 *    index/index_<uuid>.bin (docs/formats.md#legacy-index): the fields
 *    without the version, count level-0 records of size_data_per_element
 *    bytes (u16 link count, u8 flags with bit 0 = deleted, u8 unused, maxM0
 *    u32 links, the vector at offsetData, the u64 label at label_offset),
 *    then per element a u32 byte length and that many bytes of upper-level
 *    link blocks (one per level 1..level, each a u32 count + maxM u32 ids) -
 *    the record and link layout of Chroma's data_level0.bin and
 *    link_lists.bin.
 * The single-file layout is an hnswlib format, not a Chroma one, so it lives
 * here beside Chroma's files rather than with the legacy store that holds
 * it. Everything is read from untrusted bytes: every count, offset, level
 * and link is checked before anything trusts it. */
#ifndef CM_INDEX_HNSW_FILES_H
#define CM_INDEX_HNSW_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../util/le.h"

#define HNSWLIB_FIELDS_SIZE 96   /* hnswlib's header fields (saveIndex) */
#define HNSW_HEADER_BIN_SIZE 100 /* header.bin: i32 persistence version + the fields */
#define HNSW_PERSISTENCE_VERSION 1
#define HNSWLIB_DELETED 0x01u    /* the deleted bit of a level-0 record's flags */

/* The header fields, as stored. */
typedef struct hnswlib_header {
    uint64_t offset_level0, max_elements, count, rec_size, off_label, off_data, maxM, maxM0, M, efc;
    int32_t maxlevel;
    uint32_t entry;
    double mult;
} hnswlib_header;

/* p: HNSWLIB_FIELDS_SIZE bytes (the single file's start, header.bin + 4). */
void hnswlib_header_decode(const unsigned char *p, hnswlib_header *h);
/* header.bin into p[0..HNSW_HEADER_BIN_SIZE): persistence version 1, then
 * the fields with offsetLevel0 = 0 and max_elements = count (Chroma grows it
 * on the next add), whatever h holds there. */
void hnsw_header_bin_encode(unsigned char *p, const hnswlib_header *h);
/* header.bin (as hnsw_header_bin_encode makes it) into dir, fsynced. */
int hnsw_write_header_bin(const char *dir, const hnswlib_header *hd, cm_err *err);
/* link_lists.bin into dir, fsynced: per element i a u32 byte length
 * levels[i] * links_size, then that many bytes from base + off[i] (its
 * level-1 block onwards). Both Chroma's own graph and a converted one are
 * written so. */
int hnswlib_write_link_lists(const char *dir, size_t count, const int *levels, const unsigned char *base,
                             const size_t *off, size_t links_size, cm_err *err);
/* Whether the fields are hnswlib's for a graph this tool can hold (M,
 * offsets, record size, counts, mult, ef_construction, entry point); each
 * message starts with `what` ("header.bin: ", or ""). */
int hnswlib_header_check(const hnswlib_header *h, const char *what, cm_err *err);

/* A parsed single-file index. */
typedef struct hnswlib_file {
    const unsigned char *buf; /* the whole file (not owned) */
    size_t len;
    hnswlib_header hd;
    /* derived */
    size_t dim;        /* (label_offset - offsetData) / 4 */
    size_t links_size; /* bytes per upper-level block: 4 + 4 maxM */
    size_t ndeleted;   /* elements with the deleted flag */
    const unsigned char *level0; /* count * rec_size bytes */
    int *levels;       /* per element: its top level */
    size_t *upper;     /* per element: offset in buf of its level-1 block */
} hnswlib_file;

/* Parses and checks a whole file image. 0, or -1 with err saying what is
 * wrong (x holds nothing to free then). x->buf points into buf, which must
 * outlive x. */
int hnswlib_file_parse(hnswlib_file *x, const void *buf, size_t len, cm_err *err);
void hnswlib_file_free(hnswlib_file *x);

static inline const unsigned char *hnswlib_record(const hnswlib_file *x, size_t i)
{
    return x->level0 + i * x->hd.rec_size;
}

static inline uint64_t hnswlib_label(const hnswlib_file *x, size_t i)
{
    return le_get64(hnswlib_record(x, i) + x->hd.off_label);
}

static inline int hnswlib_is_deleted(const hnswlib_file *x, size_t i)
{
    return (hnswlib_record(x, i)[2] & HNSWLIB_DELETED) != 0;
}

/* The stored vector's bytes (dim float32, little-endian; not necessarily
 * 4-byte aligned in memory). */
static inline const unsigned char *hnswlib_vector_bytes(const hnswlib_file *x, size_t i)
{
    return hnswlib_record(x, i) + x->hd.off_data;
}

/* Element i's upper-level blocks: levels[i] * links_size bytes. */
static inline const unsigned char *hnswlib_upper_bytes(const hnswlib_file *x, size_t i)
{
    return x->buf + x->upper[i];
}

#endif
