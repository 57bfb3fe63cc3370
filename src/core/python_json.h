/* python_json.h - JSON text exactly as Python's json.dumps writes it.
 *
 * Used where a value must become a string a user recognises: the
 * "stringify" metadata policy stores the text json.dumps(value) gives
 * (", " and ": " separators, ASCII only with \uXXXX escapes, NaN/Infinity). */
#ifndef CM_CORE_PYTHON_JSON_H
#define CM_CORE_PYTHON_JSON_H

#include "../format/json.h"
#include "record.h"

void cm_python_dumps(json_out *o, const jv *v);
/* malloc'd NUL-terminated text for one metadata value. */
char *cm_python_dumps_mval(const cm_mval *v);

#endif
