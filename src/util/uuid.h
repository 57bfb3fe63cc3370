/* uuid.h - random (version 4) UUIDs for new segments. */
#ifndef CM_UTIL_UUID_H
#define CM_UTIL_UUID_H

/* Writes 36 characters plus NUL: lowercase, hyphenated. Returns -1 if the
 * system's randomness cannot be read. */
int cm_uuid4(char out[37]);
/* 1 when s is a hyphenated 8-4-4-4-12 hex UUID. */
int cm_uuid_valid(const char *s);

#endif
