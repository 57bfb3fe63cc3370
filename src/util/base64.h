/* base64.h - base64 of little-endian float32 vectors, the binary embedding
 * form of Chroma's REST API (docs/formats.md#rest-api: add takes it when
 * pre-flight-checks says supports_base64_encoding, get may answer with it).
 * The target encodes, the source decodes; both go through here so the byte
 * order and the alphabet are decided once. Vectors are doubles in memory
 * (cm_record), float32 on the wire. */
#ifndef CM_UTIL_BASE64_H
#define CM_UTIL_BASE64_H

#include <stddef.h>

/* Characters cm_b64_f32_encode writes for n values (padding included). */
size_t cm_b64_f32_len(size_t n);
/* Writes the base64 of v[0..n) as float32 little-endian into out
 * (cm_b64_f32_len(n) characters, no NUL). */
void cm_b64_f32_encode(const double *v, size_t n, char *out);
/* Reads s[0..len) (standard or URL-safe alphabet, padding optional) into
 * *out (malloc'd, *n values; at least one element allocated). -1 when it
 * is not base64 or not a whole number of float32 values. */
int cm_b64_f32_decode(const char *s, size_t len, double **out, size_t *n);

#endif
