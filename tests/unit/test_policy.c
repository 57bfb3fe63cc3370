/* test_policy.c - text Chroma cannot hold and the metadata policies
 * (src/util/utf8.c, src/core/policy.c, src/core/meta_json.c): lone
 * surrogates, bytes that are not UTF-8, reserved 'chroma:' keys, metadata
 * text that is no JSON object. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/analyze.h"
#include "core/meta_json.h"
#include "core/policy.h"
#include "util/utf8.h"

static void test_utf8(void)
{
    CHECK(utf8_valid("plain", 5));
    CHECK(utf8_valid("Jos\xc3\xa9 \xf0\x9f\x98\x80", 10));
    CHECK(!utf8_valid("\xed\xb3\xbf", 3));     /* WTF-8 of \udcff */
    CHECK(!utf8_valid("a\xff", 2));
    CHECK(!utf8_valid("\xc0\x80", 2));         /* overlong NUL */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    CHECK_INT(utf8_invalid_at("ab\xed\xa0\x80", 5), 2);
    char b[64];
    utf8_describe("x\xed\xb3\xbf", 4, b, sizeof b);
    CHECK_MSG(strcmp(b, "a lone UTF-16 surrogate \\udcff at byte 1") == 0, "%s", b);
    utf8_describe("\xff", 1, b, sizeof b);
    CHECK_MSG(strcmp(b, "byte 0xff at byte 0 is not UTF-8") == 0, "%s", b);
    CHECK(strcmp(utf8_shown("id-\xed\xa0\x80-\xfe\xc3\xa9", 10, b, sizeof b), "id-\\ud800-\\xfe\xc3\xa9") == 0);
    char small[8];
    utf8_shown("abcdef\xff", 7, small, sizeof small); /* never cuts an escape in half */
    CHECK_MSG(strcmp(small, "abcdef") == 0, "%s", small);
}

static void test_meta_text(void)
{
    static const struct {
        const char *text, *why;
        int has_meta;
    } cases[] = {
        {"{\"a\": 1}", NULL, 1},
        {"null", NULL, 0},
        {"{'a': 1}", "not JSON", 0},
        {"[\"m.txt\", 2]", "a JSON list, not an object", 0},
        {"\"n.txt\"", "a JSON string, not an object", 0},
        {"42", "a JSON number, not an object", 0},
        {"true", "a JSON boolean, not an object", 0},
        {"", "not JSON", 0},
    };
    cm_record r = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cm_record_meta_from_text(&r, cases[i].text, strlen(cases[i].text));
        CHECK_INT(r.has_meta, cases[i].has_meta);
        if (cases[i].why) {
            CHECK_MSG(r.meta_raw && strcmp(r.meta_raw, cases[i].text) == 0, "%s", cases[i].text);
            CHECK_MSG(r.meta_raw_why && strcmp(r.meta_raw_why, cases[i].why) == 0, "%s", cases[i].text);
        } else {
            CHECK(r.meta_raw == NULL);
        }
    }
    cm_record_clear(&r);
    cm_meta_free(&r.meta);
}

static cm_meta parse(const char *text)
{
    cm_meta m = {0};
    int present;
    CHECK(cm_meta_parse(text, strlen(text), &m, &present, NULL) == 0);
    return m;
}

static const cm_mval *get(const cm_meta *m, const char *key)
{
    return cm_meta_find(m, key);
}

static void test_problems(void)
{
    cm_meta m = parse("{\"s\": \"\\udcff\", \"p\": \"\\ud83d\\ude00\", \"chroma:document\": \"x\", \"\\ud800k\": 2, "
                      "\"ok\": 1, \"chroma\": 3}");
    CHECK(cm_mentry_problem(get(&m, "s")) != NULL);         /* lone surrogate value */
    CHECK(cm_mentry_problem(get(&m, "p")) == NULL);         /* a surrogate pair is fine */
    CHECK(cm_mentry_problem(get(&m, "chroma:document")) != NULL);
    CHECK(cm_mentry_problem(get(&m, "ok")) == NULL);
    CHECK(cm_mentry_problem(get(&m, "chroma")) == NULL);    /* only the 'chroma:' namespace */
    CHECK(cm_mkey_problem("\xed\xa0\x80k", 4) != NULL);
    cm_meta_free(&m);
}

static void test_apply(void)
{
    /* stringify: values as json.dumps text, keys renamed past the names taken */
    cm_meta m = parse("{\"s\": \"a\\udcffb\", \"chroma:document\": \"x\", \"_chroma:document\": 3, "
                      "\"\\ud800k\": 2, \"n\": null}");
    cm_meta_changes ch = {0};
    CHECK_INT(cm_meta_apply(&m, CM_META_STRINGIFY, &ch), 4);
    CHECK_INT(ch.values, 2);
    CHECK_INT(ch.keys_renamed, 2);
    const cm_mval *v = get(&m, "s");
    CHECK(v && v->type == CM_M_STR && strcmp(v->s, "\"a\\udcffb\"") == 0);
    v = get(&m, "__chroma:document");
    CHECK(v && v->type == CM_M_STR && strcmp(v->s, "x") == 0);
    v = get(&m, "_chroma:document");
    CHECK(v && v->type == CM_M_INT && v->i == 3);
    v = get(&m, "\\ud800k");
    CHECK(v && v->type == CM_M_INT && v->i == 2);
    v = get(&m, "n");
    CHECK(v && v->type == CM_M_STR && strcmp(v->s, "null") == 0);
    CHECK(get(&m, "chroma:document") == NULL);
    for (size_t i = 0; i < m.n; i++)
        CHECK(cm_mentry_problem(&m.v[i]) == NULL && utf8_valid(m.v[i].key, m.v[i].key_len));
    cm_meta_free(&m);

    /* drop: every entry with a problem goes, the rest stays in order */
    m = parse("{\"a\": 1, \"chroma:uri\": \"u\", \"s\": \"\\udcff\", \"b\": \"two\"}");
    memset(&ch, 0, sizeof ch);
    CHECK_INT(cm_meta_apply(&m, CM_META_DROP, &ch), 2);
    CHECK_INT(ch.values, 2);
    CHECK_INT(m.n, 2);
    CHECK(strcmp(m.v[0].key, "a") == 0 && strcmp(m.v[1].key, "b") == 0);
    cm_meta_free(&m);
}

static void test_record_text(void)
{
    cm_record r = {0};
    r.id = "ok";
    r.id_len = 2;
    CHECK(cm_record_text_problem(&r) == NULL);
    r.doc = "bad \xff";
    r.doc_len = 5;
    CHECK(cm_record_text_problem(&r) && strcmp(cm_record_text_problem(&r), "document") == 0);
    r.id = "\xed\xb3\xbf";
    r.id_len = 3;
    CHECK(cm_record_text_problem(&r) && strcmp(cm_record_text_problem(&r), "id") == 0);
}

int main(void)
{
    test_utf8();
    test_meta_text();
    test_problems();
    test_apply();
    test_record_text();
    return check_done("policy");
}
