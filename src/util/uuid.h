/* uuid.h - UUIDs: parsing and writing the text forms, and random (version
 * 4) ones for new segments. */
#ifndef CM_UTIL_UUID_H
#define CM_UTIL_UUID_H

#include <stddef.h>

/* The 16 bytes in RFC 4122 order (the text's digits, first to last). */
typedef struct cm_uuid {
    unsigned char b[16];
} cm_uuid;

/* s[0..len): 32 hex digits, or the hyphenated 8-4-4-4-12 form (36), either
 * case. 0, or -1 when it is neither. */
int cm_uuid_parse(const char *s, size_t len, cm_uuid *out);
/* Writes 36 characters plus NUL: lowercase, hyphenated. */
void cm_uuid_format(const cm_uuid *u, char out[37]);

/* Writes 36 characters plus NUL: lowercase, hyphenated. Returns -1 if the
 * system's randomness cannot be read. */
int cm_uuid4(char out[37]);
/* 1 when s is a hyphenated 8-4-4-4-12 hex UUID. */
int cm_uuid_valid(const char *s);

#endif
