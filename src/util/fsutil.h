/* fsutil.h - file-system steps that make a result appear all at once. */
#ifndef CM_UTIL_FSUTIL_H
#define CM_UTIL_FSUTIL_H

#include "err.h"

/* 1 if path is a directory with no entries, 0 if it has entries or is not a
 * directory, -1 if it does not exist. */
int fs_dir_state(const char *path);
/* Removes a tree (no error if absent). */
int fs_rm_rf(const char *path);
/* fsyncs a file or directory by path. */
int fs_fsync_path(const char *path, cm_err *err);
/* The directory part of path ("." if none); caller frees. */
char *fs_dirname(const char *path);
char *fs_basename(const char *path);
char *fs_join(const char *a, const char *b);

#endif
