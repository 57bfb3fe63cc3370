/* hex.c - hexadecimal digits (hex.h). */
#include "hex.h"

const char cm_hex_lower[17] = "0123456789abcdef";
const char cm_hex_upper[17] = "0123456789ABCDEF";

int cm_hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

void cm_hex_encode(const void *bytes, size_t n, char *out)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = cm_hex_lower[b[i] >> 4];
        out[2 * i + 1] = cm_hex_lower[b[i] & 15];
    }
    out[2 * n] = '\0';
}
