/* pickle.h - Python pickles without Python.
 *
 * Writing: the protocol-2 opcodes a dict-shaped object needs, byte for byte
 * as CPython writes them (pickle_write.c).
 *
 * Reading: a minimal, safe unpickler for the opcodes legacy stores use (dicts,
 * ints, strings, uuid.UUID objects). It never imports or calls anything: a
 * GLOBAL is only recorded as a name; unknown opcodes are an error. */
#ifndef CM_FORMAT_PICKLE_H
#define CM_FORMAT_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

/* Every opcode of pickle protocols 0-5 by its CPython name (Lib/pickle.py):
 * the writer emits some, the reader's dispatch table is indexed by them and an
 * unsupported one is named in the error. */
typedef enum pk_opcode {
    /* protocols 0 and 1 */
    PK_OP_MARK = '(',
    PK_OP_STOP = '.',
    PK_OP_POP = '0',
    PK_OP_POP_MARK = '1',
    PK_OP_DUP = '2',
    PK_OP_FLOAT = 'F',
    PK_OP_INT = 'I',
    PK_OP_BININT = 'J',
    PK_OP_BININT1 = 'K',
    PK_OP_LONG = 'L',
    PK_OP_BININT2 = 'M',
    PK_OP_NONE = 'N',
    PK_OP_PERSID = 'P',
    PK_OP_BINPERSID = 'Q',
    PK_OP_REDUCE = 'R',
    PK_OP_STRING = 'S',
    PK_OP_BINSTRING = 'T',
    PK_OP_SHORT_BINSTRING = 'U',
    PK_OP_UNICODE = 'V',
    PK_OP_BINUNICODE = 'X',
    PK_OP_APPEND = 'a',
    PK_OP_BUILD = 'b',
    PK_OP_GLOBAL = 'c',
    PK_OP_DICT = 'd',
    PK_OP_EMPTY_DICT = '}',
    PK_OP_APPENDS = 'e',
    PK_OP_GET = 'g',
    PK_OP_BINGET = 'h',
    PK_OP_INST = 'i',
    PK_OP_LONG_BINGET = 'j',
    PK_OP_LIST = 'l',
    PK_OP_EMPTY_LIST = ']',
    PK_OP_OBJ = 'o',
    PK_OP_PUT = 'p',
    PK_OP_BINPUT = 'q',
    PK_OP_LONG_BINPUT = 'r',
    PK_OP_SETITEM = 's',
    PK_OP_TUPLE = 't',
    PK_OP_EMPTY_TUPLE = ')',
    PK_OP_SETITEMS = 'u',
    PK_OP_BINFLOAT = 'G',
    /* protocol 3 */
    PK_OP_BINBYTES = 'B',
    PK_OP_SHORT_BINBYTES = 'C',
    /* protocol 2 (0x80-0x8b), 4 (0x8c-0x95), 5 (0x96-0x98) */
    PK_OP_PROTO = 0x80,
    PK_OP_NEWOBJ = 0x81,
    PK_OP_EXT1 = 0x82,
    PK_OP_EXT2 = 0x83,
    PK_OP_EXT4 = 0x84,
    PK_OP_TUPLE1 = 0x85,
    PK_OP_TUPLE2 = 0x86,
    PK_OP_TUPLE3 = 0x87,
    PK_OP_NEWTRUE = 0x88,
    PK_OP_NEWFALSE = 0x89,
    PK_OP_LONG1 = 0x8a,
    PK_OP_LONG4 = 0x8b,
    PK_OP_SHORT_BINUNICODE = 0x8c,
    PK_OP_BINUNICODE8 = 0x8d,
    PK_OP_BINBYTES8 = 0x8e,
    PK_OP_EMPTY_SET = 0x8f,
    PK_OP_ADDITEMS = 0x90,
    PK_OP_FROZENSET = 0x91,
    PK_OP_NEWOBJ_EX = 0x92,
    PK_OP_STACK_GLOBAL = 0x93,
    PK_OP_MEMOIZE = 0x94,
    PK_OP_FRAME = 0x95,
    PK_OP_BYTEARRAY8 = 0x96,
    PK_OP_NEXT_BUFFER = 0x97,
    PK_OP_READONLY_BUFFER = 0x98,
} pk_opcode;

/* ---- writer (pickle_write.c) ----
 *
 * Protocol-2 opcodes, written as CPython's pickler writes them; the caller
 * composes them into an object (src/chroma/persistent_data.c does Chroma's
 * PersistentData). Write errors surface at pk_out_close. */

/* CPython's pickler emits dict items in SETITEMS batches of this many. */
#define PK_BATCHSIZE 1000

typedef struct pk_out pk_out;

/* Creates/truncates path now, so a bad path fails early. */
pk_out *pk_out_open(const char *path, cm_err *err);
const char *pk_out_path(const pk_out *o);
void pk_out_op(pk_out *o, pk_opcode op); /* an opcode without argument */
void pk_out_proto(pk_out *o, int version);
void pk_out_global(pk_out *o, const char *module, const char *name);
void pk_out_int(pk_out *o, int64_t v);
void pk_out_str(pk_out *o, const char *s, size_t n); /* n < 4 GiB */
/* fflush + fsync + fclose (the directory is not synced). Always consumes o;
 * on failure the file is removed. */
int pk_out_close(pk_out *o, cm_err *err);
/* Closes and removes the file. NULL is fine. */
void pk_out_abort(pk_out *o);

/* ---- reader ----
 *
 * pk_load parses a whole pickle (protocols 0-5, binary opcodes only) into a
 * tree of pk_value. Supported opcodes: PROTO FRAME STOP MARK EMPTY_DICT
 * EMPTY_LIST EMPTY_TUPLE TUPLE TUPLE1-3 APPEND APPENDS SETITEM SETITEMS BININT
 * BININT1 BININT2 LONG1 LONG4 NONE NEWTRUE NEWFALSE BINFLOAT SHORT_BINUNICODE
 * BINUNICODE BINUNICODE8 SHORT_BINBYTES BINBYTES MEMOIZE BINPUT LONG_BINPUT
 * BINGET LONG_BINGET GLOBAL STACK_GLOBAL NEWOBJ REDUCE BUILD. Anything else is
 * an error naming the opcode and its byte offset.
 *
 * Nothing is imported or called: GLOBAL/STACK_GLOBAL give a PK_GLOBAL (a
 * module and a name); NEWOBJ and REDUCE give a PK_OBJECT that records the
 * class and the arguments; BUILD attaches its state to that object.
 *
 * Values shared through the memo stay shared (the tree is a DAG, as in
 * Python); cycles and nesting deeper than PK_MAX_DEPTH are rejected, so a
 * recursive walk of the result is safe. All values of one load live and die
 * together: pk_free the root that pk_load returned, never an inner value.
 * Memory is bounded by a small multiple of the input size. */

#define PK_MAX_DEPTH 1000

typedef enum pk_type {
    PK_NONE,
    PK_BOOL,
    PK_INT,    /* fits int64 */
    PK_BIGINT, /* u.str: the LONG1/LONG4 payload (little-endian two's complement) */
    PK_FLOAT,
    PK_STR,    /* u.str: the UTF-8 bytes as stored (not validated) */
    PK_BYTES,  /* u.str */
    PK_TUPLE,  /* u.seq */
    PK_LIST,   /* u.seq */
    PK_DICT,   /* u.dict: pairs in pickle order; duplicate keys are not merged
                * (inserting them in order into a map gives Python's result) */
    PK_GLOBAL, /* u.global: a class or function reference, never resolved */
    PK_OBJECT, /* u.obj: cls(*args) via NEWOBJ or REDUCE, plus BUILD state */
} pk_type;

typedef struct pk_value pk_value;

typedef struct pk_pair {
    pk_value *key, *value;
} pk_pair;

struct pk_value {
    pk_type type;
    union {
        int b;
        int64_t i;
        double f;
        struct {
            char *s; /* NUL-terminated for convenience; may contain NULs */
            size_t len;
        } str;
        struct {
            pk_value **items;
            size_t n;
        } seq;
        struct {
            pk_pair *pairs;
            size_t n;
        } dict;
        struct {
            char *module, *name; /* NUL-terminated */
        } global;
        struct {
            pk_value *cls;   /* a PK_GLOBAL */
            pk_value *args;  /* a PK_TUPLE */
            pk_value *state; /* NULL when no BUILD followed */
            int reduce;      /* 1: made by REDUCE, 0: by NEWOBJ */
        } obj;
    } u;
    /* private to the loader */
    size_t cap_;
    unsigned mark_;
    unsigned height_;
};

pk_value *pk_load(const void *data, size_t len, cm_err *err);
void pk_free(pk_value *root);

const char *pk_type_name(pk_type t);
/* The value stored under a string key (the last one, as Python would keep);
 * NULL if absent or d is not a PK_DICT. */
const pk_value *pk_dict_get(const pk_value *d, const char *key);
/* 1 and *out for a PK_INT (or a PK_BIGINT whose payload fits int64). */
int pk_get_int64(const pk_value *v, int64_t *out);
/* 1 if v is a PK_GLOBAL, or a PK_OBJECT whose class is, named module.name. */
int pk_is_class(const pk_value *v, const char *module, const char *name);
/* For a uuid.UUID object (STACK_GLOBAL uuid UUID, NEWOBJ, BUILD {'int': n}):
 * writes the 32 lowercase hex digits of n (0 <= n < 2**128) and a NUL and
 * returns 0; returns -1 (err set) for anything else. */
int pk_uuid_hex(const pk_value *v, char out[33], cm_err *err);

#endif
