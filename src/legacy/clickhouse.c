/* clickhouse.c - streams records out of a chromadb 0.3.x server's ClickHouse database.
 *
 * chroma 0.3.x (chroma_db_impl="clickhouse") keeps two MergeTree tables:
 *   collections(uuid UUID, name String, metadata String)
 *   embeddings(collection_uuid UUID, uuid UUID, embedding Array(Float64),
 *              document Nullable(String), id Nullable(String), metadata Nullable(String))
 * (chromadb 0.3.0 created embeddings.metadata as plain String; later 0.3.x
 * releases only CREATE TABLE IF NOT EXISTS, so a database first served by
 * 0.3.0 keeps that type for good: it is read as toNullable(metadata).)
 * Opening checks both tables' columns (system.columns). Listing reads the
 * collections and counts each collection's rows in one GROUP BY; rows whose
 * collection_uuid is in no collection make it an error, as for the legacy
 * directory. Reading a collection is one query,
 *   SELECT id, embedding, document, metadata FROM embeddings
 *   WHERE collection_uuid = '...' FORMAT RowBinary
 * whose answer is decoded row by row while it streams (clickhouse_http.c), so
 * memory stays at about one row plus a read-ahead buffer.
 *
 * Order. Without ORDER BY ClickHouse promises no order, but with one reading
 * thread (max_threads=1) it returns a table's rows part after part, each part
 * in its storage order: for MergeTree that is sorted by the table key
 * (collection_uuid), and rows with equal keys keep their insertion order,
 * through merges too. So one collection's records come in the order chroma
 * inserted them. "First" in the duplicate-id policy therefore means first in
 * storage order = first inserted. Sorting by anything else (uuid is a random
 * uuid4) would lose that. Several threads interleave parts and ranges, so
 * max_threads=1 is sent with every query. A read-only user (readonly=1) may
 * not change settings (current releases refuse even max_threads; 18.16 lets
 * it pass): then the records are sorted by their internal uuid instead, so
 * that the two passes of a migration (analysis, then writing) see the same
 * order and agree on which copy of a duplicated id is "first"; that order is
 * not the insertion order, and the notes say so.
 *
 * SQL here is what both ClickHouse 18.16 and current releases accept:
 * toString(), currentDatabase(), count(), system.columns/system.tables,
 * FORMAT RowBinary, settings as URL parameters. */
#include "clickhouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/meta_json.h"
#include "../format/rowbinary.h"
#include "../util/hex.h"
#include "../util/mem.h"
#include "../util/uuid.h"

#define READ_SETTINGS "max_threads=1"

typedef struct ch_src {
    cm_source base;
    ch_conn conn;
    const char *settings; /* READ_SETTINGS, or NULL for a read-only user */
    int meta_plain;       /* embeddings.metadata is String (chromadb 0.3.0), not Nullable(String) */
    char version[64];
    char notes[1024];
    cm_note note; /* notes as the source op gives them */
} ch_src;

struct cm_reader {
    ch_src *src;
    ch_stream *st;
    char *name, *uuid;
    int64_t row;      /* rows handed out */
    int64_t expected; /* count from list(), -1 if unknown */
    size_t pending;   /* bytes of the last row, consumed on the next call */
    int ended;
};

/* ---- the spec ---- */

int clickhouse_detect(const char *spec)
{
    return strncmp(spec, "clickhouse://", 13) == 0 || strncmp(spec, "clickhouses://", 14) == 0;
}

/* (a short name for the calls in pct_decode) */
static int hexval(int ch)
{
    return cm_hex_digit(ch);
}

/* Percent-decodes s[0..n) into a new string; refuses bytes that cannot go
 * into an HTTP header (NUL, CR, LF). */
static char *pct_decode(const char *s, size_t n, const char *what, cm_err *err)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0) {
                cm_err_set(err, "the %s has a '%%' that is not followed by two hex digits (write %%25 for '%%')",
                           what);
                free(out);
                return NULL;
            }
            ch = hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]);
            i += 2;
        }
        if (ch == 0 || ch == '\r' || ch == '\n') {
            cm_err_set(err, "the %s contains a NUL or line break, which cannot be sent to ClickHouse", what);
            free(out);
            return NULL;
        }
        out[o++] = (char)ch;
    }
    out[o] = 0;
    return out;
}

static int parse_spec(const char *spec, ch_conn *c, cm_err *err);

/* Errors are about the source as the user wrote it: the CLI names the
 * option in front of them. */
int clickhouse_parse_spec(const char *spec, ch_conn *c, cm_err *err)
{
    if (parse_spec(spec, c, err) < 0)
        return cm_err_mark(err, CM_ERR_SOURCE_SPEC, CM_HINT_FROM_SPEC, NULL);
    return 0;
}

static int parse_spec(const char *spec, ch_conn *c, cm_err *err)
{
    memset(c, 0, sizeof *c);
    const char *p;
    if (strncmp(spec, "clickhouses://", 14) == 0) {
        c->tls = 1;
        p = spec + 14;
    } else if (strncmp(spec, "clickhouse://", 13) == 0) {
        p = spec + 13;
    } else {
        return cm_err_set(err, "a ClickHouse source starts with clickhouse:// or clickhouses://");
    }
    const char *usage = "clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE]";
    /* userinfo: up to the last '@' ('@', '/', ':' inside user names are
     * percent-encoded; inside the password only '@' must be) */
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
        if (ulen) {
            if (!(c->user = pct_decode(p, ulen, "user name", err)))
                goto fail;
        }
        if (colon) {
            if (!(c->password = pct_decode(colon + 1, (size_t)(at - colon - 1), "password", err)))
                goto fail;
        }
        p = at + 1;
    }
    const char *hs = p, *he;
    if (*p == '[') {
        he = strchr(p, ']');
        if (!he) {
            cm_err_set(err, "'[' without ']' in the host (IPv6 addresses are written [::1]); %s", usage);
            goto fail;
        }
        hs = p + 1;
        p = he + 1;
    } else {
        p += strcspn(p, ":/?#");
        he = p;
    }
    if (he == hs) {
        cm_err_set(err, "no host in '%s'; %s", c->tls ? "clickhouses://..." : "clickhouse://...", usage);
        goto fail;
    }
    c->host = xmemdup0(hs, (size_t)(he - hs));
    c->port = c->tls ? 8443 : 8123;
    if (*p == ':') {
        p++;
        long port = 0;
        size_t nd = 0;
        while (p[nd] >= '0' && p[nd] <= '9' && nd < 6)
            port = port * 10 + (p[nd++] - '0');
        if (nd == 0 || port < 1 || port > 65535 || (p[nd] && !strchr("/?#", p[nd]))) {
            cm_err_set(err, "the port must be a number from 1 to 65535; %s", usage);
            goto fail;
        }
        c->port = (int)port;
        p += nd;
    }
    if (*p == '?' || *p == '#') {
        cm_err_set(err, "'%c...' is not understood; settings cannot be given in the URL; %s", *p, usage);
        goto fail;
    }
    if (*p && *p != '/') {
        cm_err_set(err, "unexpected '%s' after the host; %s", p, usage);
        goto fail;
    }
    if (*p == '/')
        p++;
    size_t dlen = strlen(p);
    if (dlen && p[dlen - 1] == '/')
        dlen--;
    if (memchr(p, '/', dlen) || memchr(p, '?', dlen) || memchr(p, '#', dlen)) {
        cm_err_set(err, "the database '%.*s' must be one name (percent-encode '/', '?', '#'); %s", (int)dlen,
                   p, usage);
        goto fail;
    }
    if (dlen) {
        if (!(c->database = pct_decode(p, dlen, "database name", err)))
            goto fail;
    } else {
        c->database = xstrdup("default");
    }
    if (!c->password) {
        const char *env = getenv("CLICKHOUSE_PASSWORD");
        if (env && *env) {
            if (strchr(env, '\n') || strchr(env, '\r')) {
                cm_err_set(err, "CLICKHOUSE_PASSWORD contains a line break, which cannot be sent to ClickHouse");
                goto fail;
            }
            c->password = xstrdup(env);
        }
    }
    int ipv6 = strchr(c->host, ':') != NULL;
    size_t n = strlen(c->host) + 16;
    c->where = xmalloc(n);
    snprintf(c->where, n, "%s%s%s:%d", ipv6 ? "[" : "", c->host, ipv6 ? "]" : "", c->port);
    n = strlen(c->where) + strlen(c->database) + (c->user ? strlen(c->user) : 8) + 40;
    c->location = xmalloc(n);
    int has_pw = c->password && c->password[0];
    const char *user = c->user ? c->user : (has_pw ? "default" : NULL);
    snprintf(c->location, n, "%s://%s%s%s%s/%s", c->tls ? "clickhouses" : "clickhouse", user ? user : "",
             has_pw ? ":***" : "", user ? "@" : "", c->where, c->database);
    return 0;
fail:
    ch_conn_free(c);
    return -1;
}

/* ---- queries ---- */

/* One row of a query's answer: parse() reads the row from the cursor
 * (RB_OK / RB_NEED / RB_BAD); the row's bytes stay valid until the next call.
 * Returns 1 with a row, 0 at the clean end, -1 on error. */
typedef int (*row_fn)(rb_cur *c, void *ctx, cm_err *err);

static int stream_row(ch_stream *st, size_t *pending, row_fn parse, void *ctx, int64_t row, cm_err *err)
{
    ch_stream_consume(st, *pending);
    *pending = 0;
    size_t need = 1;
    for (;;) {
        int f = ch_stream_fill(st, need, err);
        if (f < 0)
            return -1;
        size_t avail;
        const uint8_t *p = ch_stream_peek(st, &avail);
        if (f == 0 && avail == 0)
            return 0;
        rb_cur c;
        rb_init(&c, p, avail);
        int r = parse(&c, ctx, err);
        if (r == RB_OK) {
            *pending = c.off;
            return 1;
        }
        const char *exc = r == RB_BAD || f == 0 ? ch_stream_trailing_exception(st) : NULL;
        if (r == RB_BAD) {
            if (exc)
                return cm_err_set(err, "ClickHouse reported an error in the middle of its answer, at row %lld: %s",
                                  (long long)row, exc);
            return cm_err_prefix(err, "malformed answer at row %lld (byte %llu of the answer)", (long long)row,
                                 (unsigned long long)ch_stream_offset(st));
        }
        if (f == 0) {
            if (exc)
                return cm_err_set(err, "ClickHouse reported an error in the middle of its answer, at row %lld: %s",
                                  (long long)row, exc);
            return cm_err_set(err,
                              "the answer ends in the middle of row %lld (%zu of at least %zu bytes): truncated "
                              "RowBinary data (did the server stop or the connection break?)",
                              (long long)row, avail, c.need);
        }
        need = c.need > avail ? c.need : avail + 1;
    }
}

/* Opens a query with the source's read settings. */
static ch_stream *query(ch_src *cs, const char *sql, cm_err *err)
{
    return ch_stream_open(&cs->conn, sql, cs->settings, err);
}

typedef struct str_row {
    const uint8_t *s[3];
    size_t len[3];
    int nstr;
} str_row;

static int parse_strings(rb_cur *c, void *ctx, cm_err *err)
{
    str_row *r = ctx;
    for (int k = 0; k < r->nstr; k++) {
        int rc = rb_string(c, &r->s[k], &r->len[k], err);
        if (rc == RB_BAD)
            return cm_err_prefix(err, "column %d", k + 1);
        if (rc != RB_OK)
            return rc;
    }
    return RB_OK;
}

/* ---- opening: version, schema ---- */

static int fetch_version(ch_src *cs, cm_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        ch_stream *st = query(cs, "SELECT version() FORMAT RowBinary", err);
        if (!st)
            return -1;
        str_row r = {.nstr = 1};
        size_t pending = 0;
        int got = stream_row(st, &pending, parse_strings, &r, 0, err);
        if (got > 0)
            snprintf(cs->version, sizeof cs->version, "%.*s", (int)(r.len[0] < 40 ? r.len[0] : 40),
                     (const char *)r.s[0]);
        int code = got < 0 ? ch_stream_server_code(st) : 0;
        ch_stream_close(st);
        if (got < 0 && code == 164 && cs->settings) {
            /* READONLY: this user may not change settings (readonly=1). */
            cs->settings = NULL;
            cm_err_clear(err);
            continue;
        }
        if (got < 0)
            return -1;
        if (got == 0)
            return cm_err_set(err, "ClickHouse at %s sent nothing for SELECT version()", cs->conn.where);
        return 0;
    }
    return -1;
}

typedef struct want_col {
    const char *table, *name, *type;
    const char *also; /* another type some 0.3.x release wrote, or NULL */
} want_col;

static const want_col chroma_cols[] = {
    {"collections", "uuid", "UUID", NULL},
    {"collections", "name", "String", NULL},
    {"collections", "metadata", "String", NULL},
    {"embeddings", "collection_uuid", "UUID", NULL},
    {"embeddings", "uuid", "UUID", NULL},
    {"embeddings", "embedding", "Array(Float64)", NULL},
    {"embeddings", "document", "Nullable(String)", NULL},
    {"embeddings", "id", "Nullable(String)", NULL},
    {"embeddings", "metadata", "Nullable(String)", "String"}, /* String: chromadb 0.3.0 */
};
#define N_COLS (sizeof chroma_cols / sizeof chroma_cols[0])

/* Names of the database's tables, for the message when chroma's are absent. */
static void other_tables(ch_src *cs, char *out, size_t cap)
{
    cm_err e = {0};
    out[0] = 0;
    ch_stream *st = query(cs, "SELECT name FROM system.tables WHERE database = currentDatabase() FORMAT RowBinary", &e);
    if (!st)
        return;
    str_row r = {.nstr = 1};
    size_t pending = 0, o = 0;
    int n = 0;
    while (stream_row(st, &pending, parse_strings, &r, n, &e) > 0) {
        if (n < 8)
            o += (size_t)snprintf(out + o, cap - o, "%s'%.*s'", n ? ", " : "", (int)(r.len[0] < 60 ? r.len[0] : 60),
                                  (const char *)r.s[0]);
        else if (n == 8)
            o += (size_t)snprintf(out + o, cap - o, ", ...");
        n++;
        if (o >= cap)
            break;
    }
    ch_stream_close(st);
}

static int check_schema(ch_src *cs, cm_err *err)
{
    ch_stream *st = query(cs,
                          "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
                          "AND table IN ('collections', 'embeddings') FORMAT RowBinary",
                          err);
    if (!st)
        return -1;
    char found_type[N_COLS][64];
    int seen_table[2] = {0, 0};
    memset(found_type, 0, sizeof found_type);
    str_row r = {.nstr = 3};
    size_t pending = 0;
    int got;
    int64_t n = 0;
    while ((got = stream_row(st, &pending, parse_strings, &r, n++, err)) > 0) {
        int t = r.len[0] == 10 && memcmp(r.s[0], "embeddings", 10) == 0;
        seen_table[t] = 1;
        for (size_t k = 0; k < N_COLS; k++) {
            const want_col *w = &chroma_cols[k];
            if (strlen(w->table) == r.len[0] && memcmp(w->table, r.s[0], r.len[0]) == 0 &&
                strlen(w->name) == r.len[1] && memcmp(w->name, r.s[1], r.len[1]) == 0)
                snprintf(found_type[k], sizeof found_type[k], "%.*s", (int)(r.len[2] < 60 ? r.len[2] : 60),
                         (const char *)r.s[2]);
        }
    }
    ch_stream_close(st);
    if (got < 0)
        return cm_err_prefix(err, "reading the columns of %s.collections and %s.embeddings", cs->conn.database,
                             cs->conn.database);
    if (!seen_table[0] || !seen_table[1]) {
        char others[600];
        other_tables(cs, others, sizeof others);
        const char *missing = !seen_table[0] && !seen_table[1] ? "has neither table 'collections' nor 'embeddings'"
                              : !seen_table[0]                 ? "has no table 'collections'"
                                                               : "has no table 'embeddings'";
        return cm_err_set(err,
                          "ClickHouse at %s: database '%s' %s, so it is not a chroma 0.3.x database (%s%s); a chroma "
                          "0.3.x server keeps both in database 'default'",
                          cs->conn.where, cs->conn.database, missing, others[0] ? "its tables: " : "it has no tables",
                          others),
               cm_err_mark(err, CM_ERR_SOURCE_SPEC, CM_HINT_FROM_DATABASE, NULL);
    }
    for (size_t k = 0; k < N_COLS; k++) {
        const want_col *w = &chroma_cols[k];
        if (!found_type[k][0])
            return cm_err_set(err,
                              "ClickHouse at %s: table %s.%s has no column '%s': not chroma 0.3.x's schema (it has "
                              "collections(uuid UUID, name String, metadata String) and embeddings(collection_uuid "
                              "UUID, uuid UUID, embedding Array(Float64), document Nullable(String), id "
                              "Nullable(String), metadata Nullable(String)))",
                              cs->conn.where, cs->conn.database, w->table, w->name);
        if (w->also && strcmp(found_type[k], w->also) == 0) {
            cs->meta_plain = 1; /* the only column with an alternative */
            continue;
        }
        if (strcmp(found_type[k], w->type) != 0)
            return cm_err_set(err,
                              "ClickHouse at %s: column %s.%s.%s is %s, but chroma 0.3.x wrote %s: not chroma 0.3.x's "
                              "schema, refusing to guess",
                              cs->conn.where, cs->conn.database, w->table, w->name, found_type[k], w->type);
    }
    return 0;
}

/* ---- listing ---- */

typedef struct count_row {
    char uuid[37];
    uint64_t n;
} count_row;

static int parse_count(rb_cur *c, void *ctx, cm_err *err)
{
    count_row *r = ctx;
    int rc = rb_uuid(c, r->uuid, err);
    if (rc != RB_OK)
        return rc;
    return rb_u64(c, &r->n, err);
}

static void free_collections(cm_collection *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cm_collection_free(&c[i]);
    free(c);
}

static int read_collections(ch_src *cs, cm_collection **out, size_t *nout, cm_err *err)
{
    ch_stream *st = query(cs, "SELECT toString(uuid), name, metadata FROM collections FORMAT RowBinary", err);
    if (!st)
        return -1;
    cm_collection *res = NULL;
    size_t n = 0, cap = 0, pending = 0;
    str_row r = {.nstr = 3};
    int got;
    while ((got = stream_row(st, &pending, parse_strings, &r, (int64_t)n, err)) > 0) {
        res = xgrow(res, &cap, n + 1, sizeof *res);
        cm_collection *cc = &res[n++];
        memset(cc, 0, sizeof *cc);
        cc->id = xmemdup0(r.s[0], r.len[0]);
        cc->name = xmemdup0(r.s[1], r.len[1]);
        cc->count_hint = 0;
        if (!cm_uuid_valid(cc->id)) {
            cm_err_set(err, "collection '%s' has uuid '%s', which is not a UUID", cc->name, cc->id);
            got = -1;
            break;
        }
        for (size_t k = 0; k + 1 < n; k++)
            if (strcmp(res[k].id, cc->id) == 0) {
                cm_err_set(err,
                           "collections '%s' and '%s' have the same uuid %s: the table is inconsistent (two rows "
                           "for one collection); remove one of them in ClickHouse first",
                           res[k].name, cc->name, cc->id);
                got = -1;
                break;
            }
        if (got < 0)
            break;
        if (cm_meta_parse((const char *)r.s[2], r.len[2], &cc->meta, &cc->has_meta, err) < 0) {
            cm_err_prefix(err, "collection '%s': metadata", cc->name);
            got = -1;
            break;
        }
        if (cc->has_meta && cc->meta.n == 0)
            cc->has_meta = 0; /* {} is "no metadata" for Chroma >= 0.4 */
    }
    ch_stream_close(st);
    if (got < 0) {
        free_collections(res, n);
        return cm_err_prefix(err, "ClickHouse at %s, table %s.collections", cs->conn.where, cs->conn.database);
    }
    *out = res;
    *nout = n;
    return 0;
}

static int src_list(cm_source *s, cm_collection **out, size_t *n, cm_err *err)
{
    ch_src *cs = (ch_src *)s;
    *out = NULL;
    *n = 0;
    cm_collection *cols = NULL;
    size_t ncols = 0;
    if (read_collections(cs, &cols, &ncols, err) < 0)
        return -1;
    ch_stream *st = query(cs, "SELECT collection_uuid, count() FROM embeddings GROUP BY collection_uuid FORMAT RowBinary",
                          err);
    if (!st) {
        free_collections(cols, ncols);
        return -1;
    }
    count_row r;
    size_t pending = 0;
    int got, orphans = 0;
    int64_t k = 0;
    while ((got = stream_row(st, &pending, parse_count, &r, k++, err)) > 0) {
        size_t i = 0;
        while (i < ncols && strcmp(cols[i].id, r.uuid) != 0)
            i++;
        if (i == ncols) {
            /* Rows that belong to no listed collection would be lost without a word. */
            cm_err_set(err,
                       "ClickHouse at %s: %llu records in %s.embeddings belong to collection uuid %s, which is not "
                       "in %s.collections; the database is inconsistent (restore the collection row, or delete "
                       "those records in ClickHouse if they are garbage)",
                       cs->conn.where, (unsigned long long)r.n, cs->conn.database, r.uuid, cs->conn.database);
            orphans = 1;
            got = -1;
            break;
        }
        cols[i].count_hint = (int64_t)r.n;
    }
    if (got < 0 && !orphans)
        cm_err_prefix(err, "ClickHouse at %s, counting the records of %s.embeddings", cs->conn.where,
                      cs->conn.database);
    ch_stream_close(st);
    if (got < 0) {
        free_collections(cols, ncols);
        return -1;
    }
    *out = cols;
    *n = ncols;
    return 0;
}

/* ---- reading a collection ---- */

typedef struct emb_row {
    const uint8_t *id, *doc, *meta, *emb;
    size_t id_len, doc_len, meta_len, dim;
} emb_row;

static int parse_record(rb_cur *c, void *ctx, cm_err *err)
{
    emb_row *r = ctx;
    int rc;
    if ((rc = rb_nullable_string(c, &r->id, &r->id_len, err)) != RB_OK)
        return rc == RB_BAD ? cm_err_prefix(err, "column id") : rc;
    if ((rc = rb_f64_array(c, &r->emb, &r->dim, err)) != RB_OK)
        return rc == RB_BAD ? cm_err_prefix(err, "column embedding") : rc;
    if ((rc = rb_nullable_string(c, &r->doc, &r->doc_len, err)) != RB_OK)
        return rc == RB_BAD ? cm_err_prefix(err, "column document") : rc;
    if ((rc = rb_nullable_string(c, &r->meta, &r->meta_len, err)) != RB_OK)
        return rc == RB_BAD ? cm_err_prefix(err, "column metadata") : rc;
    return RB_OK;
}

static void rd_close(cm_reader *rd)
{
    if (!rd)
        return;
    ch_stream_close(rd->st);
    free(rd->name);
    free(rd->uuid);
    free(rd);
}

static cm_reader *src_open(cm_source *s, const cm_collection *c, cm_err *err)
{
    ch_src *cs = (ch_src *)s;
    if (!c->id || !cm_uuid_valid(c->id)) {
        cm_err_set(err, "collection '%s': '%s' is not a ClickHouse collection uuid", c->name,
                   c->id ? c->id : "(none)");
        return NULL;
    }
    char sql[256];
    /* No ORDER BY: storage order (see the top of this file), unless one
     * reading thread could not be asked for. */
    snprintf(sql, sizeof sql,
             "SELECT id, embedding, document, %s FROM embeddings WHERE collection_uuid = '%s'%s FORMAT RowBinary",
             cs->meta_plain ? "toNullable(metadata)" : "metadata", c->id, cs->settings ? "" : " ORDER BY uuid");
    cm_reader *rd = xcalloc(1, sizeof *rd);
    rd->src = cs;
    rd->name = xstrdup(c->name);
    rd->uuid = xstrdup(c->id);
    rd->expected = c->count_hint;
    rd->st = query(cs, sql, err);
    if (!rd->st) {
        rd_close(rd);
        return NULL;
    }
    return rd;
}

static int rd_next(cm_reader *rd, cm_record *r, cm_err *err)
{
    ch_src *cs = rd->src;
    if (rd->ended)
        return 0;
    emb_row row;
    int got = stream_row(rd->st, &rd->pending, parse_record, &row, rd->row, err);
    if (got < 0)
        return cm_err_prefix(err, "ClickHouse at %s, table %s.embeddings, collection '%s' (%s)", cs->conn.where,
                             cs->conn.database, rd->name, rd->uuid);
    if (got == 0) {
        rd->ended = 1;
        if (rd->expected >= 0 && rd->row != rd->expected)
            return cm_err_set(err,
                              "ClickHouse at %s, table %s.embeddings, collection '%s' (%s): read %lld records but "
                              "counted %lld a moment before; the table changed while reading (stop the chroma 0.3.x "
                              "server before migrating) or the answer was cut short; run again",
                              cs->conn.where, cs->conn.database, rd->name, rd->uuid, (long long)rd->row,
                              (long long)rd->expected);
        return 0;
    }
    cm_record_clear(r);
    if (row.id) {
        r->id = xmemdup0(row.id, row.id_len);
        r->id_len = row.id_len;
    }
    r->emb = xmalloc((row.dim ? row.dim : 1) * sizeof(double));
    r->dim = row.dim;
    rb_f64_copy(r->emb, row.emb, row.dim);
    if (row.doc) {
        r->doc = xmemdup0(row.doc, row.doc_len);
        r->doc_len = row.doc_len;
    }
    r->src_row = rd->row++;
    if (row.meta)
        cm_record_meta_from_text(r, (const char *)row.meta, row.meta_len);
    return 1;
}

/* ---- the source ---- */

static size_t src_notes(cm_source *s, const cm_note **out)
{
    ch_src *cs = (ch_src *)s;
    cs->note.text = cs->notes;
    *out = &cs->note;
    return cs->notes[0] ? 1 : 0;
}

static void src_destroy(cm_source *s)
{
    ch_src *cs = (ch_src *)s;
    if (!cs)
        return;
    ch_conn_free(&cs->conn);
    free(cs->base.location);
    free(cs);
}

static const cm_source_ops clickhouse_ops = {
    .kind = "chromadb 0.3.x ClickHouse database (HTTP interface)",
    .list = src_list,
    .open = src_open,
    .next = rd_next,
    .close = rd_close,
    .notes = src_notes,
    .destroy = src_destroy,
};

/* The source's CA file or insecure option, or the CA file curl's environment
 * variables name; refused for plain clickhouse://, where they would do
 * nothing. */
static int take_tls_opts(ch_conn *c, const cm_source_opts *opts, cm_err *err)
{
    const char *ca = opts ? opts->cacert : NULL;
    int insecure = opts && opts->insecure;
    if (!c->tls && (ca || insecure))
        return cm_err_set(err, "applies to clickhouses:// (HTTPS) only; this source is plain HTTP"),
               cm_err_mark(err, CM_ERR_SOURCE_SPEC, CM_HINT_FROM_TLS_PLAIN, ca ? "1" : "0");
    if (c->tls && !ca) {
        const char *env = getenv("CURL_CA_BUNDLE");
        ca = env && *env ? env : getenv("SSL_CERT_FILE");
        if (ca && !*ca)
            ca = NULL;
    }
    c->cacert = ca ? xstrdup(ca) : NULL;
    c->insecure = insecure;
    return 0;
}

cm_source *clickhouse_open(const char *spec, const cm_source_opts *opts, cm_err *err)
{
    ch_src *cs = xcalloc(1, sizeof *cs);
    cs->base.ops = &clickhouse_ops;
    if (clickhouse_parse_spec(spec, &cs->conn, err) < 0) {
        free(cs);
        return NULL;
    }
    if (take_tls_opts(&cs->conn, opts, err) < 0) {
        ch_conn_free(&cs->conn);
        free(cs);
        return NULL;
    }
    cs->base.location = xstrdup(cs->conn.location);
    cs->settings = READ_SETTINGS;
    if (fetch_version(cs, err) < 0 || check_schema(cs, err) < 0)
        goto fail;
    if (cs->settings)
        snprintf(cs->notes, sizeof cs->notes,
                 "ClickHouse %s, database '%s'; records are read in storage order (no ORDER BY), which is the order "
                 "chroma inserted them: duplicate-id policy 'first' keeps the earliest inserted copy",
                 cs->version, cs->conn.database);
    else
        snprintf(cs->notes, sizeof cs->notes,
                 "ClickHouse %s, database '%s'. Caution: user '%s' is read-only (readonly=1) and may not set "
                 "max_threads=1, which keeps records in the order chroma inserted them; they are read sorted by "
                 "their internal uuid instead, so the 'first' and 'last' copies of a duplicated id are not the "
                 "inserted ones (use a user with readonly=2 to keep the order)",
                 cs->version, cs->conn.database, cs->conn.user ? cs->conn.user : "default");
    return &cs->base;
fail:
    src_destroy(&cs->base);
    return NULL;
}
