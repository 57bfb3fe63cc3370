/* uuid.c - UUID text forms and random UUIDs (uuid.h). */
#include "uuid.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"

static int hyphen_at(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

int cm_uuid_parse(const char *s, size_t len, cm_uuid *out)
{
    int hyph = len == 36;
    if (!hyph && len != 32)
        return -1;
    size_t nd = 0;
    for (size_t i = 0; i < len; i++) {
        if (hyph && hyphen_at(i)) {
            if (s[i] != '-')
                return -1;
            continue;
        }
        int h = cm_hex_digit((unsigned char)s[i]);
        if (h < 0)
            return -1;
        if (nd % 2 == 0)
            out->b[nd / 2] = (unsigned char)(h << 4);
        else
            out->b[nd / 2] |= (unsigned char)h;
        nd++;
    }
    return 0;
}

void cm_uuid_format(const cm_uuid *u, char out[37])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = cm_hex_lower[u->b[i] >> 4];
        out[o++] = cm_hex_lower[u->b[i] & 15];
    }
    out[o] = '\0';
}

int cm_uuid4(char out[37])
{
    cm_uuid u;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, u.b, sizeof u.b);
    close(fd);
    if (n != (ssize_t)sizeof u.b)
        return -1;
    u.b[6] = (unsigned char)((u.b[6] & 0x0f) | 0x40);
    u.b[8] = (unsigned char)((u.b[8] & 0x3f) | 0x80);
    cm_uuid_format(&u, out);
    return 0;
}

int cm_uuid_valid(const char *s)
{
    cm_uuid u;
    return strlen(s) == 36 && cm_uuid_parse(s, 36, &u) == 0;
}
