/* cli.h - the command-line program over the library: commands, output. */
#ifndef CM_CLI_H
#define CM_CLI_H

#include <stdio.h>

#include "../core/pipeline.h"
#include "../format/json.h"

#define CM_VERSION "0.1.0"

/* Documented exit codes (see --help and the man page). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_USAGE = 2,
    EXIT_MISMATCH = 3,
    EXIT_INTERRUPTED = 130,
};

int cmd_inspect(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* Runs verify and prints its report; returns the exit code. t: the target
 * options (a server's headers, tenant, database, TLS), NULL for defaults. */
struct cli_target_opts;
int cli_run_verify(cm_source *src, const char *to, const struct cli_target_opts *t, const cm_policy *pol,
                   int64_t sample, int json, int quiet);

/* Prints "chroma-migrate: <msg>" on stderr. */
void cli_error(const char *fmt, ...) CM_PRINTF(1, 2);
/* An error's message with the CLI's advice (advice.c): the option it is
 * about in front, what to do after it. cli_err_text's buffer is static. */
void cli_err_format(const cm_err *e, char *out, size_t cap);
const char *cli_err_text(const cm_err *e);
/* A note's text with the CLI's advice (advice.c), as for an error. */
void cli_note_format(const cm_note *n, char *out, size_t cap);
/* The source's notes worded and joined with "; ", or NULL when it has none;
 * the buffer is static (replaced by the next call). */
const char *cli_source_notes(cm_source *src);
/* "record has" for 1, else "records have": the messages that count records. */
const char *cli_records_have(int64_t n);
/* One blocker (cm_run_blockers) in words, with the option that decides it. */
void cli_blocker_text(const cm_blocker *b, char *out, size_t cap);
/* Usage error: message, hint, returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CM_PRINTF(2, 3);

/* Progress on stderr: a live line on a terminal, a plain line every few
 * seconds otherwise, nothing with quiet. Thread-safe. */
typedef struct cli_progress cli_progress;
cli_progress *cli_progress_new(int quiet, int verbose);
void cli_progress_bind(cli_progress *p, cm_progress *out);
void cli_progress_end(cli_progress *p);
void cli_progress_free(cli_progress *p);
/* Prints "chroma-migrate: MSG" on stderr on a line of its own, clearing the
 * progress bars first if they are on screen (they come back on the next
 * update). */
void cli_progress_note(const char *msg);

/* Ctrl-C: the first one asks the run to stop cleanly. */
void cli_install_interrupt(void);
int cli_interrupted(void);

/* JSON pieces shared by inspect and migrate reports. */
void cli_json_collection_summary(json_out *o, const cm_coll_result *cr);
void cli_json_problems(json_out *o, const cm_coll_result *cr);
/* {"kind":..,"location":..,"notes":..|null}: the source, as both name it. */
void cli_json_source(json_out *o, cm_source *src);
/* What the sink did about a collection's vector index, in words ("built
 * (...)", "reused the legacy index (...)"), or "" when it has nothing to say;
 * the migrate summary's "index:" line and its JSON "index". */
void cli_index_note(const cm_index_outcome *io, char *buf, size_t cap);
void cli_print_problems_text(FILE *f, const cm_coll_result *cr);
/* inspect's table: collections, counts, problems. */
void cli_print_inspect_text(FILE *f, cm_source *src, const cm_run *run);

/* The wizard (no arguments on a terminal). */
int cmd_wizard(void);

#endif
