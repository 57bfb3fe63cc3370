/* err.c - setting, prefixing and marking a cm_err. Messages are built
 * innermost first and prefixed on the way up, so the line the user reads
 * goes from the collection down to the byte. */
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
    err->kind = CM_ERR_OTHER;
    err->hint = CM_HINT_NONE;
    err->hint_arg[0] = '\0';
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
        err->kind = CM_ERR_OTHER;
        err->hint = CM_HINT_NONE;
        err->hint_arg[0] = '\0';
    }
}

int cm_err_mark(cm_err *err, cm_err_kind kind, cm_hint hint, const char *arg)
{
    if (!err)
        return -1;
    err->kind = kind;
    err->hint = hint;
    snprintf(err->hint_arg, sizeof err->hint_arg, "%s", arg ? arg : "");
    return -1;
}
