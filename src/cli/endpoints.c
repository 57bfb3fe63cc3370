#include "endpoints.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

const char cli_target_help[] =
    "  --chroma-version V        1.0 (default: Chroma 1.x) or 0.6 / 0.5 (Python\n"
    "                            chromadb 0.5.6-0.6.x; Chroma 1.x opens it too)\n"
    "  --threads N               HNSW build threads (default: all cores)\n";

int cli_target_option(int argc, char **argv, int *i, cli_target_opts *t)
{
    const char *v = NULL;
    int r;
    if ((r = opt_value(argc, argv, i, "--chroma-version", &v)) != 0) {
        if (r < 0)
            return cli_usage_error("migrate", "--chroma-version needs a value"), -1;
        if (strcmp(v, "1.0") == 0 || strcmp(v, "1") == 0)
            t->dir.profile = CM_PROFILE_1_0;
        else if (strcmp(v, "0.6") == 0 || strcmp(v, "0.5") == 0)
            t->dir.profile = CM_PROFILE_0_6;
        else
            return cli_usage_error("migrate", "--chroma-version takes 1.0, 0.6 or 0.5, not '%s'", v), -1;
        return 1;
    }
    if ((r = opt_value(argc, argv, i, "--threads", &v)) != 0) {
        if (r < 0)
            return cli_usage_error("migrate", "--threads needs a value"), -1;
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 1024)
            return cli_usage_error("migrate", "--threads takes a number from 1 to 1024, not '%s'", v), -1;
        t->dir.threads = (int)n;
        return 1;
    }
    return 0;
}

cm_sink *cli_open_target(const char *to, const cli_target_opts *t, cm_err *err)
{
    if (strncmp(to, "http://", 7) == 0 || strncmp(to, "https://", 8) == 0) {
        cm_err_set(err, "--to %s: Chroma servers over HTTP are not supported as a target yet; give a directory",
                   strncmp(to, "https", 5) == 0 ? "https://..." : "http://...");
        return NULL;
    }
    return chroma_dir_create(to, &t->dir, err);
}

const char *cli_target_format(const char *to, const cli_target_opts *t)
{
    (void)to;
    return t->dir.profile == CM_PROFILE_1_0 ? "Chroma persistent directory, format 1.x"
                                            : "Chroma persistent directory, format 0.5/0.6";
}

void cli_target_opts_free(cli_target_opts *t)
{
    (void)t;
}
