/* opts.h - long options: "--name value" and "--name=value". */
#ifndef CM_CLI_OPTS_H
#define CM_CLI_OPTS_H

/* If argv[*i] is --name (a flag), returns 1. */
int opt_flag(char **argv, int *i, const char *name);
/* If argv[*i] is --name with a value, stores it, advances *i and returns 1;
 * returns -1 when the value is missing. */
int opt_value(int argc, char **argv, int *i, const char *name, const char **value);

#endif
