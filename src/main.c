/* main.c - chroma-migrate: move old Chroma stores into Chroma >= 0.4.
 *
 * A table of subcommands, like git's builtins; each lives in src/cli/cmd_*.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/mem.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"migrate", cmd_migrate, "move every collection from a source into a target"},
    {"inspect", cmd_inspect, "show what a source holds and what will need a decision"},
    {"verify", cmd_verify, "prove a migration record by record"},
    {"export", cmd_export, "print a source's records as JSON Lines (no policies applied)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: chroma-migrate <command> [options]\n\n"
               "Moves collections from a chromadb 0.3.x store into Chroma >= 0.4.\n"
               "Without arguments on a terminal it asks its questions (a wizard).\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexamples:\n"
               "  chroma-migrate inspect ./chroma\n"
               "  chroma-migrate migrate --from ./chroma --to ./chroma_migrated\n\n"
               "'chroma-migrate <command> --help' describes a command's options.\n"
               "exit codes: 0 success, 1 failure, 2 usage, 3 verification mismatch, 130 interrupted\n");
}

int main(int argc, char **argv)
{
    mem_tune();
    if (argc < 2) {
        /* The original tool was a wizard; on a terminal, so is this. */
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
            return cmd_wizard();
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        /* "help migrate" is "migrate --help", as in git */
        for (size_t i = 0; argc > 2 && i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                char *args[] = {argv[2], "--help", NULL};
                return commands[i].fn(2, args);
            }
        if (argc > 2) {
            fprintf(stderr, "chroma-migrate: '%s' is not a command. See 'chroma-migrate --help'.\n", argv[2]);
            return EXIT_USAGE;
        }
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("chroma-migrate %s\n", CM_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "chroma-migrate: '%s' is not a command. See 'chroma-migrate --help'.\n", cmd);
    return EXIT_USAGE;
}
