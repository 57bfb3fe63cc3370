/* err.h - one error message carried up the call stack.
 *
 * Every fallible function takes a cm_err* and returns -1 (or NULL) after
 * filling it. The message is written once, at the place that knows what went
 * wrong; callers may prefix context ("reading chroma-embeddings.parquet: ").
 * Messages never contain secrets: callers must not pass header values here. */
#ifndef CM_UTIL_ERR_H
#define CM_UTIL_ERR_H

#include <stddef.h>

/* What went wrong, for callers that act on it (the CLI's advice, exit codes). */
typedef enum cm_err_kind {
    CM_ERR_OTHER = 0,
    CM_ERR_SOURCE_SPEC,   /* the source as given cannot be used (URL, database, tables) */
    CM_ERR_TARGET_SPEC,   /* the target as given cannot be used */
    CM_ERR_SELECTION,     /* a collection the policy names is not there */
    CM_ERR_USAGE,         /* a value given by the user is malformed (a header line) */
    CM_ERR_CONNECT,       /* the server cannot be reached */
    CM_ERR_AUTH,          /* the server wants (other) credentials */
    CM_ERR_TLS,           /* the certificate or the handshake failed */
    CM_ERR_EXISTS,        /* the target already holds what would be written */
    CM_ERR_NEEDS_RESUME,  /* an interrupted run left the target incomplete */
    CM_ERR_INVALID_DATA,  /* records or metadata the target cannot store */
    CM_ERR_IO,
} cm_err_kind;

/* Advice that depends on how the caller spells its options: the library
 * picks one, the CLI words it (src/cli/advice.c) with its flag names. The
 * library's own text never names a command-line flag. */
typedef enum cm_hint {
    CM_HINT_NONE = 0,
    CM_HINT_HEADER_AUTH,        /* give a token header to the target */
    CM_HINT_FROM_HEADER_AUTH,   /* give a token header to the source */
    CM_HINT_HEADER_NOT_URL,     /* credentials go in a header, not the URL */
    CM_HINT_FROM_HEADER_NOT_URL, /* the same about the source's URL */
    CM_HINT_CACERT,             /* the server certificate is not trusted */
    CM_HINT_CACERT_UNREADABLE,  /* the CA file given is no PEM certificate */
    CM_HINT_FROM_CACERT,        /* ClickHouse: the certificate is not trusted */
    CM_HINT_FROM_TLS_PLAIN,     /* ClickHouse: CA options given for plain HTTP (arg: 1 = CA, 0 = insecure) */
    CM_HINT_FROM_SPEC,          /* the message is about the source spec as written */
    CM_HINT_TO_SPEC,            /* ... about the target spec as written */
    CM_HINT_FROM_RUNNING,       /* the source does not answer: is it running? */
    CM_HINT_FROM_DATABASE,      /* check the database part of the source */
    CM_HINT_FROM_USER,          /* check the user and password of the source */
    CM_HINT_FROM_SERVER_OPTS,   /* header/tenant/database options need a server source */
    CM_HINT_FROM_CLICKHOUSE,    /* read the 0.3.x server's storage directly (arg: "or" joins) */
    CM_HINT_COLLECTION,         /* a --collection value is not there (arg: the value) */
    CM_HINT_RENAME_ARG,         /* a --rename value names no collection (arg: the value) */
    CM_HINT_TENANT_DATABASE,    /* leave out the tenant and database options */
    CM_HINT_OTHER_DATABASE,     /* give the tenant/database of one that exists */
    CM_HINT_EXISTS,             /* resume, append or rename (arg: collection) */
    CM_HINT_RESUME_COLLECTION,  /* run again with resume to finish a collection */
    CM_HINT_RESUME_SERVER,      /* run again with resume to finish the run */
    CM_HINT_TO_REAL_FOLDER,     /* the target is a loop of symbolic links */
    CM_HINT_TO_MAKE_LINKED,     /* the target links to a folder that is not there */
    CM_HINT_TO_NEW_PATH,        /* the target exists and is no folder */
    CM_HINT_TO_NEW_OR_REMOVE,   /* the target exists and is not empty */
    CM_HINT_INDEX_REBUILD,      /* the legacy index cannot be reused: auto or rebuild */
    CM_HINT_TLS_PLAIN,          /* note: the target's CA options do nothing for plain http */
    CM_HINT_SKIP_UNSENT,        /* note: unless skipping invalid records leaves them out (arg: "it"/"them") */
    CM_HINT_FROM_CLICKHOUSE_STORE, /* note: the 0.3.x server's ClickHouse database or persist_directory */
} cm_hint;

typedef struct cm_err {
    char msg[2048];
    int set;
    cm_err_kind kind;
    cm_hint hint;
    char hint_arg[256]; /* what the advice names (a collection, an option value) */
} cm_err;

/* A notice from the library (a log line, a source's note, what a sink did)
 * that may carry advice like an error's: the CLI words it as the hint's head,
 * the text, then the hint's tail (src/cli/advice.c). */
typedef enum cm_note_kind {
    CM_NOTE_INFO = 0, /* shown unless the user asked for quiet */
    CM_NOTE_WARNING,  /* shown even then (how to finish an interrupted run) */
} cm_note_kind;

typedef struct cm_note {
    cm_note_kind kind;
    cm_hint hint;
    const char *arg; /* what the advice names (may be NULL) */
    const char *text;
} cm_note;

#if defined(__GNUC__)
#define CM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CM_PRINTF(a, b)
#endif

/* Sets the message (if err is not NULL). Returns -1 so callers can write
 * `return cm_err_set(err, "...")`. */
int cm_err_set(cm_err *err, const char *fmt, ...) CM_PRINTF(2, 3);
/* Puts "<prefix>: " in front of an existing message. Returns -1. */
int cm_err_prefix(cm_err *err, const char *fmt, ...) CM_PRINTF(2, 3);
void cm_err_clear(cm_err *err);
/* Marks an error already set with its kind, advice and the name the advice
 * needs (arg may be NULL). Returns -1. */
int cm_err_mark(cm_err *err, cm_err_kind kind, cm_hint hint, const char *arg);

/* A reason why something is not done (not an error: e.g. why a prior index
 * cannot be reused) into buf[0..cap), either may be NULL/0. Returns 0, the
 * "no" answer of the functions that give one. */
int cm_reason(char *buf, size_t cap, const char *fmt, ...) CM_PRINTF(3, 4);

#endif
