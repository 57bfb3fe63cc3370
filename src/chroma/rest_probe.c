/* rest_probe.c - see rest_probe.h. */
#include "rest_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../format/json.h"

void chroma_parse_version(const char *v, int *major, int *minor, int *patch)
{
    *major = *minor = *patch = 0;
    if (*v == 'v' || *v == 'V')
        v++;
    char *end;
    *major = (int)strtol(v, &end, 10);
    if (*end == '.') {
        *minor = (int)strtol(end + 1, &end, 10);
        if (*end == '.')
            *patch = (int)strtol(end + 1, &end, 10);
    }
}

/* GET path; a 2xx answer must be JSON (*out), other answers are left to the
 * caller in *r. Returns -1 (err set, r freed) when no usable answer came. */
static int get_json(http_client *c, const chroma_probe_who *who, const char *path, http_response *r, jv **out,
                    cm_err *err)
{
    *out = NULL;
    if (http_request(c, "GET", path, NULL, 0, r, err) < 0)
        return cm_err_prefix(err, "cannot reach a Chroma server at %s", who->url);
    if (r->status / 100 == 2) {
        cm_err perr = {0};
        *out = json_parse(r->body ? r->body : "", r->len, &perr);
        if (!*out) {
            long st = r->status;
            http_response_free(r);
            return cm_err_set(err, "%s does not look like a Chroma server: GET %s answered %ld but not with JSON (%s)",
                              who->url, path, st, perr.msg);
        }
    }
    return 0;
}

static int fail_answer(const chroma_probe_who *who, cm_err *err, http_response *r, jv *v, const char *what)
{
    http_answer_error(err, r, who->sent, who->auth_hint, what);
    http_response_free(r);
    jv_free(v);
    return -1;
}

/* Asks a heartbeat: *status, and whether it looks like Chroma's. */
static int heartbeat(http_client *c, const chroma_probe_who *who, const char *path, long *status, int *looks_right,
                     cm_err *err)
{
    http_response r;
    jv *v = NULL;
    if (get_json(c, who, path, &r, &v, err) < 0)
        return -1;
    *status = r.status;
    if (http_status_is_auth(r.status))
        return fail_answer(who, err, &r, v, who->url);
    *looks_right = v && v->type == JV_OBJECT && jv_get(v, "nanosecond heartbeat");
    http_response_free(&r);
    jv_free(v);
    return 0;
}

int chroma_probe(http_client *c, const chroma_probe_who *who, chroma_server_id *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    long st2 = 0, st1 = 0;
    int hb = 0;
    if (heartbeat(c, who, "/api/v2/heartbeat", &st2, &hb, err) < 0)
        return -1;
    if (st2 == 200) {
        out->api = CHROMA_API_V2;
    } else if (st2 / 100 == 4) { /* no v2 here: 404 from Chroma, 405/400 from some proxies */
        if (heartbeat(c, who, "/api/v1/heartbeat", &st1, &hb, err) < 0)
            return -1;
        if (st1 != 200)
            return cm_err_set(err,
                              "%s does not look like a Chroma server: GET /api/v2/heartbeat and /api/v1/heartbeat "
                              "answered %ld and %ld (give the server's base URL, e.g. http://localhost:8000)",
                              who->url, st2, st1);
        out->api = CHROMA_API_V1;
    } else {
        return cm_err_set(err,
                          "%s: GET /api/v2/heartbeat answered %ld; is it a Chroma server (base URL, e.g. "
                          "http://localhost:8000)?",
                          who->url, st2);
    }
    if (!hb)
        return cm_err_set(err,
                          "%s does not look like a Chroma server: its heartbeat answer has no \"nanosecond heartbeat\"",
                          who->url);

    const char *vpath = out->api == CHROMA_API_V2 ? "/api/v2/version" : "/api/v1/version";
    http_response r;
    jv *v = NULL;
    if (get_json(c, who, vpath, &r, &v, err) < 0)
        return -1;
    if (r.status != 200) {
        char what[600];
        snprintf(what, sizeof what, "%s: GET %s", who->url, vpath);
        return fail_answer(who, err, &r, v, what);
    }
    if (!v || v->type != JV_STRING) {
        http_response_free(&r);
        jv_free(v);
        return cm_err_set(err, "%s: GET %s did not answer a version string", who->url, vpath);
    }
    size_t n = v->u.str.len < sizeof out->version - 1 ? v->u.str.len : sizeof out->version - 1;
    memcpy(out->version, v->u.str.s, n);
    out->version[n] = '\0';
    for (char *q = out->version; *q; q++)
        if ((unsigned char)*q < ' ' || *q == 0x7f)
            *q = '?';
    http_response_free(&r);
    jv_free(v);

    chroma_parse_version(out->version, &out->major, &out->minor, &out->patch);
    if (out->api == CHROMA_API_V1 && out->major == 0 && out->minor <= 3)
        out->api = CHROMA_API_03; /* same prefix, other routes and answers */
    out->v1_tenants = out->api == CHROMA_API_V1 &&
                      (out->major > 0 || out->minor > 4 || (out->minor == 4 && out->patch >= 15));
    return 0;
}
