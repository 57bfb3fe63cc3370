/* meta_json.h - Chroma metadata <-> JSON text.
 *
 * Legacy stores keep metadata as Python json.dumps text. Reading it keeps
 * each value's type; values Chroma >= 0.4 cannot hold (null, nested values,
 * integers beyond int64, NaN/Infinity) are kept as such so policies can
 * report and decide. */
#ifndef CM_CORE_META_JSON_H
#define CM_CORE_META_JSON_H

#include "../format/json.h"
#include "record.h"

/* Parses text into m (cleared first). *present is 0 for the JSON literal
 * null (legacy "no metadata"), 1 otherwise. Anything but an object or null
 * is an error. */
int cm_meta_parse(const char *text, size_t len, cm_meta *m, int *present, cm_err *err);
/* A record's metadata from the source's text. Never fails: text that is
 * not a JSON object (nor null) is kept in r->meta_raw with what it is, for
 * the policies (legacy stores hold Python reprs and bare lists). */
void cm_record_meta_from_text(cm_record *r, const char *text, size_t len);
/* One parsed JSON value as a metadata value (type kept; nested values and
 * null are kept as such for the policies). */
void cm_mval_from_jv(cm_mval *d, const jv *v);
/* Writes m as a JSON object (types kept: floats always with '.' or 'e'). */
void cm_meta_write(json_out *o, const cm_meta *m);
/* Writes one value. */
void cm_mval_write(json_out *o, const cm_mval *v);

#endif
