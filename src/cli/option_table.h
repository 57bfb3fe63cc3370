/* option_table.h - the row of the option table (options.c) and the option
 * ids, shared by the parser (options.c) and the code that stores a checked
 * value (option_values.c). Private to those two files. */
#ifndef CM_CLI_OPTION_TABLE_H
#define CM_CLI_OPTION_TABLE_H

#include "options.h"

typedef enum {
    OPT_HELP, OPT_JSON, OPT_QUIET, OPT_VERBOSE, OPT_FROM, OPT_TO,
    /* the source, when it is a server */
    OPT_SRC_HEADER, OPT_SRC_HEADERS, OPT_SRC_TENANT, OPT_SRC_DATABASE, OPT_SRC_CACERT, OPT_SRC_INSECURE,
    /* a directory target */
    OPT_CHROMA_VERSION, OPT_THREADS, OPT_INDEX,
    /* a server target */
    OPT_HEADER, OPT_HEADERS, OPT_TENANT, OPT_DATABASE, OPT_CACERT, OPT_INSECURE, OPT_RESUME, OPT_ON_EXISTING,
    OPT_BATCH_SIZE, OPT_JOBS, OPT_TIMEOUT,
    /* policies and selection */
    OPT_DUPLICATES, OPT_INVALID_METADATA, OPT_RENAME, OPT_SKIP_INVALID, OPT_COLLECTION,
    /* verification */
    OPT_VERIFY, OPT_SAMPLE,
} cli_opt_id;

typedef enum {
    ARG_FLAG,   /* no value */
    ARG_STRING, /* any text */
    ARG_NAME,   /* a tenant or database name: not empty, no control character */
    ARG_INT,    /* a whole number from lo to hi */
    ARG_ENUM,   /* one of choices */
    ARG_FILE,   /* a file that can be read */
} cli_arg_kind;

typedef struct cli_choice {
    const char *name;
    int value;
    int hidden; /* accepted, not listed (a second spelling) */
} cli_choice;

/* Marks: what giving the option tells the command. */
enum {
    MARK_DIR = 1,    /* applies to a directory target only */
    MARK_SERVER = 2, /* applies to a server target only */
    MARK_POLICY = 4, /* a policy: verify then ignores the manifest */
    MARK_REPEAT = 8, /* may be given more than once (each adds); "(repeatable)" in the help */
};

typedef enum { G_SOURCE, G_DIR, G_SERVER, G_POLICY, G_VERIFY, G_OUTPUT, G_COUNT } cli_group;

typedef struct cli_option {
    cli_opt_id id;
    const char *name;      /* "--from-header" */
    const char *alias;     /* "-q", or the same option's other name ("--header") */
    unsigned alias_cmds;   /* the commands that take the alias (0: all that take the option) */
    cli_arg_kind kind;
    unsigned cmds;         /* CLI_* bits of the commands that take it */
    unsigned unlisted;     /* taken by these commands but not in their --help */
    unsigned marks;        /* MARK_* */
    long lo, hi;           /* ARG_INT */
    const char *takes;     /* ARG_INT: what the message says it takes (NULL: "a number from lo to hi") */
    const cli_choice *choices; /* ARG_ENUM, ended by a NULL name */
    cli_group group;
    const char *metavar;   /* "N", "'NAME: VALUE'"; ARG_ENUM: NULL, the choices are shown */
    const char *help;      /* one paragraph; --help wraps it */
} cli_option;

/* The value of one option occurrence, checked by its kind. */
typedef struct cli_value {
    const char *text; /* as given; NULL for a flag */
    long num;         /* ARG_INT, ARG_ENUM (the choice's value) */
} cli_value;

/* Stores v for option o (as spelled `given`) into a. Returns 0, or -1 after
 * printing the usage error (values that need more than their kind's check:
 * header lines, header JSON, OLD=NEW). */
int cli_option_store(cli_args *a, const cli_option *o, const char *given, const cli_value *v);

#endif
