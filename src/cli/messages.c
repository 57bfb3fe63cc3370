/* messages.c - the CLI's ways to speak: one-line errors prefixed
 * "chroma-migrate: ", usage errors that name their own command and point to
 * its --help, and the Ctrl-C flag (the first stops cleanly, the second
 * kills). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("chroma-migrate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "chroma-migrate %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nSee 'chroma-migrate %s --help'.\n", cmd);
    return EXIT_USAGE;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    /* A second Ctrl-C ends the program at once (the hidden partial folder
     * is removed by the next run). */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

void cli_install_interrupt(void)
{
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
}

int cli_interrupted(void)
{
    return interrupted;
}
