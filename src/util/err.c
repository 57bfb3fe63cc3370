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
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", head, err->set ? old : "unknown error");
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
