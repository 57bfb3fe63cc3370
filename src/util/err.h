/* err.h - one error message carried up the call stack.
 *
 * Every fallible function takes a cm_err* and returns -1 (or NULL) after
 * filling it. The message is written once, at the place that knows what went
 * wrong; callers may prefix context ("reading chroma-embeddings.parquet: ").
 * Messages never contain secrets: callers must not pass header values here. */
#ifndef CM_UTIL_ERR_H
#define CM_UTIL_ERR_H

#include <stddef.h>

typedef struct cm_err {
    char msg[2048];
    int set;
} cm_err;

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

#endif
