/* wizard.h - the wizard's questions about the servers it reads from and
 * writes to (wizard_ask.c), each answer checked when it is given: an address
 * typed as http(s)://HOST:PORT is split into its parts, and the server is
 * connected to right after its questions, so that a wrong answer is asked
 * again at once instead of failing after the confirmation. */
#ifndef CM_CLI_WIZARD_H
#define CM_CLI_WIZARD_H

#include <stddef.h>

#include "../core/source.h"

/* An address typed at a host question. */
typedef struct wiz_addr {
    char host[300];   /* an IPv6 address keeps its brackets */
    char port[16];    /* "" when none was typed */
    char prefix[300]; /* a Chroma server's "/PREFIX", or "" */
    int https;        /* 1 https (clickhouses), 0 http (clickhouse), -1 no scheme typed */
} wiz_addr;

/* Splits HOST, HOST:PORT, [V6]:PORT, http(s)://HOST[:PORT][/PREFIX] (for
 * ClickHouse also clickhouse(s)://, and no prefix). Returns 0, or -1 with why
 * the answer cannot be a host in `why`. */
int wiz_parse_host(const char *typed, int clickhouse, wiz_addr *a, char *why, size_t wcap);

/* A Chroma server as the wizard asked for it. */
typedef struct wiz_server {
    char url[700];      /* http[s]://HOST:PORT[/PREFIX] */
    char host[300];     /* the answers, the defaults when asked again */
    char port[16];
    char headers[4096]; /* a JSON object, "{}" for none; values are secrets */
    char cacert[1024];  /* "" for the system's CAs */
    int insecure;
} wiz_server;

/* Asks host, port, headers (and for https a CA file or no check), then
 * connects and shows the server's version; asks again on any problem.
 * Returns 0 or TERM_CANCEL. */
int wiz_ask_server(const char *what, wiz_server *s);

/* A chromadb 0.3.x ClickHouse as the wizard asked for it. */
typedef struct wiz_clickhouse {
    char spec[700]; /* clickhouse[s]://[USER@]HOST:PORT, never with the password */
    char host[300], port[16], user[128];
    char password[512]; /* secret; "" for none; handed on in CLICKHOUSE_PASSWORD */
    int pw_from_env;    /* the password is CLICKHOUSE_PASSWORD as it was set before the wizard */
    cm_source *src;     /* opened: connected and chroma's tables found */
} wiz_clickhouse;

/* Asks host, port, user and password, then connects (the password goes to
 * this process's CLICKHOUSE_PASSWORD, where the source and the migration
 * read it) and shows ClickHouse's version; asks again on any problem.
 * Returns 0 or TERM_CANCEL. */
int wiz_ask_clickhouse(wiz_clickhouse *c);

/* {"Authorization": "Bearer x"} -> {"Authorization": "***"} */
void wiz_mask_headers(const char *in, char *out, size_t cap);

#endif
