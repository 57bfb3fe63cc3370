#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cm_err_set(cm_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->set = 1;
    return -1;
}

int cm_err_prefix(cm_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char head[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->set ? err->msg : "unknown error", err->set ? sizeof old : sizeof "unknown error");
    old[sizeof old - 1] = '\0';
    /* head + ": " + old, truncated to fit */
    size_t hl = strlen(head), ol = strlen(old), cap = sizeof err->msg - 1;
    if (hl > cap)
        hl = cap;
    memcpy(err->msg, head, hl);
    size_t pos = hl;
    for (const char *sep = ": "; *sep && pos < cap; sep++)
        err->msg[pos++] = *sep;
    if (ol > cap - pos)
        ol = cap - pos;
    memcpy(err->msg + pos, old, ol);
    err->msg[pos + ol] = '\0';
    err->set = 1;
    return -1;
}

void cm_err_clear(cm_err *err)
{
    if (err) {
        err->msg[0] = '\0';
        err->set = 0;
    }
}
