/* test_http.c - the HTTP client's pure parts (header parsing, --headers JSON,
 * base URLs, escaping, backoff schedule, retry decisions, error texts), and
 * its retries and concurrency against a tiny scripted server on 127.0.0.1. */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "net/http.h"

static void test_header_lines(void)
{
    http_headers hs = {0};
    cm_err e = {0};
    CHECK_INT(http_headers_add_line(&hs, "Authorization: Bearer s3cr3t-token", &e), 0);
    CHECK_INT(http_headers_add_line(&hs, "  X-Chroma-Token :tok\t ", &e), 0);
    CHECK_INT(hs.n, 2);
    CHECK_STR(hs.h[0].name, "Authorization");
    CHECK_STR(hs.h[0].value, "Bearer s3cr3t-token");
    CHECK_STR(hs.h[1].name, "X-Chroma-Token");
    CHECK_STR(hs.h[1].value, "tok");
    /* a value may hold ':' */
    CHECK_INT(http_headers_add_line(&hs, "X-Url: http://a:1/b", &e), 0);
    CHECK_STR(hs.h[2].value, "http://a:1/b");

    /* errors never quote the value */
    CHECK_INT(http_headers_add_line(&hs, "Bearer-s3cr3t-no-colon", &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    CHECK(strstr(e.msg, "no ':'") != NULL);
    CHECK_INT(http_headers_add_line(&hs, "X-Evil: abc\r\nInjected: s3cr3t", &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    CHECK(strstr(e.msg, "X-Evil") != NULL);
    CHECK(strstr(e.msg, "value hidden") != NULL);
    CHECK_INT(http_headers_add_line(&hs, ": s3cr3t", &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    CHECK_INT(http_headers_add_line(&hs, "Bad Name: s3cr3t", &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    CHECK_INT(http_headers_add_line(&hs, "Content-Type: text/plain", &e), -1);
    CHECK_INT(http_headers_add_line(&hs, "content-length: 3", &e), -1);
    CHECK_INT(http_headers_add_line(&hs, "X-Empty:   ", &e), -1);
    CHECK(strstr(e.msg, "empty") != NULL);
    CHECK_INT(hs.n, 3);
    http_headers_free(&hs);
    CHECK_INT(hs.n, 0);
}

static void test_header_json(void)
{
    http_headers hs = {0};
    cm_err e = {0};
    const char *j = "{\"Authorization\": \"Bearer s3cr3t\", \"X-Chroma-Token\": \"t\\u00e9k\"}";
    CHECK_INT(http_headers_add_json(&hs, j, strlen(j), &e), 0);
    CHECK_INT(hs.n, 2);
    CHECK_STR(hs.h[0].name, "Authorization");
    CHECK_STR(hs.h[0].value, "Bearer s3cr3t");
    CHECK_STR(hs.h[1].value, "t\xc3\xa9k");
    const char *bad = "{\"Authorization\": \"Bearer s3cr3t\"";
    CHECK_INT(http_headers_add_json(&hs, bad, strlen(bad), &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    CHECK(strstr(e.msg, "not valid JSON") != NULL);
    const char *arr = "[\"Authorization: s3cr3t\"]";
    CHECK_INT(http_headers_add_json(&hs, arr, strlen(arr), &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    const char *num = "{\"X-Num\": 12345678}";
    CHECK_INT(http_headers_add_json(&hs, num, strlen(num), &e), -1);
    CHECK(strstr(e.msg, "X-Num") != NULL);
    CHECK(strstr(e.msg, "12345678") == NULL);
    const char *nl = "{\"X-A\": \"s3cr3t\\nX-B: y\"}";
    CHECK_INT(http_headers_add_json(&hs, nl, strlen(nl), &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    CHECK(strstr(e.msg, "X-A") != NULL);
    const char *empty = "{}";
    CHECK_INT(http_headers_add_json(&hs, empty, 2, &e), 0);
    CHECK_INT(hs.n, 2);
    http_headers_free(&hs);
}

static void check_url(const char *in, const char *want, int want_https)
{
    char *out = NULL;
    int https = -1;
    cm_err e = {0};
    int rc = http_base_url(in, &out, &https, &e);
    CHECK_MSG(rc == 0, "%s: %s", in, e.msg);
    if (rc == 0) {
        CHECK_STR(out, want);
        CHECK_INT(https, want_https);
    }
    free(out);
}

static void check_bad_url(const char *in, const char *must_say, const char *must_not_say)
{
    char *out = NULL;
    int https = 0;
    cm_err e = {0};
    CHECK_MSG(http_base_url(in, &out, &https, &e) == -1, "%s accepted", in);
    CHECK_MSG(strstr(e.msg, must_say) != NULL, "%s: %s", in, e.msg);
    if (must_not_say)
        CHECK_MSG(strstr(e.msg, must_not_say) == NULL, "%s: %s", in, e.msg);
    free(out);
}

static void test_urls(void)
{
    check_url("http://localhost:8000", "http://localhost:8000", 0);
    check_url("http://LocalHost:8000/", "http://localhost:8000", 0);
    check_url("HTTPS://chroma.example.com", "https://chroma.example.com", 1);
    check_url("https://h.example/chroma/v/", "https://h.example/chroma/v", 1);
    check_url("http://[::1]:8000//", "http://[::1]:8000", 0);
    check_url("http://127.0.0.1", "http://127.0.0.1", 0);
    check_bad_url("ftp://host", "http://", NULL);
    check_bad_url("http://user:s3cr3t@host:8000", "credentials", "s3cr3t");
    check_bad_url("http://host:8000/?token=s3cr3t", "query", "s3cr3t");
    check_bad_url("http://host:8000#x", "query", NULL);
    check_bad_url("http://host:0", "port", NULL);
    check_bad_url("http://host:65536", "port", NULL);
    check_bad_url("http://host:80a", "port", NULL);
    check_bad_url("http://host:", "port", NULL);
    check_bad_url("http://", "host", NULL);
    check_bad_url("http://:8000", "host", NULL);
    check_bad_url("http://[::1", "IPv6", NULL);
    check_bad_url("http://host/a b", "space", NULL);

    char *b = NULL;
    size_t len = 0, cap = 0;
    http_url_escape(&b, &len, &cap, "default_tenant");
    CHECK_STR(b, "default_tenant");
    http_url_escape(&b, &len, &cap, "/a b?&=%~.-");
    CHECK_STR(b, "default_tenant%2Fa%20b%3F%26%3D%25~.-");
    CHECK_INT(len, strlen(b));
    http_url_escape(&b, &len, &cap, "\xc3\xa9");
    CHECK(strstr(b, "%C3%A9") != NULL);
    free(b);
}

static void test_backoff(void)
{
    /* attempt k: d = min(cap, base*2^(k-1)); delay in [d/2, d) */
    double b = 0.25, cap = 10;
    CHECK(http_backoff_delay(1, b, cap, 0.0) == 0.125);
    CHECK(http_backoff_delay(1, b, cap, 0.999) < 0.25);
    CHECK(http_backoff_delay(2, b, cap, 0.0) == 0.25);
    CHECK(http_backoff_delay(3, b, cap, 0.5) == 0.75);
    CHECK(http_backoff_delay(5, b, cap, 0.0) == 2.0);
    CHECK(http_backoff_delay(6, b, cap, 0.0) == 4.0);
    CHECK(http_backoff_delay(7, b, cap, 0.0) == 5.0); /* capped at 10 */
    CHECK(http_backoff_delay(40, b, cap, 0.0) == 5.0);
    CHECK(http_backoff_delay(1000, b, cap, 0.999) < 10.0);
    CHECK(http_backoff_delay(0, b, cap, 0.0) == 0.125);
    CHECK(http_backoff_delay(1, b, cap, -1) == 0.125);
    CHECK(http_backoff_delay(1, b, cap, 7) < 0.25);
    /* never decreasing for the same jitter, and the whole schedule of 40
     * attempts with the lowest jitter takes well over 2 minutes: the
     * time budget, not the attempt count, ends a long outage */
    double prev = 0, total = 0;
    for (int k = 1; k <= 40; k++) {
        double d = http_backoff_delay(k, b, cap, 0.0);
        CHECK(d >= prev);
        prev = d;
        total += d;
    }
    CHECK(total > 150);
}

static void test_retryable(void)
{
    CHECK(http_retryable(0, 429));
    CHECK(http_retryable(0, 502));
    CHECK(http_retryable(0, 503));
    CHECK(http_retryable(0, 504));
    CHECK(!http_retryable(0, 200));
    CHECK(!http_retryable(0, 400));
    CHECK(!http_retryable(0, 401));
    CHECK(!http_retryable(0, 404));
    CHECK(!http_retryable(0, 409));
    CHECK(!http_retryable(0, 413));
    CHECK(http_retryable(0, 500));
    CHECK(http_retryable(0, 408));
    CHECK(!http_retryable(0, 403));
    CHECK(!http_retryable(0, 422));
    CHECK(http_retryable(7, 0));  /* couldn't connect */
    CHECK(http_retryable(28, 0)); /* timeout */
    CHECK(http_retryable(52, 0)); /* empty reply */
    CHECK(http_retryable(55, 0)); /* send error */
    CHECK(http_retryable(56, 0)); /* recv error */
    CHECK(!http_retryable(60, 0)); /* certificate not trusted */
    CHECK(!http_retryable(35, 0)); /* TLS handshake */
    CHECK(!http_retryable(3, 0));  /* malformed URL */
}

static void check_text(long st, const char *body, const char *want)
{
    char *t = http_error_text(st, body, body ? strlen(body) : 0);
    CHECK_STR(t, want);
    free(t);
}

static void test_error_text(void)
{
    check_text(409, "{\"error\":\"ChromaError\",\"message\":\"Collection [mig_cosine] already exists\"}",
               "409 Conflict: ChromaError: Collection [mig_cosine] already exists");
    check_text(500, "{\"error\":\"UniqueConstraintError('Collection mig_cosine already exists')\"}",
               "500 Internal Server Error: UniqueConstraintError('Collection mig_cosine already exists')");
    check_text(500, "{\"detail\":\"Embedding dimension 2 does not match collection dimensionality 3\"}",
               "500 Internal Server Error: Embedding dimension 2 does not match collection dimensionality 3");
    check_text(422,
               "{\"detail\":[{\"loc\":[\"body\",\"ids\"],\"msg\":\"value is not a valid list\",\"type\":\"t\"}]}",
               "422 Unprocessable Entity: value is not a valid list (at body.ids)");
    check_text(422,
               "{\"detail\":[{\"loc\":[\"body\",\"include\",0],\"msg\":\"m1\"},{\"loc\":[],\"msg\":\"m2\"}]}",
               "422 Unprocessable Entity: m1 (at body.include.0) and 1 more problems");
    check_text(413, "Payload too large", "413 Payload Too Large: Payload too large");
    check_text(404, "", "404 Not Found (empty body)");
    check_text(404, NULL, "404 Not Found (empty body)");
    check_text(405, "  \n", "405 Method Not Allowed (empty body)");
    check_text(401, "<html><head><title>401 Authorization Required</title></head><body>x</body></html>",
               "401 Unauthorized: 401 Authorization Required");
    check_text(400, "{\"error\":\"InvalidArgumentError\",\"message\":\"1 validation error\\ninclude -> 0\"}",
               "400 Bad Request: InvalidArgumentError: 1 validation error include -> 0");
    check_text(599, "{\"x\":1}", "599: {\"x\":1}");
    check_text(502, "line one\r\nline two", "502 Bad Gateway: line one line two");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *t = http_error_text(500, big, strlen(big));
    CHECK(strlen(t) < 600);
    free(t);
}

/* ---- a scripted server ---- */

typedef struct srv {
    int fd, port;
    pthread_t th;
    int stop;
    /* script: statuses answered in turn (0: close without answering) */
    int script[64];
    int nscript, next;
    int requests;
    char last_headers[4096];
    pthread_mutex_t mu;
} srv;

typedef struct conn {
    srv *s;
    int fd;
} conn;

/* One connection (keep-alive: several requests), on its own thread. */
static void *conn_main(void *arg)
{
    conn *cn = arg;
    srv *s = cn->s;
    int c = cn->fd;
    free(cn);
    char *buf = malloc(65536);
    size_t have = 0;
    for (;;) {
        char *end = NULL;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            ssize_t k = read(c, buf + have, 65536 - have);
            if (k <= 0)
                goto closed;
            have += (size_t)k;
        }
        size_t hlen = (size_t)(end - buf) + 4;
        size_t clen = 0;
        buf[hlen - 1] = '\0';
        char *cl = strcasestr(buf, "content-length:");
        buf[hlen - 1] = '\n';
        if (cl && cl < end)
            clen = (size_t)atol(cl + 15);
        while (have < hlen + clen) {
            ssize_t k = read(c, buf + have, 65536 - have);
            if (k <= 0)
                goto closed;
            have += (size_t)k;
        }
        pthread_mutex_lock(&s->mu);
        s->requests++;
        size_t cp = hlen < sizeof s->last_headers - 1 ? hlen : sizeof s->last_headers - 1;
        memcpy(s->last_headers, buf, cp);
        s->last_headers[cp] = '\0';
        int st = s->next < s->nscript ? s->script[s->next++] : 200;
        pthread_mutex_unlock(&s->mu);
        memmove(buf, buf + hlen + clen, have - hlen - clen);
        have -= hlen + clen;
        if (st == 0)
            goto closed;
        char resp[512];
        const char *body = st == 200 ? "{\"ok\":1}" : "{\"error\":\"Busy\",\"message\":\"try later\"}";
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", st,
                         strlen(body), body);
        if (write(c, resp, (size_t)n) != n)
            goto closed;
    }
closed:
    free(buf);
    close(c);
    return NULL;
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        if (s->stop) {
            close(c);
            break;
        }
        conn *cn = malloc(sizeof *cn);
        cn->s = s;
        cn->fd = c;
        pthread_t th;
        if (pthread_create(&th, NULL, conn_main, cn) != 0) {
            close(c);
            free(cn);
            continue;
        }
        pthread_detach(th);
    }
    return NULL;
}

static int srv_start(srv *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(s->fd, 16) < 0)
        return -1;
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, srv_main, s);
}

static void srv_stop(srv *s)
{
    s->stop = 1;
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->th, NULL);
    pthread_mutex_destroy(&s->mu);
}

static int notes;
static char last_note[1024];
static void count_note(void *ctx, const char *msg)
{
    (void)ctx;
    CHECK(strstr(msg, "s3cr3t") == NULL);
    snprintf(last_note, sizeof last_note, "%s", msg);
    notes++;
}

typedef struct done_ctx {
    int n, ok;
} done_ctx;

static void on_done(void *ctx, http_response *r, const cm_err *e)
{
    done_ctx *d = ctx;
    d->n++;
    if (e)
        fprintf(stderr, "request failed: %s\n", e->msg);
    if (!e && r->status == 200 && r->body && strstr(r->body, "\"ok\""))
        d->ok++;
}

static void test_client(void)
{
    srv s;
    if (srv_start(&s) != 0) {
        CHECK_MSG(0, "cannot start the test server");
        return;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    http_headers hs = {0};
    cm_err e = {0};
    http_headers_add_line(&hs, "Authorization: Bearer s3cr3t", &e);
    http_opts o = {.base_url = url, .headers = &hs, .max_inflight = 4, .retry_budget_s = 20, .log = count_note};
    http_client *c = http_client_new(&o, &e);
    CHECK(c != NULL);

    /* dropped connection (a fresh one: curl itself retries only on reused
     * ones), 503, 429, then 200: three retries */
    s.script[0] = 0;
    s.script[1] = 503;
    s.script[2] = 429;
    s.nscript = 3;
    http_response r;
    CHECK_INT(http_request(c, "GET", "/api/v2/heartbeat", NULL, 0, &r, &e), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.attempts, 4);
    CHECK(r.body && strcmp(r.body, "{\"ok\":1}") == 0);
    CHECK_INT(notes, 4); /* three retries (three reasons), then "answers again" */
    CHECK(strstr(last_note, "answers again") != NULL);
    CHECK(strstr(s.last_headers, "Authorization: Bearer s3cr3t") != NULL);
    CHECK(strstr(s.last_headers, "Content-Type: application/json") != NULL);
    CHECK(strcasestr(s.last_headers, "Expect:") == NULL);
    CHECK(strstr(s.last_headers, "GET /api/v2/heartbeat HTTP/1.1") != NULL);
    http_response_free(&r);

    /* not retryable: the answer comes back at once */
    s.next = 0;
    s.script[0] = 400;
    s.nscript = 1;
    CHECK_INT(http_request(c, "POST", "/x", "{}", 2, &r, &e), 0);
    CHECK_INT(r.status, 400);
    CHECK_INT(r.attempts, 1);
    char *t = http_error_text(r.status, r.body, r.len);
    CHECK_STR(t, "400 Bad Request: Busy: try later");
    free(t);
    http_response_free(&r);

    /* many in flight */
    s.next = s.nscript = 0;
    done_ctx d = {0};
    for (int i = 0; i < 20; i++) {
        char *body = strdup("{\"ids\":[\"a\"]}");
        CHECK_INT(http_submit(c, "POST", "/add", body, strlen(body), on_done, &d, &e), 0);
        if (i % 5 == 4)
            http_wait(c, 4);
    }
    CHECK(http_pending(c) <= 20);
    http_wait(c, 0);
    CHECK_INT(http_pending(c), 0);
    CHECK_INT(d.n, 20);
    CHECK_INT(d.ok, 20);

    /* retries stop at the time budget: the last answer is returned */
    http_client_set_budget(c, 0.6);
    s.next = 0;
    for (int i = 0; i < 64; i++)
        s.script[i] = 503;
    s.nscript = 64;
    CHECK_INT(http_request(c, "GET", "/busy", NULL, 0, &r, &e), 0);
    CHECK_INT(r.status, 503);
    CHECK(r.attempts >= 2 && r.attempts < 10);
    http_response_free(&r);
    http_client_free(c);
    srv_stop(&s);

    /* nobody listening: an error after the budget, without the secret */
    http_opts o2 = o;
    o2.retry_budget_s = 0.5;
    c = http_client_new(&o2, &e);
    CHECK_INT(http_request(c, "GET", "/api/v2/heartbeat", NULL, 0, &r, &e), -1);
    CHECK(strstr(e.msg, "s3cr3t") == NULL);
    CHECK(strstr(e.msg, url) != NULL);
    CHECK(strstr(e.msg, "attempts") != NULL);
    http_client_free(c);
    http_headers_free(&hs);
}

/* The secrets we sent never come back in a message, whatever the server echoes. */
static void test_hidden_answers(void)
{
    http_headers hs = {0};
    cm_err e = {0};
    CHECK(http_headers_add_line(&hs, "Authorization: Bearer tok-123456789", &e) == 0);
    CHECK(http_headers_add_line(&hs, "X-Key: abc", &e) == 0); /* too short to blank out */
    const char *body = "{\"error\":\"AuthError\",\"message\":\"bad Bearer tok-123456789 and tok-123456789 again\"}";
    http_response r = {.status = 401, .body = (char *)body, .len = strlen(body)};
    char *t = http_answer_text(&r, &hs);
    CHECK_MSG(strstr(t, "tok-123456789") == NULL, "%s", t);
    CHECK_MSG(strstr(t, "401 Unauthorized: AuthError: bad (hidden) and (hidden) again") != NULL, "%s", t);
    free(t);
    /* the token alone (a server quoting it without "Bearer ") */
    body = "{\"detail\":\"unknown token tok-123456789\"}";
    r.body = (char *)body;
    r.len = strlen(body);
    t = http_answer_text(&r, &hs);
    CHECK_MSG(strstr(t, "tok-123456789") == NULL && strstr(t, "(hidden)") != NULL, "%s", t);
    free(t);
    /* nothing sent: the text as it is */
    t = http_answer_text(&r, NULL);
    CHECK(strstr(t, "tok-123456789") != NULL);
    free(t);

    CHECK(http_status_is_auth(401) && http_status_is_auth(403) && http_status_is_auth(407));
    CHECK(!http_status_is_auth(400) && !http_status_is_auth(500));

    /* with headers: their names, never their values */
    cm_err_clear(&e);
    CHECK(http_answer_error(&e, &r, &hs, CM_HINT_HEADER_AUTH, "POST /x") == -1);
    CHECK(e.kind == CM_ERR_AUTH && e.hint == CM_HINT_NONE);
    CHECK_MSG(strstr(e.msg, "POST /x: the server answered 401") == e.msg, "%s", e.msg);
    CHECK_MSG(strstr(e.msg, "check the credentials sent (header 'Authorization', header 'X-Key', values hidden)"),
              "%s", e.msg);
    CHECK(strstr(e.msg, "tok-123456789") == NULL && strstr(e.msg, "abc") == NULL);
    /* none: the caller's advice (the CLI words it), no option named here */
    cm_err_clear(&e);
    http_answer_error(&e, &r, NULL, CM_HINT_FROM_HEADER_AUTH, "GET /y");
    CHECK(e.kind == CM_ERR_AUTH && e.hint == CM_HINT_FROM_HEADER_AUTH);
    CHECK_MSG(strstr(e.msg, "--") == NULL && strstr(e.msg, "GET /y: the server answered 401") == e.msg, "%s", e.msg);
    /* not an auth status: no hint */
    r.status = 500;
    cm_err_clear(&e);
    http_answer_error(&e, &r, &hs, CM_HINT_HEADER_AUTH, "GET /z");
    CHECK_MSG(strstr(e.msg, "credentials") == NULL, "%s", e.msg);
    CHECK(e.kind == CM_ERR_OTHER && e.hint == CM_HINT_NONE);
    http_headers_free(&hs);
}

int main(void)
{
    test_header_lines();
    test_header_json();
    test_urls();
    test_backoff();
    test_retryable();
    test_error_text();
    test_hidden_answers();
    test_client();
    return check_done("test_http");
}
