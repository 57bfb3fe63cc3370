/* http.c - see http.h. */
#include "http.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../format/json.h"
#include "../util/mem.h"
#include "../util/strbuf.h"

/* ---- headers ---- */

static int is_tchar(unsigned char ch)
{
    return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int http_header_check(const char *name, const char *value, size_t value_len, cm_err *err)
{
    size_t nl = strlen(name);
    if (nl == 0)
        return cm_err_set(err, "a header needs a name before the ':'");
    for (size_t i = 0; i < nl; i++)
        if (!is_tchar((unsigned char)name[i]))
            return cm_err_set(err, "header name '%.*s' has a character that header names cannot have", (int)nl,
                              name);
    static const char *const reserved[] = {"Content-Type", "Content-Length", "Transfer-Encoding", "Connection",
                                           "Expect"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return cm_err_set(err, "header '%s' is set by chroma-migrate itself and cannot be given", name);
    if (value_len == 0)
        return cm_err_set(err, "header '%s' has an empty value", name);
    for (size_t i = 0; i < value_len; i++)
        if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
            return cm_err_set(err, "header '%s' (value hidden): the value has a line break or NUL byte", name);
    return 0;
}

static int headers_push(http_headers *hs, const char *name, size_t nlen, const char *value, size_t vlen,
                        cm_err *err)
{
    while (nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
        nlen--;
    while (nlen && (*name == ' ' || *name == '\t'))
        name++, nlen--;
    while (vlen && (*value == ' ' || *value == '\t'))
        value++, vlen--;
    while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        vlen--;
    char *n = xmemdup0(name, nlen);
    if (strlen(n) != nlen) {
        free(n);
        return cm_err_set(err, "a header name has a NUL byte");
    }
    if (http_header_check(n, value, vlen, err) < 0) {
        free(n);
        return -1;
    }
    hs->h = xrealloc(hs->h, (hs->n + 1) * sizeof *hs->h);
    hs->h[hs->n].name = n;
    hs->h[hs->n].value = xmemdup0(value, vlen);
    hs->n++;
    return 0;
}

int http_headers_add_line(http_headers *hs, const char *line, cm_err *err)
{
    const char *colon = strchr(line, ':');
    if (!colon)
        return cm_err_set(err, "a header is written 'Name: value'; this one has no ':' (not shown: it may hold "
                               "a secret)");
    return headers_push(hs, line, (size_t)(colon - line), colon + 1, strlen(colon + 1), err);
}

int http_headers_add_json(http_headers *hs, const char *json, size_t len, cm_err *err)
{
    cm_err perr = {0};
    jv *v = json_parse(json, len, &perr);
    if (!v)
        /* The parser's message may quote the text: say only where. */
        return cm_err_set(err, "headers are written as a JSON object like {\"Authorization\": \"Bearer ...\"}; "
                               "this is not valid JSON (not shown: it may hold a secret)");
    if (v->type != JV_OBJECT) {
        jv_free(v);
        return cm_err_set(err, "headers are written as a JSON object of header names to values");
    }
    for (size_t i = 0; i < v->u.obj.n; i++) {
        const jv_member *m = &v->u.obj.members[i];
        if (m->value->type != JV_STRING) {
            cm_err_set(err, "the value of header '%.*s' is not a string", (int)m->key_len, m->key);
            jv_free(v);
            return -1;
        }
        if (headers_push(hs, m->key, m->key_len, m->value->u.str.s, m->value->u.str.len, err) < 0) {
            jv_free(v);
            return -1;
        }
    }
    jv_free(v);
    return 0;
}

void http_headers_free(http_headers *hs)
{
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->h[i].name);
        if (hs->h[i].value) {
            /* Do not leave the secret in freed memory. */
            volatile char *p = hs->h[i].value;
            while (*p)
                *p++ = 0;
        }
        free(hs->h[i].value);
    }
    free(hs->h);
    hs->h = NULL;
    hs->n = 0;
}

/* ---- URLs ---- */

int http_base_url(const char *url, char **out, int *https, cm_err *err)
{
    const char *p;
    if (strncasecmp(url, "http://", 7) == 0) {
        *https = 0;
        p = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        *https = 1;
        p = url + 8;
    } else {
        return cm_err_set(err, "a server URL starts with http:// or https://");
    }
    size_t alen = strcspn(p, "/?#");
    if (memchr(p, '@', alen))
        return cm_err_set(err, "the server URL holds user credentials (user@ or user:password@)"),
               cm_err_mark(err, CM_ERR_USAGE, CM_HINT_HEADER_NOT_URL, NULL);
    if (alen == 0)
        return cm_err_set(err, "the server URL has no host name");
    const char *host_end = p + alen;
    if (*p == '[') {
        const char *rb = memchr(p, ']', alen);
        if (!rb)
            return cm_err_set(err, "the server URL has an IPv6 address without its closing ']'");
        host_end = rb + 1;
        if (host_end < p + alen && *host_end != ':')
            return cm_err_set(err, "the server URL has something after its IPv6 address that is not a port");
    } else {
        const char *c = memchr(p, ':', alen);
        if (c)
            host_end = c;
    }
    if (host_end == p || (*p == '[' && host_end - p <= 2))
        return cm_err_set(err, "the server URL has no host name");
    if (host_end < p + alen) { /* ":port" */
        const char *d = host_end + 1;
        size_t dl = (size_t)(p + alen - d);
        long port = 0;
        if (dl == 0 || dl > 5)
            return cm_err_set(err, "the server URL's port must be a number from 1 to 65535");
        for (size_t i = 0; i < dl; i++) {
            if (!isdigit((unsigned char)d[i]))
                return cm_err_set(err, "the server URL's port must be a number from 1 to 65535");
            port = port * 10 + (d[i] - '0');
        }
        if (port < 1 || port > 65535)
            return cm_err_set(err, "the server URL's port must be a number from 1 to 65535");
    }
    const char *rest = p + alen;
    if (strpbrk(rest, "?#"))
        return cm_err_set(err, "the server URL cannot have a query (?...) or fragment (#...)");
    for (const char *q = rest; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return cm_err_set(err, "the server URL has a space or control character in its path");
    size_t rlen = strlen(rest);
    while (rlen && rest[rlen - 1] == '/')
        rlen--;
    size_t slen = *https ? 8 : 7;
    char *o = xmalloc(slen + alen + rlen + 1);
    memcpy(o, *https ? "https://" : "http://", slen);
    for (size_t i = 0; i < alen; i++) /* host names are case-insensitive */
        o[slen + i] = (char)tolower((unsigned char)p[i]);
    memcpy(o + slen + alen, rest, rlen);
    o[slen + alen + rlen] = '\0';
    *out = o;
    return 0;
}

void http_url_escape(char **buf, size_t *len, size_t *cap, const char *s)
{
    strbuf b = {*buf, *len, *cap};
    sb_add_url_escaped(&b, s);
    *buf = b.s;
    *len = b.len;
    *cap = b.cap;
}

/* ---- retry policy ---- */

double http_backoff_delay(int attempt, double base, double cap, double u)
{
    if (attempt < 1)
        attempt = 1;
    double d = base * ldexp(1.0, attempt > 60 ? 60 : attempt - 1);
    if (d > cap)
        d = cap;
    if (u < 0)
        u = 0;
    if (u >= 1)
        u = 0.999999;
    return d / 2 + u * d / 2;
}

int http_retryable(int curl_code, long status)
{
    switch (curl_code) {
    case CURLE_OK:
        /* 408/429 ask for a retry; 5xx are what a restarting server, a
         * load balancer or a proxy answers for a moment. 500 is also how
         * chromadb 0.4 reports errors that do not pass: its retries are
         * few (HTTP_MAX_500_ATTEMPTS). Other 4xx are the request's fault. */
        return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
               status == 504;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        return 1;
    default:
        return 0;
    }
}

/* ---- client ---- */

typedef struct http_req {
    struct http_req *next;
    http_client *c;
    CURL *easy;
    char *url;
    const char *path; /* inside url, for messages */
    char method[8];
    char *body;
    size_t len;
    http_done_fn done;
    void *ctx;
    int attempts;
    int sends;  /* times the request went out, curl's own resends included */
    int active; /* in the multi handle */
    double first_at, retry_at;
    double retry_after; /* from a Retry-After header, seconds */
    strbuf resp;
    char errbuf[CURL_ERROR_SIZE];
} http_req;

struct http_client {
    http_opts o;
    char *base;
    CURLM *multi;
    struct curl_slist *hdrs;
    http_req *reqs; /* every unfinished request */
    size_t npending;
    uint64_t rng;
    /* retry notices: at most one every few seconds, and one when it recovers */
    double last_note, outage_since;
    long last_kind; /* curl code * 1000 + HTTP status of the last notice */
    int suppressed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rnd(http_client *c)
{
    /* xorshift64*: jitter only, no need for quality */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void note(http_client *c, const char *fmt, ...) CM_PRINTF(2, 3);
static void note(http_client *c, const char *fmt, ...)
{
    if (!c->o.log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->o.log(c->o.log_ctx, msg);
}

static int curl_ready;

http_client *http_client_new(const http_opts *o, cm_err *err)
{
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            cm_err_set(err, "cannot initialise libcurl");
            return NULL;
        }
        curl_ready = 1;
    }
    http_client *c = xcalloc(1, sizeof *c);
    c->o = *o;
    if (c->o.max_inflight < 1)
        c->o.max_inflight = 1;
    if (c->o.timeout_s <= 0)
        c->o.timeout_s = 300;
    if (c->o.connect_timeout_s <= 0)
        c->o.connect_timeout_s = 10;
    if (c->o.retry_budget_s <= 0)
        c->o.retry_budget_s = 120;
    if (c->o.max_attempts <= 0)
        c->o.max_attempts = 40;
    c->base = xstrdup(o->base_url);
    c->o.base_url = c->base;
    c->rng = (uint64_t)time(NULL) * 6364136223846793005ULL ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
    if (!c->rng)
        c->rng = 1;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c->base);
        free(c);
        cm_err_set(err, "cannot initialise libcurl");
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->o.max_inflight);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->o.max_inflight);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->o.max_inflight + 1);
    c->hdrs = curl_slist_append(c->hdrs, "Content-Type: application/json");
    c->hdrs = curl_slist_append(c->hdrs, "Accept: application/json");
    c->hdrs = curl_slist_append(c->hdrs, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; o->headers && i < o->headers->n; i++) {
        const http_header *h = &o->headers->h[i];
        size_t n = strlen(h->name) + strlen(h->value) + 3;
        char *line = xmalloc(n);
        snprintf(line, n, "%s: %s", h->name, h->value);
        c->hdrs = curl_slist_append(c->hdrs, line);
        memset(line, 0, n);
        free(line);
    }
    return c;
}

static void req_free(http_req *r)
{
    if (r->easy) {
        if (r->active)
            curl_multi_remove_handle(r->c->multi, r->easy);
        curl_easy_cleanup(r->easy);
    }
    free(r->url);
    free(r->body);
    free(r->resp.s);
    free(r);
}

static void unlink_req(http_client *c, http_req *r)
{
    for (http_req **pp = &c->reqs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            c->npending--;
            return;
        }
}

void http_cancel_all(http_client *c)
{
    while (c->reqs) {
        http_req *r = c->reqs;
        c->reqs = r->next;
        req_free(r);
    }
    c->npending = 0;
}

void http_cancel_all_notify(http_client *c, const char *why)
{
    while (c->reqs) {
        http_req *r = c->reqs;
        c->reqs = r->next;
        c->npending--;
        cm_err e = {0};
        cm_err_set(&e, "%s %s: %s", r->method, r->url, why);
        http_response resp = {.attempts = r->attempts, .sends = r->sends};
        http_done_fn done = r->done;
        void *ctx = r->ctx;
        req_free(r);
        done(ctx, &resp, &e);
    }
    c->npending = 0;
}

void http_client_free(http_client *c)
{
    if (!c)
        return;
    http_cancel_all(c);
    curl_multi_cleanup(c->multi);
    /* The header lines hold secrets: clear them before freeing. */
    for (struct curl_slist *l = c->hdrs; l; l = l->next)
        memset(l->data, 0, strlen(l->data));
    curl_slist_free_all(c->hdrs);
    free(c->base);
    free(c);
}

void http_client_set_budget(http_client *c, double retry_budget_s)
{
    c->o.retry_budget_s = retry_budget_s;
}

size_t http_pending(const http_client *c)
{
    return c->npending;
}

void http_response_free(http_response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    http_req *r = ud;
    size_t k = size * n;
    if (r->resp.len + k > (size_t)512 << 20)
        return 0; /* a response this big is not a Chroma answer */
    sb_addn(&r->resp, p, k);
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    http_req *r = ud;
    size_t k = size * n;
    if (k > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        char tmp[32];
        size_t m = k - 12 < sizeof tmp - 1 ? k - 12 : sizeof tmp - 1;
        memcpy(tmp, p + 12, m);
        tmp[m] = '\0';
        char *end;
        double s = strtod(tmp, &end);
        if (end != tmp && s >= 0)
            r->retry_after = s;
    }
    if (k >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (e.g. after a 100) */
        r->retry_after = 0;
    }
    return k;
}

/* Counts each request head that goes out: libcurl resends a request by
 * itself when a reused connection turns out to be dead, and a caller must
 * know that a request may have reached the server twice. The data is not
 * looked at (it holds the headers' secrets). */
static int on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)e;
    (void)data;
    (void)size;
    http_req *r = ud;
    if (type == CURLINFO_HEADER_OUT)
        r->sends++;
    return 0;
}

static int start_attempt(http_req *r)
{
    http_client *c = r->c;
    r->resp.len = 0;
    if (r->resp.s)
        r->resp.s[0] = '\0';
    r->retry_after = 0;
    r->errbuf[0] = '\0';
    r->attempts++;
    if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK)
        return -1;
    r->active = 1;
    return 0;
}

int http_submit(http_client *c, const char *method, const char *path, char *body, size_t len, http_done_fn done,
                void *ctx, cm_err *err)
{
    http_req *r = xcalloc(1, sizeof *r);
    r->c = c;
    size_t bl = strlen(c->base), pl = strlen(path);
    r->url = xmalloc(bl + pl + 1);
    memcpy(r->url, c->base, bl);
    memcpy(r->url + bl, path, pl + 1);
    r->path = r->url + bl;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->body = body;
    r->len = len;
    r->done = done;
    r->ctx = ctx;
    r->first_at = now_s();
    CURL *e = r->easy = curl_easy_init();
    if (!e) {
        req_free(r);
        return cm_err_set(err, "cannot create a libcurl handle");
    }
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)r);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->hdrs);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* headers must not go elsewhere */
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, r);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L); /* only feeds on_debug: nothing is printed */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->o.timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->o.connect_timeout_s * 1000));
    if (c->o.cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->o.cacert);
    if (c->o.insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
        else
            curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->len : 0));
    }
    r->next = c->reqs;
    c->reqs = r;
    c->npending++;
    if (start_attempt(r) < 0) {
        unlink_req(c, r);
        req_free(r);
        return cm_err_set(err, "cannot start a request with libcurl");
    }
    return 0;
}

/* The advice (cm_hint) for a failed transfer; the CLI words it. */
static void mark_failure(cm_err *e, int code)
{
    if (code == CURLE_PEER_FAILED_VERIFICATION)
        cm_err_mark(e, CM_ERR_TLS, CM_HINT_CACERT, NULL);
    else if (code == CURLE_SSL_CACERT_BADFILE)
        cm_err_mark(e, CM_ERR_TLS, CM_HINT_CACERT_UNREADABLE, NULL);
    else if (code == CURLE_SSL_CONNECT_ERROR)
        e->kind = CM_ERR_TLS;
    else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_OPERATION_TIMEDOUT)
        e->kind = CM_ERR_CONNECT;
}

static const char *tls_hint(int code)
{
    switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
        return "; the TLS handshake failed (is it an https server? for a plain http server use http://)";
    default:
        return "";
    }
}

static void finish_req(http_client *c, http_req *r, int code)
{
    unlink_req(c, r);
    if (code == CURLE_OK && c->outage_since) {
        note(c, "the server answers again (after %.0f s of retries)", now_s() - c->outage_since);
        c->outage_since = 0;
        c->last_kind = 0;
        c->suppressed = 0;
    }
    http_response resp = {0};
    cm_err e = {0};
    const cm_err *ep = NULL;
    double spent = now_s() - r->first_at;
    if (code == CURLE_OK) {
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
        resp.body = r->resp.s;
        resp.len = r->resp.len;
        r->resp.s = NULL;
        resp.attempts = r->attempts;
        resp.sends = r->sends;
    } else {
        const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror((CURLcode)code);
        if (r->attempts > 1)
            cm_err_set(&e, "%s %s: %s (gave up after %d attempts over %.0f s)%s", r->method, r->url, why,
                       r->attempts, spent, tls_hint(code));
        else
            cm_err_set(&e, "%s %s: %s%s", r->method, r->url, why, tls_hint(code));
        mark_failure(&e, code);
        ep = &e;
        resp.attempts = r->attempts;
        resp.sends = r->sends;
    }
    http_done_fn done = r->done;
    void *ctx = r->ctx;
    req_free(r);
    done(ctx, &resp, ep);
    http_response_free(&resp);
}

/* An answer that retrying cannot change: 500 after HTTP_MAX_500_ATTEMPTS,
 * or one the caller's hook knows (chromadb 0.4's 500 "already exists"). */
static int final_answer(const http_client *c, const http_req *r, long status)
{
    if (status != 500)
        return 0;
    if (r->attempts >= HTTP_MAX_500_ATTEMPTS)
        return 1;
    return c->o.is_final && c->o.is_final(status, r->resp.s ? r->resp.s : "", r->resp.len);
}

static void on_attempt_done(http_client *c, http_req *r, int code)
{
    curl_multi_remove_handle(c->multi, r->easy);
    r->active = 0;
    long status = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (http_retryable(code, status) && r->attempts < c->o.max_attempts && !final_answer(c, r, status)) {
        double t = now_s();
        double delay = http_backoff_delay(r->attempts, 0.25, 10.0, rnd(c));
        if (code == CURLE_OK && r->retry_after > delay)
            delay = r->retry_after > 30 ? 30 : r->retry_after;
        if (t - r->first_at + delay <= c->o.retry_budget_s) {
            char why[CURL_ERROR_SIZE + 64];
            if (code == CURLE_OK)
                snprintf(why, sizeof why, "the server answered %ld %s", status, http_status_reason(status));
            else
                snprintf(why, sizeof why, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror((CURLcode)code));
            if (!c->outage_since)
                c->outage_since = t;
            long kind = (long)code * 1000 + status;
            if (t - c->last_note >= 5 || kind != c->last_kind) {
                const char *op = strrchr(r->path, '/');
                note(c, "%s .../%s: %s; retrying in %.1f s (attempt %d%s)", r->method, op ? op + 1 : r->path, why,
                     delay, r->attempts + 1, c->suppressed ? ", other requests wait too" : "");
                c->last_note = t;
                c->last_kind = kind;
                c->suppressed = 0;
            } else {
                c->suppressed++;
            }
            r->retry_at = t + delay;
            return;
        }
    }
    finish_req(c, r, code);
}

static void start_due(http_client *c, double t)
{
    for (http_req *r = c->reqs; r;) {
        http_req *next = r->next;
        if (!r->active && r->retry_at <= t && start_attempt(r) < 0) {
            snprintf(r->errbuf, sizeof r->errbuf, "cannot restart the request with libcurl");
            finish_req(c, r, CURLE_FAILED_INIT);
        }
        r = next;
    }
}

static void drain(http_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        http_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
        for (http_req *x = c->reqs; x && !r; x = x->next)
            if (x->easy == m->easy_handle)
                r = x;
        if (r)
            on_attempt_done(c, r, (int)m->data.result);
    }
}

static void step(http_client *c, int block)
{
    double t = now_s();
    start_due(c, t);
    int running = 0;
    curl_multi_perform(c->multi, &running);
    drain(c);
    if (!block || !c->npending)
        return;
    long wait_ms = 200;
    long cm = -1;
    curl_multi_timeout(c->multi, &cm);
    if (cm >= 0 && cm < wait_ms)
        wait_ms = cm;
    t = now_s();
    for (http_req *r = c->reqs; r; r = r->next)
        if (!r->active) {
            long ms = (long)((r->retry_at - t) * 1000) + 1;
            if (ms < wait_ms)
                wait_ms = ms < 0 ? 0 : ms;
        }
    if (wait_ms > 0)
        curl_multi_poll(c->multi, NULL, 0, (int)wait_ms, NULL);
}

void http_pump(http_client *c)
{
    step(c, 0);
}

void http_wait(http_client *c, size_t max_pending)
{
    while (c->npending > max_pending)
        step(c, 1);
}

size_t http_wait_for(http_client *c, double seconds)
{
    double end = now_s() + seconds;
    while (c->npending && now_s() < end)
        step(c, 1);
    return c->npending;
}

typedef struct sync_ctx {
    int done, failed;
    http_response resp;
    cm_err err;
} sync_ctx;

static void sync_done(void *ctx, http_response *resp, const cm_err *err)
{
    sync_ctx *s = ctx;
    s->done = 1;
    if (err) {
        s->failed = 1;
        s->err = *err;
        return;
    }
    s->resp = *resp;
    resp->body = NULL; /* taken */
}

int http_request(http_client *c, const char *method, const char *path, const char *body, size_t len,
                 http_response *resp, cm_err *err)
{
    sync_ctx s;
    memset(&s, 0, sizeof s);
    memset(resp, 0, sizeof *resp);
    char *copy = body ? xmemdup0(body, len) : NULL;
    if (http_submit(c, method, path, copy, len, sync_done, &s, err) < 0)
        return -1;
    while (!s.done)
        step(c, 1);
    if (s.failed) {
        if (err)
            *err = s.err;
        return -1;
    }
    *resp = s.resp;
    return 0;
}
