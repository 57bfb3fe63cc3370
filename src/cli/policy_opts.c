/* policy_opts.c - the manifest that records a migration's policies in a
 * persistent-directory target (the policy options are in options.c). */
#include "policy_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fsutil.h"
#include "../util/mem.h"
#include "cli.h"
#include "options.h"

void cli_policy_add_rename(cm_policy *p, const char *from, size_t flen, const char *to)
{
    p->renames = xrealloc(p->renames, (p->nrenames + 1) * sizeof *p->renames);
    p->renames[p->nrenames].from = xmemdup0(from, flen);
    p->renames[p->nrenames++].to = xstrdup(to);
}

void cli_policy_add_only(cm_policy *p, const char *name)
{
    p->only = xrealloc(p->only, (p->nonly + 1) * sizeof *p->only);
    p->only[p->nonly++] = xstrdup(name);
}

void cli_policy_to_json(json_out *o, const cm_policy *p, const char *source)
{
    jo_cstr(o, "{\"tool\":\"chroma-migrate\",\"version\":\"" CM_VERSION "\",\"source\":");
    jo_str(o, source, strlen(source));
    jo_cstr(o, ",\"policies\":{\"duplicates\":\"");
    jo_cstr(o, cli_dup_name(p->dup));
    jo_cstr(o, "\",\"invalid_metadata\":\"");
    jo_cstr(o, cli_meta_name(p->meta));
    jo_cstr(o, "\",\"skip_invalid_records\":");
    jo_cstr(o, p->skip_invalid ? "true" : "false");
    jo_cstr(o, ",\"renames\":{");
    for (size_t i = 0; i < p->nrenames; i++) {
        if (i)
            jo_raw(o, ",", 1);
        jo_str(o, p->renames[i].from, strlen(p->renames[i].from));
        jo_raw(o, ":", 1);
        jo_str(o, p->renames[i].to, strlen(p->renames[i].to));
    }
    jo_cstr(o, "},\"collections\":[");
    for (size_t i = 0; i < p->nonly; i++) {
        if (i)
            jo_raw(o, ",", 1);
        jo_str(o, p->only[i], strlen(p->only[i]));
    }
    jo_cstr(o, "]}}\n");
}

int cli_policy_from_manifest(const char *dir, cm_policy *p, cm_err *err)
{
    char *path = fs_join(dir, CM_MANIFEST_NAME);
    FILE *f = fopen(path, "rb");
    if (!f) {
        free(path);
        return 0;
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    jv *v = json_parse(buf, n, err);
    jv *pol = v ? jv_get(v, "policies") : NULL;
    if (!pol || pol->type != JV_OBJECT) {
        jv_free(v);
        cm_err_prefix(err, "%s", path);
        free(path);
        return -1;
    }
    free(path);
    jv *x;
    if ((x = jv_get(pol, "duplicates")) && x->type == JV_STRING && cli_dup_value(x->u.str.s) >= 0)
        p->dup = (cm_dup_policy)cli_dup_value(x->u.str.s);
    if ((x = jv_get(pol, "invalid_metadata")) && x->type == JV_STRING && cli_meta_value(x->u.str.s) >= 0)
        p->meta = (cm_meta_policy)cli_meta_value(x->u.str.s);
    if ((x = jv_get(pol, "skip_invalid_records")) && x->type == JV_BOOL)
        p->skip_invalid = x->u.b;
    if ((x = jv_get(pol, "renames")) && x->type == JV_OBJECT)
        for (size_t i = 0; i < x->u.obj.n; i++)
            if (x->u.obj.members[i].value->type == JV_STRING)
                cli_policy_add_rename(p, x->u.obj.members[i].key, x->u.obj.members[i].key_len,
                           x->u.obj.members[i].value->u.str.s);
    if ((x = jv_get(pol, "collections")) && x->type == JV_ARRAY)
        for (size_t i = 0; i < x->u.arr.n; i++)
            if (x->u.arr.items[i]->type == JV_STRING)
                cli_policy_add_only(p, x->u.arr.items[i]->u.str.s);
    jv_free(v);
    return 1;
}
