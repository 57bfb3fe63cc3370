/* open_hint.c - the last lines of a migration: how to open what it wrote,
 * from Python and from JS, as code the user can paste.
 *
 * A directory is opened with PersistentClient or served with `chroma run`;
 * a server is reached with HttpClient / ChromaClient, with its host, port,
 * TLS, tenant and database. Header names are shown so the user knows the
 * client needs them too; their values are secrets and never printed. */
#include "open_hint.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "target_opts.h"

/* s as a double-quoted literal that Python and JS both read back as s. */
static void quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < ' ' || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* s for a shell command line: as it is when it is plainly safe, else in
 * single quotes (a quote inside written as '\''). */
static void shell_word(FILE *f, const char *s)
{
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-+=:,@%") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* "http(s)://host[:port][/prefix]" -> host, port, ssl, prefix. */
static void split_url(const char *url, char *host, size_t hcap, unsigned *port, int *ssl, const char **prefix)
{
    *ssl = strncasecmp(url, "https://", 8) == 0;
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *end = h + strcspn(h, "/");
    *prefix = end[strspn(end, "/")] ? end : NULL; /* a lone trailing "/" is no prefix */
    const char *colon = NULL;
    if (*h == '[') { /* [::1]:8000 */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (rb && rb + 1 < end && rb[1] == ':')
            colon = rb + 1;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
    }
    size_t hl = (size_t)((colon ? colon : end) - h);
    snprintf(host, hcap, "%.*s", (int)hl, h);
    *port = *ssl ? 443 : 80;
    if (colon) {
        unsigned p = 0;
        for (const char *q = colon + 1; q < end && *q >= '0' && *q <= '9'; q++)
            p = p * 10 + (unsigned)(*q - '0');
        if (p > 0 && p < 65536)
            *port = p;
    }
}

/* ', headers={"Name": "..."}' (Python) or ', headers: {...}' (JS). */
static void header_names(FILE *f, const http_headers *hs, int js)
{
    if (!hs || !hs->n)
        return;
    fprintf(f, js ? ", headers: { " : ", headers={");
    for (size_t i = 0; i < hs->n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        quoted(f, hs->h[i].name);
        fprintf(f, ": \"...\"");
    }
    fprintf(f, js ? " }" : "}");
}

/* host=..., port=...[, ssl=True][, tenant=..., database=...][, headers=...]
 * in Python's keyword form, or as the members of a JS object. */
static void client_args(FILE *f, const char *host, unsigned port, int ssl, const char *tenant, const char *database,
                        const http_headers *hs, int js)
{
    const char *eq = js ? ": " : "=";
    fprintf(f, "host%s", eq);
    quoted(f, host);
    fprintf(f, ", port%s%u", eq, port);
    if (ssl)
        fprintf(f, ", ssl%s%s", eq, js ? "true" : "True");
    if (tenant || database) {
        fprintf(f, ", tenant%s", eq);
        quoted(f, tenant ? tenant : "default_tenant");
        fprintf(f, ", database%s", eq);
        quoted(f, database ? database : "default_database");
    }
    header_names(f, hs, js);
}

static int named(const char *v, const char *dflt)
{
    return v && *v && strcmp(v, dflt) != 0;
}

void cli_how_to_open(FILE *f, const char *to, const http_headers *hs, const char *tenant, const char *database)
{
    fprintf(f, "open it:\n");
    if (!cli_target_is_server(to)) {
        fprintf(f, "  Python:  import chromadb; client = chromadb.PersistentClient(path=");
        quoted(f, to);
        fprintf(f, ")\n  server:  chroma run --path ");
        shell_word(f, to);
        fprintf(f, "\n  JS:      (with that server running) new ChromaClient({ host: \"localhost\", port: 8000 })\n");
        return;
    }
    char host[1024];
    unsigned port;
    int ssl;
    const char *prefix;
    split_url(to, host, sizeof host, &port, &ssl, &prefix);
    const char *t = named(tenant, "default_tenant") ? tenant : NULL;
    const char *d = named(database, "default_database") ? database : NULL;
    fprintf(f, "  Python:  import chromadb; client = chromadb.HttpClient(");
    client_args(f, host, port, ssl, t, d, hs, 0);
    fprintf(f, ")\n  JS:      new ChromaClient({ ");
    client_args(f, host, port, ssl, t, d, hs, 1);
    fprintf(f, " })\n");
    if (prefix)
        fprintf(f, "  (the server is behind the path %s: give the clients the whole URL where they take one)\n", prefix);
}
