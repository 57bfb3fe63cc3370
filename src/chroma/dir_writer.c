/* dir_writer.c - writes a Chroma persistent directory without Chroma.
 *
 * The layout and every row follow docs/formats.md (#persistent-directory,
 * #migrations, #rows, #seq-ids, #profiles, #collection-config; verified
 * against real Chroma 1.0.x and Python 0.5/0.6). The important traps, and
 * what this file does about each:
 *  - Chroma checks each migration's text and md5: the exact texts are in
 *    schema.c (generated from Chroma's sources), applied and recorded as
 *    Chroma does.
 *  - segments.collection REFERENCES a table that does not exist, so foreign
 *    keys stay OFF or every insert into segments fails.
 *  - With watermarks set and an empty embeddings_queue, every later write
 *    through Chroma silently vanishes (its seq ids restart at 1 and are
 *    skipped). So each collection keeps one harmless queue row AT its
 *    watermark: a copy of its last record's ADD.
 *  - The HNSW pickle's id_to_label must cover exactly the embeddings rows.
 * The result is built in a hidden staging folder (dir_place.h says where)
 * and moved into place only when the SQLite transaction is committed and
 * every file is fsynced, so an interrupted run never leaves a directory that
 * looks complete. */
#include "dir_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../core/meta_json.h"
#include "../format/json.h"
#include "persistent_data.h"
#include "../index/hnsw.h"
#include "../index/hnsw_reuse.h"
#include "../util/fsutil.h"
#include "../util/mem.h"
#include "../util/uuid.h"
#include "schema.h"
#include "collection_schema.h"
#include "dir_place.h"

#define DEFAULT_DATABASE_ID "00000000-0000-0000-0000-000000000000"

enum { ST_EMB, ST_META, ST_FTS, NSTMT };

typedef struct chroma_dir {
    cm_sink base;
    chroma_dir_opts o;
    dir_place place; /* where the result is built and how it comes into place */
    char *db_path;
    sqlite3 *db;
    sqlite3_stmt *st[NSTMT];
    int64_t next_rowid; /* embeddings.id, global */
    int64_t next_seq;   /* log offsets, global */
    /* current collection */
    char coll_id[37], meta_seg[37], vec_seg[37];
    cm_target_collection tc;
    hnsw_index *index;
    pdata_writer *pickle;
    char *vec_dir;
    uint32_t nrec;
    cm_record last;
    char **used_ids;
    size_t nused;
    /* legacy record uuids of the staged elements, kept only while a legacy
     * index could be reused */
    char **keys;
    size_t nkeys;
    cm_index_outcome outcome; /* the current collection's */
    cm_schema_keys *schema_keys; /* profile 1.5: the current collection's metadata keys */
} chroma_dir;

static int sql_fail(chroma_dir *d, cm_err *err, const char *what)
{
    return cm_err_set(err, "%s: %s: %s", d->db_path, what, sqlite3_errmsg(d->db));
}

static int exec(chroma_dir *d, const char *sql, cm_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        cm_err_set(err, "%s: %s (while running: %.60s...)", d->db_path, msg ? msg : "error", sql);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int prepare(chroma_dir *d, const char *sql, sqlite3_stmt **st, cm_err *err)
{
    if (sqlite3_prepare_v2(d->db, sql, -1, st, NULL) != SQLITE_OK)
        return sql_fail(d, err, "preparing a statement");
    return 0;
}

static int step_done(chroma_dir *d, sqlite3_stmt *st, cm_err *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sql_fail(d, err, what);
    return 0;
}

/* The migrations table exactly as Rust creates it (rust/sqlite/src/db.rs). */
static const char migrations_ddl[] = "CREATE TABLE IF NOT EXISTS migrations (\n"
                                     "                dir TEXT NOT NULL,\n"
                                     "                version INTEGER NOT NULL,\n"
                                     "                filename TEXT NOT NULL,\n"
                                     "                sql TEXT NOT NULL,\n"
                                     "                hash TEXT NOT NULL,\n"
                                     "                PRIMARY KEY (dir, version)\n"
                                     "            )";

/* Which migrations a profile writes (docs/formats.md#migrations): 1.5 all
 * 18, as Chroma 1.5.x; 1.0 the 16 of Chroma 1.0-1.2, without sysdb 10 and
 * metadb 6, on which Chroma <= 1.2.1 panics; 0.6 also stops before metadb 5
 * (INTEGER watermarks): Python 0.5.6-0.6.x know 15 migrations, and Rust
 * applies the 16th itself. */
static int profile_has(cm_chroma_profile p, const cm_migration *m)
{
    int sysdb = strcmp(m->dir, "sysdb") == 0, metadb = strcmp(m->dir, "metadb") == 0;
    if (p == CM_PROFILE_1_5)
        return 1;
    if ((sysdb && m->version >= 10) || (metadb && m->version >= 6))
        return 0;
    return !(p == CM_PROFILE_0_6 && metadb && m->version >= 5);
}

static int apply_migrations(chroma_dir *d, cm_err *err)
{
    if (exec(d, migrations_ddl, err) < 0)
        return -1;
    sqlite3_stmt *ins = NULL;
    if (prepare(d, "INSERT INTO migrations (dir, version, filename, sql, hash) VALUES (?,?,?,?,?)", &ins, err) < 0)
        return -1;
    for (size_t i = 0; i < cm_migrations_count; i++) {
        const cm_migration *m = &cm_migrations[i];
        if (!profile_has(d->o.profile, m))
            continue;
        if (exec(d, m->sql, err) < 0) {
            sqlite3_finalize(ins);
            return cm_err_prefix(err, "applying migration %s/%s", m->dir, m->filename);
        }
        sqlite3_bind_text(ins, 1, m->dir, -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 2, m->version);
        sqlite3_bind_text(ins, 3, m->filename, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, m->sql, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, m->md5, -1, SQLITE_STATIC);
        if (step_done(d, ins, err, "recording a migration") < 0) {
            sqlite3_finalize(ins);
            return -1;
        }
    }
    sqlite3_finalize(ins);
    const char *qc = d->o.profile != CM_PROFILE_0_6
                         ? "INSERT INTO embeddings_queue_config (id, config_json_str) VALUES (1, "
                           "'{\"automatically_purge\":true,\"_type\":\"EmbeddingsQueueConfigurationInternal\"}')"
                         : "INSERT INTO embeddings_queue_config (id, config_json_str) VALUES (1, "
                           "'{\"automatically_purge\": true, \"_type\": \"EmbeddingsQueueConfigurationInternal\"}')";
    return exec(d, qc, err);
}

static void drop_keys(chroma_dir *d)
{
    for (size_t i = 0; i < d->nkeys; i++)
        free(d->keys[i]);
    free(d->keys);
    d->keys = NULL;
    d->nkeys = 0;
}

static void destroy(cm_sink *s)
{
    chroma_dir *d = (chroma_dir *)s;
    if (!d)
        return;
    drop_keys(d);
    cm_schema_keys_free(d->schema_keys);
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(d->st[i]);
    if (d->db)
        sqlite3_close(d->db);
    hnsw_free(d->index);
    pdata_abort(d->pickle);
    cm_record_clear(&d->last);
    cm_meta_free(&d->last.meta);
    for (size_t i = 0; i < d->nused; i++)
        free(d->used_ids[i]);
    free(d->used_ids);
    free(d->vec_dir);
    dir_place_free(&d->place);
    free(d->db_path);
    free(d->base.location);
    free(d);
}

static void do_abort(cm_sink *s)
{
    chroma_dir *d = (chroma_dir *)s;
    for (int i = 0; i < NSTMT; i++) {
        sqlite3_finalize(d->st[i]);
        d->st[i] = NULL;
    }
    if (d->db) {
        sqlite3_close(d->db);
        d->db = NULL;
    }
    dir_place_abort(&d->place);
}

/* ---- collections ---- */

static void config_json(chroma_dir *d, const cm_hnsw_cfg *h, json_out *o)
{
    char buf[512];
    if (d->o.profile == CM_PROFILE_1_5) {
        /* What 1.3+ writes for a collection it creates: the parameters live
         * in schema_str (written at the end of the collection). */
        jo_cstr(o, "{}");
    } else if (d->o.profile == CM_PROFILE_1_0) {
        /* Rust's InternalCollectionConfiguration, with the real parameters
         * (num_threads and batch_size are skip_serializing in 1.0). */
        snprintf(buf, sizeof buf,
                 "{\"vector_index\":{\"hnsw\":{\"space\":\"%s\",\"ef_construction\":%ld,\"ef_search\":%ld,"
                 "\"max_neighbors\":%ld,\"resize_factor\":",
                 cm_space_name(h->space), h->ef_construction, h->ef_search, h->M);
        jo_cstr(o, buf);
        jo_float(o, h->resize_factor);
        snprintf(buf, sizeof buf, ",\"sync_threshold\":%ld}},\"embedding_function\":null}", h->sync_threshold);
        jo_cstr(o, buf);
    } else {
        /* What Python 0.5.4-0.6.3 write: defaults here, the real parameters
         * live in the VECTOR segment's hnsw:* metadata. */
        jo_cstr(o, "{\"hnsw_configuration\": {\"space\": \"l2\", \"ef_construction\": 100, \"ef_search\": 100, "
                   "\"num_threads\": 2, \"M\": 16, \"resize_factor\": 1.2, \"batch_size\": 100, "
                   "\"sync_threshold\": 1000, \"_type\": \"HNSWConfigurationInternal\"}, "
                   "\"_type\": \"CollectionConfigurationInternal\"}");
    }
}

static int bind_mval(sqlite3_stmt *st, int first_col, const cm_mval *v)
{
    /* columns: str, int, float, bool at first_col .. first_col+3 */
    for (int k = 0; k < 4; k++)
        sqlite3_bind_null(st, first_col + k);
    switch (v->type) {
    case CM_M_STR: return sqlite3_bind_text(st, first_col, v->s, (int)v->s_len, SQLITE_STATIC);
    case CM_M_INT: return sqlite3_bind_int64(st, first_col + 1, v->i);
    case CM_M_FLOAT: return sqlite3_bind_double(st, first_col + 2, v->f);
    case CM_M_BOOL: return sqlite3_bind_int(st, first_col + 3, v->b ? 1 : 0);
    default: return SQLITE_MISUSE; /* policies removed these */
    }
}

static int insert_kv(chroma_dir *d, const char *sql, const char *owner, const cm_meta *m, int only_hnsw, cm_err *err)
{
    sqlite3_stmt *st = NULL;
    if (prepare(d, sql, &st, err) < 0)
        return -1;
    for (size_t i = 0; m && i < m->n; i++) {
        if (only_hnsw && strncmp(m->v[i].key, "hnsw:", 5) != 0)
            continue;
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->v[i].key, (int)m->v[i].key_len, SQLITE_STATIC);
        if (bind_mval(st, 3, &m->v[i]) != SQLITE_OK) {
            sqlite3_finalize(st);
            return cm_err_set(err, "metadata key '%s' has a value Chroma cannot store", m->v[i].key);
        }
        if (step_done(d, st, err, "inserting metadata") < 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

static int id_used(chroma_dir *d, const char *id)
{
    for (size_t i = 0; i < d->nused; i++)
        if (strcmp(d->used_ids[i], id) == 0)
            return 1;
    return 0;
}

static int begin_collection(cm_sink *s, const cm_target_collection *tc, cm_err *err)
{
    chroma_dir *d = (chroma_dir *)s;
    d->tc = *tc;
    d->nrec = 0;
    cm_record_clear(&d->last);
    memset(&d->outcome, 0, sizeof d->outcome);
    cm_schema_keys_free(d->schema_keys);
    d->schema_keys = d->o.profile == CM_PROFILE_1_5 ? cm_schema_keys_new() : NULL;
    /* Keep the legacy collection uuid when it is one (traceable, stable);
     * Chroma 1.x requires collection ids to parse as UUIDs. */
    if (tc->source_id && cm_uuid_valid(tc->source_id) && !id_used(d, tc->source_id)) {
        for (int i = 0; i < 36; i++)
            d->coll_id[i] = (char)((tc->source_id[i] >= 'A' && tc->source_id[i] <= 'F') ? tc->source_id[i] + 32
                                                                                          : tc->source_id[i]);
        d->coll_id[36] = '\0';
    } else if (cm_uuid4(d->coll_id) < 0) {
        return cm_err_set(err, "cannot read /dev/urandom to make a collection id");
    }
    if (cm_uuid4(d->meta_seg) < 0 || cm_uuid4(d->vec_seg) < 0)
        return cm_err_set(err, "cannot read /dev/urandom to make segment ids");
    d->used_ids = xrealloc(d->used_ids, (d->nused + 1) * sizeof *d->used_ids);
    d->used_ids[d->nused++] = xstrdup(d->coll_id);

    json_out cfg = {0};
    config_json(d, &tc->hnsw, &cfg);
    sqlite3_stmt *st = NULL;
    int rc = prepare(d,
                     "INSERT INTO collections (id, name, dimension, database_id, config_json_str) "
                     "VALUES (?, ?, NULL, '" DEFAULT_DATABASE_ID "', ?)",
                     &st, err);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, d->coll_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, tc->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, cfg.buf, (int)cfg.len, SQLITE_STATIC);
        rc = step_done(d, st, err, "inserting a collection");
        sqlite3_finalize(st);
    }
    jo_free(&cfg);
    if (rc < 0)
        return -1;
    if (insert_kv(d,
                  "INSERT INTO collection_metadata (collection_id, key, str_value, int_value, float_value, "
                  "bool_value) VALUES (?,?,?,?,?,?)",
                  d->coll_id, tc->meta, 0, err) < 0)
        return cm_err_prefix(err, "collection '%s'", tc->name);

    static const char seg_sql[] = "INSERT INTO segments (id, type, scope, collection) VALUES (?, ?, ?, ?)";
    const char *segs[2][3] = {{d->vec_seg, "urn:chroma:segment/vector/hnsw-local-persisted", "VECTOR"},
                              {d->meta_seg, "urn:chroma:segment/metadata/sqlite", "METADATA"}};
    for (int k = 0; k < 2; k++) {
        if (prepare(d, seg_sql, &st, err) < 0)
            return -1;
        for (int j = 0; j < 3; j++)
            sqlite3_bind_text(st, j + 1, segs[k][j], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, d->coll_id, -1, SQLITE_STATIC);
        rc = step_done(d, st, err, "inserting a segment");
        sqlite3_finalize(st);
        if (rc < 0)
            return -1;
    }
    /* hnsw:* on the VECTOR segment: Python reads its parameters only from
     * there; Rust 1.x ignores it when config_json_str has real values. 1.5
     * takes them from schema_str and writes none itself. */
    if (d->o.profile != CM_PROFILE_1_5 &&
        insert_kv(d,
                  "INSERT INTO segment_metadata (segment_id, key, str_value, int_value, float_value, bool_value) "
                  "VALUES (?,?,?,?,?,?)",
                  d->vec_seg, tc->meta, 1, err) < 0)
        return cm_err_prefix(err, "collection '%s'", tc->name);

    if (tc->dim > 0 && tc->max_records > 0) {
        hnsw_params hp = {.dim = (size_t)tc->dim,
                          .M = (size_t)tc->hnsw.M,
                          .ef_construction = (size_t)tc->hnsw.ef_construction,
                          .space = (hnsw_space)tc->hnsw.space,
                          .seed = 100,
                          .threads = d->o.threads};
        d->index = hnsw_new(&hp, (size_t)tc->max_records, err);
        if (!d->index)
            return cm_err_prefix(err, "collection '%s'", tc->name);
        free(d->vec_dir);
        d->vec_dir = fs_join(d->place.stage_dir, d->vec_seg);
        if (mkdir(d->vec_dir, 0755) != 0)
            return cm_err_set(err, "%s: %s", d->vec_dir, strerror(errno));
        char *pp = fs_join(d->vec_dir, "index_metadata.pickle");
        d->pickle = pdata_begin(pp, err);
        free(pp);
        if (!d->pickle)
            return -1;
        drop_keys(d);
        if (d->o.index_mode != CM_INDEX_REBUILD && tc->prior)
            d->keys = xcalloc((size_t)tc->max_records, sizeof *d->keys);
    }
    return 0;
}

static int add(cm_sink *s, const cm_record *r, cm_err *err)
{
    chroma_dir *d = (chroma_dir *)s;
    if (!d->index || (int64_t)r->dim != d->tc.dim)
        return cm_err_set(err, "internal: record '%s' does not fit collection '%s'", r->id ? r->id : "", d->tc.name);
    int64_t rowid = d->next_rowid++;
    int64_t seq = d->next_seq++;
    uint32_t label = ++d->nrec;
    sqlite3_stmt *st = d->st[ST_EMB];
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_text(st, 2, d->meta_seg, 36, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->id, (int)r->id_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, seq);
    if (step_done(d, st, err, "inserting a record") < 0)
        return cm_err_prefix(err, "collection '%s', record '%s'", d->tc.name, r->id);
    if (d->schema_keys && r->has_meta)
        cm_schema_keys_add(d->schema_keys, &r->meta);
    st = d->st[ST_META];
    for (size_t i = 0; r->has_meta && i < r->meta.n; i++) {
        sqlite3_bind_int64(st, 1, rowid);
        sqlite3_bind_text(st, 2, r->meta.v[i].key, (int)r->meta.v[i].key_len, SQLITE_STATIC);
        if (bind_mval(st, 3, &r->meta.v[i]) != SQLITE_OK)
            return cm_err_set(err, "collection '%s', record '%s': metadata key '%s' cannot be stored", d->tc.name,
                              r->id, r->meta.v[i].key);
        if (step_done(d, st, err, "inserting record metadata") < 0)
            return cm_err_prefix(err, "collection '%s', record '%s'", d->tc.name, r->id);
    }
    if (r->doc) {
        sqlite3_bind_int64(st, 1, rowid);
        sqlite3_bind_text(st, 2, "chroma:document", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->doc, (int)r->doc_len, SQLITE_STATIC);
        if (step_done(d, st, err, "inserting a document") < 0)
            return cm_err_prefix(err, "collection '%s', record '%s'", d->tc.name, r->id);
        st = d->st[ST_FTS];
        sqlite3_bind_int64(st, 1, rowid);
        sqlite3_bind_text(st, 2, r->doc, (int)r->doc_len, SQLITE_STATIC);
        if (step_done(d, st, err, "indexing a document for full-text search") < 0)
            return cm_err_prefix(err, "collection '%s', record '%s'", d->tc.name, r->id);
    }
    if (hnsw_stage_f64(d->index, r->emb, label, err) < 0)
        return cm_err_prefix(err, "collection '%s', record '%s'", d->tc.name, r->id);
    if (pdata_add(d->pickle, r->id, r->id_len, label, (uint32_t)seq) < 0)
        return cm_err_set(err, "collection '%s': writing the id map failed", d->tc.name);
    if (d->keys) {
        /* Without its legacy uuid a record cannot be matched to the old index. */
        if (r->key && d->nkeys < (size_t)d->tc.max_records)
            d->keys[d->nkeys++] = xmemdup0(r->key, r->key_len);
        else
            drop_keys(d);
    }
    cm_record_copy(&d->last, r);
    return 0;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static int write_watermarks(chroma_dir *d, int64_t w, cm_err *err)
{
    sqlite3_stmt *st = NULL;
    if (prepare(d, "INSERT INTO max_seq_id (segment_id, seq_id) VALUES (?, ?)", &st, err) < 0)
        return -1;
    const char *segs[2] = {d->meta_seg, d->vec_seg};
    unsigned char blob[8];
    put_be64(blob, (uint64_t)w);
    for (int k = 0; k < 2; k++) {
        sqlite3_bind_text(st, 1, segs[k], -1, SQLITE_STATIC);
        /* 1.x reads INTEGER (after metadb 5); Python 0.5/0.6 write an 8-byte
         * big-endian BLOB, which Rust's metadb 5 converts on first start. */
        if (d->o.profile != CM_PROFILE_0_6)
            sqlite3_bind_int64(st, 2, w);
        else
            sqlite3_bind_blob(st, 2, blob, 8, SQLITE_STATIC);
        if (step_done(d, st, err, "writing a watermark") < 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* The one queue row at the watermark: a real ADD of the last record, so that
 * max(seq_id) never falls below the watermarks (see the file comment). */
static int write_queue_row(chroma_dir *d, int64_t w, cm_err *err)
{
    const cm_record *r = &d->last;
    sqlite3_stmt *st = NULL;
    if (prepare(d,
                "INSERT INTO embeddings_queue (seq_id, operation, topic, id, vector, encoding, metadata) "
                "VALUES (?, 0, ?, ?, ?, 'FLOAT32', ?)",
                &st, err) < 0)
        return -1;
    char topic[128];
    snprintf(topic, sizeof topic, "persistent://default/default/%s", d->coll_id);
    float *vec = xmalloc(r->dim * sizeof *vec);
    for (size_t i = 0; i < r->dim; i++)
        vec[i] = (float)r->emb[i];
    json_out meta = {0};
    if (r->has_meta || r->doc) {
        cm_meta m = {0};
        if (r->has_meta)
            cm_meta_copy(&m, &r->meta);
        if (r->doc) {
            cm_mval *v = cm_meta_add(&m, "chroma:document", 15);
            v->type = CM_M_STR;
            v->s = xmemdup0(r->doc, r->doc_len);
            v->s_len = r->doc_len;
        }
        cm_meta_write(&meta, &m);
        cm_meta_free(&m);
    }
    sqlite3_bind_int64(st, 1, w);
    sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->id, (int)r->id_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, vec, (int)(r->dim * sizeof *vec), SQLITE_STATIC);
    if (meta.buf)
        sqlite3_bind_text(st, 5, meta.buf, (int)meta.len, SQLITE_STATIC);
    int rc = step_done(d, st, err, "writing the log row");
    sqlite3_finalize(st);
    free(vec);
    jo_free(&meta);
    return rc;
}

/* Converts the source's graph (d->tc.prior) into the collection's HNSW
 * files when it provably matches the records, and says in d->outcome what
 * was done about the index: 1 reused (*total_labels then counts the retired
 * labels of the tombstones kept), 0 a graph is to be built, -1 err set. */
static int reuse_prior(chroma_dir *d, uint32_t *total_labels, cm_err *err)
{
    cm_index_outcome *io = &d->outcome;
    io->kind = CM_INDEX_BUILT;
    if (!d->keys || d->nkeys != d->nrec) {
        io->rebuild_asked = d->o.index_mode == CM_INDEX_REBUILD;
        snprintf(io->reason, sizeof io->reason, "no legacy index for this collection");
        drop_keys(d);
        return 0;
    }
    hnsw_reuse_in in = {.prior = d->tc.prior,
                        .space = (hnsw_space)d->tc.hnsw.space,
                        .staged = d->index,
                        .keys = (const char *const *)d->keys};
    /* Tombstones (stale or soft-deleted legacy elements) are kept as Chroma
     * keeps its own after a delete, with retired labels that
     * total_elements_added covers, and records the legacy graph lacks are
     * inserted into it (hnsw_reuse.h says why that stays correct for later
     * writes). */
    hnsw_reuse_result r;
    int rc = hnsw_reuse_run(&in, d->vec_dir, 1, &r, err);
    drop_keys(d);
    if (rc < 0)
        return cm_err_prefix(err, "collection '%s': reusing the legacy index", d->tc.name);
    if (rc == 0) {
        snprintf(io->reason, sizeof io->reason, "%s", r.reason);
        return 0;
    }
    *total_labels = r.total_labels;
    io->kind = CM_INDEX_REUSED;
    io->stale = r.stale;
    io->deleted = r.deleted;
    io->replaced = r.replaced;
    io->inserted_missing = r.inserted_missing;
    return 1;
}

/* Profile 1.5: the collection's schema, with every metadata key its records
 * carry (what Chroma 1.5.9 holds once it has applied them). */
static int write_schema(chroma_dir *d, cm_err *err)
{
    json_out js = {0};
    cm_schema_json(&js, &d->tc.hnsw, d->schema_keys);
    sqlite3_stmt *st = NULL;
    int rc = prepare(d, "UPDATE collections SET schema_str = ? WHERE id = ?", &st, err);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, js.buf, (int)js.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->coll_id, -1, SQLITE_STATIC);
        rc = step_done(d, st, err, "writing the collection schema");
        sqlite3_finalize(st);
    }
    jo_free(&js);
    return rc;
}

static int end_collection(cm_sink *s, cm_build_progress progress, void *ctx, cm_err *err)
{
    chroma_dir *d = (chroma_dir *)s;
    int rc = 0;
    if (d->schema_keys && (rc = write_schema(d, err)) < 0)
        goto out;
    if (d->nrec == 0) {
        /* Like a collection Chroma created and never wrote to: dimension NULL,
         * no vector folder, no watermarks. */
        pdata_abort(d->pickle);
        d->pickle = NULL;
        if (d->vec_dir)
            fs_rm_rf(d->vec_dir);
        goto out;
    }
    int64_t w = d->next_seq - 1; /* the last record's seq id */
    uint32_t total_labels = d->nrec; /* labels handed out: the records', and any retired ones */
    int reused = reuse_prior(d, &total_labels, err);
    if (reused < 0) {
        rc = -1;
        goto out;
    }
    if (!reused && d->o.index_mode == CM_INDEX_REUSE) {
        rc = cm_err_set(err, "collection '%s': the legacy index cannot be reused (%s)", d->tc.name,
                        d->outcome.reason);
        cm_err_mark(err, CM_ERR_INVALID_DATA, CM_HINT_INDEX_REBUILD, NULL);
        goto out;
    }
    if (!reused &&
        (hnsw_build(d->index, progress, ctx, err) < 0 || hnsw_write_chroma_files(d->index, d->vec_dir, err) < 0)) {
        rc = cm_err_prefix(err, "collection '%s'", d->tc.name);
        goto out;
    }
    rc = pdata_finish(d->pickle, d->tc.dim, total_labels, d->o.profile == CM_PROFILE_0_6, w, err);
    d->pickle = NULL;
    if (rc < 0)
        goto out;
    sqlite3_stmt *st = NULL;
    if ((rc = prepare(d, "UPDATE collections SET dimension = ? WHERE id = ?", &st, err)) < 0)
        goto out;
    sqlite3_bind_int64(st, 1, d->tc.dim);
    sqlite3_bind_text(st, 2, d->coll_id, -1, SQLITE_STATIC);
    rc = step_done(d, st, err, "setting the dimension");
    sqlite3_finalize(st);
    if (rc == 0)
        rc = write_watermarks(d, w, err);
    if (rc == 0)
        rc = write_queue_row(d, w, err);
    if (rc == 0)
        rc = fs_fsync_path(d->vec_dir, err);
out:
    hnsw_free(d->index);
    d->index = NULL;
    free(d->vec_dir);
    d->vec_dir = NULL;
    return rc;
}

static int finish(cm_sink *s, cm_err *err)
{
    chroma_dir *d = (chroma_dir *)s;
    if (exec(d, "COMMIT", err) < 0)
        return -1;
    for (int i = 0; i < NSTMT; i++) {
        sqlite3_finalize(d->st[i]);
        d->st[i] = NULL;
    }
    /* Chroma expects rollback-journal mode; OFF was only for the bulk load. */
    if (exec(d, "PRAGMA journal_mode=DELETE", err) < 0)
        return -1;
    if (sqlite3_close(d->db) != SQLITE_OK)
        return sql_fail(d, err, "closing the database");
    d->db = NULL;
    if (d->o.manifest) {
        char *mp = fs_join(d->place.stage_dir, ".chroma-migrate.json");
        FILE *f = fopen(mp, "wb");
        int ok = f && fputs(d->o.manifest, f) >= 0;
        if (f && fclose(f) != 0)
            ok = 0;
        if (!ok || fs_fsync_path(mp, err) < 0) {
            cm_err_set(err, "%s: cannot write", mp);
            free(mp);
            return -1;
        }
        free(mp);
    }
    if (fs_fsync_path(d->db_path, err) < 0 || fs_fsync_path(d->place.stage_dir, err) < 0)
        return -1;
    return dir_place_commit(&d->place, err);
}

static const cm_index_outcome *index_outcome(cm_sink *s)
{
    chroma_dir *d = (chroma_dir *)s;
    return d->outcome.kind != CM_INDEX_NOTHING ? &d->outcome : NULL;
}

static const cm_sink_ops chroma_dir_ops = {
    .kind = "Chroma persistent directory",
    .builds_index = 1,
    .begin_collection = begin_collection,
    .add = add,
    .end_collection = end_collection,
    .finish = finish,
    .abort = do_abort,
    .destroy = destroy,
    .index_outcome = index_outcome,
};

cm_sink *chroma_dir_create(const char *dir_in, const chroma_dir_opts *o, cm_err *err)
{
    dir_place place;
    if (dir_place_plan(dir_in, &place, err) < 0 || dir_place_stage(&place, err) < 0) {
        dir_place_free(&place);
        return NULL;
    }
    chroma_dir *d = xcalloc(1, sizeof *d);
    d->base.ops = &chroma_dir_ops;
    d->base.location = xstrdup(dir_in);
    d->o = *o;
    d->place = place;
    d->next_rowid = 1;
    d->next_seq = 1;
    d->db_path = fs_join(d->place.stage_dir, "chroma.sqlite3");
    if (sqlite3_open_v2(d->db_path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        sql_fail(d, err, "cannot create");
        goto fail;
    }
    /* Bulk-load settings: the whole load is one transaction in a folder no
     * one else sees; durability comes from the fsyncs before the rename. */
    if (exec(d,
             "PRAGMA foreign_keys=OFF; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
             "PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384; BEGIN",
             err) < 0)
        goto fail;
    if (apply_migrations(d, err) < 0)
        goto fail;
    if (prepare(d, "INSERT INTO embeddings (id, segment_id, embedding_id, seq_id) VALUES (?, ?, ?, ?)",
                &d->st[ST_EMB], err) < 0 ||
        prepare(d,
                "INSERT INTO embedding_metadata (id, key, string_value, int_value, float_value, bool_value) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                &d->st[ST_META], err) < 0 ||
        prepare(d, "INSERT INTO embedding_fulltext_search (rowid, string_value) VALUES (?, ?)", &d->st[ST_FTS],
                err) < 0)
        goto fail;
    return &d->base;
fail:
    do_abort(&d->base);
    destroy(&d->base);
    return NULL;
}
