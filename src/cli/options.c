/* options.c - the option table of every command, the parser every command
 * uses, and the option lists of --help generated from the same rows.
 *
 * A row is found by the name as typed ("--threads" or "--threads=N") among
 * the rows of the command; its value is checked by its kind here (so "needs
 * a value", "takes a number from 1 to 1024" are worded once), then stored by
 * cli_option_store (option_values.c). Errors name the command that was run:
 * "chroma-migrate verify: --threads takes ...". */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "option_table.h"
#include "source_opts.h"

#define ALL (CLI_MIGRATE | CLI_INSPECT | CLI_EXPORT | CLI_VERIFY)
#define MV (CLI_MIGRATE | CLI_VERIFY)
#define BARE (CLI_INSPECT | CLI_EXPORT) /* they read only a source: its options need no --from- */

static const cli_choice profile_choices[] = {
    {"1.0", CM_PROFILE_1_0, 0}, {"1", CM_PROFILE_1_0, 1}, {"1.5", CM_PROFILE_1_5, 0},
    {"0.6", CM_PROFILE_0_6, 0}, {"0.5", CM_PROFILE_0_6, 0}, {NULL, 0, 0}};
static const cli_choice index_choices[] = {
    {"auto", CM_INDEX_AUTO, 0}, {"reuse", CM_INDEX_REUSE, 0}, {"rebuild", CM_INDEX_REBUILD, 0}, {NULL, 0, 0}};
static const cli_choice existing_choices[] = {{"error", 0, 0}, {"append", 1, 0}, {NULL, 0, 0}};
/* Also the manifest's words (policy_opts.c): keep them stable. */
static const cli_choice dup_choices[] = {
    {"first", CM_DUP_FIRST, 0}, {"last", CM_DUP_LAST, 0}, {"error", CM_DUP_ERROR, 0}, {NULL, 0, 0}};
static const cli_choice meta_choices[] = {
    {"error", CM_META_ERROR, 0}, {"drop", CM_META_DROP, 0}, {"stringify", CM_META_STRINGIFY, 0}, {NULL, 0, 0}};

static const char *const group_heading[G_COUNT] = {
    [G_SOURCE] = "source server options (a Chroma server as SOURCE):",
    [G_DIR] = "directory target options:",
    [G_SERVER] = "server target options (--to http[s]://HOST[:PORT][/PREFIX]):",
    [G_POLICY] = "policies and selection:",
    [G_VERIFY] = "verification:",
    [G_OUTPUT] = "output:",
};

/* verify takes the migration's target options (one list of them for both
 * commands), but only these matter to it; the rest are not in its --help. */
#define NOT_FOR_VERIFY CLI_VERIFY

static const cli_option table[] = {
    /* id, name, alias, alias_cmds, kind, cmds, unlisted, marks, lo, hi, takes, choices, group, metavar, help */
    {OPT_FROM, "--from", NULL, 0, ARG_STRING, MV, MV, 0, 0, 0, NULL, NULL, G_OUTPUT, "SOURCE", "the source"},
    {OPT_TO, "--to", NULL, 0, ARG_STRING, MV, MV, 0, 0, 0, NULL, NULL, G_OUTPUT, "TARGET", "the target"},

    {OPT_SRC_HEADER, "--from-header", "--header", BARE, ARG_STRING, ALL, 0, MARK_REPEAT, 0, 0, NULL, NULL,
     G_SOURCE, "'NAME: VALUE'",
     "send this header to the source server, e.g. 'Authorization: Bearer TOKEN'; values are never printed"},
    {OPT_SRC_HEADERS, "--from-headers", "--headers", BARE, ARG_STRING, ALL, 0, 0, 0, 0, NULL, NULL, G_SOURCE,
     "JSON|@FILE", "headers as a JSON object {\"NAME\": \"VALUE\", ...}, or read from FILE"},
    {OPT_SRC_TENANT, "--from-tenant", "--tenant", BARE, ARG_NAME, ALL, 0, 0, 0, 0, NULL, NULL, G_SOURCE, "T",
     "the tenant the collections are read from (default_tenant)"},
    {OPT_SRC_DATABASE, "--from-database", "--database", BARE, ARG_NAME, ALL, 0, 0, 0, 0, NULL, NULL, G_SOURCE, "D",
     "the database the collections are read from (default_database)"},
    {OPT_SRC_CACERT, "--from-cacert", "--cacert", BARE, ARG_FILE, ALL, 0, 0, 0, 0, NULL, NULL, G_SOURCE, "FILE",
     "trust the CA certificate(s) in FILE (PEM) for https and clickhouses:// (for clickhouses:// without it: "
     "CURL_CA_BUNDLE, else SSL_CERT_FILE, as curl does)"},
    {OPT_SRC_INSECURE, "--from-insecure", "--insecure", BARE, ARG_FLAG, ALL, 0, 0, 0, 0, NULL, NULL, G_SOURCE, NULL,
     "do not verify the source server's certificate"},

    {OPT_CHROMA_VERSION, "--chroma-version", NULL, 0, ARG_ENUM, MV, NOT_FOR_VERIFY, MARK_DIR, 0, 0, NULL,
     profile_choices, G_DIR, "V",
     "1.0 (default: Chroma 1.x), 1.5 (Chroma 1.5: collection schema, native array metadata; Chroma <= 1.2.1 "
     "cannot open it) or 0.6 / 0.5 (Python chromadb 0.5.6-0.6.x; Chroma 1.x opens it too)"},
    {OPT_THREADS, "--threads", NULL, 0, ARG_INT, MV, NOT_FOR_VERIFY, MARK_DIR, 1, 1024, NULL, NULL, G_DIR, "N",
     "HNSW build threads (default: all cores)"},
    {OPT_INDEX, "--index", NULL, 0, ARG_ENUM, CLI_MIGRATE, 0, 0, 0, 0, NULL, index_choices, G_DIR, NULL,
     "a legacy hnswlib index that provably matches the data is converted instead of building a new graph "
     "(auto, the default), repaired when close (tombstones kept, missing records inserted); reuse: fail when "
     "it cannot; rebuild: never"},

    {OPT_HEADER, "--header", NULL, 0, ARG_STRING, MV, 0, MARK_SERVER | MARK_REPEAT, 0, 0, NULL, NULL, G_SERVER,
     "'NAME: VALUE'",
     "send this header with every request, e.g. 'Authorization: Bearer TOKEN'; values are never printed"},
    {OPT_HEADERS, "--headers", NULL, 0, ARG_STRING, MV, 0, MARK_SERVER, 0, 0, NULL, NULL, G_SERVER, "JSON|@FILE",
     "headers as a JSON object {\"NAME\": \"VALUE\", ...}, or read from FILE"},
    {OPT_TENANT, "--tenant", NULL, 0, ARG_NAME, MV, 0, MARK_SERVER, 0, 0, NULL, NULL, G_SERVER, "T",
     "the server's tenant for the collections (default_tenant)"},
    {OPT_DATABASE, "--database", NULL, 0, ARG_NAME, MV, 0, MARK_SERVER, 0, 0, NULL, NULL, G_SERVER, "D",
     "the server's database for the collections (default_database)"},
    {OPT_CACERT, "--cacert", NULL, 0, ARG_FILE, MV, 0, MARK_SERVER, 0, 0, NULL, NULL, G_SERVER, "FILE",
     "trust the CA certificate(s) in FILE (PEM) for https"},
    {OPT_INSECURE, "--insecure", NULL, 0, ARG_FLAG, MV, 0, MARK_SERVER, 0, 0, NULL, NULL, G_SERVER, NULL,
     "do not verify the server's certificate (https)"},
    {OPT_RESUME, "--resume", NULL, 0, ARG_FLAG, MV, NOT_FOR_VERIFY, MARK_SERVER, 0, 0, NULL, NULL, G_SERVER, NULL,
     "continue an interrupted migration: collections that exist get only the records they do not have yet"},
    {OPT_ON_EXISTING, "--on-existing", NULL, 0, ARG_ENUM, MV, NOT_FOR_VERIFY, MARK_SERVER, 0, 0, NULL,
     existing_choices, G_SERVER, NULL,
     "a collection that already exists: stop (error, the default) or add the records to it (append)"},
    {OPT_BATCH_SIZE, "--batch-size", NULL, 0, ARG_INT, MV, NOT_FOR_VERIFY, MARK_SERVER, 1, 1000000, NULL, NULL,
     G_SERVER, "N", "at most N records per request (default: the server's max_batch_size)"},
    {OPT_JOBS, "--jobs", NULL, 0, ARG_INT, MV, NOT_FOR_VERIFY, MARK_SERVER, 1, 64, NULL, NULL, G_SERVER, "N",
     "requests in flight at once (default 4)"},
    {OPT_TIMEOUT, "--timeout", NULL, 0, ARG_INT, MV, NOT_FOR_VERIFY, MARK_SERVER, 1, 86400, "seconds from 1 to 86400",
     NULL, G_SERVER, "S",
     "seconds one request may take (default 300); failed or refused connections, timeouts, 408, 429, 502, 503, "
     "504 are retried with backoff (or Retry-After) for 2 minutes once connected (the first contact for 15 s, "
     "so a wrong address fails fast), 500 at most 4 times, other 4xx not; re-sent adds are harmless (Chroma "
     "ignores known ids). On a stop the server keeps what it acknowledged: the error line and --json say how "
     "many records"},

    {OPT_DUPLICATES, "--duplicates", NULL, 0, ARG_ENUM, MV, 0, MARK_POLICY, 0, 0, NULL, dup_choices, G_POLICY, NULL,
     "a repeated id in a collection: first (default, what Chroma's add does), last, or error"},
    {OPT_INVALID_METADATA, "--invalid-metadata", NULL, 0, ARG_ENUM, MV, 0, MARK_POLICY, 0, 0, NULL, meta_choices,
     G_POLICY, NULL,
     "metadata Chroma >= 0.4 cannot store (null, nested, lists, NaN/Infinity, text that is not UTF-8, 'chroma:' "
     "keys, metadata that is no JSON object): error (default), drop, or stringify (json.dumps text; keys "
     "renamed; no object: kept under 'legacy_metadata')"},
    {OPT_RENAME, "--rename", NULL, 0, ARG_STRING, MV, 0, MARK_POLICY | MARK_REPEAT, 0, 0, NULL, NULL, G_POLICY,
     "OLD=NEW", "give collection OLD the name NEW"},
    {OPT_SKIP_INVALID, "--skip-invalid-records", NULL, 0, ARG_FLAG, MV, 0, MARK_POLICY, 0, 0, NULL, NULL, G_POLICY,
     NULL,
     "leave out records with no id or the empty id, no embedding, another dimension than the collection's, or an "
     "id or document that is not UTF-8 (counted)"},
    {OPT_COLLECTION, "--collection", NULL, 0, ARG_STRING, MV | CLI_EXPORT, 0, MARK_POLICY | MARK_REPEAT, 0, 0, NULL,
     NULL, G_POLICY, "NAME", "only this collection"},

    {OPT_VERIFY, "--verify", NULL, 0, ARG_FLAG, CLI_MIGRATE, 0, 0, 0, 0, NULL, NULL, G_VERIFY, NULL,
     "verify the result record by record afterwards"},
    {OPT_SAMPLE, "--sample", NULL, 0, ARG_INT, MV, 0, 0, 0, LONG_MAX, "a number of records", NULL, G_VERIFY, "N",
     "when verifying, self-query N records per collection (default 100; 0: none)"},

    {OPT_JSON, "--json", NULL, 0, ARG_FLAG, MV | CLI_INSPECT, 0, 0, 0, 0, NULL, NULL, G_OUTPUT, NULL,
     "print the result as one JSON object on stdout"},
    {OPT_QUIET, "--quiet", "-q", 0, ARG_FLAG, CLI_MIGRATE, 0, 0, 0, 0, NULL, NULL, G_OUTPUT, NULL,
     "no progress on stderr, no summary on stdout"},
    {OPT_QUIET, "--quiet", "-q", 0, ARG_FLAG, CLI_VERIFY | CLI_INSPECT, 0, 0, 0, 0, NULL, NULL, G_OUTPUT, NULL,
     "no progress on stderr"},
    {OPT_VERBOSE, "--verbose", "-v", 0, ARG_FLAG, CLI_MIGRATE, 0, 0, 0, 0, NULL, NULL, G_OUTPUT, NULL,
     "more on stderr"},
    {OPT_HELP, "--help", "-h", 0, ARG_FLAG, ALL, 0, 0, 0, 0, NULL, NULL, G_OUTPUT, NULL, "show this help"},
};
#define NOPTS (sizeof table / sizeof table[0])

static const char *cmd_name(unsigned cmd)
{
    switch (cmd) {
    case CLI_MIGRATE: return "migrate";
    case CLI_INSPECT: return "inspect";
    case CLI_EXPORT: return "export";
    default: return "verify";
    }
}

void cli_args_init(cli_args *a, unsigned cmd)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->cmd_name = cmd_name(cmd);
    a->sample = 100;
}

void cli_args_free(cli_args *a)
{
    cm_policy_free(&a->pol);
    cli_target_opts_free(&a->target);
    cli_source_opts_free(&a->source);
}

/* If arg is `name` or `name=...`, where its value starts ('\0' or '='). */
static const char *match(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return NULL;
    return arg + n;
}

static int alias_applies(const cli_option *o, unsigned cmd)
{
    return o->alias && (o->alias_cmds == 0 || (o->alias_cmds & cmd));
}

/* The row of cmd that arg names; *given: the name as typed, *rest: what
 * follows it ('\0' or "=VALUE"). */
static const cli_option *find(const char *arg, unsigned cmd, const char **given, const char **rest)
{
    for (size_t k = 0; k < NOPTS; k++) {
        const cli_option *o = &table[k];
        if (!(o->cmds & cmd))
            continue;
        if ((*rest = match(arg, o->name))) {
            *given = o->name;
            return o;
        }
        if (alias_applies(o, cmd) && (*rest = match(arg, o->alias))) {
            *given = o->alias;
            return o;
        }
    }
    return NULL;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

/* "1.0, 0.6 or 0.5" (or "auto|reuse|rebuild"): the listed choices. */
static void choice_list(const cli_choice *c, char *buf, size_t cap, const char *sep, const char *last_sep)
{
    size_t n = 0, shown = 0, total = 0;
    for (const cli_choice *p = c; p->name; p++)
        total += !p->hidden;
    buf[0] = '\0';
    for (const cli_choice *p = c; p->name && n < cap; p++) {
        if (p->hidden)
            continue;
        const char *s = shown == 0 ? "" : shown + 1 == total ? last_sep : sep;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", s, p->name);
        shown++;
    }
}

/* Checks v by o's kind and fills out. Returns 0, or -1 after the error. */
static int check_value(const cli_args *a, const cli_option *o, const char *given, const char *v, cli_value *out)
{
    const char *cmd = a->cmd_name;
    out->text = v;
    switch (o->kind) {
    case ARG_NAME:
        if (!*v)
            return cli_usage_error(cmd, "%s needs a name", given), -1;
        for (const char *q = v; *q; q++)
            if ((unsigned char)*q < ' ')
                return cli_usage_error(cmd, "%s: the name has a control character", given), -1;
        return 0;
    case ARG_INT:
        if (parse_long(v, o->lo, o->hi, &out->num) == 0)
            return 0;
        if (o->takes)
            return cli_usage_error(cmd, "%s takes %s, not '%s'", given, o->takes, v), -1;
        return cli_usage_error(cmd, "%s takes a number from %ld to %ld, not '%s'", given, o->lo, o->hi, v), -1;
    case ARG_ENUM:
        for (const cli_choice *c = o->choices; c->name; c++)
            if (strcmp(v, c->name) == 0) {
                out->num = c->value;
                return 0;
            }
        char list[200];
        choice_list(o->choices, list, sizeof list, ", ", " or ");
        return cli_usage_error(cmd, "%s takes %s, not '%s'", given, list, v), -1;
    case ARG_FILE: {
        FILE *f = fopen(v, "rb");
        if (!f)
            return cli_usage_error(cmd, "%s %s: cannot read the file: %s", given, v, strerror(errno)), -1;
        fclose(f);
        return 0;
    }
    default: return 0;
    }
}

/* A word that is not an option: inspect's and export's SOURCE. */
static int positional(cli_args *a, const char *arg)
{
    if (!(a->cmd & BARE))
        return cli_usage_error(a->cmd_name, "unknown option or argument '%s'", arg);
    if (a->from)
        return cli_usage_error(a->cmd_name, "one SOURCE only ('%s' is extra)", arg);
    a->from = arg;
    return 0;
}

/* One option at argv[*i] (its value may be the next word). Returns 0, 1 for
 * --help, or EXIT_USAGE. */
static int one_option(int argc, char **argv, int *i, cli_args *a)
{
    const char *given, *rest;
    const cli_option *o = find(argv[*i], a->cmd, &given, &rest);
    if (!o)
        return cli_usage_error(a->cmd_name, a->cmd & BARE ? "unknown option '%s'" : "unknown option or argument '%s'",
                               argv[*i]);
    const char *v = NULL;
    if (o->kind == ARG_FLAG) {
        if (*rest == '=')
            return cli_usage_error(a->cmd_name, "%s takes no value", given);
    } else if (*rest == '=') {
        v = rest + 1;
    } else if (*i + 1 < argc) {
        v = argv[++*i];
    } else {
        return cli_usage_error(a->cmd_name, "%s needs a value", given);
    }
    if (o->id == OPT_HELP)
        return 1;
    cli_value val = {0};
    if (v && check_value(a, o, given, v, &val) < 0)
        return EXIT_USAGE;
    return cli_option_store(a, o, given, &val) < 0 ? EXIT_USAGE : 0;
}

int cli_parse(int argc, char **argv, cli_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = arg[0] == '-' && arg[1] ? one_option(argc, argv, &i, a) : positional(a, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- --help ---- */

enum { HELP_COL = 28, HELP_WIDTH = 80 };

/* Prints text word by word from column `col` (the cursor is there), lines
 * broken before HELP_WIDTH and continued at column `indent`. */
static void wrap(FILE *f, const char *text, int col, int indent)
{
    const char *p = text;
    int at = col, first = 1;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (!w)
            break;
        if (!first && at + 1 + (int)w >= HELP_WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            at = indent;
            first = 1;
        }
        at += fprintf(f, "%s%.*s", first ? "" : " ", (int)w, p);
        first = 0;
        p += w;
    }
    fputc('\n', f);
}

/* "  --name METAVAR" (or "--quiet, -q", or the choices a|b|c). */
static int print_left(FILE *f, const cli_option *o, unsigned cmd)
{
    const char *name = o->name;
    const char *extra = NULL;
    if (alias_applies(o, cmd)) {
        if (o->alias_cmds)
            name = o->alias; /* this command's own spelling */
        else
            extra = o->alias;
    }
    int n = fprintf(f, "  %s%s%s", name, extra ? ", " : "", extra ? extra : "");
    if (o->kind == ARG_ENUM && !o->metavar) {
        char list[200];
        choice_list(o->choices, list, sizeof list, "|", "|");
        n += fprintf(f, " %s", list);
    } else if (o->metavar) {
        n += fprintf(f, " %s", o->metavar);
    }
    return n;
}

static void print_row(FILE *f, const cli_option *o, unsigned cmd)
{
    int n = print_left(f, o, cmd);
    if (n <= HELP_COL - 2)
        fprintf(f, "%*s", HELP_COL - n, "");
    else
        fprintf(f, "\n%*s", HELP_COL, "");
    char help[1200];
    snprintf(help, sizeof help, "%s%s", o->help, (o->marks & MARK_REPEAT) ? " (repeatable)" : "");
    wrap(f, help, HELP_COL, HELP_COL);
}

static int listed(const cli_option *o, unsigned cmd, cli_group g)
{
    return o->group == g && (o->cmds & cmd) && !(o->unlisted & cmd);
}

/* "(also as --from-header, ...)": the names a command takes besides the ones
 * shown. */
static void print_other_names(FILE *f, unsigned cmd, cli_group g)
{
    char buf[600];
    size_t n = 0;
    for (size_t k = 0; k < NOPTS && n < sizeof buf; k++)
        if (listed(&table[k], cmd, g) && table[k].alias_cmds & cmd)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? ", " : "(also as ", table[k].name);
    if (n && n < sizeof buf) {
        snprintf(buf + n, sizeof buf - n, ")");
        fputs("  ", f);
        wrap(f, buf, 2, 2);
    }
}

void cli_print_options(FILE *f, unsigned cmd)
{
    for (int g = 0; g < G_COUNT; g++) {
        int any = 0;
        for (size_t k = 0; k < NOPTS; k++) {
            if (!listed(&table[k], cmd, (cli_group)g))
                continue;
            if (!any++)
                fprintf(f, "%s%s\n", g ? "\n" : "", group_heading[g]);
            print_row(f, &table[k], cmd);
        }
        if (any)
            print_other_names(f, cmd, (cli_group)g);
    }
}

/* ---- the policy words, for the manifest ---- */

static const char *choice_name(const cli_choice *c, int value)
{
    for (; c->name; c++)
        if (c->value == value && !c->hidden)
            return c->name;
    return "?";
}

static int choice_value(const cli_choice *c, const char *name)
{
    for (; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->value;
    return -1;
}

const char *cli_dup_name(cm_dup_policy p) { return choice_name(dup_choices, (int)p); }
const char *cli_meta_name(cm_meta_policy p) { return choice_name(meta_choices, (int)p); }
int cli_dup_value(const char *name) { return choice_value(dup_choices, name); }
int cli_meta_value(const char *name) { return choice_value(meta_choices, name); }
