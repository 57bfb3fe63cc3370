/* test_clickhouse_spec.c - the ClickHouse source's URL parsing (percent-decoding,
 * defaults, IPv6, masking the password) and the shortening of ClickHouse's
 * error texts (18.16 and later formats). No server needed. */
#include <stdlib.h>

#include "check.h"
#include "legacy/clickhouse.h"

static void parses(const char *spec, int tls, const char *host, int port, const char *user, const char *pw,
                   const char *db, const char *location)
{
    ch_conn c;
    cm_err err = {0};
    int r = clickhouse_parse_spec(spec, &c, &err);
    CHECK_MSG(r == 0, "%s: %s", spec, err.msg);
    if (r != 0)
        return;
    CHECK_INT(c.tls, tls);
    CHECK_STR(c.host, host);
    CHECK_INT(c.port, port);
    if (user)
        CHECK_STR(c.user, user);
    else
        CHECK_MSG(c.user == NULL, "%s: user '%s'", spec, c.user);
    if (pw)
        CHECK_STR(c.password, pw);
    else
        CHECK_MSG(c.password == NULL, "%s: a password", spec);
    CHECK_STR(c.database, db);
    CHECK_STR(c.location, location);
    if (pw && pw[0])
        CHECK_MSG(strstr(c.location, pw) == NULL, "%s: password in the location", spec);
    ch_conn_free(&c);
}

static void refuses(const char *spec, const char *why)
{
    ch_conn c;
    cm_err err = {0};
    int r = clickhouse_parse_spec(spec, &c, &err);
    CHECK_MSG(r < 0, "%s accepted", spec);
    if (r == 0)
        ch_conn_free(&c);
    else
        CHECK_MSG(strstr(err.msg, why) != NULL, "%s: '%s' lacks '%s'", spec, err.msg, why);
}

static void test_specs(void)
{
    unsetenv("CLICKHOUSE_PASSWORD");
    parses("clickhouse://localhost", 0, "localhost", 8123, NULL, NULL, "default", "clickhouse://localhost:8123/default");
    parses("clickhouse://localhost/", 0, "localhost", 8123, NULL, NULL, "default", "clickhouse://localhost:8123/default");
    parses("clickhouses://ch.example.com", 1, "ch.example.com", 8443, NULL, NULL, "default",
           "clickhouses://ch.example.com:8443/default");
    parses("clickhouse://10.0.0.5:9123/chroma", 0, "10.0.0.5", 9123, NULL, NULL, "chroma",
           "clickhouse://10.0.0.5:9123/chroma");
    parses("clickhouse://bob@h:1/db/", 0, "h", 1, "bob", NULL, "db", "clickhouse://bob@h:1/db");
    parses("clickhouse://bob:s3cret@h/db", 0, "h", 8123, "bob", "s3cret", "db", "clickhouse://bob:***@h:8123/db");
    /* percent-decoding; the password may hold ':' and unencoded '/' (userinfo ends at the last '@') */
    parses("clickhouse://b%40b:p%40ss:w/rd%20%25@h:8124/my%20db", 0, "h", 8124, "b@b", "p@ss:w/rd %", "my db",
           "clickhouse://b@b:***@h:8124/my db");
    parses("clickhouse://:pw@h", 0, "h", 8123, NULL, "pw", "default", "clickhouse://default:***@h:8123/default");
    parses("clickhouse://u:@h", 0, "h", 8123, "u", "", "default", "clickhouse://u@h:8123/default");
    parses("clickhouse://[::1]:8125/x", 0, "::1", 8125, NULL, NULL, "x", "clickhouse://[::1]:8125/x");
    parses("clickhouse://%C3%A9l%C3%A8ve@h", 0, "h", 8123, "\xc3\xa9l\xc3\xa8ve", NULL, "default",
           "clickhouse://\xc3\xa9l\xc3\xa8ve@h:8123/default");
    /* CLICKHOUSE_PASSWORD when the URL has none; the URL's wins */
    setenv("CLICKHOUSE_PASSWORD", "from-env", 1);
    parses("clickhouse://u@h", 0, "h", 8123, "u", "from-env", "default", "clickhouse://u:***@h:8123/default");
    parses("clickhouse://h", 0, "h", 8123, NULL, "from-env", "default", "clickhouse://default:***@h:8123/default");
    parses("clickhouse://u:url@h", 0, "h", 8123, "u", "url", "default", "clickhouse://u:***@h:8123/default");
    setenv("CLICKHOUSE_PASSWORD", "a\nb", 1);
    refuses("clickhouse://u@h", "line break");
    unsetenv("CLICKHOUSE_PASSWORD");

    refuses("clickhouse://", "no host");
    refuses("clickhouse://u@", "no host");
    refuses("clickhouse://:8123/db", "no host");
    refuses("clickhouse://h:0", "port");
    refuses("clickhouse://h:65536", "port");
    refuses("clickhouse://h:12ab", "port");
    refuses("clickhouse://h:", "port");
    refuses("clickhouse://h:1234567", "port");
    refuses("clickhouse://h?x=1", "settings cannot be given");
    refuses("clickhouse://h:8123?x=1", "settings cannot be given");
    refuses("clickhouse://h/a/b", "one name");
    refuses("clickhouse://h/db?x=1", "one name");
    refuses("clickhouse://[::1", "without ']'");
    refuses("clickhouse://[::1]x", "unexpected");
    refuses("clickhouse://u:p%4@h", "two hex digits");
    refuses("clickhouse://u:p%@h", "two hex digits");
    refuses("clickhouse://u:p%zz@h", "two hex digits");
    refuses("clickhouse://u%0Ax@h", "line break");
    refuses("clickhouse://u:p%00@h", "NUL");
    refuses("clickhouse://h/d%0D", "line break");
    refuses("http://h", "starts with clickhouse://");

    CHECK(clickhouse_detect("clickhouse://h"));
    CHECK(clickhouse_detect("clickhouses://h"));
    CHECK(!clickhouse_detect("clickhouse:/h"));
    CHECK(!clickhouse_detect("/data/clickhouse://"));
}

static void test_exceptions(void)
{
    char msg[256];
    const char *old = "Code: 81, e.displayText() = DB::Exception: Database nodb doesn't exist, e.what() = DB::Exception\n";
    CHECK_INT(ch_parse_exception(old, strlen(old), msg, sizeof msg), 81);
    CHECK_STR(msg, "Database nodb doesn't exist");
    const char *auth = "Code: 193, e.displayText() = DB::Exception: Wrong password for user chroma, e.what() = "
                       "DB::Exception\n";
    CHECK_INT(ch_parse_exception(auth, strlen(auth), msg, sizeof msg), 193);
    CHECK_STR(msg, "Wrong password for user chroma");
    const char *nw = "Code: 81. DB::Exception: Database nodb does not exist. (UNKNOWN_DATABASE) (version 23.8.2.7 "
                     "(official build))\n";
    CHECK_INT(ch_parse_exception(nw, strlen(nw), msg, sizeof msg), 81);
    CHECK_STR(msg, "Database nodb does not exist");
    const char *nw2 = "Code: 516. DB::Exception: chroma: Authentication failed: password is incorrect, or there is "
                      "no user with such name. (AUTHENTICATION_FAILED) (version 24.3.1.1)";
    CHECK_INT(ch_parse_exception(nw2, strlen(nw2), msg, sizeof msg), 516);
    CHECK_STR(msg, "chroma: Authentication failed: password is incorrect, or there is no user with such name");
    const char *nested = "Code: 60. DB::Exception: Received from x:9000. DB::Exception: Table default.embeddings "
                         "doesn't exist. (UNKNOWN_TABLE) (version 23.3.1)\nStack trace:\n0. foo\n";
    CHECK_INT(ch_parse_exception(nested, strlen(nested), msg, sizeof msg), 60);
    CHECK_STR(msg, "Table default.embeddings doesn't exist");
    const char *plain = "<html>502 Bad Gateway</html>";
    CHECK_INT(ch_parse_exception(plain, strlen(plain), msg, sizeof msg), 0);
    const char *cut = "Code: 2";
    CHECK_INT(ch_parse_exception(cut, strlen(cut), msg, sizeof msg), 2);
    /* long messages are cut to the buffer */
    char longer[1200] = "Code: 62, e.displayText() = DB::Exception: Syntax error: ";
    size_t n = strlen(longer);
    memset(longer + n, 'x', 1000);
    longer[n + 1000] = 0;
    char small[64];
    CHECK_INT(ch_parse_exception(longer, strlen(longer), small, sizeof small), 62);
    CHECK(strlen(small) < sizeof small);
    CHECK(strstr(small, "...") != NULL);
}

int main(void)
{
    test_specs();
    test_exceptions();
    return check_done("test_clickhouse_spec");
}
