/* wizard.c - `chroma-migrate` with no arguments on a terminal.
 *
 * Asks the original chroma-migrate tool's questions, in its order and with
 * its defaults (where from, where to, then host/port/path/headers), shows
 * what the source holds and asks for the decisions it needs, then runs the
 * very same `migrate` command a script would - and prints that command line,
 * so the next run can be non-interactive. Ctrl-C at any prompt leaves with
 * nothing written. Header values are secrets: they are masked on screen and
 * in the printed command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../endpoints.h"
#include "../core/meta_json.h"
#include "../legacy/persist_dir.h"
#include "../util/fsutil.h"
#include "../util/mem.h"
#include "cli.h"
#include "options.h"
#include "source_opts.h"
#include "term.h"

typedef struct argv_b {
    char **v;
    int n;
} argv_b;

static void push(argv_b *a, const char *s)
{
    a->v = xrealloc(a->v, (size_t)(a->n + 2) * sizeof *a->v);
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
}

static void argv_free(argv_b *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* {"Authorization": "Bearer x"} -> {"Authorization": "***"} */
static void mask_headers(const char *in, char *out, size_t cap)
{
    jv *v = json_parse(in, strlen(in), NULL);
    json_out o = {0};
    if (v && v->type == JV_OBJECT) {
        jo_raw(&o, "{", 1);
        for (size_t i = 0; i < v->u.obj.n; i++) {
            if (i)
                jo_raw(&o, ", ", 2);
            jo_str(&o, v->u.obj.members[i].key, v->u.obj.members[i].key_len);
            jo_cstr(&o, ": \"***\"");
        }
        jo_raw(&o, "}", 1);
    } else {
        jo_cstr(&o, "***");
    }
    snprintf(out, cap, "%.*s", (int)o.len, o.buf ? o.buf : "");
    jo_free(&o);
    jv_free(v);
}

static const char *headers_problem(const char *s)
{
    jv *v = json_parse(s, strlen(s), NULL);
    const char *why = NULL;
    if (!v || v->type != JV_OBJECT)
        why = "give a JSON object, e.g. {\"Authorization\": \"Bearer TOKEN\"}";
    for (size_t i = 0; !why && i < v->u.obj.n; i++)
        if (v->u.obj.members[i].value->type != JV_STRING)
            why = "every header value must be a JSON string";
    jv_free(v);
    return why;
}

static int ask(const char *q, const char *dflt, char *buf, size_t cap)
{
    return term_line(q, dflt, buf, cap, 0, NULL);
}

static int ask_port(const char *q, const char *dflt, char *buf, size_t cap)
{
    for (;;) {
        if (ask(q, dflt, buf, cap) == TERM_CANCEL)
            return TERM_CANCEL;
        char *end;
        long p = strtol(buf, &end, 10);
        if (!*end && p >= 1 && p <= 65535)
            return 0;
        printf("  '%s' is not a port: give a number from 1 to 65535\n", buf);
    }
}

static int ask_headers(const char *q, char *buf, size_t cap)
{
    for (;;) {
        if (term_line(q, "{}", buf, cap, 1, mask_headers) == TERM_CANCEL)
            return TERM_CANCEL;
        const char *why = headers_problem(buf);
        if (!why)
            return 0;
        printf("  not valid: %s\n", why);
    }
}

/* host + port + headers of a Chroma server; fills url and headers. */
static int ask_server(const char *what, char *url, size_t ucap, char *hdr, size_t hcap)
{
    char host[256], port[16], q[128];
    snprintf(q, sizeof q, "What is the ip/hostname of your %s", what);
    if (ask(q, "localhost", host, sizeof host) == TERM_CANCEL)
        return TERM_CANCEL;
    snprintf(q, sizeof q, "What is the port of your %s", what);
    if (ask_port(q, "8000", port, sizeof port) == TERM_CANCEL)
        return TERM_CANCEL;
    if (ask_headers("Any HTTP headers to send (e.g. for authentication), as JSON", hdr, hcap) == TERM_CANCEL)
        return TERM_CANCEL;
    snprintf(url, ucap, "%s%s:%s", strstr(host, "://") ? "" : "http://", host, port);
    return 0;
}

static void print_command(const argv_b *a)
{
    printf("\nThe same migration without questions:\n  chroma-migrate");
    for (int i = 0; i < a->n; i++) {
        const char *s = a->v[i];
        char masked[1024];
        if (i > 0 && (strcmp(a->v[i - 1], "--headers") == 0 || strcmp(a->v[i - 1], "--from-headers") == 0)) {
            mask_headers(s, masked, sizeof masked);
            s = masked;
        }
        int plain = *s != '\0';
        for (const char *p = s; *p && plain; p++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+", *p) != NULL;
        if (plain) {
            printf(" %s", s);
        } else {
            printf(" '");
            for (const char *p = s; *p; p++)
                if (*p == '\'')
                    printf("'\\''");
                else
                    putchar(*p);
            printf("'");
        }
    }
    printf("\n");
}

/* Shows what the source holds and asks for every decision it needs. Returns
 * 0 to go on, 1 to stop, TERM_CANCEL. */
static int decide(const char *from, const char *headers, argv_b *a)
{
    cm_err err = {0};
    cm_source_opts so = {0};
    if (strcmp(headers, "{}") != 0) /* as --from-headers would give them (already checked: a JSON object) */
        (void)cli_source_add_headers_json(&so, headers, &err);
    cm_source *src = cm_source_open_ex(from, &so, &err);
    cli_source_opts_free(&so);
    if (!src) {
        cli_error("%s", err.msg);
        return 1;
    }
    printf("\nReading %s ...\n", from);
    cm_policy pol = {0};
    cm_run run;
    int rc = cm_run_analyze(src, &pol, NULL, &run, &err);
    if (rc < 0) {
        cli_error("%s", err.msg);
        cm_run_free(&run);
        cm_source_close(src);
        return 1;
    }
    printf("\n");
    cli_print_inspect_text(stdout, src, &run);
    int64_t dups = 0, badmeta = 0, invalid = 0;
    for (size_t i = 0; i < run.n; i++) {
        dups += run.c[i].st.dup_ids.count;
        badmeta += run.c[i].st.bad_meta.count + run.c[i].st.meta_not_object.count;
        invalid += run.c[i].st.unsent.count + run.c[i].st.missing_emb.count + run.c[i].st.missing_id.count +
                   run.c[i].st.wrong_dim.count + run.c[i].st.nonfinite_emb.count + run.c[i].st.bad_text.count;
    }
    int r = 0;
    if (dups) {
        static const char *const c[] = {"keep the first copy (what Chroma's add does)", "keep the last copy",
                                        "stop"};
        char q[160];
        snprintf(q, sizeof q, "%lld records repeat an id. Which copy should be kept?", (long long)dups);
        r = term_choose(q, c, 3, 0);
        if (r == TERM_CANCEL || r == 2)
            goto out;
        push(a, "--duplicates");
        push(a, r == 0 ? "first" : "last");
    }
    if (badmeta) {
        static const char *const c[] = {"drop those keys", "store their JSON text as strings", "stop"};
        char q[200];
        snprintf(q, sizeof q, "%lld records have metadata values Chroma >= 0.4 cannot store. What should happen?",
                 (long long)badmeta);
        r = term_choose(q, c, 3, 0);
        if (r == TERM_CANCEL || r == 2)
            goto out;
        push(a, "--invalid-metadata");
        push(a, r == 0 ? "drop" : "stringify");
    }
    if (invalid) {
        static const char *const c[] = {"leave them out (they are counted in the summary)", "stop"};
        char q[200];
        snprintf(q, sizeof q,
                 "%lld records have no id, no usable embedding or another dimension. What should happen?",
                 (long long)invalid);
        r = term_choose(q, c, 2, 0);
        if (r == TERM_CANCEL || r == 1)
            goto out;
        push(a, "--skip-invalid-records");
    }
    for (size_t i = 0; i < run.n; i++) {
        const char *why = cm_name_problem(run.c[i].src.name);
        if (!why)
            continue;
        printf("\nThe collection name '%s' %s; Chroma >= 0.4 refuses it.\n", run.c[i].src.name, why);
        char name[128], q[256];
        snprintf(q, sizeof q, "New name for '%s'", run.c[i].src.name);
        for (;;) {
            /* A suggestion: the name with invalid characters replaced. */
            char sug[64];
            size_t k = 0;
            for (const char *p = run.c[i].src.name; *p && k < 60; p++)
                sug[k++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p) ? *p : '-';
            while (k < 3)
                sug[k++] = 'x';
            sug[k] = '\0';
            if (sug[0] == '-' || sug[0] == '.' || sug[0] == '_')
                sug[0] = 'c';
            if (sug[k - 1] == '-' || sug[k - 1] == '.' || sug[k - 1] == '_')
                sug[k - 1] = '0';
            if (ask(q, sug, name, sizeof name) == TERM_CANCEL) {
                r = TERM_CANCEL;
                goto out;
            }
            const char *bad = cm_name_problem(name);
            if (!bad)
                break;
            printf("  '%s' %s; try another\n", name, bad);
        }
        char arg[300];
        snprintf(arg, sizeof arg, "%s=%s", run.c[i].src.name, name);
        push(a, "--rename");
        push(a, arg);
    }
    r = 0;
out:
    cm_run_free(&run);
    cm_source_close(src);
    return r == TERM_CANCEL ? TERM_CANCEL : r ? 1 : 0;
}

int cmd_wizard(void)
{
    static const char *const from_c[] = {"ClickHouse (you run chroma with a clickhouse instance)",
                                         "DuckDB (you run chroma and save files to a persist_directory)",
                                         "Chroma server (you run a chroma server you access via the HTTP client)"};
    static const char *const to_c[] = {"Files I can use on this machine with chroma (a persistent directory)",
                                       "A chroma server that I can access via HTTP"};
    printf("\033[1mWelcome to chroma-migrate\033[0m\n"
           "It moves your data from Chroma versions before 0.4.0 to the latest format. Ctrl-C leaves at any "
           "time; nothing is written before you confirm.\n");
    argv_b a = {0};
    int rc = EXIT_INTERRUPTED;
    char from[1100], to[1100], fh[4096] = "{}", th[4096] = "{}", buf[1000], port[16];
    int fk = term_choose("Where would you like to migrate your data from?", from_c, 3, 0);
    if (fk == TERM_CANCEL)
        goto cancel;
    int tk = term_choose("Where is the Chroma instance you want to migrate to?", to_c, 2, 0);
    if (tk == TERM_CANCEL)
        goto cancel;
    if (fk == 0) {
        if (ask("What is the ip/hostname of your clickhouse server", "localhost", buf, sizeof buf) == TERM_CANCEL ||
            ask_port("What is the port of your clickhouse server", "8123", port, sizeof port) == TERM_CANCEL)
            goto cancel;
        snprintf(from, sizeof from, "clickhouse://%s:%s", buf, port);
    } else if (fk == 1) {
        for (;;) {
            if (ask("What is the path to the persist directory your data is currently stored in?", "./chroma",
                    from, sizeof from) == TERM_CANCEL)
                goto cancel;
            if (fs_dir_state(from) < 0)
                printf("  %s does not exist; give the folder chromadb 0.3.x was given as persist_directory\n", from);
            else if (!legacy_dir_detect(from))
                printf("  %s has no chroma-collections.parquet: not a legacy Chroma store\n", from);
            else
                break;
        }
    } else if (ask_server("chroma server", from, sizeof from, fh, sizeof fh) == TERM_CANCEL) {
        goto cancel;
    }
    if (tk == 0) {
        for (;;) {
            if (ask("What is the path you would like your data to be stored in?", "./chroma_migrated", to,
                    sizeof to) == TERM_CANCEL)
                goto cancel;
            if (fs_dir_state(to) != 0)
                break;
            printf("  %s already exists and is not empty; give a new folder\n", to);
        }
    } else if (ask_server("target chroma server", to, sizeof to, th, sizeof th) == TERM_CANCEL) {
        goto cancel;
    }
    push(&a, "migrate");
    push(&a, "--from");
    push(&a, from);
    if (strcmp(fh, "{}")) {
        push(&a, "--from-headers");
        push(&a, fh);
    }
    push(&a, "--to");
    push(&a, to);
    if (strcmp(th, "{}")) {
        push(&a, "--headers");
        push(&a, th);
    }
    int d = decide(from, fh, &a);
    if (d == TERM_CANCEL)
        goto cancel;
    if (d) {
        printf("\nStopped: nothing was written.\n");
        rc = EXIT_FAIL;
        goto done;
    }
    print_command(&a);
    int yes = term_yes_no("\nMigrate now?", 1);
    if (yes == TERM_CANCEL)
        goto cancel;
    if (!yes) {
        printf("Nothing was written.\n");
        rc = EXIT_OK;
        goto done;
    }
    rc = cmd_migrate(a.n, a.v); /* its summary ends with how to open the result */
    goto done;
cancel:
    term_restore();
    printf("\nCancelled: nothing was written.\n");
    rc = EXIT_INTERRUPTED;
done:
    argv_free(&a);
    return rc;
}
