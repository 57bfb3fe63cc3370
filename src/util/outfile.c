/* outfile.c - see outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "mem.h"

#define OUT_BUF ((size_t)1 << 20)
/* One write() at most this big: some kernels and file systems return short
 * counts for huge writes anyway, and a bounded chunk keeps EINTR cheap. */
#define WRITE_CHUNK ((size_t)8 << 20)

int out_open(out_file *o, const char *dir, const char *name, cm_err *err)
{
    memset(o, 0, sizeof *o);
    o->path = fs_join(dir, name);
    o->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        cm_err_set(err, "%s: %s", o->path, strerror(errno));
        free(o->path);
        o->path = NULL;
        return -1;
    }
    o->buf = xmalloc(OUT_BUF);
    return 0;
}

static int write_all(out_file *o, const unsigned char *p, size_t n, cm_err *err)
{
    while (n) {
        ssize_t w = write(o->fd, p, n > WRITE_CHUNK ? WRITE_CHUNK : n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            o->failed = 1;
            return cm_err_set(err, "writing %s: %s", o->path, w < 0 ? strerror(errno) : "no progress");
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int out_put(out_file *o, const void *p, size_t n, cm_err *err)
{
    if (o->failed)
        return -1;
    if (o->n + n > OUT_BUF) {
        if (write_all(o, o->buf, o->n, err) < 0)
            return -1;
        o->n = 0;
        if (n > OUT_BUF)
            return write_all(o, p, n, err);
    }
    memcpy(o->buf + o->n, p, n);
    o->n += n;
    return 0;
}

int out_close(out_file *o, cm_err *err)
{
    int rc = o->failed ? -1 : 0;
    if (rc == 0 && o->n && write_all(o, o->buf, o->n, err) < 0)
        rc = -1;
    if (rc == 0 && fsync(o->fd) != 0)
        rc = cm_err_set(err, "fsync %s: %s", o->path, strerror(errno));
    if (close(o->fd) != 0 && rc == 0)
        rc = cm_err_set(err, "closing %s: %s", o->path, strerror(errno));
    free(o->path);
    free(o->buf);
    memset(o, 0, sizeof *o);
    o->fd = -1;
    return rc;
}
