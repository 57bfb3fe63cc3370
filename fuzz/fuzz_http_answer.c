/* fuzz_http_answer.c - libFuzzer target for what we make of a server's error
 * answer (untrusted input: any bytes, from Chroma, a proxy or anything else
 * at that address): http_answer_text.
 *
 * Run: mkdir -p /tmp/fz && build/fuzz/fuzz_http_answer -max_total_time=60 /tmp/fz fuzz/corpus/http_answer
 *
 * The first byte picks the status; the rest is the body. Invariants: no
 * crash, leak or out-of-bounds access; the text is one line (no control
 * characters); a header value we sent never appears in it, whole or as its
 * token after "Bearer ", however the body quotes it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {400, 401, 403, 404, 405, 407, 409, 413, 422, 429, 500, 502, 503, 504, 200, 599};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static http_headers hs;
    if (!hs.n) {
        cm_err e = {0};
        if (http_headers_add_line(&hs, "Authorization: Bearer tok-SECRET-123", &e) < 0 ||
            http_headers_add_line(&hs, "X-Api-Key: k3y-VALUE", &e) < 0)
            abort();
    }
    char *body = malloc(size); /* the bytes and a NUL, as http.c delivers a body */
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    http_response r = {.status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])],
                       .body = size > 1 ? body : NULL,
                       .len = size - 1};
    char *t = http_answer_text(&r, &hs);
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            abort(); /* not one line */
    if (strstr(t, "tok-SECRET-123") || strstr(t, "k3y-VALUE"))
        abort(); /* a secret shown */
    free(t);
    free(body);
    return 0;
}
