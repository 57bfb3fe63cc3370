/* clickhouse_http.h - one query against ClickHouse's HTTP interface, its
 * answer streamed.
 *
 * The query goes in the POST body; the database and settings in the URL's
 * query string; the credentials in X-ClickHouse-User / X-ClickHouse-Key
 * headers (never in the URL, never in a message). The answer is pulled: the
 * caller asks for "at least N bytes" and the transfer (libcurl multi) runs
 * only until that many are buffered; then libcurl is paused, so the buffer
 * holds at most about one row plus CH_HWM bytes, however large the result. */
#ifndef CM_SOURCE_CLICKHOUSE_HTTP_H
#define CM_SOURCE_CLICKHOUSE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

/* Buffered-ahead bytes before the transfer is paused. */
#define CH_HWM ((size_t)1 << 20)

typedef struct ch_conn {
    int tls;         /* clickhouses:// -> https */
    char *host;      /* without brackets for IPv6 */
    int port;
    char *user;      /* NULL: the server's default user */
    char *password;  /* NULL: none; never printed */
    char *database;  /* "default" unless given */
    char *where;     /* "host:port" for messages */
    char *location;  /* the spec with the password masked */
    long connect_timeout_ms;
    char *cacert;    /* https: trust this CA file (PEM), NULL: the system's */
    int insecure;    /* https: do not verify the certificate */
} ch_conn;

void ch_conn_free(ch_conn *c);

typedef struct ch_stream ch_stream;

/* Starts a query (nothing is waited for yet). settings: "name=value&..." or
 * NULL (values must be URL-safe). */
ch_stream *ch_stream_open(const ch_conn *c, const char *sql, const char *settings, cm_err *err);
/* Runs the transfer until at least `need` unread bytes are buffered.
 * 1: they are; 0: the answer ended with fewer (see ch_stream_peek for what
 * there is); -1: error (cannot connect, HTTP error with ClickHouse's message
 * translated, connection lost; err says which). */
int ch_stream_fill(ch_stream *s, size_t need, cm_err *err);
/* The unread bytes. */
const uint8_t *ch_stream_peek(const ch_stream *s, size_t *avail);
void ch_stream_consume(ch_stream *s, size_t n);
/* After an error: ClickHouse's error code (e.g. 60), 0 if none. */
int ch_stream_server_code(const ch_stream *s);
/* Bytes received so far (for messages). */
uint64_t ch_stream_offset(const ch_stream *s);
/* If the unread bytes hold a ClickHouse exception text (a server error after
 * the answer had started is appended to the data), a short form of it. */
const char *ch_stream_trailing_exception(ch_stream *s);
void ch_stream_close(ch_stream *s);

/* Shortens ClickHouse's error text ("Code: 81, e.displayText() =
 * DB::Exception: Database x doesn't exist, e.what() = DB::Exception" in
 * 18.16, "Code: 81. DB::Exception: Database x does not exist.
 * (UNKNOWN_DATABASE) (version 23.8.1)" later) to its message; returns the
 * code (0 if the text is not a ClickHouse error). */
int ch_parse_exception(const char *body, size_t len, char *msg, size_t msgcap);

#endif
