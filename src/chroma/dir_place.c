/* dir_place.c - where the result is staged and how it comes into place (see dir_place.h). */
#include "dir_place.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fsutil.h"
#include "../util/mem.h"

#define INSIDE_PREFIX ".chroma-migrate.partial-"

/* A killed earlier run leaves "<prefix><pid>" folders; those whose process
 * is gone are removed so reruns start clean. */
static void drop_partials(const char *parent, const char *prefix)
{
    DIR *dir = opendir(parent);
    if (!dir)
        return;
    size_t pl = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strncmp(e->d_name, prefix, pl) != 0)
            continue;
        long pid = strtol(e->d_name + pl, NULL, 10);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            continue;
        char *p = fs_join(parent, e->d_name);
        fs_rm_rf(p);
        free(p);
    }
    closedir(dir);
}

/* Resolves a symbolic link at `to` (the folder it names must exist). */
static char *resolve_link(const char *to, cm_err *err)
{
    char buf[PATH_MAX];
    char *real = realpath(to, NULL);
    if (real)
        return real;
    int e = errno;
    ssize_t n = readlink(to, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    if (e == ELOOP)
        cm_err_set(err, "%s: a loop of symbolic links", to), cm_err_mark(err, CM_ERR_TARGET_SPEC, CM_HINT_TO_REAL_FOLDER, NULL);
    else if (e == ENOENT)
        cm_err_set(err, "%s: a symbolic link to %s, which does not exist", to, buf),
            cm_err_mark(err, CM_ERR_TARGET_SPEC, CM_HINT_TO_MAKE_LINKED, NULL);
    else
        cm_err_set(err, "%s: cannot follow the symbolic link: %s", to, strerror(e));
    return NULL;
}

static int is_mount_point(const char *dir, const struct stat *st)
{
    char *parent = fs_join(dir, "..");
    struct stat ps;
    int r = stat(parent, &ps) == 0 && (ps.st_dev != st->st_dev || ps.st_ino == st->st_ino);
    free(parent);
    return r;
}

static int plan_existing(dir_place *p, cm_err *err)
{
    if (!S_ISDIR(p->st.st_mode))
        return cm_err_set(err, "%s: already exists and is not a folder", p->shown),
               cm_err_mark(err, CM_ERR_EXISTS, CM_HINT_TO_NEW_PATH, NULL);
    drop_partials(p->final_dir, INSIDE_PREFIX);
    if (fs_dir_state(p->final_dir) != 1)
        return cm_err_set(err, "%s: already exists and is not an empty directory", p->shown),
               cm_err_mark(err, CM_ERR_EXISTS, CM_HINT_TO_NEW_OR_REMOVE, NULL);
    p->existed = 1;
    char *parent = fs_dirname(p->final_dir);
    p->inside = is_mount_point(p->final_dir, &p->st) || access(parent, W_OK) != 0;
    free(parent);
    if (p->inside && access(p->final_dir, W_OK) != 0)
        return cm_err_set(err, "%s: cannot write in this folder: %s", p->shown, strerror(errno));
    return 0;
}

static int plan_new(dir_place *p, cm_err *err)
{
    char *parent = fs_dirname(p->final_dir);
    int rc = 0;
    if (fs_dir_state(parent) < 0)
        rc = cm_err_set(err, "%s: the parent folder %s does not exist; create it first", p->shown, parent);
    else if (access(parent, W_OK) != 0)
        rc = cm_err_set(err, "%s: cannot create it in %s: %s", p->shown, parent, strerror(errno));
    free(parent);
    return rc;
}

int dir_place_plan(const char *to, dir_place *p, cm_err *err)
{
    memset(p, 0, sizeof *p);
    p->shown = xstrdup(to);
    char *dir = xstrdup(to);
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
        dir[n - 1] = '\0';
    struct stat ls;
    if (lstat(dir, &ls) == 0 && S_ISLNK(ls.st_mode)) {
        char *real = resolve_link(dir, err);
        free(dir);
        if (!real)
            return -1;
        dir = real;
    }
    p->final_dir = dir;
    if (stat(dir, &p->st) == 0)
        return plan_existing(p, err);
    if (errno != ENOENT)
        return cm_err_set(err, "%s: %s", p->shown, strerror(errno));
    return plan_new(p, err);
}

int dir_place_stage(dir_place *p, cm_err *err)
{
    char name[600];
    if (p->inside) {
        snprintf(name, sizeof name, INSIDE_PREFIX "%ld", (long)getpid());
        p->stage_dir = fs_join(p->final_dir, name);
    } else {
        char *parent = fs_dirname(p->final_dir), *base = fs_basename(p->final_dir);
        char prefix[560];
        snprintf(prefix, sizeof prefix, ".%s.partial-", base);
        drop_partials(parent, prefix);
        snprintf(name, sizeof name, "%s%ld", prefix, (long)getpid());
        p->stage_dir = fs_join(parent, name);
        free(parent);
        free(base);
    }
    if (mkdir(p->stage_dir, 0755) != 0) {
        cm_err_set(err, "%s: cannot create: %s", p->stage_dir, strerror(errno));
        free(p->stage_dir);
        p->stage_dir = NULL;
        return -1;
    }
    return 0;
}

/* Inside staging: every entry moves up, chroma.sqlite3 last. */
static int move_up(dir_place *p, cm_err *err)
{
    DIR *dir = opendir(p->stage_dir);
    if (!dir)
        return cm_err_set(err, "%s: cannot read: %s", p->stage_dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        rewinddir(dir);
        while (rc == 0 && (e = readdir(dir))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            if ((strcmp(e->d_name, "chroma.sqlite3") == 0) != (pass == 1))
                continue;
            char *from = fs_join(p->stage_dir, e->d_name), *to = fs_join(p->final_dir, e->d_name);
            if (rename(from, to) != 0)
                rc = cm_err_set(err, "%s: cannot move %s into place: %s", p->shown, e->d_name, strerror(errno));
            free(from);
            free(to);
        }
    }
    closedir(dir);
    if (rc == 0 && rmdir(p->stage_dir) != 0)
        rc = cm_err_set(err, "%s: cannot remove: %s", p->stage_dir, strerror(errno));
    return rc < 0 ? -1 : fs_fsync_path(p->final_dir, err);
}

int dir_place_commit(dir_place *p, cm_err *err)
{
    if (p->inside) {
        if (move_up(p, err) < 0)
            return -1;
    } else {
        if (p->existed) {
            /* The user's empty folder keeps its mode and owner. */
            if (chmod(p->stage_dir, p->st.st_mode & 07777) != 0 ||
                ((p->st.st_uid != geteuid() || p->st.st_gid != getegid()) &&
                 chown(p->stage_dir, p->st.st_uid, p->st.st_gid) != 0))
                return cm_err_set(err, "%s: cannot give the result the folder's mode and owner: %s", p->shown,
                                  strerror(errno));
        }
        /* rename() replaces an empty directory atomically: the result appears
         * whole or not at all. */
        if (rename(p->stage_dir, p->final_dir) != 0)
            return cm_err_set(err, "%s: cannot move the finished result into place: %s", p->shown,
                              strerror(errno));
        char *parent = fs_dirname(p->final_dir);
        int rc = fs_fsync_path(parent, err);
        free(parent);
        if (rc < 0)
            return -1;
    }
    free(p->stage_dir);
    p->stage_dir = NULL;
    return 0;
}

void dir_place_abort(dir_place *p)
{
    if (p->stage_dir)
        fs_rm_rf(p->stage_dir);
    free(p->stage_dir);
    p->stage_dir = NULL;
}

void dir_place_free(dir_place *p)
{
    free(p->shown);
    free(p->final_dir);
    free(p->stage_dir);
    memset(p, 0, sizeof *p);
}
