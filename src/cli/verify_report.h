/* verify_report.h - printing a verification, for verify and migrate --verify. */
#ifndef CM_CLI_VERIFY_REPORT_H
#define CM_CLI_VERIFY_REPORT_H

#include <stdio.h>

#include "../verify/verify.h"
#include "../format/json.h"

void cli_verify_print_text(FILE *f, const cm_verify *v, const char *target);
void cli_verify_json(json_out *o, const cm_verify *v);

#endif
