/* thrift_compact.h - a reader for the Thrift compact protocol.
 *
 * A leaf module: Parquet stores its footer and page headers this way. The
 * reader walks a byte buffer; every read is bounds-checked and every failure
 * returns -1 with a message ("thrift: ... at byte N") in r->err. When the
 * failure was running out of bytes, r->eof is set too, so a caller reading
 * from a file can fetch more bytes and try again.
 *
 * Encoding, in short (Thrift's compact protocol specification):
 *   integers   i16/i32/i64 are zigzag ULEB128 varints; i8 is one raw byte
 *   double     8 bytes little-endian
 *   binary     varint length, then the bytes
 *   field      one byte: high nibble = id delta (1..15) from the previous
 *              field, low nibble = type; delta 0 means a zigzag i16 id
 *              follows (the "long form"). Type 0 (STOP) ends the struct.
 *              A bool field carries its value in the type (1 true, 2 false).
 *   list/set   one byte: high nibble = size (15 = a varint size follows),
 *              low nibble = element type; bool elements are one byte each
 *   map        varint size; if non-zero, one byte key type << 4 | value type
 *
 * Containers and structs nest; unknown fields are skipped whatever their
 * type, with nesting limited to TC_MAX_DEPTH so a hostile input cannot
 * exhaust the stack. */
#ifndef CM_FORMAT_THRIFT_COMPACT_H
#define CM_FORMAT_THRIFT_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

enum {
    TC_STOP = 0,
    TC_TRUE = 1, /* bool field whose value is true (also "bool" as a list element type) */
    TC_FALSE = 2,
    TC_I8 = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12,
};

#define TC_MAX_DEPTH 64

typedef struct tc_reader {
    const uint8_t *base, *p, *end;
    int depth; /* open structs and containers */
    int eof;   /* the last error was "ran out of bytes" */
    cm_err *err;
} tc_reader;

void tc_init(tc_reader *r, const void *buf, size_t len, cm_err *err);
/* Bytes consumed so far. */
size_t tc_pos(const tc_reader *r);

int tc_varint(tc_reader *r, uint64_t *v);
/* Any integer type (TC_I8..TC_I64) as read from a field of that type. */
int tc_int(tc_reader *r, int type, int64_t *v);
int tc_double(tc_reader *r, double *v);
/* The bytes point into the buffer. */
int tc_binary(tc_reader *r, const uint8_t **p, size_t *n);
/* A bool stored as a container element (one byte). */
int tc_bool_elem(tc_reader *r, int *v);

/* Struct: call tc_struct_begin, then tc_field until it returns 0 (STOP).
 * tc_field returns 1 with *id and *type set for each field; the caller must
 * read or tc_skip the value. A bool field's value is (*type == TC_TRUE) and
 * needs no further read. */
int tc_struct_begin(tc_reader *r, int16_t *last_id);
int tc_field(tc_reader *r, int16_t *last_id, int16_t *id, int *type);

/* Lists and sets: the header; then read n elements, then tc_container_end.
 * The size is checked to be plausible (at most one element per remaining
 * byte) before the caller allocates anything for it. */
int tc_list_begin(tc_reader *r, int *elem_type, uint32_t *n);
int tc_map_begin(tc_reader *r, int *key_type, int *val_type, uint32_t *n);
void tc_container_end(tc_reader *r);

/* Skips one value of the given type (a field's or an element's). */
int tc_skip(tc_reader *r, int type);

#endif
