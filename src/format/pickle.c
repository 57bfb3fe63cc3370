/* pickle.c - the safe reader of pickle.h (the writer is pickle_write.c).
 *
 * A stack machine over the binary opcodes of pickle.h. Every value
 * of one load is registered in a list and freed with it, so memo sharing
 * needs no reference counts and nothing can be freed twice. An allowance
 * proportional to the input size caps what a load may allocate. */
#include "pickle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/hex.h"
#include "../util/mem.h"
#include "../util/utf8.h"

#define PK_MAX_STACK (1u << 24)

typedef struct pk_doc {
    pk_value root; /* first: pk_free casts back; a shallow copy of the result */
    pk_value **all;
    size_t nall;
} pk_doc;

typedef struct loader {
    const unsigned char *p;
    size_t len, pos, op_pos;
    pk_value **all;
    size_t nall, capall;
    pk_value **stack;
    size_t sn, scap;
    size_t *marks;
    size_t mn, mcap;
    pk_value **memo;
    size_t memo_cap, memo_count;
    size_t used, budget;
    pk_value *none, *vtrue, *vfalse, *empty_tuple;
    pk_value *result; /* set by STOP */
    cm_err *err;
} loader;

const char *pk_type_name(pk_type t)
{
    switch (t) {
    case PK_NONE: return "None";
    case PK_BOOL: return "bool";
    case PK_INT: return "int";
    case PK_BIGINT: return "int";
    case PK_FLOAT: return "float";
    case PK_STR: return "str";
    case PK_BYTES: return "bytes";
    case PK_TUPLE: return "tuple";
    case PK_LIST: return "list";
    case PK_DICT: return "dict";
    case PK_GLOBAL: return "global";
    case PK_OBJECT: return "object";
    }
    return "?";
}

static int lfail(loader *ld, const char *what)
{
    return cm_err_set(ld->err, "pickle: at byte %zu: %s", ld->op_pos, what);
}

static int charge(loader *ld, size_t n)
{
    if (n > ld->budget - ld->used) {
        cm_err_set(ld->err, "pickle: at byte %zu: needs more memory than a %zu-byte pickle can describe", ld->op_pos,
                   ld->len);
        return -1;
    }
    ld->used += n;
    return 0;
}

static pk_value *new_value(loader *ld, pk_type t)
{
    if (charge(ld, sizeof(pk_value) + sizeof(pk_value *)) < 0)
        return NULL;
    pk_value *v = xcalloc(1, sizeof *v);
    v->type = t;
    ld->all = xgrow(ld->all, &ld->capall, ld->nall + 1, sizeof *ld->all);
    ld->all[ld->nall++] = v;
    return v;
}

static void value_release(pk_value *v)
{
    switch (v->type) {
    case PK_BIGINT:
    case PK_STR:
    case PK_BYTES: free(v->u.str.s); break;
    case PK_TUPLE:
    case PK_LIST: free(v->u.seq.items); break;
    case PK_DICT: free(v->u.dict.pairs); break;
    case PK_GLOBAL:
        free(v->u.global.module);
        free(v->u.global.name);
        break;
    default: break;
    }
    free(v);
}

/* Grows an item array by doubling, starting small (most dicts are tiny). */
static void *grow_items(loader *ld, void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 2;
    while (c < need)
        c *= 2;
    if (charge(ld, (c - *cap) * size) < 0)
        return NULL;
    void *q = xrealloc(p, c * size);
    *cap = c;
    return q;
}

static int need(loader *ld, size_t n)
{
    if (ld->len - ld->pos < n)
        return lfail(ld, "unexpected end of data (truncated pickle?)");
    return 0;
}

static uint64_t rd_le(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static int push(loader *ld, pk_value *v)
{
    if (!v)
        return -1;
    if (ld->sn >= PK_MAX_STACK)
        return lfail(ld, "stack too deep");
    size_t old = ld->scap;
    ld->stack = xgrow(ld->stack, &ld->scap, ld->sn + 1, sizeof *ld->stack);
    if (ld->scap != old && charge(ld, (ld->scap - old) * sizeof *ld->stack) < 0)
        return -1;
    ld->stack[ld->sn++] = v;
    return 0;
}

static size_t fence(const loader *ld)
{
    return ld->mn ? ld->marks[ld->mn - 1] : 0;
}

static pk_value *pop(loader *ld)
{
    if (ld->sn <= fence(ld)) {
        lfail(ld, "stack underflow");
        return NULL;
    }
    return ld->stack[--ld->sn];
}

static pk_value *top(loader *ld)
{
    if (ld->sn <= fence(ld)) {
        lfail(ld, "stack underflow");
        return NULL;
    }
    return ld->stack[ld->sn - 1];
}

/* Pops the topmost mark; returns the stack position it marked. */
static int pop_mark(loader *ld, size_t *k)
{
    if (!ld->mn)
        return lfail(ld, "no MARK on the stack");
    *k = ld->marks[--ld->mn];
    return 0;
}

static int seq_append(loader *ld, pk_value *seq, pk_value *item)
{
    pk_value **items = grow_items(ld, seq->u.seq.items, &seq->cap_, seq->u.seq.n + 1, sizeof *items);
    if (!items)
        return -1;
    seq->u.seq.items = items;
    items[seq->u.seq.n++] = item;
    return 0;
}

static int dict_set(loader *ld, pk_value *d, pk_value *k, pk_value *v)
{
    pk_pair *pairs = grow_items(ld, d->u.dict.pairs, &d->cap_, d->u.dict.n + 1, sizeof *pairs);
    if (!pairs)
        return -1;
    d->u.dict.pairs = pairs;
    pairs[d->u.dict.n].key = k;
    pairs[d->u.dict.n].value = v;
    d->u.dict.n++;
    return 0;
}

static pk_value *make_bytes(loader *ld, pk_type t, const unsigned char *s, size_t n)
{
    if (charge(ld, n + 1) < 0)
        return NULL;
    pk_value *v = new_value(ld, t);
    if (!v)
        return NULL;
    v->u.str.s = xmemdup0(s, n);
    v->u.str.len = n;
    return v;
}

/* A LONG1/LONG4 payload: PK_INT when it fits int64, else PK_BIGINT. */
static pk_value *make_long(loader *ld, const unsigned char *b, size_t n)
{
    int neg = n && (b[n - 1] & 0x80);
    /* Significant length: strip sign-extension bytes. */
    size_t m = n;
    while (m > 1 && ((b[m - 1] == 0x00 && !(b[m - 2] & 0x80)) || (b[m - 1] == 0xff && (b[m - 2] & 0x80))))
        m--;
    if (m <= 8) {
        uint64_t u = neg ? UINT64_MAX : 0;
        for (size_t i = 0; i < m; i++) {
            u &= ~((uint64_t)0xff << (8 * i));
            u |= (uint64_t)b[i] << (8 * i);
        }
        pk_value *v = new_value(ld, PK_INT);
        if (v)
            memcpy(&v->u.i, &u, sizeof u);
        return v;
    }
    return make_bytes(ld, PK_BIGINT, b, n);
}

static pk_value *make_global(loader *ld, const unsigned char *mod, size_t ml, const unsigned char *name, size_t nl)
{
    if (memchr(mod, 0, ml) || memchr(name, 0, nl)) {
        lfail(ld, "class name contains a NUL byte");
        return NULL;
    }
    if (charge(ld, ml + nl + 2) < 0)
        return NULL;
    pk_value *v = new_value(ld, PK_GLOBAL);
    if (!v)
        return NULL;
    v->u.global.module = xmemdup0(mod, ml);
    v->u.global.name = xmemdup0(name, nl);
    return v;
}

static int memo_put(loader *ld, size_t idx, pk_value *v)
{
    /* Every memoised value took at least one byte of input, so a real
     * pickle's indices stay below its length. */
    if (idx >= ld->len)
        return lfail(ld, "memo index out of range");
    if (idx >= ld->memo_cap) {
        size_t old = ld->memo_cap;
        size_t c = old ? old : 16;
        while (c <= idx)
            c *= 2;
        if (charge(ld, (c - old) * sizeof *ld->memo) < 0)
            return -1;
        ld->memo = xrealloc(ld->memo, c * sizeof *ld->memo);
        memset(ld->memo + old, 0, (c - old) * sizeof *ld->memo);
        ld->memo_cap = c;
    }
    if (!ld->memo[idx])
        ld->memo_count++;
    ld->memo[idx] = v;
    return 0;
}

static int memo_get(loader *ld, size_t idx)
{
    if (idx >= ld->memo_cap || !ld->memo[idx]) {
        char m[64];
        snprintf(m, sizeof m, "memo entry %zu is not set", idx);
        return lfail(ld, m);
    }
    return push(ld, ld->memo[idx]);
}

static const char *opcode_name(unsigned char op)
{
    switch (op) {
    case PK_OP_INST: return "INST";
    case PK_OP_OBJ: return "OBJ";
    case PK_OP_PERSID: return "PERSID";
    case PK_OP_BINPERSID: return "BINPERSID";
    case PK_OP_EXT1: return "EXT1";
    case PK_OP_EXT2: return "EXT2";
    case PK_OP_EXT4: return "EXT4";
    case PK_OP_INT: return "INT";
    case PK_OP_LONG: return "LONG";
    case PK_OP_STRING: return "STRING";
    case PK_OP_BINSTRING: return "BINSTRING";
    case PK_OP_SHORT_BINSTRING: return "SHORT_BINSTRING";
    case PK_OP_UNICODE: return "UNICODE";
    case PK_OP_FLOAT: return "FLOAT";
    case PK_OP_DICT: return "DICT";
    case PK_OP_LIST: return "LIST";
    case PK_OP_POP: return "POP";
    case PK_OP_POP_MARK: return "POP_MARK";
    case PK_OP_DUP: return "DUP";
    case PK_OP_GET: return "GET";
    case PK_OP_PUT: return "PUT";
    case PK_OP_BINBYTES8: return "BINBYTES8";
    case PK_OP_EMPTY_SET: return "EMPTY_SET";
    case PK_OP_ADDITEMS: return "ADDITEMS";
    case PK_OP_FROZENSET: return "FROZENSET";
    case PK_OP_NEWOBJ_EX: return "NEWOBJ_EX";
    case PK_OP_BYTEARRAY8: return "BYTEARRAY8";
    case PK_OP_NEXT_BUFFER: return "NEXT_BUFFER";
    case PK_OP_READONLY_BUFFER: return "READONLY_BUFFER";
    default: return "unknown";
    }
}

static int build_tuple(loader *ld, size_t k)
{
    size_t n = ld->sn - k;
    pk_value *t;
    if (n == 0) {
        t = ld->empty_tuple;
    } else {
        t = new_value(ld, PK_TUPLE);
        if (!t || charge(ld, n * sizeof(pk_value *)) < 0)
            return -1;
        t->u.seq.items = xmalloc(n * sizeof(pk_value *));
        memcpy(t->u.seq.items, ld->stack + k, n * sizeof(pk_value *));
        t->u.seq.n = n;
        t->cap_ = n;
    }
    ld->sn = k;
    return push(ld, t);
}

/* Children of a value for the graph walk. */
static size_t n_children(const pk_value *v)
{
    switch (v->type) {
    case PK_TUPLE:
    case PK_LIST: return v->u.seq.n;
    case PK_DICT: return v->u.dict.n * 2;
    case PK_OBJECT: return 3;
    default: return 0;
    }
}

static pk_value *child(const pk_value *v, size_t i)
{
    switch (v->type) {
    case PK_TUPLE:
    case PK_LIST: return v->u.seq.items[i];
    case PK_DICT: return i % 2 ? v->u.dict.pairs[i / 2].value : v->u.dict.pairs[i / 2].key;
    case PK_OBJECT: return i == 0 ? v->u.obj.cls : i == 1 ? v->u.obj.args : v->u.obj.state;
    default: return NULL;
    }
}

/* Rejects cycles and trees deeper than PK_MAX_DEPTH (iteratively). */
static int check_graph(loader *ld, pk_value *root)
{
    typedef struct frame {
        pk_value *v;
        size_t next;
    } frame;
    frame *st = xmalloc((PK_MAX_DEPTH + 2) * sizeof *st);
    size_t sp = 0;
    int rc = 0;
    st[sp++] = (frame){root, 0};
    root->mark_ = 1;
    root->height_ = 1;
    while (sp) {
        frame *fr = &st[sp - 1];
        if (fr->next < n_children(fr->v)) {
            pk_value *c = child(fr->v, fr->next++);
            if (!c)
                continue;
            if (c->mark_ == 1) {
                rc = cm_err_set(ld->err, "pickle: the data refers to itself (a cycle); not supported");
                break;
            }
            if (c->mark_ == 2) {
                if (c->height_ + 1 > fr->v->height_)
                    fr->v->height_ = c->height_ + 1;
                continue;
            }
            if (sp > PK_MAX_DEPTH) {
                rc = cm_err_set(ld->err, "pickle: values nested deeper than %d levels", PK_MAX_DEPTH);
                break;
            }
            c->mark_ = 1;
            c->height_ = 1;
            st[sp++] = (frame){c, 0};
            continue;
        }
        pk_value *done = fr->v;
        done->mark_ = 2;
        sp--;
        if (sp && done->height_ + 1 > st[sp - 1].v->height_)
            st[sp - 1].v->height_ = done->height_ + 1;
    }
    free(st);
    return rc;
}

static void loader_free_values(loader *ld)
{
    for (size_t i = 0; i < ld->nall; i++)
        value_release(ld->all[i]);
    free(ld->all);
    ld->all = NULL;
    ld->nall = 0;
}

/* ---- the opcodes: one handler per opcode group, found through OPS ----
 * A handler reads its operands at ld->pos (just past the opcode byte) and
 * returns 0 to go on, 1 after STOP (the value is in ld->result), -1 on error. */
typedef int op_fn(loader *ld, unsigned char op);

static int op_proto(loader *ld, unsigned char op)
{
    (void)op;
    if (need(ld, 1) < 0)
        return -1;
    if (ld->p[ld->pos] > 5) {
        char m[64];
        snprintf(m, sizeof m, "unsupported pickle protocol %u", ld->p[ld->pos]);
        return lfail(ld, m);
    }
    ld->pos++;
    return 0;
}

static int op_frame(loader *ld, unsigned char op)
{
    (void)op;
    if (need(ld, 8) < 0)
        return -1;
    uint64_t n = rd_le(ld->p + ld->pos, 8);
    ld->pos += 8;
    if (n > ld->len - ld->pos)
        return lfail(ld, "FRAME longer than the data (truncated pickle?)");
    return 0;
}

static int op_stop(loader *ld, unsigned char op)
{
    (void)op;
    pk_value *v = pop(ld);
    if (!v)
        return -1;
    if (ld->sn || ld->mn)
        return lfail(ld, "values left on the stack at STOP");
    ld->result = v;
    return 1;
}

static int op_mark(loader *ld, unsigned char op)
{
    (void)op;
    if (ld->mn >= PK_MAX_STACK)
        return lfail(ld, "too many MARKs");
    size_t old = ld->mcap;
    ld->marks = xgrow(ld->marks, &ld->mcap, ld->mn + 1, sizeof *ld->marks);
    if (ld->mcap != old && charge(ld, (ld->mcap - old) * sizeof *ld->marks) < 0)
        return -1;
    ld->marks[ld->mn++] = ld->sn;
    return 0;
}

/* EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, NONE, NEWTRUE, NEWFALSE */
static int op_constant(loader *ld, unsigned char op)
{
    switch (op) {
    case PK_OP_EMPTY_DICT: return push(ld, new_value(ld, PK_DICT));
    case PK_OP_EMPTY_LIST: return push(ld, new_value(ld, PK_LIST));
    case PK_OP_EMPTY_TUPLE: return push(ld, ld->empty_tuple);
    case PK_OP_NONE: return push(ld, ld->none);
    case PK_OP_NEWTRUE: return push(ld, ld->vtrue);
    default: return push(ld, ld->vfalse);
    }
}

static int op_tuple(loader *ld, unsigned char op)
{
    (void)op;
    size_t k = 0;
    if (pop_mark(ld, &k) < 0 || build_tuple(ld, k) < 0)
        return -1;
    return 0;
}

/* TUPLE1, TUPLE2, TUPLE3 */
static int op_tuple_n(loader *ld, unsigned char op)
{
    size_t n = (size_t)(op - PK_OP_TUPLE1) + 1;
    if (ld->sn < fence(ld) + n)
        return lfail(ld, "stack underflow");
    return build_tuple(ld, ld->sn - n) < 0 ? -1 : 0;
}

static int op_append(loader *ld, unsigned char op)
{
    (void)op;
    pk_value *v = pop(ld), *l = v ? top(ld) : NULL;
    if (!l)
        return -1;
    if (l->type != PK_LIST)
        return lfail(ld, "APPEND to something that is not a list");
    return seq_append(ld, l, v) < 0 ? -1 : 0;
}

static int op_appends(loader *ld, unsigned char op)
{
    (void)op;
    size_t k = 0;
    if (pop_mark(ld, &k) < 0)
        return -1;
    if (k == 0 || k - 1 < fence(ld))
        return lfail(ld, "APPENDS without a list");
    pk_value *l = ld->stack[k - 1];
    if (l->type != PK_LIST)
        return lfail(ld, "APPENDS to something that is not a list");
    for (size_t i = k; i < ld->sn; i++)
        if (seq_append(ld, l, ld->stack[i]) < 0)
            return -1;
    ld->sn = k;
    return 0;
}

static int op_setitem(loader *ld, unsigned char op)
{
    (void)op;
    pk_value *v = pop(ld), *k = v ? pop(ld) : NULL, *d = k ? top(ld) : NULL;
    if (!d)
        return -1;
    if (d->type != PK_DICT)
        return lfail(ld, "SETITEM on something that is not a dict");
    return dict_set(ld, d, k, v) < 0 ? -1 : 0;
}

static int op_setitems(loader *ld, unsigned char op)
{
    (void)op;
    size_t k = 0;
    if (pop_mark(ld, &k) < 0)
        return -1;
    if (k == 0 || k - 1 < fence(ld))
        return lfail(ld, "SETITEMS without a dict");
    pk_value *d = ld->stack[k - 1];
    if (d->type != PK_DICT)
        return lfail(ld, "SETITEMS on something that is not a dict");
    if ((ld->sn - k) % 2)
        return lfail(ld, "SETITEMS with an odd number of items");
    for (size_t i = k; i < ld->sn; i += 2)
        if (dict_set(ld, d, ld->stack[i], ld->stack[i + 1]) < 0)
            return -1;
    ld->sn = k;
    return 0;
}

/* BININT, BININT1, BININT2 */
static int op_binint(loader *ld, unsigned char op)
{
    int n = op == PK_OP_BININT ? 4 : op == PK_OP_BININT1 ? 1 : 2;
    if (need(ld, (size_t)n) < 0)
        return -1;
    uint64_t u = rd_le(ld->p + ld->pos, n);
    ld->pos += (size_t)n;
    pk_value *v = new_value(ld, PK_INT);
    if (!v)
        return -1;
    v->u.i = op == PK_OP_BININT ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
    return push(ld, v);
}

/* LONG1, LONG4 */
static int op_long(loader *ld, unsigned char op)
{
    int w = op == PK_OP_LONG1 ? 1 : 4;
    if (need(ld, (size_t)w) < 0)
        return -1;
    uint64_t n = rd_le(ld->p + ld->pos, w);
    if (op == PK_OP_LONG4 && n > INT32_MAX)
        return lfail(ld, "LONG4 with a negative length");
    ld->pos += (size_t)w;
    if (need(ld, (size_t)n) < 0)
        return -1;
    pk_value *v = make_long(ld, ld->p + ld->pos, (size_t)n);
    ld->pos += (size_t)n;
    return push(ld, v);
}

/* BINFLOAT: big-endian */
static int op_binfloat(loader *ld, unsigned char op)
{
    (void)op;
    if (need(ld, 8) < 0)
        return -1;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | ld->p[ld->pos + (size_t)i];
    ld->pos += 8;
    pk_value *v = new_value(ld, PK_FLOAT);
    if (!v)
        return -1;
    memcpy(&v->u.f, &u, sizeof u);
    return push(ld, v);
}

/* SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, SHORT_BINBYTES, BINBYTES */
static int op_string(loader *ld, unsigned char op)
{
    int w = (op == PK_OP_SHORT_BINUNICODE || op == PK_OP_SHORT_BINBYTES) ? 1 : op == PK_OP_BINUNICODE8 ? 8 : 4;
    if (need(ld, (size_t)w) < 0)
        return -1;
    uint64_t n = rd_le(ld->p + ld->pos, w);
    ld->pos += (size_t)w;
    if (n > ld->len - ld->pos)
        return lfail(ld, "string longer than the data (truncated pickle?)");
    int bytes = op == PK_OP_SHORT_BINBYTES || op == PK_OP_BINBYTES;
    pk_value *v = make_bytes(ld, bytes ? PK_BYTES : PK_STR, ld->p + ld->pos, (size_t)n);
    ld->pos += (size_t)n;
    return push(ld, v);
}

static int op_memoize(loader *ld, unsigned char op)
{
    (void)op;
    pk_value *v = top(ld);
    return (!v || memo_put(ld, ld->memo_count, v) < 0) ? -1 : 0;
}

/* BINPUT, LONG_BINPUT, BINGET, LONG_BINGET */
static int op_memo_index(loader *ld, unsigned char op)
{
    int w = (op == PK_OP_BINPUT || op == PK_OP_BINGET) ? 1 : 4;
    if (need(ld, (size_t)w) < 0)
        return -1;
    size_t idx = (size_t)rd_le(ld->p + ld->pos, w);
    ld->pos += (size_t)w;
    if (op == PK_OP_BINGET || op == PK_OP_LONG_BINGET)
        return memo_get(ld, idx) < 0 ? -1 : 0;
    pk_value *v = top(ld);
    return (!v || memo_put(ld, idx, v) < 0) ? -1 : 0;
}

/* GLOBAL: "module\nname\n" */
static int op_global(loader *ld, unsigned char op)
{
    (void)op;
    const unsigned char *p = ld->p;
    const unsigned char *m = p + ld->pos;
    const unsigned char *nl1 = memchr(m, '\n', ld->len - ld->pos);
    if (!nl1)
        return lfail(ld, "GLOBAL without a newline (truncated pickle?)");
    const unsigned char *nm = nl1 + 1;
    const unsigned char *nl2 = memchr(nm, '\n', (size_t)(p + ld->len - nm));
    if (!nl2)
        return lfail(ld, "GLOBAL without a second newline (truncated pickle?)");
    ld->pos = (size_t)(nl2 + 1 - p);
    return push(ld, make_global(ld, m, (size_t)(nl1 - m), nm, (size_t)(nl2 - nm)));
}

static int op_stack_global(loader *ld, unsigned char op)
{
    (void)op;
    pk_value *name = pop(ld), *mod = name ? pop(ld) : NULL;
    if (!mod)
        return -1;
    if (name->type != PK_STR || mod->type != PK_STR)
        return lfail(ld, "STACK_GLOBAL needs two strings");
    return push(ld, make_global(ld, (const unsigned char *)mod->u.str.s, mod->u.str.len,
                                (const unsigned char *)name->u.str.s, name->u.str.len));
}

/* NEWOBJ, REDUCE (recorded, never called) */
static int op_new_object(loader *ld, unsigned char op)
{
    pk_value *args = pop(ld), *cls = args ? pop(ld) : NULL;
    if (!cls)
        return -1;
    if (args->type != PK_TUPLE)
        return lfail(ld, op == PK_OP_REDUCE ? "REDUCE arguments are not a tuple"
                                            : "NEWOBJ arguments are not a tuple");
    if (cls->type != PK_GLOBAL)
        return lfail(ld, op == PK_OP_REDUCE ? "REDUCE of something that is not a global"
                                   : "NEWOBJ of something that is not a class");
    pk_value *o = new_value(ld, PK_OBJECT);
    if (!o)
        return -1;
    o->u.obj.cls = cls;
    o->u.obj.args = args;
    o->u.obj.reduce = op == PK_OP_REDUCE;
    return push(ld, o);
}

static int op_build(loader *ld, unsigned char op)
{
    (void)op;
    pk_value *state = pop(ld), *o = state ? top(ld) : NULL;
    if (!o)
        return -1;
    if (o->type != PK_OBJECT)
        return lfail(ld, "BUILD on something that is not an object");
    o->u.obj.state = state;
    return 0;
}

/* The supported opcodes (pickle.h lists them); any other byte is an error. */
static op_fn *const OPS[256] = {
    [PK_OP_PROTO] = op_proto,
    [PK_OP_FRAME] = op_frame,
    [PK_OP_STOP] = op_stop,
    [PK_OP_MARK] = op_mark,
    [PK_OP_EMPTY_DICT] = op_constant,
    [PK_OP_EMPTY_LIST] = op_constant,
    [PK_OP_EMPTY_TUPLE] = op_constant,
    [PK_OP_NONE] = op_constant,
    [PK_OP_NEWTRUE] = op_constant,
    [PK_OP_NEWFALSE] = op_constant,
    [PK_OP_TUPLE] = op_tuple,
    [PK_OP_TUPLE1] = op_tuple_n,
    [PK_OP_TUPLE2] = op_tuple_n,
    [PK_OP_TUPLE3] = op_tuple_n,
    [PK_OP_APPEND] = op_append,
    [PK_OP_APPENDS] = op_appends,
    [PK_OP_SETITEM] = op_setitem,
    [PK_OP_SETITEMS] = op_setitems,
    [PK_OP_BININT] = op_binint,
    [PK_OP_BININT1] = op_binint,
    [PK_OP_BININT2] = op_binint,
    [PK_OP_LONG1] = op_long,
    [PK_OP_LONG4] = op_long,
    [PK_OP_BINFLOAT] = op_binfloat,
    [PK_OP_SHORT_BINUNICODE] = op_string,
    [PK_OP_BINUNICODE] = op_string,
    [PK_OP_BINUNICODE8] = op_string,
    [PK_OP_SHORT_BINBYTES] = op_string,
    [PK_OP_BINBYTES] = op_string,
    [PK_OP_MEMOIZE] = op_memoize,
    [PK_OP_BINPUT] = op_memo_index,
    [PK_OP_LONG_BINPUT] = op_memo_index,
    [PK_OP_BINGET] = op_memo_index,
    [PK_OP_LONG_BINGET] = op_memo_index,
    [PK_OP_GLOBAL] = op_global,
    [PK_OP_STACK_GLOBAL] = op_stack_global,
    [PK_OP_NEWOBJ] = op_new_object,
    [PK_OP_REDUCE] = op_new_object,
    [PK_OP_BUILD] = op_build,
};

static int unsupported(loader *ld, unsigned char op)
{
    char m[96];
    if (op >= 0x20 && op < 0x7f)
        snprintf(m, sizeof m, "unsupported opcode 0x%02x '%c' (%s)", op, op, opcode_name(op));
    else
        snprintf(m, sizeof m, "unsupported opcode 0x%02x (%s)", op, opcode_name(op));
    return lfail(ld, m);
}

static int run(loader *ld, pk_value **result)
{
    for (;;) {
        ld->op_pos = ld->pos;
        if (ld->pos >= ld->len)
            return lfail(ld, "data ends before STOP (truncated pickle?)");
        unsigned char op = ld->p[ld->pos++];
        int rc = OPS[op] ? OPS[op](ld, op) : unsupported(ld, op);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            *result = ld->result;
            return 0;
        }
    }
}

pk_value *pk_load(const void *data, size_t len, cm_err *err)
{
    loader ld = {0};
    ld.p = data;
    ld.len = data ? len : 0;
    ld.err = err;
    /* Generous for real pickles (tens of bytes per input byte at most), yet
     * linear in the input. */
    ld.budget = (len > (SIZE_MAX - (1u << 20)) / 128) ? SIZE_MAX : len * 128 + (1u << 20);
    ld.none = new_value(&ld, PK_NONE);
    ld.vtrue = new_value(&ld, PK_BOOL);
    ld.vtrue->u.b = 1;
    ld.vfalse = new_value(&ld, PK_BOOL);
    ld.empty_tuple = new_value(&ld, PK_TUPLE);

    pk_value *res = NULL;
    int rc = run(&ld, &res);
    free(ld.stack);
    free(ld.marks);
    free(ld.memo);
    if (rc == 0)
        rc = check_graph(&ld, res);
    if (rc < 0) {
        loader_free_values(&ld);
        return NULL;
    }
    pk_doc *doc = xcalloc(1, sizeof *doc);
    doc->root = *res;
    doc->all = ld.all;
    doc->nall = ld.nall;
    return &doc->root;
}

void pk_free(pk_value *root)
{
    if (!root)
        return;
    pk_doc *doc = (pk_doc *)root;
    for (size_t i = 0; i < doc->nall; i++)
        value_release(doc->all[i]);
    free(doc->all);
    free(doc);
}

const pk_value *pk_dict_get(const pk_value *d, const char *key)
{
    if (!d || d->type != PK_DICT || !key)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = d->u.dict.n; i-- > 0;) {
        const pk_value *k = d->u.dict.pairs[i].key;
        if (k->type == PK_STR && k->u.str.len == kl && memcmp(k->u.str.s, key, kl) == 0)
            return d->u.dict.pairs[i].value;
    }
    return NULL;
}

int pk_get_int64(const pk_value *v, int64_t *out)
{
    if (v && v->type == PK_INT) {
        *out = v->u.i;
        return 1;
    }
    return 0; /* make_long already turned every int64-sized payload into PK_INT */
}

static int global_is(const pk_value *g, const char *module, const char *name)
{
    return g && g->type == PK_GLOBAL && strcmp(g->u.global.module, module) == 0 &&
           strcmp(g->u.global.name, name) == 0;
}

int pk_is_class(const pk_value *v, const char *module, const char *name)
{
    if (!v)
        return 0;
    if (v->type == PK_GLOBAL)
        return global_is(v, module, name);
    if (v->type != PK_OBJECT)
        return 0;
    const pk_value *cls = v->u.obj.cls;
    /* Protocols 0/1: copyreg._reconstructor(cls, object, None) via REDUCE. */
    if (v->u.obj.reduce && global_is(cls, "copyreg", "_reconstructor") && v->u.obj.args->u.seq.n >= 1)
        cls = v->u.obj.args->u.seq.items[0];
    return global_is(cls, module, name);
}

int pk_uuid_hex(const pk_value *v, char out[33], cm_err *err)
{
    out[0] = '\0';
    if (!pk_is_class(v, "uuid", "UUID") || v->type != PK_OBJECT)
        return cm_err_set(err, "pickle: expected a uuid.UUID object, found %s", v ? pk_type_name(v->type) : "nothing");
    const pk_value *n = pk_dict_get(v->u.obj.state, "int");
    if (!n)
        return cm_err_set(err, "pickle: uuid.UUID object without an 'int' in its state");
    unsigned char be[16] = {0};
    if (n->type == PK_INT) {
        if (n->u.i < 0)
            return cm_err_set(err, "pickle: uuid.UUID with a negative int");
        uint64_t u = (uint64_t)n->u.i;
        for (int i = 0; i < 8; i++)
            be[15 - i] = (unsigned char)(u >> (8 * i));
    } else if (n->type == PK_BIGINT) {
        const unsigned char *b = (const unsigned char *)n->u.str.s;
        size_t len = n->u.str.len;
        if (len && (b[len - 1] & 0x80))
            return cm_err_set(err, "pickle: uuid.UUID with a negative int");
        for (size_t i = 16; i < len; i++)
            if (b[i])
                return cm_err_set(err, "pickle: uuid.UUID int does not fit 128 bits");
        for (size_t i = 0; i < len && i < 16; i++)
            be[15 - i] = b[i];
    } else {
        return cm_err_set(err, "pickle: uuid.UUID 'int' is a %s", pk_type_name(n->type));
    }
    cm_hex_encode(be, 16, out);
    return 0;
}
