/* policy_opts.h - the policy options shared by migrate and verify, and the
 * manifest that records them in a persistent-directory target. */
#ifndef CM_CLI_POLICY_OPTS_H
#define CM_CLI_POLICY_OPTS_H

#include "../core/policy.h"
#include "../format/json.h"

/* 1: consumed argv[*i] (and its value); 0: not a policy option; -1: usage
 * error printed (cmd names the command). *given is set when one was seen. */
int cli_policy_option(const char *cmd, int argc, char **argv, int *i, cm_policy *p, int *given);
extern const char cli_policy_help[];

/* The manifest: which policies a migration used, kept in the target as
 * .chroma-migrate.json (Chroma ignores files it does not know). */
void cli_policy_to_json(json_out *o, const cm_policy *p, const char *source);
/* Reads it back; 0 if absent (p untouched), 1 read, -1 error. */
int cli_policy_from_manifest(const char *dir, cm_policy *p, cm_err *err);

#define CM_MANIFEST_NAME ".chroma-migrate.json"

#endif
