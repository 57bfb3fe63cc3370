/* pickle_write.c - the protocol-2 opcodes chroma-migrate writes, byte for
 * byte as CPython's pickler emits them.
 *
 * Only what a dict-of-ints-and-strings object needs: the caller composes
 * opcodes (GLOBAL, NEWOBJ, MARK, SETITEMS, BUILD ...) in the order Python
 * would, so the result matches a pickle Python wrote for the same object.
 * What object that is (class name, keys) is the caller's business: this
 * file knows the pickle format and nothing of Chroma. Output goes through a
 * large stdio buffer; write errors are collected and reported once, at
 * pk_out_close. */
#include "pickle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/le.h"
#include "../util/mem.h"

#define PK_WRITE_BUF (256u * 1024)

struct pk_out {
    char *path;
    FILE *f;
    char *vbuf; /* stdio buffer; outlives f */
};

pk_out *pk_out_open(const char *path, cm_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        cm_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pk_out *o = xcalloc(1, sizeof *o);
    o->path = xstrdup(path);
    o->f = f;
    o->vbuf = xmalloc(PK_WRITE_BUF);
    setvbuf(f, o->vbuf, _IOFBF, PK_WRITE_BUF);
    return o;
}

const char *pk_out_path(const pk_out *o)
{
    return o->path;
}

static void put_bytes(FILE *f, const void *p, size_t n)
{
    if (n)
        fwrite(p, 1, n, f);
}

static void put_u32le(FILE *f, uint32_t v)
{
    unsigned char b[4];
    le_put32(b, v);
    put_bytes(f, b, 4);
}

void pk_out_op(pk_out *o, pk_opcode op)
{
    putc((int)op, o->f);
}

void pk_out_proto(pk_out *o, int version)
{
    putc(PK_OP_PROTO, o->f);
    putc(version, o->f);
}

void pk_out_global(pk_out *o, const char *module, const char *name)
{
    putc(PK_OP_GLOBAL, o->f);
    put_bytes(o->f, module, strlen(module));
    putc('\n', o->f);
    put_bytes(o->f, name, strlen(name));
    putc('\n', o->f);
}

/* The smallest of BININT1, BININT2, BININT and LONG1 that holds v, which is
 * the choice CPython's save_long makes at protocol 2. */
void pk_out_int(pk_out *o, int64_t v)
{
    FILE *f = o->f;
    if (v >= 0 && v <= 0xff) {
        putc(PK_OP_BININT1, f);
        putc((int)v, f);
    } else if (v >= 0 && v <= 0xffff) {
        putc(PK_OP_BININT2, f);
        putc((int)(v & 0xff), f);
        putc((int)(v >> 8), f);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        putc(PK_OP_BININT, f);
        put_u32le(f, (uint32_t)(int32_t)v);
    } else {
        /* LONG1: the shortest little-endian two's complement. */
        unsigned char b[8];
        le_put64(b, (uint64_t)v);
        int n = 8;
        while (n > 1 && ((b[n - 1] == 0x00 && !(b[n - 2] & 0x80)) || (b[n - 1] == 0xff && (b[n - 2] & 0x80))))
            n--;
        putc(PK_OP_LONG1, f);
        putc(n, f);
        put_bytes(f, b, (size_t)n);
    }
}

/* BINUNICODE even for short strings: protocol 2 has no SHORT_BINUNICODE. */
void pk_out_str(pk_out *o, const char *s, size_t n)
{
    putc(PK_OP_BINUNICODE, o->f);
    put_u32le(o->f, (uint32_t)n);
    put_bytes(o->f, s, n);
}

static void out_free(pk_out *o, int remove_file)
{
    if (!o)
        return;
    if (o->f)
        fclose(o->f);
    if (remove_file && o->path)
        unlink(o->path);
    free(o->vbuf);
    free(o->path);
    free(o);
}

int pk_out_close(pk_out *o, cm_err *err)
{
    FILE *f = o->f;
    int bad = ferror(f) != 0;
    int e = bad ? EIO : 0;
    if (!bad && fflush(f) != 0) {
        bad = 1;
        e = errno;
    }
    if (!bad && fsync(fileno(f)) != 0) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        cm_err_set(err, "%s: writing failed: %s", o->path, strerror(e));
        out_free(o, 1);
        return -1;
    }
    out_free(o, 0);
    return 0;
}

void pk_out_abort(pk_out *o)
{
    out_free(o, 1);
}
