/* advice.c - the CLI's wording of the advice of an error (cm_err.hint) and
 * of a note (cm_note.hint: log lines, a source's notes, what a sink did).
 *
 * The library says what went wrong and which advice applies; only this file
 * knows how the options are spelled, so renaming a flag changes one place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../core/policy.h"
#include "../util/mem.h"

/* The text put in front of the message (the option it is about). */
static const char *head(cm_hint hint, const char *arg)
{
    switch (hint) {
    case CM_HINT_FROM_SPEC:
    case CM_HINT_FROM_HEADER_NOT_URL:
        return "--from: ";
    case CM_HINT_TO_SPEC:
    case CM_HINT_HEADER_NOT_URL: /* only the target's URL; the source's is FROM_HEADER_NOT_URL */
        return "--to: ";
    case CM_HINT_COLLECTION:
        return "--collection ";
    case CM_HINT_RENAME_ARG:
        return "--rename ";
    case CM_HINT_FROM_TLS_PLAIN:
        return strcmp(arg, "1") == 0 ? "--from-cacert " : "--from-insecure ";
    case CM_HINT_TLS_PLAIN:
        return "note: --cacert and --insecure apply to https:// only; ";
    default:
        return "";
    }
}

/* The advice after the message; %s is arg where one is needed. */
static void tail(cm_hint hint, const char *a, char *out, size_t cap)
{
    switch (hint) {
    case CM_HINT_HEADER_AUTH:
    case CM_HINT_FROM_HEADER_AUTH: {
        const char *o = hint == CM_HINT_HEADER_AUTH ? "--header" : "--from-header";
        snprintf(out, cap,
                 "; the server wants credentials: give the token with %s 'Authorization: Bearer TOKEN' or %s "
                 "'X-Chroma-Token: TOKEN'%s",
                 o, o, hint == CM_HINT_FROM_HEADER_AUTH ? " (inspect and export: --header)" : "");
        return;
    }
    case CM_HINT_HEADER_NOT_URL:
        snprintf(out, cap, "; give them with --header instead (the URL is shown in reports)");
        return;
    case CM_HINT_FROM_HEADER_NOT_URL:
        snprintf(out, cap, "; give them with --from-header instead (inspect and export: --header; the URL is shown "
                           "in reports)");
        return;
    case CM_HINT_CACERT:
        snprintf(out, cap, "; the server's certificate is not trusted: give --cacert FILE with the CA that signed "
                           "it, or --insecure to skip the check");
        return;
    case CM_HINT_CACERT_UNREADABLE:
        snprintf(out, cap, "; the --cacert file could not be read as a CA certificate (PEM)");
        return;
    case CM_HINT_FROM_CACERT:
        snprintf(out, cap, "; if the server's certificate comes from a private CA, give that CA with --from-cacert "
                           "FILE (PEM), or --from-insecure to skip the check");
        return;
    case CM_HINT_FROM_RUNNING:
        snprintf(out, cap, "; is it running? check --from");
        return;
    case CM_HINT_FROM_DATABASE:
        snprintf(out, cap, ": check the /DATABASE part of --from");
        return;
    case CM_HINT_FROM_USER:
        snprintf(out, cap, "; check the user and password in --from (clickhouse://USER:PASSWORD@HOST:PORT/DATABASE, "
                           "or the CLICKHOUSE_PASSWORD variable)");
        return;
    case CM_HINT_FROM_SERVER_OPTS:
        snprintf(out, cap, " (a Chroma server is --from http[s]://...)");
        return;
    case CM_HINT_FROM_CLICKHOUSE:
        snprintf(out, cap, " (--from clickhouse://HOST:8123, or its persist_directory)");
        return;
    case CM_HINT_TENANT_DATABASE:
        snprintf(out, cap, "; leave out --tenant and --database");
        return;
    case CM_HINT_OTHER_DATABASE:
        snprintf(out, cap, "; create it first, or give --tenant/--database of one that exists");
        return;
    case CM_HINT_EXISTS:
        snprintf(out, cap,
                 "; give --resume to finish a migration into it that was interrupted, --on-existing append to add to "
                 "it, or --rename '%s=NEW'",
                 a);
        return;
    case CM_HINT_TO_REAL_FOLDER:
        snprintf(out, cap, "; give the real folder as --to");
        return;
    case CM_HINT_TO_MAKE_LINKED:
        snprintf(out, cap, "; create that folder or give another --to");
        return;
    case CM_HINT_TO_NEW_PATH:
        snprintf(out, cap, "; choose a new --to path");
        return;
    case CM_HINT_TO_NEW_OR_REMOVE:
        snprintf(out, cap, "; choose a new --to path or remove it");
        return;
    case CM_HINT_INDEX_REBUILD:
        snprintf(out, cap, "; run with --index auto or rebuild");
        return;
    case CM_HINT_RESUME_COLLECTION:
    case CM_HINT_RESUME_SERVER:
        snprintf(out, cap, "; run the same command again with --resume to finish the migration (records the server "
                           "already has are not sent again)");
        return;
    case CM_HINT_SKIP_UNSENT:
        snprintf(out, cap, " unless --skip-invalid-records leaves %s out", a);
        return;
    case CM_HINT_FROM_CLICKHOUSE_STORE:
        snprintf(out, cap, " (--from clickhouse://HOST:8123, the host and port of its clickhouse_host and "
                           "clickhouse_port settings) or, for the duckdb+parquet backend, its persist_directory");
        return;
    default:
        out[0] = '\0';
        return;
    }
}

void cli_err_format(const cm_err *e, char *out, size_t cap)
{
    char t[512];
    tail(e->hint, e->hint_arg, t, sizeof t);
    snprintf(out, cap, "%s%s%s", head(e->hint, e->hint_arg), e->set ? e->msg : "unknown error", t);
}

/* The worded note appended to *buf (grown; *len its length). */
static void note_append(const cm_note *n, char **buf, size_t *len)
{
    const char *arg = n->arg ? n->arg : "";
    char t[512];
    tail(n->hint, arg, t, sizeof t);
    const char *h = head(n->hint, arg);
    size_t need = *len + strlen(h) + strlen(n->text) + strlen(t) + 1;
    *buf = xrealloc(*buf, need);
    *len += (size_t)snprintf(*buf + *len, need - *len, "%s%s%s", h, n->text, t);
}

void cli_note_format(const cm_note *n, char *out, size_t cap)
{
    char *buf = NULL;
    size_t len = 0;
    note_append(n, &buf, &len);
    snprintf(out, cap, "%s", buf);
    free(buf);
}

const char *cli_source_notes(cm_source *src)
{
    static char *text;
    free(text);
    text = NULL;
    const cm_note *notes = NULL;
    size_t n = src->ops->notes ? src->ops->notes(src, &notes) : 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            cm_note sep = {.text = "; "};
            note_append(&sep, &text, &len);
        }
        note_append(&notes[i], &text, &len);
    }
    return text;
}

const char *cli_err_text(const cm_err *e)
{
    static char buf[sizeof e->msg + 1024];
    cli_err_format(e, buf, sizeof buf);
    return buf;
}

const char *cli_records_have(int64_t n)
{
    return n == 1 ? "record has" : "records have";
}

void cli_blocker_text(const cm_blocker *b, char *out, size_t cap)
{
    const char *c = b->collection, *ex = b->examples ? b->examples : "";
    long long n = (long long)b->count;
    switch (b->kind) {
    case CM_BLK_BAD_NAME:
        snprintf(out, cap, "collection '%s': the name '%s' %s, which Chroma >= 0.4 does not allow; give --rename '%s=NEW'",
                 c, c, b->detail, b->other);
        return;
    case CM_BLK_NAME_CLASH:
        snprintf(out, cap, "collections '%s' and '%s' would both be named '%s'; give --rename to one of them", b->other,
                 c, b->detail);
        return;
    case CM_BLK_META_KEY:
        snprintf(out, cap,
                 "collection '%s': its metadata key '%s' has a %s, which Chroma >= 0.4 cannot store; choose "
                 "--invalid-metadata drop or stringify",
                 c, b->other, b->detail);
        return;
    case CM_BLK_HNSW_META:
        snprintf(out, cap, "collection '%s': %s; fix the source's collection metadata", c, b->detail);
        return;
    case CM_BLK_BAD_META:
        snprintf(out, cap,
                 "collection '%s': %lld %s metadata keys or values Chroma >= 0.4 cannot store (%s); choose "
                 "--invalid-metadata drop (remove those keys) or stringify (store their JSON text, rename the keys)",
                 c, n, cli_records_have(b->count), ex);
        return;
    case CM_BLK_META_NOT_OBJECT:
        snprintf(out, cap,
                 "collection '%s': %lld %s metadata that is no JSON object (%s); choose --invalid-metadata drop "
                 "(write them without metadata) or stringify (keep the text under the key '" CM_LEGACY_METADATA_KEY
                 "')",
                 c, n, cli_records_have(b->count), ex);
        return;
    case CM_BLK_DUP_IDS:
        snprintf(out, cap, "collection '%s': %lld %s an earlier id (%s); choose --duplicates first or last", c, n,
                 b->count == 1 ? "record repeats" : "records repeat", ex);
        return;
    case CM_BLK_MISSING_ID:
        snprintf(out, cap,
                 "collection '%s': %lld %s no id or the empty id (%s); give --skip-invalid-records to leave them out",
                 c, n, cli_records_have(b->count), ex);
        return;
    case CM_BLK_BAD_TEXT:
        snprintf(out, cap,
                 "collection '%s': %lld %s an id or document that is not UTF-8 text, which Chroma >= 0.4 cannot "
                 "store (%s); give --skip-invalid-records to leave them out",
                 c, n, cli_records_have(b->count), ex);
        return;
    case CM_BLK_UNSENT:
        snprintf(out, cap,
                 "collection '%s': %lld %s could not send (%s); give --skip-invalid-records to leave them out (the "
                 "note about the source says how to get them)",
                 c, n, b->count == 1 ? "record the server" : "records the server", ex);
        return;
    case CM_BLK_MISSING_EMB:
        snprintf(out, cap,
                 "collection '%s': %lld %s no usable embedding (%s); give --skip-invalid-records to leave them out",
                 c, n, cli_records_have(b->count), ex);
        return;
    case CM_BLK_NONFINITE_EMB:
        snprintf(out, cap,
                 "collection '%s': %lld %s embedding values that are not finite float32 (%s); give "
                 "--skip-invalid-records to leave them out",
                 c, n, cli_records_have(b->count), ex);
        return;
    case CM_BLK_WRONG_DIM:
        snprintf(out, cap,
                 "collection '%s': embeddings of different dimensions (%s); give --skip-invalid-records to keep only "
                 "the %lld-dimensional ones",
                 c, b->detail, (long long)b->dim);
        return;
    }
    snprintf(out, cap, "collection '%s': needs a decision", c);
}
