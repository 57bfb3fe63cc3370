/* persistent_data.c - the PersistentData pickle of persistent_data.h.
 *
 * Python writes PersistentData(...) at protocol 2 as: GLOBAL of the class,
 * EMPTY_TUPLE NEWOBJ, then its __dict__ as BUILD state - a dict whose keys
 * come in the order the class's __init__ assigns them, and whose three maps
 * are written in insertion (= label) order in SETITEMS batches. The entries
 * are kept in memory (ids in one byte arena, 24 bytes of bookkeeping per
 * entry) because each map is written whole, one after the other. */
#include "persistent_data.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../format/pickle.h"
#include "../util/mem.h"
#include "../util/utf8.h"

/* Where Python chromadb defines the class; Chroma 1.x only checks the name. */
#define PD_MODULE "chromadb.segment.impl.vector.local_persistent_hnsw"
#define PD_CLASS "PersistentData"

typedef struct pd_entry {
    size_t off; /* into ids */
    uint32_t len;
    uint32_t label;
    uint32_t seq;
} pd_entry;

struct pdata_writer {
    pk_out *out;
    char *ids;
    size_t ids_len, ids_cap;
    pd_entry *e;
    size_t n, cap;
    uint32_t max_label;
};

pdata_writer *pdata_begin(const char *path, cm_err *err)
{
    pk_out *o = pk_out_open(path, err);
    if (!o)
        return NULL;
    pdata_writer *w = xcalloc(1, sizeof *w);
    w->out = o;
    return w;
}

int pdata_add(pdata_writer *w, const char *id, size_t id_len, uint32_t label, uint32_t seq_id)
{
    if (!w || (!id && id_len) || id_len > UINT32_MAX || !utf8_valid(id, id_len))
        return -1;
    w->ids = xgrow(w->ids, &w->ids_cap, w->ids_len + id_len, 1);
    if (id_len)
        memcpy(w->ids + w->ids_len, id, id_len);
    w->e = xgrow(w->e, &w->cap, w->n + 1, sizeof *w->e);
    w->e[w->n].off = w->ids_len;
    w->e[w->n].len = (uint32_t)id_len;
    w->e[w->n].label = label;
    w->e[w->n].seq = seq_id;
    w->n++;
    w->ids_len += id_len;
    if (label > w->max_label)
        w->max_label = label;
    return 0;
}

static void put_key(pk_out *o, const char *k)
{
    pk_out_str(o, k, strlen(k));
}

enum { MAP_ID_TO_LABEL, MAP_LABEL_TO_ID, MAP_ID_TO_SEQ };

static void put_map(pdata_writer *w, int which)
{
    pk_out *o = w->out;
    pk_out_op(o, PK_OP_EMPTY_DICT);
    for (size_t i = 0; i < w->n; i++) {
        if (i % PK_BATCHSIZE == 0)
            pk_out_op(o, PK_OP_MARK);
        const pd_entry *e = &w->e[i];
        switch (which) {
        case MAP_ID_TO_LABEL:
            pk_out_str(o, w->ids + e->off, e->len);
            pk_out_int(o, e->label);
            break;
        case MAP_LABEL_TO_ID:
            pk_out_int(o, e->label);
            pk_out_str(o, w->ids + e->off, e->len);
            break;
        default:
            pk_out_str(o, w->ids + e->off, e->len);
            pk_out_int(o, e->seq);
            break;
        }
        if (i % PK_BATCHSIZE == PK_BATCHSIZE - 1 || i + 1 == w->n)
            pk_out_op(o, PK_OP_SETITEMS);
    }
}

static void writer_free(pdata_writer *w)
{
    free(w->ids);
    free(w->e);
    free(w);
}

void pdata_abort(pdata_writer *w)
{
    if (!w)
        return;
    pk_out_abort(w->out);
    writer_free(w);
}

int pdata_finish(pdata_writer *w, int64_t dimensionality, uint32_t total_elements_added, int have_max_seq_id,
                 int64_t max_seq_id, cm_err *err)
{
    if (!w)
        return cm_err_set(err, "index_metadata.pickle: no writer");
    const char *path = pk_out_path(w->out);
    if (dimensionality < 0) {
        cm_err_set(err, "%s: dimensionality %" PRId64 " is negative", path, dimensionality);
        pdata_abort(w);
        return -1;
    }
    if (have_max_seq_id && max_seq_id < 0) {
        cm_err_set(err, "%s: max_seq_id %" PRId64 " is negative", path, max_seq_id);
        pdata_abort(w);
        return -1;
    }
    if (total_elements_added < w->max_label) {
        /* The next label would be total_elements_added + 1 and collide. */
        cm_err_set(err, "%s: total_elements_added %" PRIu32 " is below the largest label %" PRIu32, path,
                   total_elements_added, w->max_label);
        pdata_abort(w);
        return -1;
    }
    pk_out *o = w->out;
    pk_out_proto(o, 2);
    pk_out_global(o, PD_MODULE, PD_CLASS);
    pk_out_op(o, PK_OP_EMPTY_TUPLE);
    pk_out_op(o, PK_OP_NEWOBJ);
    pk_out_op(o, PK_OP_EMPTY_DICT);
    pk_out_op(o, PK_OP_MARK);
    put_key(o, "dimensionality");
    pk_out_int(o, dimensionality);
    put_key(o, "total_elements_added");
    pk_out_int(o, total_elements_added);
    if (have_max_seq_id) {
        put_key(o, "max_seq_id");
        pk_out_int(o, max_seq_id);
    }
    put_key(o, "id_to_label");
    put_map(w, MAP_ID_TO_LABEL);
    put_key(o, "label_to_id");
    put_map(w, MAP_LABEL_TO_ID);
    put_key(o, "id_to_seq_id");
    put_map(w, MAP_ID_TO_SEQ);
    pk_out_op(o, PK_OP_SETITEMS);
    pk_out_op(o, PK_OP_BUILD);
    pk_out_op(o, PK_OP_STOP);
    w->out = NULL;
    int rc = pk_out_close(o, err);
    writer_free(w);
    return rc;
}
