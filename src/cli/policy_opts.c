#include "policy_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fsutil.h"
#include "../util/mem.h"
#include "cli.h"
#include "opts.h"

const char cli_policy_help[] =
    "  --duplicates P            a repeated id in a collection: first (default, what\n"
    "                            Chroma's add does), last, or error\n"
    "  --invalid-metadata P      metadata Chroma >= 0.4 cannot store (null, nested, lists,\n"
    "                            NaN/Infinity, text that is not UTF-8, 'chroma:' keys,\n"
    "                            metadata that is no JSON object): error (default),\n"
    "                            drop, or stringify (json.dumps text; keys renamed;\n"
    "                            no object: kept under 'legacy_metadata')\n"
    "  --rename OLD=NEW          give collection OLD the name NEW (repeatable)\n"
    "  --skip-invalid-records    leave out records with no id or the empty id, no\n"
    "                            embedding, another dimension than the collection's, or\n"
    "                            an id or document that is not UTF-8 (counted)\n"
    "  --collection NAME         only this collection (repeatable)\n";

static const char *const dup_names[] = {"first", "last", "error"};
static const char *const meta_names[] = {"error", "drop", "stringify"};

static int parse_enum(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static void add_rename(cm_policy *p, const char *from, size_t flen, const char *to)
{
    p->renames = xrealloc(p->renames, (p->nrenames + 1) * sizeof *p->renames);
    p->renames[p->nrenames].from = xmemdup0(from, flen);
    p->renames[p->nrenames++].to = xstrdup(to);
}

static void add_only(cm_policy *p, const char *name)
{
    p->only = xrealloc(p->only, (p->nonly + 1) * sizeof *p->only);
    p->only[p->nonly++] = xstrdup(name);
}

int cli_policy_option(const char *cmd, int argc, char **argv, int *i, cm_policy *p, int *given)
{
    const char *v = NULL;
    int r;
    if (opt_flag(argv, i, "--skip-invalid-records")) {
        p->skip_invalid = 1;
        *given = 1;
        return 1;
    }
    static const char *const names[] = {"--duplicates", "--invalid-metadata", "--rename", "--collection"};
    for (int k = 0; k < 4; k++) {
        if ((r = opt_value(argc, argv, i, names[k], &v)) == 0)
            continue;
        if (r < 0)
            return cli_usage_error(cmd, "%s needs a value", names[k]), -1;
        *given = 1;
        switch (k) {
        case 0:
            if ((r = parse_enum(v, dup_names, 3)) < 0)
                return cli_usage_error(cmd, "--duplicates takes first, last or error, not '%s'", v), -1;
            p->dup = (cm_dup_policy)r;
            break;
        case 1:
            if ((r = parse_enum(v, meta_names, 3)) < 0)
                return cli_usage_error(cmd, "--invalid-metadata takes error, drop or stringify, not '%s'", v), -1;
            p->meta = (cm_meta_policy)r;
            break;
        case 2: {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1])
                return cli_usage_error(cmd, "--rename takes OLD=NEW, not '%s'", v), -1;
            add_rename(p, v, (size_t)(eq - v), eq + 1);
            break;
        }
        case 3: add_only(p, v); break;
        }
        return 1;
    }
    return 0;
}

void cli_policy_to_json(json_out *o, const cm_policy *p, const char *source)
{
    jo_cstr(o, "{\"tool\":\"chroma-migrate\",\"version\":\"" CM_VERSION "\",\"source\":");
    jo_str(o, source, strlen(source));
    jo_cstr(o, ",\"policies\":{\"duplicates\":\"");
    jo_cstr(o, dup_names[p->dup]);
    jo_cstr(o, "\",\"invalid_metadata\":\"");
    jo_cstr(o, meta_names[p->meta]);
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
    if ((x = jv_get(pol, "duplicates")) && x->type == JV_STRING && parse_enum(x->u.str.s, dup_names, 3) >= 0)
        p->dup = (cm_dup_policy)parse_enum(x->u.str.s, dup_names, 3);
    if ((x = jv_get(pol, "invalid_metadata")) && x->type == JV_STRING && parse_enum(x->u.str.s, meta_names, 3) >= 0)
        p->meta = (cm_meta_policy)parse_enum(x->u.str.s, meta_names, 3);
    if ((x = jv_get(pol, "skip_invalid_records")) && x->type == JV_BOOL)
        p->skip_invalid = x->u.b;
    if ((x = jv_get(pol, "renames")) && x->type == JV_OBJECT)
        for (size_t i = 0; i < x->u.obj.n; i++)
            if (x->u.obj.members[i].value->type == JV_STRING)
                add_rename(p, x->u.obj.members[i].key, x->u.obj.members[i].key_len,
                           x->u.obj.members[i].value->u.str.s);
    if ((x = jv_get(pol, "collections")) && x->type == JV_ARRAY)
        for (size_t i = 0; i < x->u.arr.n; i++)
            if (x->u.arr.items[i]->type == JV_STRING)
                add_only(p, x->u.arr.items[i]->u.str.s);
    jv_free(v);
    return 1;
}
