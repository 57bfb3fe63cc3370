/* policy_opts.h - the manifest that records the policy options (options.c)
 * in a persistent-directory target, for verify. */
#ifndef CM_CLI_POLICY_OPTS_H
#define CM_CLI_POLICY_OPTS_H

#include "../core/policy.h"
#include "../format/json.h"


/* --rename OLD=NEW (from: flen bytes) and --collection NAME, also read back
 * from the manifest. */
void cli_policy_add_rename(cm_policy *p, const char *from, size_t flen, const char *to);
void cli_policy_add_only(cm_policy *p, const char *name);

/* The manifest: which policies a migration used, kept in the target as
 * .chroma-migrate.json (Chroma ignores files it does not know). */
void cli_policy_to_json(json_out *o, const cm_policy *p, const char *source);
/* Reads it back; 0 if absent (p untouched), 1 read, -1 error. */
int cli_policy_from_manifest(const char *dir, cm_policy *p, cm_err *err);

#define CM_MANIFEST_NAME ".chroma-migrate.json"

#endif
