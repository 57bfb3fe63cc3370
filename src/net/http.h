/* http.h - a small HTTP client over libcurl for talking to Chroma servers.
 *
 * What it adds to libcurl:
 *  - one base URL (scheme://host[:port][/prefix]) that request paths are
 *    appended to, and extra headers sent with every request;
 *  - header values are secrets: they are never logged and never put into an
 *    error message (messages name the header at most);
 *  - TLS verification on by default (a CA file, or an explicit insecure mode);
 *  - retries with exponential backoff and jitter (or the server's
 *    Retry-After, up to 30 s) on connection errors, timeouts, 408, 429 and
 *    502/503/504, bounded by a total time budget, so a server restart is
 *    ridden out; 500 is retried too, but at most HTTP_MAX_500_ATTEMPTS times
 *    (a proxy's hiccup passes, a server's error for this request does not);
 *  - several requests in flight at once (libcurl multi, keep-alive
 *    connections), driven from the caller's thread: completions are delivered
 *    through callbacks from http_pump()/http_wait(), never from another thread.
 * Requests are HTTP/1.1 with Content-Type: application/json bodies. */
#ifndef CM_NET_HTTP_H
#define CM_NET_HTTP_H

#include <stddef.h>

#include "../util/err.h"
#include "../util/strbuf.h"

/* ---- pure helpers (unit-tested) ---- */

typedef struct http_header {
    char *name;  /* as given, without surrounding blanks */
    char *value; /* secret: never print */
} http_header;

typedef struct http_headers {
    http_header *h;
    size_t n;
} http_headers;

/* Parses a header line, Name: value, and appends it. The error never
 * quotes the value (nor the argument, when there is no ':'). */
int http_headers_add_line(http_headers *hs, const char *line, cm_err *err);
/* Parses a JSON object of header names to string values and appends every
 * member. */
int http_headers_add_json(http_headers *hs, const char *json, size_t len, cm_err *err);
/* Checks a name and value (token name; no CR, LF or NUL in the value). */
int http_header_check(const char *name, const char *value, size_t value_len, cm_err *err);
void http_headers_free(http_headers *hs);

/* Splits and normalises a base URL: "http(s)://host[:port][/prefix]".
 * Refuses user:password@ (credentials belong in headers), a query or a
 * fragment. *out gets "scheme://host[:port]" + prefix without a trailing '/'.
 * *https is set to 1 for https. */
int http_base_url(const char *url, char **out, int *https, cm_err *err);

/* Appends s percent-encoded for a URL path segment or query value
 * (everything but unreserved characters A-Z a-z 0-9 - . _ ~). */
void http_url_escape(char **buf, size_t *len, size_t *cap, const char *s);

/* Backoff before retry number `attempt` (1 = the first retry), in seconds:
 * min(cap, base * 2^(attempt-1)), of which the upper half is jittered by u
 * in [0, 1): d/2 + u*d/2. */
double http_backoff_delay(int attempt, double base, double cap, double u);

/* Whether a finished attempt should be retried: curl result code (0 = a
 * response arrived) and HTTP status. */
int http_retryable(int curl_code, long status);
/* Attempts at most for a request answered 500. */
#define HTTP_MAX_500_ATTEMPTS 5


/* ---- client ---- */

typedef struct http_opts {
    const char *base_url;     /* from http_base_url() */
    const http_headers *headers;
    const char *cacert;       /* CA bundle file, or NULL for the system's */
    int insecure;             /* skip certificate and host name checks */
    int max_inflight;         /* connections/requests in flight (>= 1) */
    double timeout_s;         /* per attempt (0: 300) */
    double connect_timeout_s; /* per attempt (0: 10) */
    double retry_budget_s;    /* total time spent retrying one request (0: 120) */
    int max_attempts;         /* (0: 40) */
    /* Optional notices ("retrying ... in 2.1 s: connection refused"). */
    void (*log)(void *ctx, const char *msg);
    void *log_ctx;
    /* Optional: whether a 500 answer (status, body) is final, i.e. retrying
     * cannot change it (e.g. chromadb 0.4's "already exists"). */
    int (*is_final)(long status, const char *body, size_t len);
} http_opts;

typedef struct http_response {
    long status;  /* 0 when no response arrived */
    char *body;   /* NUL-terminated; may be NULL when empty */
    size_t len;
    int attempts; /* how many attempts were made */
    int sends;    /* times the request went out (libcurl's own resends on a
                   * dead kept-alive connection included): > 1 means the
                   * server may have seen it more than once */
} http_response;

void http_response_free(http_response *r);

typedef struct http_client http_client;

http_client *http_client_new(const http_opts *o, cm_err *err);
void http_client_free(http_client *c);
/* Changes the retry budget for later requests (e.g. short while probing). */
void http_client_set_budget(http_client *c, double retry_budget_s);

/* Called once per request when it is finished: a response with any status
 * (retries exhausted or not needed), or err set when none arrived. The
 * callback may submit new requests. */
typedef void (*http_done_fn)(void *ctx, http_response *resp, const cm_err *err);

/* Queues a request; path is appended to the base URL. Takes ownership of
 * body (malloc'd, may be NULL for no body). Returns 0, or -1 (err set). */
int http_submit(http_client *c, const char *method, const char *path, char *body, size_t len, http_done_fn done,
                void *ctx, cm_err *err);
/* Number of requests submitted and not yet finished. */
size_t http_pending(const http_client *c);
/* Advances transfers without blocking; runs callbacks of finished ones. */
void http_pump(http_client *c);
/* Blocks until at most max_pending requests are unfinished. */
void http_wait(http_client *c, size_t max_pending);
/* Blocks until nothing is unfinished or `seconds` have passed; returns the
 * number still unfinished. */
size_t http_wait_for(http_client *c, double seconds);
/* Drops every unfinished request (no callbacks). */
void http_cancel_all(http_client *c);
/* Drops every unfinished request, calling each one's callback with an
 * error saying `why` (so the callback can free its context). */
void http_cancel_all_notify(http_client *c, const char *why);

/* A blocking request (the same retries): *resp gets the final response.
 * Returns 0 when a response arrived (any status), -1 when none did. */
int http_request(http_client *c, const char *method, const char *path, const char *body, size_t len,
                 http_response *resp, cm_err *err);

/* ---- error answers (http_answer.c) ---- */

/* "Not Found" for 404, ...; "" for a status without a common name. */
const char *http_status_reason(long status);
/* One line describing an error response, from its body: JSON
 * {"error","message"} / {"error"} / {"detail": ...}, plain text, HTML
 * (its <title>), or nothing. Caller frees. */
char *http_error_text(long status, const char *body, size_t len);
/* http_error_text of r with every header value in `sent` shown as "(hidden)"
 * should the server echo it: the whole value and each word of it of six or
 * more characters (the token after "Bearer "). Caller frees. */
char *http_answer_text(const http_response *r, const http_headers *sent);
/* 401, 403, 407: the server wants (other) credentials. */
int http_status_is_auth(long status);
/* Sets err to "WHAT: the server answered TEXT" for an error answer
 * (http_answer_text). For 401/403/407 the kind is CM_ERR_AUTH and, with
 * headers sent, the message names them (never their values); with none,
 * the advice is `auth_hint` (how the caller's user gives a token). */
int http_answer_error(cm_err *err, const http_response *r, const http_headers *sent, cm_hint auth_hint,
                      const char *what);

#endif
