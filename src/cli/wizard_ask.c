/* wizard_ask.c - the wizard's server questions, each answer checked when it
 * is given (see wizard.h): addresses split, ports and files checked, and a
 * connection made right after a server's questions, so the user is asked
 * again there and then instead of meeting the error after the confirmation. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../chroma/rest.h"
#include "../endpoints.h"
#include "../format/json.h"
#include "../net/http.h"
#include "cli.h"
#include "term.h"
#include "wizard.h"

/* dst = src, cut to cap (the inputs are bounded by the prompts anyway). */
static void put(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- addresses ---- */

static const char addr_forms[] = "give a host name or address (e.g. localhost, 10.0.0.5), HOST:PORT or ";

/* The scheme typed before "://": 1 https, 0 http, -1 none; -2 not one of ours. */
static int take_scheme(const char **p, int clickhouse)
{
    const char *sep = strstr(*p, "://");
    if (!sep)
        return -1;
    size_t n = (size_t)(sep - *p);
    static const char *const names[] = {"http", "https", "clickhouse", "clickhouses"};
    for (int k = 0; k < (clickhouse ? 4 : 2); k++)
        if (strlen(names[k]) == n && strncasecmp(*p, names[k], n) == 0) {
            *p = sep + 3;
            return k % 2;
        }
    return -2;
}

/* The host part: a name, an IPv4 address or [IPv6]. */
static int take_host(const char **p, wiz_addr *a)
{
    const char *s = *p, *e = s;
    if (*s == '[') {
        e = strchr(s, ']');
        if (!e || e == s + 1)
            return -1;
        for (const char *q = s + 1; q < e; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
                return -1;
        e++;
    } else {
        while (isalnum((unsigned char)*e) || *e == '.' || *e == '-' || *e == '_')
            e++;
    }
    if (e == s || (size_t)(e - s) >= sizeof a->host)
        return -1;
    snprintf(a->host, sizeof a->host, "%.*s", (int)(e - s), s);
    *p = e;
    return 0;
}

static int port_ok(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    return *s && isdigit((unsigned char)*s) && !*end && !errno && n >= 1 && n <= 65535;
}

int wiz_parse_host(const char *typed, int clickhouse, wiz_addr *a, char *why, size_t wcap)
{
    memset(a, 0, sizeof *a);
    const char *schemes = clickhouse ? "http(s)://HOST:PORT" : "http(s)://HOST:PORT[/PREFIX]";
    const char *p = typed;
    a->https = take_scheme(&p, clickhouse);
    if (a->https == -2)
        return snprintf(why, wcap, "'%.*s' is not a scheme the wizard knows: %s%s", (int)(strstr(typed, "://") - typed),
                        typed, addr_forms, schemes),
               -1;
    if (strchr(p, '@'))
        return snprintf(why, wcap, "no user or password in the address: %s%s%s", addr_forms, schemes,
                        clickhouse ? " (the user and password are asked next)" : " (credentials go in the headers)"),
               -1;
    if (take_host(&p, a) < 0)
        return snprintf(why, wcap, "'%s' is not a host: %s%s", typed, addr_forms, schemes), -1;
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/");
        snprintf(a->port, sizeof a->port, "%.*s", (int)(n < sizeof a->port - 1 ? n : sizeof a->port - 1), p + 1);
        if (n >= sizeof a->port || !port_ok(a->port))
            return snprintf(why, wcap, "the port after ':' in '%s' must be a number from 1 to 65535", typed), -1;
        p += 1 + n;
    }
    size_t plen = strlen(p);
    while (plen && p[plen - 1] == '/')
        plen--;
    if (plen && clickhouse)
        return snprintf(why, wcap, "'%s': no path after the host (chromadb 0.3.x keeps its tables in the database "
                                   "'default')",
                        typed),
               -1;
    int bad = plen && p[0] != '/'; /* something after the host that is neither :PORT nor /PREFIX */
    for (size_t i = 0; i < plen && !bad; i++)
        bad = (unsigned char)p[i] <= ' ' || strchr("?#\"'\\", p[i]) != NULL;
    if (bad)
        return snprintf(why, wcap, "'%s' is not a host: %s%s", typed, addr_forms, schemes), -1;
    if (plen >= sizeof a->prefix)
        return snprintf(why, wcap, "the path in '%s' is too long", typed), -1;
    snprintf(a->prefix, sizeof a->prefix, "%.*s", (int)plen, p);
    return 0;
}

/* ---- the questions ---- */

static int ask(const char *q, const char *dflt, char *buf, size_t cap)
{
    return term_line(q, dflt, buf, cap, 0, NULL);
}

/* The host question; a port typed with it is taken (and said so). */
static int ask_host(const char *q, int clickhouse, char *host, size_t hcap, wiz_addr *a)
{
    char buf[700], why[400];
    for (;;) {
        if (ask(q, host, buf, sizeof buf) == TERM_CANCEL)
            return TERM_CANCEL;
        if (wiz_parse_host(buf, clickhouse, a, why, sizeof why) == 0)
            break;
        printf("  %s\n", why);
    }
    put(host, hcap, buf);
    return 0;
}

static int ask_port(const char *q, const char *dflt, char *buf, size_t cap)
{
    for (;;) {
        if (ask(q, dflt, buf, cap) == TERM_CANCEL)
            return TERM_CANCEL;
        if (port_ok(buf))
            return 0;
        printf("  '%s' is not a port: give a number from 1 to 65535\n", buf);
    }
}

/* The port question, unless the address had one. */
static int ask_port_unless(const char *q, const wiz_addr *a, const char *dflt, char *port, size_t cap)
{
    if (a->port[0]) {
        snprintf(port, cap, "%s", a->port);
        printf("  port %s (from the address)\n", port);
        return 0;
    }
    return ask_port(q, dflt, port, cap);
}

void wiz_mask_headers(const char *in, char *out, size_t cap)
{
    jv *v = json_parse(in, strlen(in), NULL);
    json_out o = {0};
    if (v && v->type == JV_OBJECT) {
        jo_raw(&o, "{", 1);
        for (size_t i = 0; i < v->u.obj.n; i++) {
            if (i)
                jo_raw(&o, ", ", 2);
            jo_str(&o, v->u.obj.members[i].key, v->u.obj.members[i].key_len);
            jo_cstr(&o, ": \"***\"");
        }
        jo_raw(&o, "}", 1);
    } else {
        jo_cstr(&o, "***");
    }
    snprintf(out, cap, "%.*s", (int)o.len, o.buf ? o.buf : "");
    jo_free(&o);
    jv_free(v);
}

/* Why s cannot be sent as headers (names and values checked as --headers
 * would), or NULL. The message never quotes a value. */
static int headers_problem(const char *s, char *why, size_t cap)
{
    jv *v = json_parse(s, strlen(s), NULL);
    int bad = !v || v->type != JV_OBJECT;
    if (bad)
        snprintf(why, cap, "give a JSON object, e.g. {\"Authorization\": \"Bearer TOKEN\"}");
    else {
        http_headers hs = {0};
        cm_err err = {0};
        bad = http_headers_add_json(&hs, s, strlen(s), &err) < 0;
        if (bad)
            put(why, cap, err.msg);
        http_headers_free(&hs);
    }
    jv_free(v);
    return bad;
}

/* Asked again after a failed connection: the previous headers are the
 * default, shown masked. */
static int ask_headers(char *buf, size_t cap)
{
    char prev[4096], label[1024], why[600];
    put(prev, sizeof prev, buf);
    wiz_mask_headers(prev, label, sizeof label);
    for (;;) {
        if (term_line_ex("Any HTTP headers to send (e.g. for authentication), as JSON", label, prev, buf, cap, 1,
                         wiz_mask_headers) == TERM_CANCEL)
            return TERM_CANCEL;
        if (!headers_problem(buf, why, sizeof why))
            return 0;
        printf("  not valid: %s\n", why);
    }
}

/* For https: a CA file to trust, else whether to check the certificate. */
static int ask_tls(wiz_server *s)
{
    static const char sys[] = "the system's";
    char buf[1024];
    for (;;) {
        if (term_line_ex("CA certificate file (PEM) to trust for https", s->cacert[0] ? s->cacert : sys, s->cacert,
                         buf, sizeof buf, 0, NULL) == TERM_CANCEL)
            return TERM_CANCEL;
        FILE *f = buf[0] ? fopen(buf, "rb") : NULL;
        if (!buf[0] || f) {
            if (f)
                fclose(f);
            break;
        }
        printf("  cannot read %s: %s; give a PEM file, or Enter for the system's CAs\n", buf, strerror(errno));
    }
    put(s->cacert, sizeof s->cacert, buf);
    s->insecure = 0;
    if (buf[0])
        return 0;
    int yes = term_yes_no("Check the server's certificate (no: --insecure, anyone in between can read the data)?",
                          1);
    if (yes == TERM_CANCEL)
        return TERM_CANCEL;
    s->insecure = !yes;
    return 0;
}

static const char *api_name(chroma_api api)
{
    return chroma_api_is_v2(api) ? "API v2" : api != CHROMA_API_03 ? "API v1" : "API v1, chromadb 0.3";
}

/* One quick connection: heartbeat and version, no retries (the migration
 * itself retries; a question should answer at once). */
static int probe_server(const wiz_server *s, chroma_server_id *id, cm_err *err)
{
    http_headers hs = {0};
    char *base = NULL;
    int https = 0, rc = -1;
    http_client *c = NULL;
    if (http_headers_add_json(&hs, s->headers, strlen(s->headers), err) == 0 &&
        http_base_url(s->url, &base, &https, err) == 0) {
        http_opts o = {.base_url = base,
                       .headers = &hs,
                       .cacert = s->cacert[0] ? s->cacert : NULL,
                       .insecure = s->insecure,
                       .max_inflight = 1,
                       .timeout_s = 20,
                       .connect_timeout_s = 5,
                       .retry_budget_s = 0.5,
                       .max_attempts = 1};
        c = http_client_new(&o, err);
    }
    if (c) {
        chroma_client cl = {.http = c, .url = s->url, .sent = &hs, .auth_hint = CM_HINT_NONE};
        rc = chroma_probe(&cl, id, err);
        if (rc < 0 && err->kind == CM_ERR_AUTH) /* the wizard's own advice: no flags here */
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                     "; give the token at the headers question, as JSON, e.g. {\"Authorization\": \"Bearer "
                     "TOKEN\"}");
    }
    http_client_free(c);
    free(base);
    http_headers_free(&hs);
    return rc;
}

int wiz_ask_server(const char *what, wiz_server *s)
{
    char q[160];
    if (!s->host[0]) {
        snprintf(s->host, sizeof s->host, "localhost");
        snprintf(s->port, sizeof s->port, "8000");
        snprintf(s->headers, sizeof s->headers, "{}");
    }
    for (;;) {
        wiz_addr a;
        snprintf(q, sizeof q, "What is the ip/hostname of your %s", what);
        if (ask_host(q, 0, s->host, sizeof s->host, &a) == TERM_CANCEL)
            return TERM_CANCEL;
        snprintf(q, sizeof q, "What is the port of your %s", what);
        if (ask_port_unless(q, &a, s->port, s->port, sizeof s->port) == TERM_CANCEL)
            return TERM_CANCEL;
        if (ask_headers(s->headers, sizeof s->headers) == TERM_CANCEL)
            return TERM_CANCEL;
        snprintf(s->url, sizeof s->url, "%s://%s:%s%s", a.https == 1 ? "https" : "http", a.host, s->port, a.prefix);
        s->insecure = 0;
        if (a.https == 1 && ask_tls(s) == TERM_CANCEL)
            return TERM_CANCEL;
        if (a.https != 1)
            s->cacert[0] = '\0';
        printf("  connecting to %s ...\n", s->url);
        fflush(stdout);
        chroma_server_id id;
        cm_err err = {0};
        if (probe_server(s, &id, &err) == 0) {
            printf("  connected: Chroma %s (%s)\n", id.version, api_name(id.api));
            return 0;
        }
        printf("  %s\n  Check the answers (Enter keeps each one):\n", cli_err_text(&err));
    }
}

/* ---- ClickHouse ---- */

/* user name percent-encoded for the URL's userinfo */
static void pct_user(const char *u, char *out, size_t cap)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)u; *p && k + 4 < cap; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            out[k++] = (char)*p;
        else
            k += (size_t)snprintf(out + k, cap - k, "%%%02X", *p);
    }
    out[k] = '\0';
}

static int ask_user_password(wiz_clickhouse *c)
{
    char buf[512];
    if (ask("Which ClickHouse user", c->user, buf, sizeof buf) == TERM_CANCEL)
        return TERM_CANCEL;
    put(c->user, sizeof c->user, buf);
    const char *label = !c->password[0] ? "none" : c->pw_from_env ? "from CLICKHOUSE_PASSWORD" : "as before";
    if (term_line_ex("Its password", label, c->password, buf, sizeof buf, 1, NULL) == TERM_CANCEL)
        return TERM_CANCEL;
    if (strcmp(buf, c->password) != 0)
        c->pw_from_env = 0;
    put(c->password, sizeof c->password, buf);
    memset(buf, 0, sizeof buf);
    return 0;
}

/* "ClickHouse 18.16.1, database 'default'" from the source's notes. */
static void ch_version_line(cm_source *src, char *out, size_t cap)
{
    const char *n = cli_source_notes(src);
    if (!n) {
        snprintf(out, cap, "ClickHouse");
        return;
    }
    size_t len = strcspn(n, ";");
    const char *dot = strstr(n, ". ");
    if (dot && (size_t)(dot - n) < len)
        len = (size_t)(dot - n);
    snprintf(out, cap, "%.*s", (int)len, n);
}

int wiz_ask_clickhouse(wiz_clickhouse *c)
{
    if (!c->host[0]) {
        snprintf(c->host, sizeof c->host, "localhost");
        snprintf(c->user, sizeof c->user, "default");
        const char *env = getenv("CLICKHOUSE_PASSWORD"); /* what the migration would use anyway */
        if (env && *env && strlen(env) < sizeof c->password) {
            put(c->password, sizeof c->password, env);
            c->pw_from_env = 1;
        }
    }
    for (;;) {
        wiz_addr a;
        if (ask_host("What is the ip/hostname of your clickhouse server", 1, c->host, sizeof c->host, &a) ==
            TERM_CANCEL)
            return TERM_CANCEL;
        const char *dport = c->port[0] ? c->port : a.https == 1 ? "8443" : "8123";
        char port[16];
        if (ask_port_unless("What is the port of your clickhouse server", &a, dport, port, sizeof port) ==
                TERM_CANCEL ||
            ask_user_password(c) == TERM_CANCEL)
            return TERM_CANCEL;
        put(c->port, sizeof c->port, port);
        char user[400] = "";
        if (strcmp(c->user, "default") != 0 && c->user[0]) {
            pct_user(c->user, user, sizeof user - 1);
            strcat(user, "@");
        }
        snprintf(c->spec, sizeof c->spec, "%s://%s%s:%s", a.https == 1 ? "clickhouses" : "clickhouse", user, a.host,
                 c->port);
        /* the source (and later the migration) takes the password from here */
        if (c->password[0])
            setenv("CLICKHOUSE_PASSWORD", c->password, 1);
        else
            unsetenv("CLICKHOUSE_PASSWORD");
        printf("  connecting to %s ...\n", c->spec);
        fflush(stdout);
        cm_err err = {0};
        c->src = cm_source_open(c->spec, NULL, &err);
        if (c->src) {
            char line[200];
            ch_version_line(c->src, line, sizeof line);
            printf("  connected: %s\n", line);
            return 0;
        }
        printf("  %s\n  Check the answers (Enter keeps each one):\n", cli_err_text(&err));
    }
}
