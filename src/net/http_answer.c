/* http_answer.c - what a server's error answer says, in one line, with the
 * secrets we sent hidden.
 *
 * Servers and proxies in front of them put their reason in many shapes
 * (Chroma's {"error","message"}, FastAPI's {"detail"}, nginx's HTML page);
 * users need one readable line with the status. Some servers echo request
 * headers back in their errors, so every header value we sent is blanked
 * out of that line before anyone sees it. */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../format/json.h"
#include "../util/mem.h"

const char *http_status_reason(long status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

/* Appends text on one line: control characters become spaces, runs of
 * blanks collapse, at most max bytes. */
static void sb_line(strbuf *b, const char *s, size_t n, size_t max)
{
    size_t start = b->len;
    int blank = 0;
    for (size_t i = 0; i < n && b->len - start < max; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < ' ' || ch == 0x7f || ch == ' ') {
            if (!blank && b->len > start)
                sb_addn(b, " ", 1);
            blank = 1;
            continue;
        }
        blank = 0;
        sb_addn(b, (const char *)&ch, 1);
    }
    while (b->len > start && b->s[b->len - 1] == ' ')
        b->s[--b->len] = '\0';
    if (b->len - start >= max)
        sb_adds(b, "...");
}

static int json_text(strbuf *b, const char *body, size_t len)
{
    cm_err e = {0};
    jv *v = json_parse(body, len, &e);
    if (!v)
        return 0;
    const jv *er = jv_get(v, "error"), *msg = jv_get(v, "message"), *det = jv_get(v, "detail");
    if (er && er->type == JV_STRING) {
        sb_line(b, er->u.str.s, er->u.str.len, 300);
        if (msg && msg->type == JV_STRING && msg->u.str.len) {
            sb_adds(b, ": ");
            sb_line(b, msg->u.str.s, msg->u.str.len, 600);
        }
    } else if (msg && msg->type == JV_STRING) {
        sb_line(b, msg->u.str.s, msg->u.str.len, 600);
    } else if (det && det->type == JV_STRING) {
        sb_line(b, det->u.str.s, det->u.str.len, 600);
    } else if (det && det->type == JV_ARRAY && det->u.arr.n) {
        /* FastAPI validation errors: [{"loc":[...],"msg":"...",...}, ...] */
        const jv *d0 = det->u.arr.items[0], *m = jv_get(d0, "msg"), *loc = jv_get(d0, "loc");
        if (m && m->type == JV_STRING) {
            sb_line(b, m->u.str.s, m->u.str.len, 400);
            if (loc && loc->type == JV_ARRAY && loc->u.arr.n) {
                sb_adds(b, " (at ");
                for (size_t i = 0; i < loc->u.arr.n; i++) {
                    const jv *x = loc->u.arr.items[i];
                    if (i)
                        sb_adds(b, ".");
                    if (x->type == JV_STRING)
                        sb_line(b, x->u.str.s, x->u.str.len, 60);
                    else if (x->type == JV_INT) {
                        char num[32];
                        snprintf(num, sizeof num, "%lld", (long long)x->u.i);
                        sb_adds(b, num);
                    }
                }
                sb_adds(b, ")");
            }
            if (det->u.arr.n > 1) {
                char more[64];
                snprintf(more, sizeof more, " and %zu more problems", det->u.arr.n - 1);
                sb_adds(b, more);
            }
        } else {
            json_out o = {0};
            jo_value(&o, det);
            sb_line(b, o.buf, o.len, 400);
            jo_free(&o);
        }
    } else {
        json_out o = {0};
        jo_value(&o, v);
        sb_line(b, o.buf, o.len, 400);
        jo_free(&o);
    }
    jv_free(v);
    return 1;
}

char *http_error_text(long status, const char *body, size_t len)
{
    strbuf b = {0};
    char head[64];
    const char *rs = http_status_reason(status);
    snprintf(head, sizeof head, "%ld%s%s", status, *rs ? " " : "", rs);
    sb_adds(&b, head);
    size_t i = 0;
    while (body && i < len && isspace((unsigned char)body[i]))
        i++;
    if (!body || i == len) {
        sb_adds(&b, " (empty body)");
        return b.s;
    }
    sb_adds(&b, ": ");
    size_t mark = b.len;
    if (json_text(&b, body, len) && b.len > mark)
        return b.s;
    b.len = mark;
    b.s[b.len] = '\0';
    if (body[i] == '<') { /* HTML: its title, else its text */
        const char *t = str_find_ci(body, len, "<title>");
        const char *te = t ? str_find_ci(t, len - (size_t)(t - body), "</title>") : NULL;
        if (t && te) {
            sb_line(&b, t + 7, (size_t)(te - t - 7), 300);
            return b.s;
        }
        sb_adds(&b, "(an HTML page)");
        return b.s;
    }
    sb_line(&b, body + i, len - i, 500);
    return b.s;
}

/* Replaces every occurrence of sec (len >= 4: shorter ones would blank out
 * ordinary words) in b by "(hidden)". */
static void hide(strbuf *b, const char *sec, size_t len)
{
    if (len < 4)
        return;
    strbuf out = {0};
    const char *p = b->s, *hit;
    while ((hit = strstr(p, sec)) != NULL) {
        sb_addn(&out, p, (size_t)(hit - p));
        sb_adds(&out, "(hidden)");
        p = hit + len;
    }
    if (p == b->s)
        return; /* not there */
    sb_adds(&out, p);
    sb_free(b);
    *b = out;
}

char *http_answer_text(const http_response *r, const http_headers *sent)
{
    strbuf b = {0};
    char *t = http_error_text(r->status, r->body, r->len);
    sb_adds(&b, t);
    free(t);
    for (size_t i = 0; sent && i < sent->n; i++) {
        const char *v = sent->h[i].value;
        hide(&b, v, strlen(v));
        /* and each word of it: a server may quote the token without its
         * "Bearer " (words under 6 characters are too common to blank). */
        for (const char *w = v; *w;) {
            size_t wl = strcspn(w, " \t");
            if (wl >= 6) {
                char *word = xmemdup0(w, wl);
                hide(&b, word, wl);
                free(word);
            }
            w += wl;
            w += strspn(w, " \t");
        }
    }
    return b.s;
}

int http_status_is_auth(long status)
{
    return status == 401 || status == 403 || status == 407;
}

/* "; check the credentials sent (header 'A', values hidden)". */
static void sent_names(strbuf *b, const http_headers *sent)
{
    sb_adds(b, "; check the credentials sent (");
    for (size_t i = 0; i < sent->n; i++)
        sb_addf(b, "%sheader '%s'", i ? ", " : "", sent->h[i].name);
    sb_adds(b, ", values hidden)");
}

int http_answer_error(cm_err *err, const http_response *r, const http_headers *sent, cm_hint auth_hint,
                      const char *what)
{
    char *t = http_answer_text(r, sent);
    strbuf hint = {0};
    sb_adds(&hint, "");
    int auth = http_status_is_auth(r->status), none_sent = !sent || sent->n == 0;
    if (auth && !none_sent)
        sent_names(&hint, sent);
    cm_err_set(err, "%s: the server answered %s%s", what, t, hint.s);
    if (auth)
        cm_err_mark(err, CM_ERR_AUTH, none_sent ? auth_hint : CM_HINT_NONE, NULL);
    free(t);
    sb_free(&hint);
    return -1;
}
