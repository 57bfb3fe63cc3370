/* dir_place.h - where a persistent-directory result is built, and how it
 * comes into place.
 *
 * The result must appear whole or not at all, on the file system where it
 * will live, and every problem with --to must show before any long work.
 * So the plan is made and checked first (dir_place_plan creates nothing):
 *   - --to does not exist: built in a hidden sibling ".<name>.partial-<pid>"
 *     and renamed into place (atomic);
 *   - --to is an empty folder (or a symbolic link to one; links are resolved
 *     first): built in a hidden sibling of the real folder, given the
 *     folder's mode and owner, and renamed over it (rename replaces an empty
 *     directory atomically);
 *   - that folder is a mount point, or its parent cannot be written: built
 *     inside it (".chroma-migrate.partial-<pid>"), whose entries are moved up
 *     at the end with chroma.sqlite3 last, so the folder holds a database
 *     only once everything else is there;
 *   - refused up front: an existing file or non-empty folder, a dangling link
 *     or a link loop, a missing parent folder, a place we may not write. */
#ifndef CM_SINK_DIR_PLACE_H
#define CM_SINK_DIR_PLACE_H

#include <sys/stat.h>

#include "../util/err.h"

typedef struct dir_place {
    char *shown;      /* --to as given (for messages) */
    char *final_dir;  /* where the result appears (symbolic links resolved) */
    char *stage_dir;  /* where it is built */
    int inside;       /* stage_dir is inside final_dir */
    int existed;      /* final_dir exists (an empty folder): mode and owner kept */
    struct stat st;   /* final_dir's, when it existed */
} dir_place;

int dir_place_plan(const char *to, dir_place *p, cm_err *err);
/* Creates the staging folder. */
int dir_place_stage(dir_place *p, cm_err *err);
/* Moves the finished (fsynced) staging folder into place. */
int dir_place_commit(dir_place *p, cm_err *err);
/* Removes the staging folder, if any. */
void dir_place_abort(dir_place *p);
void dir_place_free(dir_place *p);

#endif
