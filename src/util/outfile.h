/* outfile.h - a file written in one pass and made durable: buffered
 * appends, then flush + fsync + close.
 *
 * A failure is sticky: after the first error every put fails at once and
 * close only closes, so a writer can make all its puts and check once at the
 * end without the error of the first failure being overwritten. */
#ifndef CM_UTIL_OUTFILE_H
#define CM_UTIL_OUTFILE_H

#include <stddef.h>

#include "err.h"

typedef struct out_file {
    int fd;
    char *path;
    unsigned char *buf;
    size_t n;
    int failed;
} out_file;

/* Creates (truncates) dir/name. */
int out_open(out_file *o, const char *dir, const char *name, cm_err *err);
/* Appends n bytes (large ones go straight to the file). */
int out_put(out_file *o, const void *p, size_t n, cm_err *err);
/* Flushes, fsyncs and closes; after a failed out_put only closes and
 * returns -1. Always releases o. */
int out_close(out_file *o, cm_err *err);
#endif
