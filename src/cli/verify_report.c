/* verify_report.c - a verification printed for people (one line per
 * collection, then the differences, by kind, with examples) or as --json. */
#include "verify_report.h"

#include <string.h>

static void lines(FILE *f, const char *prefix, const char *text)
{
    for (const char *s = text; s && *s;) {
        const char *nl = strchr(s, '\n');
        int n = (int)(nl ? nl - s : (long)strlen(s));
        fprintf(f, "%s%.*s\n", prefix, n, s);
        s = nl ? nl + 1 : NULL;
    }
}

static void examples(FILE *f, const char *what, const cm_issue *is)
{
    for (size_t i = 0; i < is->nex; i++)
        fprintf(f, "      %s: id '%s': %s\n", what, is->ex[i].id ? is->ex[i].id : "(none)", is->ex[i].detail);
}

/* Examples are capped (CM_MAX_EXAMPLES a kind): says how many others each
 * kind counted, so the listed lines account for every counted problem. */
static void more(FILE *f, const cm_verify_coll *c)
{
    const struct {
        const char *what;
        int64_t counted;
        size_t shown;
    } k[] = {{"missing", c->missing, c->ex_missing.nex},
             {"differing", c->different, c->ex_different.nex},
             {"self-query misses", c->sampled - c->self_first, c->ex_self.nex}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (k[i].counted > (int64_t)k[i].shown)
            fprintf(f, "      ... and %lld more %s (%lld in all)\n", (long long)(k[i].counted - (int64_t)k[i].shown),
                    k[i].what, (long long)k[i].counted);
}

void cli_verify_print_text(FILE *f, const cm_verify *v, const char *target)
{
    fprintf(f, "\n%-32s %10s %10s %8s %6s %8s %9s\n", "collection", "expected", "target", "missing", "extra",
            "differ", "self-hit");
    int na = 0;
    for (size_t i = 0; i < v->n; i++) {
        const cm_verify_coll *c = &v->c[i];
        char hit[32] = "-";
        if (c->sampled)
            snprintf(hit, sizeof hit, "%lld/%lld", (long long)c->self_first, (long long)c->sampled);
        if (!c->found) {
            fprintf(f, "%-32s %10lld %10s   collection missing from the target\n", c->name, (long long)c->expected,
                    "-");
            continue;
        }
        fprintf(f, "%-32s %10lld %10lld %8lld %6lld %8lld %9s\n", c->name, (long long)c->expected,
                (long long)c->target_count, (long long)c->missing, (long long)(c->extra > 0 ? c->extra : 0),
                (long long)c->different, hit);
        examples(f, "missing", &c->ex_missing);
        examples(f, "differs", &c->ex_different);
        examples(f, "extra", &c->ex_extra);
        examples(f, "self-query", &c->ex_self);
        more(f, c);
        lines(f, "    ! ", c->settings);
        lines(f, "    ! structure: ", c->structure);
        na |= c->structure_na;
    }
    for (size_t i = 0; i < v->nextra; i++)
        fprintf(f, "%-32s   in the target but not in the source%s\n", v->extra_collections[i],
                v->extras_uncounted ? " (a server may hold other data: not counted)" : "");
    if (na)
        fprintf(f, "(a server's HNSW files cannot be checked over HTTP: its self-queries test its index instead)\n");
    if (v->mismatches)
        fprintf(f, "\nverify: %s does NOT match the source: %lld problem%s (see above)\n", target,
                (long long)v->mismatches, v->mismatches == 1 ? "" : "s");
    else
        fprintf(f, "\nverify: %s matches the source record for record (%.1f s)\n", target, v->seconds);
}

static void jissue(json_out *o, const char *key, const cm_issue *is)
{
    jo_str(o, key, strlen(key));
    jo_cstr(o, ":[");
    for (size_t i = 0; i < is->nex; i++) {
        if (i)
            jo_raw(o, ",", 1);
        jo_cstr(o, "{\"id\":");
        if (is->ex[i].id)
            jo_str(o, is->ex[i].id, strlen(is->ex[i].id));
        else
            jo_cstr(o, "null");
        jo_cstr(o, ",\"detail\":");
        jo_str(o, is->ex[i].detail, strlen(is->ex[i].detail));
        jo_raw(o, "}", 1);
    }
    jo_raw(o, "]", 1);
}

static void jlines(json_out *o, const char *key, const char *text)
{
    jo_str(o, key, strlen(key));
    jo_cstr(o, ":[");
    int first = 1;
    for (const char *s = text; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        if (!first)
            jo_raw(o, ",", 1);
        first = 0;
        jo_str(o, s, n);
        s = nl ? nl + 1 : NULL;
    }
    jo_raw(o, "]", 1);
}

void cli_verify_json(json_out *o, const cm_verify *v)
{
    jo_cstr(o, "{\"ok\":");
    jo_cstr(o, v->mismatches ? "false" : "true");
    jo_cstr(o, ",\"mismatches\":");
    jo_int(o, v->mismatches);
    jo_cstr(o, ",\"collections\":[");
    for (size_t i = 0; i < v->n; i++) {
        const cm_verify_coll *c = &v->c[i];
        if (i)
            jo_raw(o, ",", 1);
        jo_cstr(o, "{\"name\":");
        jo_str(o, c->name, strlen(c->name));
        jo_cstr(o, c->found ? ",\"found\":true" : ",\"found\":false");
        const struct {
            const char *k;
            int64_t v;
        } nums[] = {{"expected", c->expected}, {"target", c->target_count}, {"matched", c->matched},
                    {"missing", c->missing},   {"extra", c->extra > 0 ? c->extra : 0},
                    {"different", c->different}, {"sampled", c->sampled}, {"self_first", c->self_first}};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
            jo_raw(o, ",", 1);
            jo_str(o, nums[k].k, strlen(nums[k].k));
            jo_raw(o, ":", 1);
            jo_int(o, nums[k].v);
        }
        jo_raw(o, ",", 1);
        jissue(o, "missing_examples", &c->ex_missing);
        jo_raw(o, ",", 1);
        jissue(o, "different_examples", &c->ex_different);
        jo_raw(o, ",", 1);
        jissue(o, "extra_examples", &c->ex_extra);
        jo_raw(o, ",", 1);
        jissue(o, "self_query_examples", &c->ex_self);
        jo_raw(o, ",", 1);
        jlines(o, "settings", c->settings);
        jo_raw(o, ",", 1);
        jlines(o, "structure", c->structure);
        jo_cstr(o, c->structure_na ? ",\"structure_checked\":false" : ",\"structure_checked\":true");
        jo_raw(o, "}", 1);
    }
    jo_cstr(o, "],\"extra_collections\":[");
    for (size_t i = 0; i < v->nextra; i++) {
        if (i)
            jo_raw(o, ",", 1);
        jo_str(o, v->extra_collections[i], strlen(v->extra_collections[i]));
    }
    jo_cstr(o, v->extras_uncounted ? "],\"extra_collections_counted\":false" : "],\"extra_collections_counted\":true");
    jo_cstr(o, ",\"seconds\":");
    jo_float(o, v->seconds);
    jo_raw(o, "}", 1);
}
