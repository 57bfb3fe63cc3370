/* wizard.c - `chroma-migrate` with no arguments on a terminal.
 *
 * Asks the original chroma-migrate tool's questions, in its order and with
 * its defaults (where from, where to, then host/port/path/headers), checks
 * each answer when it is given (servers are connected to right after their
 * questions: wizard_ask.c), shows what the source holds and asks for the
 * decisions it needs, then runs the very same `migrate` command a script
 * would - and prints that command line, so the next run can be
 * non-interactive. Ctrl-C at any prompt leaves with nothing written. Secrets
 * never appear on screen: header values are kept in a file of mode 0600 that
 * the printed command names (--headers @FILE), the ClickHouse password in
 * the CLICKHOUSE_PASSWORD environment variable it names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../endpoints.h"
#include "../core/meta_json.h"
#include "../legacy/persist_dir.h"
#include "../util/fsutil.h"
#include "../util/mem.h"
#include "cli.h"
#include "options.h"
#include "target_opts.h"
#include "source_opts.h"
#include "term.h"
#include "wizard.h"

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

static int ask(const char *q, const char *dflt, char *buf, size_t cap)
{
    return term_line(q, dflt, buf, cap, 0, NULL);
}

/* One argument as a shell reads it back: plain, or in single quotes. */
static void print_shell_word(const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%", *p) != NULL;
    if (plain) {
        printf(" %s", s);
        return;
    }
    printf(" '");
    for (const char *p = s; *p; p++)
        if (*p == '\'')
            printf("'\\''");
        else
            putchar(*p);
    printf("'");
}

/* The command line as it ran: it holds no secret (headers are @FILE, the
 * password is named by its environment variable), so pasted it does the same. */
static void print_command(const argv_b *a, int ch_password)
{
    printf("\nThe same migration without questions:\n  chroma-migrate");
    int unsaved = 0;
    for (int i = 0; i < a->n; i++) {
        int hdr = i > 0 && (strcmp(a->v[i - 1], "--headers") == 0 || strcmp(a->v[i - 1], "--from-headers") == 0);
        if (hdr && a->v[i][0] != '@') { /* could not be saved: never print the values */
            print_shell_word("@FILE");
            unsaved = 1;
        } else {
            print_shell_word(a->v[i]);
        }
    }
    printf("\n");
    if (unsaved)
        printf("  (FILE: a file holding the headers as JSON; they could not be saved for you)\n");
    if (ch_password)
        printf("  (the ClickHouse password is read from the environment variable CLICKHOUSE_PASSWORD: set it "
               "first, e.g. read -rs CLICKHOUSE_PASSWORD && export CLICKHOUSE_PASSWORD)\n");
}

/* Writes the headers JSON to a new file of mode 0600 in the current folder
 * (never over an existing one) for --headers @FILE; out gets its absolute
 * path. -1 (message printed) when it cannot be written. */
static int save_headers(const char *json, const char *stem, char *out, size_t cap)
{
    char cwd[900];
    if (!getcwd(cwd, sizeof cwd)) {
        printf("  cannot save the headers: the current folder has no name (%s)\n", strerror(errno));
        return -1;
    }
    for (int k = 1; k < 100; k++) {
        char name[80];
        snprintf(name, sizeof name, k == 1 ? "%s.json" : "%s-%d.json", stem, k);
        snprintf(out, cap, "%s/%s", strcmp(cwd, "/") ? cwd : "", name);
        int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        size_t len = strlen(json);
        if (fd < 0 || write(fd, json, len) != (ssize_t)len || fchmod(fd, 0600) != 0 || close(fd) != 0) {
            printf("  cannot save the headers to %s: %s\n", out, strerror(errno));
            if (fd >= 0)
                unlink(out);
            return -1;
        }
        return 0;
    }
    printf("  cannot save the headers: %s.json to %s-99.json exist already in %s\n", stem, stem, cwd);
    return -1;
}

/* --headers / --from-headers for the command: @FILE when the file could be
 * written, else the JSON itself (then the run works, and the printed command
 * is marked as not complete). */
static int push_headers(argv_b *a, const char *opt, const char *json, const char *stem)
{
    if (strcmp(json, "{}") == 0)
        return 0;
    char path[1000], arg[1010];
    push(a, opt);
    if (save_headers(json, stem, path, sizeof path) < 0) {
        push(a, json);
        return -1;
    }
    snprintf(arg, sizeof arg, "@%s", path);
    push(a, arg);
    printf("  the headers are saved in %s (readable by you only; the command below names it)\n", path);
    return 0;
}

/* A suggestion for an invalid name: invalid characters replaced, at least
 * 3 characters, starting and ending with a letter or digit. */
static void suggest_name(const char *name, char *sug, size_t cap)
{
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < cap && k < 60; p++)
        sug[k++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p) ? *p : '-';
    while (k < 3)
        sug[k++] = 'x';
    sug[k] = '\0';
    if (sug[0] == '-' || sug[0] == '.' || sug[0] == '_')
        sug[0] = 'c';
    if (sug[k - 1] == '-' || sug[k - 1] == '.' || sug[k - 1] == '_')
        sug[k - 1] = '0';
}

/* The name collection i gets in the target: its new name, its own when it
 * is valid, NULL while an invalid one has not been renamed yet. */
static const char *final_name(const cm_run *run, char *const *renamed, size_t i)
{
    if (renamed[i])
        return renamed[i];
    return cm_name_problem(run->c[i].src.name) ? NULL : run->c[i].src.name;
}

/* Why collection self may not be called name, or NULL. */
static const char *rename_problem(const cm_run *run, char *const *renamed, size_t self, const char *name, char *why,
                                  size_t cap)
{
    const char *bad = cm_name_problem(name);
    if (bad) {
        snprintf(why, cap, "'%s' %s", name, bad);
        return why;
    }
    for (size_t j = 0; j < run->n; j++) {
        const char *other = j == self ? NULL : final_name(run, renamed, j);
        if (other && strcmp(other, name) == 0) {
            if (renamed[j])
                snprintf(why, cap, "'%s' is already the new name of '%s'", name, run->c[j].src.name);
            else
                snprintf(why, cap, "'%s' is the name of another collection in the source", name);
            return why;
        }
    }
    return NULL;
}

/* A new name for each collection whose name Chroma >= 0.4 refuses, checked
 * as it is typed (valid, not taken by another collection). 0 or TERM_CANCEL. */
static int ask_renames(const cm_run *run, argv_b *a)
{
    char **renamed = xcalloc(run->n ? run->n : 1, sizeof *renamed);
    int r = 0;
    for (size_t i = 0; i < run->n && !r; i++) {
        const char *old = run->c[i].src.name, *why = cm_name_problem(old);
        if (!why)
            continue;
        printf("\nThe collection name '%s' %s; Chroma >= 0.4 refuses it.\n", old, why);
        char name[128], q[256], sug[64], reason[300];
        snprintf(q, sizeof q, "New name for '%s'", old);
        suggest_name(old, sug, sizeof sug);
        for (;;) {
            if (ask(q, sug, name, sizeof name) == TERM_CANCEL) {
                r = TERM_CANCEL;
                break;
            }
            const char *bad = rename_problem(run, renamed, i, name, reason, sizeof reason);
            if (!bad)
                break;
            printf("  %s; try another\n", bad);
        }
        if (r)
            break;
        renamed[i] = xstrdup(name);
        char arg[300];
        snprintf(arg, sizeof arg, "%s=%s", old, name);
        push(a, "--rename");
        push(a, arg);
    }
    for (size_t i = 0; i < run->n; i++)
        free(renamed[i]);
    free(renamed);
    return r;
}

/* Shows what the source holds and asks for every decision it needs. Returns
 * 0 to go on, 1 to stop, TERM_CANCEL. */
static int decide(cm_source *src, const char *from, argv_b *a)
{
    cm_err err = {0};
    printf("\nReading %s ...\n", from);
    cm_policy pol = {0};
    cm_run run;
    int rc = cm_run_analyze(src, &pol, NULL, &run, &err);
    if (rc < 0) {
        cli_error("%s", cli_err_text(&err));
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
    r = ask_renames(&run, a);
    if (r)
        goto out;
    r = 0;
out:
    cm_run_free(&run);
    cm_source_close(src);
    return r == TERM_CANCEL ? TERM_CANCEL : r ? 1 : 0;
}

/* Everything the questions about the two ends found. */
typedef struct wiz_run {
    int fk, tk; /* where from: 0 ClickHouse, 1 directory, 2 server; to: 0 directory, 1 server */
    char from[1100], to[1100];
    wiz_server fs, ts;
    wiz_clickhouse ch;
} wiz_run;

static int ask_persist_dir(char *from, size_t cap)
{
    for (;;) {
        if (ask("What is the path to the persist directory your data is currently stored in?", "./chroma", from,
                cap) == TERM_CANCEL)
            return TERM_CANCEL;
        if (fs_dir_state(from) < 0)
            printf("  %s does not exist; give the folder chromadb 0.3.x was given as persist_directory\n", from);
        else if (!legacy_dir_detect(from))
            printf("  %s has no chroma-collections.parquet: not a legacy Chroma store\n", from);
        else
            return 0;
    }
}

/* The target folder, checked as migrate checks --to (empty or new, not
 * inside the source folder). */
static int ask_target_dir(const char *from, char *to, size_t cap)
{
    for (;;) {
        if (ask("What is the path you would like your data to be stored in?", "./chroma_migrated", to, cap) ==
            TERM_CANCEL)
            return TERM_CANCEL;
        cm_err err = {0};
        if (fs_dir_state(to) == 0)
            printf("  %s already exists and is not empty; give a new folder\n", to);
        else if (cli_check_target(from, to, &err) < 0)
            printf("  %s\n", cli_err_text(&err));
        else
            return 0;
    }
}

static int ask_target(wiz_run *w);

static int ask_ends(wiz_run *w)
{
    static const char *const from_c[] = {"ClickHouse (you run chroma with a clickhouse instance)",
                                         "DuckDB (you run chroma and save files to a persist_directory)",
                                         "Chroma server (you run a chroma server you access via the HTTP client)"};
    static const char *const to_c[] = {"Files I can use on this machine with chroma (a persistent directory)",
                                       "A chroma server that I can access via HTTP"};
    if ((w->fk = term_choose("Where would you like to migrate your data from?", from_c, 3, 0)) == TERM_CANCEL ||
        (w->tk = term_choose("Where is the Chroma instance you want to migrate to?", to_c, 2, 0)) == TERM_CANCEL)
        return TERM_CANCEL;
    int r;
    if (w->fk == 0) {
        if ((r = wiz_ask_clickhouse(&w->ch)) == 0)
            snprintf(w->from, sizeof w->from, "%s", w->ch.spec);
    } else if (w->fk == 1) {
        r = ask_persist_dir(w->from, sizeof w->from);
    } else if ((r = wiz_ask_server("chroma server", &w->fs)) == 0) {
        snprintf(w->from, sizeof w->from, "%s", w->fs.url);
    }
    return r ? r : ask_target(w);
}

/* The target's details (its kind already chosen in w->tk). */
static int ask_target(wiz_run *w)
{
    int r;
    if (w->tk == 0)
        return ask_target_dir(w->from, w->to, sizeof w->to);
    if ((r = wiz_ask_server("target chroma server", &w->ts)) == 0)
        snprintf(w->to, sizeof w->to, "%s", w->ts.url);
    return r;
}

/* After a migration that stopped on an error (its reason is on screen): the
 * target can be chosen anew and the run tried again, instead of starting
 * every question over. 1: try again, 0: no, TERM_CANCEL. */
static int ask_again(wiz_run *w)
{
    static const char *const to_c[] = {"Files I can use on this machine with chroma (a persistent directory)",
                                       "A chroma server that I can access via HTTP"};
    int again = term_yes_no("\nThe migration stopped (the reason is above). Choose the target again and retry?", 1);
    if (again != 1)
        return again;
    if ((w->tk = term_choose("Where is the Chroma instance you want to migrate to?", to_c, 2, w->tk)) == TERM_CANCEL)
        return TERM_CANCEL;
    int r = ask_target(w);
    return r == TERM_CANCEL ? TERM_CANCEL : r ? 0 : 1;
}

/* The source to read: the ClickHouse opened while asking, else opened now
 * (a server with the headers and TLS answers). NULL: error printed. */
static cm_source *open_source(wiz_run *w)
{
    if (w->fk == 0) {
        cm_source *s = w->ch.src;
        w->ch.src = NULL;
        return s;
    }
    cm_source_opts so = {0};
    cm_err err = {0};
    if (w->fk == 2 && strcmp(w->fs.headers, "{}") != 0) /* as --from-headers would give them (checked) */
        (void)cli_source_add_headers_json(&so, w->fs.headers, &err);
    so.cacert = w->fs.cacert[0] ? w->fs.cacert : NULL;
    so.insecure = w->fs.insecure;
    cm_source *src = cm_source_open(w->from, &so, &err);
    cli_source_opts_free(&so);
    if (!src)
        cli_error("%s", cli_err_text(&err));
    return src;
}

/* migrate --from ... --to ... with the server options; header values go to
 * files (see push_headers). */
static void push_ends(const wiz_run *w, argv_b *a)
{
    push(a, "migrate");
    push(a, "--from");
    push(a, w->from);
    if (w->fk == 2) {
        push_headers(a, "--from-headers", w->fs.headers, "chroma-migrate-from-headers");
        if (w->fs.cacert[0]) {
            push(a, "--from-cacert");
            push(a, w->fs.cacert);
        }
        if (w->fs.insecure)
            push(a, "--from-insecure");
    }
    push(a, "--to");
    push(a, w->to);
    if (w->tk == 1) {
        push_headers(a, "--headers", w->ts.headers, "chroma-migrate-headers");
        if (w->ts.cacert[0]) {
            push(a, "--cacert");
            push(a, w->ts.cacert);
        }
        if (w->ts.insecure)
            push(a, "--insecure");
    }
}

int cmd_wizard(void)
{
    printf("\033[1mWelcome to chroma-migrate\033[0m\n"
           "It moves your data from Chroma versions before 0.4.0 to the latest format. Ctrl-C leaves at any "
           "time; no data is written before you confirm.\n");
    argv_b a = {0}, pol = {0};
    int rc = EXIT_INTERRUPTED;
    wiz_run *w = xcalloc(1, sizeof *w);
    if (ask_ends(w) == TERM_CANCEL)
        goto cancel;
    cm_source *src = open_source(w);
    int d = src ? decide(src, w->from, &pol) : 1;
    if (d == TERM_CANCEL)
        goto cancel;
    if (d) {
        printf("\nStopped: nothing was written.\n");
        rc = EXIT_FAIL;
        goto done;
    }
    for (;;) {
        argv_free(&a);
        memset(&a, 0, sizeof a);
        push_ends(w, &a);
        for (int i = 0; i < pol.n; i++)
            push(&a, pol.v[i]);
        print_command(&a, w->fk == 0 && w->ch.password[0]);
        int yes = term_yes_no("\nMigrate now?", 1);
        if (yes == TERM_CANCEL)
            goto cancel;
        if (!yes) {
            printf("Nothing was written.\n");
            rc = EXIT_OK;
            goto done;
        }
        rc = cmd_migrate(a.n, a.v); /* its summary ends with how to open the result */
        if (rc != EXIT_FAIL)
            break;
        int again = ask_again(w);
        if (again == TERM_CANCEL)
            goto cancel;
        if (!again)
            break;
    }
    goto done;
cancel:
    term_restore();
    printf("\nCancelled: nothing was written.\n");
    rc = EXIT_INTERRUPTED;
done:
    if (w->ch.src)
        cm_source_close(w->ch.src);
    memset(w, 0, sizeof *w); /* header values and the password */
    free(w);
    argv_free(&a);
    argv_free(&pol);
    return rc;
}
