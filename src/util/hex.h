/* hex.h - hexadecimal digits: reading one, writing bytes as digits. */
#ifndef CM_UTIL_HEX_H
#define CM_UTIL_HEX_H

#include <stddef.h>

/* The sixteen digits, lowercase and uppercase (plus NUL). */
extern const char cm_hex_lower[17];
extern const char cm_hex_upper[17];

/* 0..15 for a hex digit (either case), -1 for anything else. */
int cm_hex_digit(int ch);

/* Writes 2*n lowercase digits and a NUL into out (2*n+1 bytes). */
void cm_hex_encode(const void *bytes, size_t n, char *out);

#endif
