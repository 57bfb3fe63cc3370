/* clickhouse_http.c - a streamed query over ClickHouse's HTTP interface (see clickhouse_http.h).
 *
 * libcurl multi drives one easy handle. The write callback appends to a
 * buffer; when more than `hwm` unread bytes are buffered it answers
 * CURL_WRITEFUNC_PAUSE, libcurl keeps that piece and stops reading the
 * socket (TCP flow control then holds the server back), and the next
 * ch_stream_fill() unpauses. A non-200 answer goes to a small separate
 * buffer: it is ClickHouse's error text, translated into advice here. */
#include "clickhouse_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

#define ERRBODY_MAX 16384

struct ch_stream {
    CURLM *m;
    CURL *e;
    struct curl_slist *hdrs;
    char *url, *sql;
    char *where, *user, *database; /* copies, for messages */
    uint8_t *buf;
    size_t cap, start, end; /* unread bytes: buf[start, end) */
    size_t hwm;
    uint64_t received;
    int paused, done, added;
    CURLcode result;
    long status;
    char *errbody;
    size_t errlen;
    int server_code;
    char exc[512];
    char errbuf[CURL_ERROR_SIZE];
};

void ch_conn_free(ch_conn *c)
{
    if (!c)
        return;
    free(c->host);
    free(c->user);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c->database);
    free(c->where);
    free(c->location);
    free(c->cacert);
    memset(c, 0, sizeof *c);
}

static int global_ready(cm_err *err)
{
    static int done;
    if (!done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return cm_err_set(err, "libcurl could not be initialised");
        done = 1;
    }
    return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    ch_stream *s = ud;
    size_t n = size * nmemb;
    if (!s->status)
        curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200) {
        size_t take = n < ERRBODY_MAX - s->errlen ? n : ERRBODY_MAX - s->errlen;
        memcpy(s->errbody + s->errlen, p, take);
        s->errlen += take;
        return n;
    }
    if (s->end - s->start >= s->hwm) {
        s->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (s->cap - s->end < n) {
        if (s->start) {
            memmove(s->buf, s->buf + s->start, s->end - s->start);
            s->end -= s->start;
            s->start = 0;
        }
        if (s->cap - s->end < n) {
            size_t want = s->cap ? s->cap * 2 : 65536;
            while (want < s->end + n)
                want *= 2;
            s->buf = xrealloc(s->buf, want);
            s->cap = want;
        }
    }
    memcpy(s->buf + s->end, p, n);
    s->end += n;
    s->received += n;
    return n;
}

ch_stream *ch_stream_open(const ch_conn *c, const char *sql, const char *settings, cm_err *err)
{
    if (global_ready(err) < 0)
        return NULL;
    ch_stream *s = xcalloc(1, sizeof *s);
    s->hwm = CH_HWM;
    s->where = xstrdup(c->where);
    s->user = xstrdup(c->user ? c->user : "default");
    s->database = xstrdup(c->database);
    s->sql = xstrdup(sql);
    s->errbody = xmalloc(ERRBODY_MAX + 1);
    s->e = curl_easy_init();
    s->m = curl_multi_init();
    if (!s->e || !s->m) {
        cm_err_set(err, "libcurl could not create a transfer");
        ch_stream_close(s);
        return NULL;
    }
    char *db = curl_easy_escape(s->e, c->database, 0);
    if (!db) {
        cm_err_set(err, "libcurl could not encode the database name");
        ch_stream_close(s);
        return NULL;
    }
    int ipv6 = strchr(c->host, ':') != NULL;
    size_t n = strlen(c->host) + strlen(db) + (settings ? strlen(settings) : 0) + 64;
    s->url = xmalloc(n);
    snprintf(s->url, n, "%s://%s%s%s:%d/?database=%s%s%s", c->tls ? "https" : "http", ipv6 ? "[" : "", c->host,
             ipv6 ? "]" : "", c->port, db, settings ? "&" : "", settings ? settings : "");
    curl_free(db);

    /* Credentials travel in headers only; values were checked for line breaks. */
    if (c->user) {
        size_t hn = strlen(c->user) + 32;
        char *h = xmalloc(hn);
        snprintf(h, hn, "X-ClickHouse-User: %s", c->user);
        s->hdrs = curl_slist_append(s->hdrs, h);
        free(h);
    }
    if (c->password && c->password[0]) {
        size_t hn = strlen(c->password) + 32;
        char *h = xmalloc(hn);
        snprintf(h, hn, "X-ClickHouse-Key: %s", c->password);
        s->hdrs = curl_slist_append(s->hdrs, h);
        memset(h, 0, hn);
        free(h);
    }
    s->hdrs = curl_slist_append(s->hdrs, "Content-Type: text/plain; charset=UTF-8");
    s->hdrs = curl_slist_append(s->hdrs, "Expect:");

    curl_easy_setopt(s->e, CURLOPT_URL, s->url);
    curl_easy_setopt(s->e, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->e, CURLOPT_POSTFIELDS, s->sql);
    curl_easy_setopt(s->e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(s->sql));
    curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(s->e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(s->e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->e, CURLOPT_USERAGENT, "chroma-migrate");
    curl_easy_setopt(s->e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 10000L);
    curl_easy_setopt(s->e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* A server that sends nothing for 10 minutes is gone (paused transfers
     * are not speed-checked by libcurl). */
    curl_easy_setopt(s->e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(s->e, CURLOPT_LOW_SPEED_TIME, 600L);
    curl_easy_setopt(s->e, CURLOPT_BUFFERSIZE, 256L * 1024);
    if (c->cacert)
        curl_easy_setopt(s->e, CURLOPT_CAINFO, c->cacert);
    if (c->insecure) {
        curl_easy_setopt(s->e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(s->e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (curl_multi_add_handle(s->m, s->e) != CURLM_OK) {
        cm_err_set(err, "libcurl could not start a transfer");
        ch_stream_close(s);
        return NULL;
    }
    s->added = 1;
    return s;
}

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static const char *find(const char *h, size_t hn, const char *needle)
{
    size_t nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, needle, nn) == 0)
            return h + i;
    return NULL;
}

int ch_parse_exception(const char *body, size_t len, char *msg, size_t msgcap)
{
    const char *p = find(body, len, "Code: ");
    msg[0] = 0;
    if (!p || !is_digit((unsigned char)p[6]))
        return 0;
    const char *end = body + len;
    int code = 0;
    const char *q = p + 6;
    while (q < end && is_digit((unsigned char)*q) && code < 100000)
        code = code * 10 + (*q++ - '0');
    /* The message: after the last "DB::Exception: " of the first line
     * (18.16 writes "e.displayText() = DB::Exception: ..."), up to 18.16's
     * ", e.what() = " or later releases' " (NAME) (version ...)". */
    const char *eol = q;
    while (eol < end && *eol != '\n')
        eol++;
    const char *m = q;
    const char *ex;
    while ((ex = find(m, (size_t)(eol - m), "DB::Exception: ")) != NULL)
        m = ex + 15;
    if (m == q) {
        while (m < eol && (*m == ',' || *m == '.' || *m == ' '))
            m++;
    }
    const char *stop = find(m, (size_t)(eol - m), ", e.what() = ");
    if (!stop)
        stop = find(m, (size_t)(eol - m), " (version ");
    if (!stop)
        stop = eol;
    /* drop a trailing " (UNKNOWN_DATABASE)" and the final '.' */
    if (stop > m && stop[-1] == ')') {
        const char *open = stop - 1;
        while (open > m && *open != '(')
            open--;
        int upper = open > m && open[-1] == ' ';
        for (const char *k = open + 1; upper && k < stop - 1; k++)
            upper = (*k >= 'A' && *k <= 'Z') || *k == '_' || is_digit((unsigned char)*k);
        if (upper)
            stop = open - 1;
    }
    while (stop > m && (stop[-1] == '.' || stop[-1] == ' ' || stop[-1] == '\r'))
        stop--;
    size_t n = (size_t)(stop - m);
    if (n >= msgcap) {
        n = msgcap - 4;
        snprintf(msg, msgcap, "%.*s...", (int)n, m);
    } else {
        memcpy(msg, m, n);
        msg[n] = 0;
    }
    return code;
}

static int tls_failed(ch_stream *s, const char *why, cm_err *err)
{
    return cm_err_set(err,
                      "TLS connection to ClickHouse at %s failed: %s (clickhouses:// needs the server's HTTPS "
                      "port, 8443 by default; use clickhouse:// for plain HTTP on 8123)",
                      s->where, why);
}

/* An https:// request whose TCP connection was made but whose TLS handshake
 * never finished: a plain HTTP port may just wait for a request line that
 * never comes, so this ends in a timeout, not a TLS error. */
static int tls_stalled(ch_stream *s)
{
    /* libcurl records no connect time when the handshake then times out,
     * but the connected socket's local port is known. */
    long local_port = 0;
    curl_off_t tls = 0;
    char *scheme = NULL;
    curl_easy_getinfo(s->e, CURLINFO_LOCAL_PORT, &local_port);
    curl_easy_getinfo(s->e, CURLINFO_APPCONNECT_TIME_T, &tls);
    curl_easy_getinfo(s->e, CURLINFO_SCHEME, &scheme);
    return local_port > 0 && tls == 0 && scheme && strlen(scheme) == 5 && (scheme[4] == 's' || scheme[4] == 'S');
}

static int curl_failed(ch_stream *s, cm_err *err)
{
    const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(s->result);
    switch (s->result) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return cm_err_set(err, "cannot connect to ClickHouse at %s: %s", s->where, why),
               cm_err_mark(err, CM_ERR_CONNECT, CM_HINT_FROM_RUNNING, NULL);
    case CURLE_OPERATION_TIMEDOUT:
        if (!s->status && tls_stalled(s))
            return tls_failed(s, why, err);
        if (!s->status)
            return cm_err_set(err, "cannot connect to ClickHouse at %s: %s", s->where, why),
                   cm_err_mark(err, CM_ERR_CONNECT, CM_HINT_FROM_RUNNING, NULL);
        return cm_err_set(err, "ClickHouse at %s stopped sending data after %llu bytes: %s", s->where,
                          (unsigned long long)s->received, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        /* TLS works, the certificate is not trusted: the port is right */
        return cm_err_set(err, "TLS connection to ClickHouse at %s failed: %s", s->where, why),
               cm_err_mark(err, CM_ERR_TLS, CM_HINT_FROM_CACERT, NULL);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
        return tls_failed(s, why, err);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_GOT_NOTHING:
        if (!s->status)
            return cm_err_set(err,
                              "the server at %s does not answer as ClickHouse's HTTP interface (%s); is this its "
                              "native TCP port (9000) or an HTTPS port? clickhouse:// needs the HTTP port (8123 by "
                              "default), clickhouses:// the HTTPS port (8443)",
                              s->where, why);
        /* fall through */
    default:
        if (s->received)
            return cm_err_set(err, "the connection to ClickHouse at %s broke after %llu bytes: %s", s->where,
                              (unsigned long long)s->received, why);
        return cm_err_set(err, "request to ClickHouse at %s failed: %s", s->where, why);
    }
}

static int http_failed(ch_stream *s, cm_err *err)
{
    char msg[600];
    s->errbody[s->errlen] = 0;
    int code = ch_parse_exception(s->errbody, s->errlen, msg, sizeof msg);
    s->server_code = code;
    switch (code) {
    case 0: {
        size_t n = s->errlen < 120 ? s->errlen : 120;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s->errbody[i] < 0x20)
                s->errbody[i] = ' ';
        return cm_err_set(err, "the server at %s answered HTTP %ld (%.*s); is it ClickHouse's HTTP interface?",
                          s->where, s->status, (int)n, s->errbody);
    }
    case 192: /* UNKNOWN_USER */
    case 193: /* WRONG_PASSWORD */
    case 194: /* REQUIRED_PASSWORD */
    case 195: /* IP_ADDRESS_NOT_ALLOWED */
    case 516: /* AUTHENTICATION_FAILED (later releases) */
        return cm_err_set(err, "ClickHouse at %s refused user '%s': %s (Code %d)", s->where, s->user, msg, code),
               cm_err_mark(err, CM_ERR_AUTH, CM_HINT_FROM_USER, NULL);
    case 81: /* UNKNOWN_DATABASE */
        return cm_err_set(err,
                          "ClickHouse at %s has no database '%s' (Code 81: %s); a chroma 0.3.x server uses "
                          "'default'",
                          s->where, s->database, msg),
               cm_err_mark(err, CM_ERR_SOURCE_SPEC, CM_HINT_FROM_DATABASE, NULL);
    case 60: /* UNKNOWN_TABLE */
        return cm_err_set(err,
                          "ClickHouse at %s, database '%s': a table is missing (Code 60: %s); a chroma 0.3.x "
                          "database has tables 'collections' and 'embeddings'",
                          s->where, s->database, msg),
               cm_err_mark(err, CM_ERR_SOURCE_SPEC, CM_HINT_FROM_DATABASE, NULL);
    case 497: /* ACCESS_DENIED */
        return cm_err_set(err, "ClickHouse at %s: user '%s' may not read this: %s (Code %d)", s->where, s->user, msg,
                          code);
    default:
        return cm_err_set(err, "ClickHouse at %s answered an error: %s (Code %d, HTTP %ld)", s->where, msg, code,
                          s->status);
    }
}

int ch_stream_fill(ch_stream *s, size_t need, cm_err *err)
{
    if (need > s->hwm)
        s->hwm = need; /* one row larger than the usual read-ahead */
    while (s->end - s->start < need && !s->done) {
        if (s->paused) {
            s->paused = 0;
            CURLcode rc = curl_easy_pause(s->e, CURLPAUSE_CONT); /* may deliver data and pause again */
            if (rc != CURLE_OK)
                return cm_err_set(err, "ClickHouse at %s: resuming the transfer failed: %s", s->where,
                                  curl_easy_strerror(rc));
            continue;
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(s->m, &running);
        if (mc != CURLM_OK)
            return cm_err_set(err, "ClickHouse at %s: transfer failed: %s", s->where, curl_multi_strerror(mc));
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(s->m, &left)) != NULL) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == s->e) {
                s->done = 1;
                s->result = msg->data.result;
            }
        }
        if (s->done || s->paused || s->end - s->start >= need)
            continue;
        mc = curl_multi_poll(s->m, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            return cm_err_set(err, "ClickHouse at %s: waiting for data failed: %s", s->where,
                              curl_multi_strerror(mc));
    }
    if (s->end - s->start >= need)
        return 1;
    /* The transfer is over and has less than asked for. */
    if (!s->status)
        curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->result != CURLE_OK)
        return curl_failed(s, err);
    if (s->status != 200)
        return http_failed(s, err);
    return 0;
}

const uint8_t *ch_stream_peek(const ch_stream *s, size_t *avail)
{
    *avail = s->end - s->start;
    return s->buf ? s->buf + s->start : (const uint8_t *)"";
}

void ch_stream_consume(ch_stream *s, size_t n)
{
    s->start += n;
    if (s->start >= s->end)
        s->start = s->end = 0;
}

int ch_stream_server_code(const ch_stream *s)
{
    return s->server_code;
}

uint64_t ch_stream_offset(const ch_stream *s)
{
    return s->received - (s->end - s->start);
}

const char *ch_stream_trailing_exception(ch_stream *s)
{
    size_t avail = s->end - s->start;
    if (!avail)
        return NULL;
    const char *p = (const char *)s->buf + s->start;
    /* Look only near the end: the text is appended after the last good block. */
    size_t from = avail > 65536 ? avail - 65536 : 0;
    const char *c = find(p + from, avail - from, "Code: ");
    if (!c || !find(c, (size_t)(p + avail - c), "Exception"))
        return NULL;
    int code = ch_parse_exception(c, (size_t)(p + avail - c), s->exc, sizeof s->exc - 32);
    if (!code)
        return NULL;
    size_t n = strlen(s->exc);
    snprintf(s->exc + n, sizeof s->exc - n, " (Code %d)", code);
    return s->exc;
}

void ch_stream_close(ch_stream *s)
{
    if (!s)
        return;
    if (s->added)
        curl_multi_remove_handle(s->m, s->e);
    if (s->e)
        curl_easy_cleanup(s->e);
    if (s->m)
        curl_multi_cleanup(s->m);
    for (struct curl_slist *h = s->hdrs; h; h = h->next)
        memset(h->data, 0, strlen(h->data)); /* the password header */
    curl_slist_free_all(s->hdrs);
    free(s->buf);
    free(s->url);
    free(s->sql);
    free(s->where);
    free(s->user);
    free(s->database);
    free(s->errbody);
    free(s);
}
