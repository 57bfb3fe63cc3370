/* clickhouse.h - a chromadb 0.3.x server's ClickHouse database as a source.
 *
 *   clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE]    HTTP, port 8123
 *   clickhouses://...                                        HTTPS, port 8443
 * DATABASE defaults to `default` (where chroma 0.3.x keeps its tables);
 * USER, PASSWORD and DATABASE are percent-decoded; without a password in the
 * URL the CLICKHOUSE_PASSWORD environment variable is used. */
#ifndef CM_SOURCE_CLICKHOUSE_H
#define CM_SOURCE_CLICKHOUSE_H

#include "../core/source.h"
#include "clickhouse_http.h"

/* 1 if spec starts with clickhouse:// or clickhouses://. */
int clickhouse_detect(const char *spec);
/* Connects, checks the two tables have chroma's schema. opts (may be NULL):
 * the source's certificate options (cacert, insecure; only for
 * clickhouses://). Without cacert, the CA file named by CURL_CA_BUNDLE, else
 * SSL_CERT_FILE, is trusted, as the curl program does. */
cm_source *clickhouse_open(const char *spec, const cm_source_opts *opts, cm_err *err);
/* Parses spec into c (exposed for tests): host, port, user, password,
 * database, and `where`/`location` without the password. */
int clickhouse_parse_spec(const char *spec, ch_conn *c, cm_err *err);

#endif
