/* options.h - every command-line option of every command, in one table
 * (options.c), one parser and the generated option lists of --help.
 *
 * As curl's tool_getparam.c (aliases[]) and git's parse-options: a row says
 * the option's name and short alias, the kind of value it takes, which
 * commands accept it, and its help line; the parser finds the row, checks the
 * value by its kind and stores it, so a check and its message exist once. */
#ifndef CM_CLI_OPTIONS_H
#define CM_CLI_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "../core/policy.h"
#include "../core/source.h"
#include "target_opts.h"

/* The commands, as bits of an option's "accepted by" mask. */
enum {
    CLI_MIGRATE = 1u << 0,
    CLI_INSPECT = 1u << 1,
    CLI_EXPORT = 1u << 2,
    CLI_VERIFY = 1u << 3,
};

/* Everything the options of any command set. A command reads the fields its
 * options fill; the rest stay at their defaults. */
typedef struct cli_args {
    unsigned cmd;          /* one CLI_* bit */
    const char *cmd_name;  /* "migrate", for messages */
    const char *from, *to; /* --from/--to, or inspect's and export's SOURCE */
    cm_policy pol;
    int pol_given; /* a policy option was given (verify: replaces the manifest) */
    cli_target_opts target;
    cm_source_opts source;
    int json, quiet, verbose, verify;
    int64_t sample; /* --sample: self-queries per collection */
} cli_args;

void cli_args_init(cli_args *a, unsigned cmd);
/* Parses argv[1..argc-1] for a->cmd. Returns 0 (parsed), 1 (--help asked:
 * nothing else was looked at after it) or EXIT_USAGE after printing the
 * usage error ("chroma-migrate CMD: ..."). */
int cli_parse(int argc, char **argv, cli_args *a);
void cli_args_free(cli_args *a);

/* The option lists of cmd's --help, by group, from the table. */
void cli_print_options(FILE *f, unsigned cmd);

/* Adds the headers of a JSON object {"Name": "value"} to a source's options
 * (what --from-headers does; the wizard asks for them). */
int cli_source_add_headers_json(cm_source_opts *o, const char *json, cm_err *err);

/* The choices of --duplicates and --invalid-metadata, shared with the
 * manifest that records them: the name of a policy value, and the value of a
 * name (-1 if none). */
const char *cli_dup_name(cm_dup_policy p);
const char *cli_meta_name(cm_meta_policy p);
int cli_dup_value(const char *name);
int cli_meta_value(const char *name);

#endif
