#!/usr/bin/env python3
"""faulty-proxy.py UPSTREAM_PORT MODE PORT_FILE - an HTTP proxy in front of a real ClickHouse that
damages the answer to the record query (`... FROM embeddings WHERE ...`) in one way, to test how the
ClickHouse source reports answers it cannot trust. Everything else is passed through unchanged.

MODE:
  cut-mid-row   the answer ends (cleanly: HTTP/1.0, connection closed) 5 bytes into row 10
  cut-at-row    the answer ends cleanly right after row 10 (valid RowBinary, rows missing)
  broken        Content-Length says the whole answer, half is sent, then the connection is closed
  garbage       the Nullable flag byte that starts row 10 is replaced by 0x07
  readonly      any request carrying settings in the URL (max_threads=...) is refused the way a
                readonly=1 user is refused by ClickHouse (HTTP 500, Code 164); others pass
The port the proxy listens on (127.0.0.1) is written to PORT_FILE once it is ready.
"""
import http.client
import http.server
import os
import socketserver
import sys

UPSTREAM, MODE, PORT_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ROW = 10


def leb(b, i):
    v = s = 0
    while True:
        if i >= len(b):
            raise IndexError
        x = b[i]
        i += 1
        v |= (x & 0x7F) << s
        s += 7
        if not x & 0x80:
            return v, i


def row_ends(b):
    """Byte offsets where each row of (Nullable(String), Array(Float64), Nullable(String) x2) ends."""
    ends, i = [], 0
    try:
        while i < len(b):
            for field in ('s', 'a', 's', 's'):
                if field == 's':
                    i += 1
                    if b[i - 1] == 1:
                        continue
                    n, i = leb(b, i)
                    i += n
                else:
                    n, i = leb(b, i)
                    i += 8 * n
            if i > len(b):
                break
            ends.append(i)
    except IndexError:
        pass
    return ends


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        if MODE == 'readonly' and 'max_threads' in self.path:
            msg = (b'Code: 164, e.displayText() = DB::Exception: Cannot override setting (max_threads) in '
                   b'readonly mode, e.what() = DB::Exception\n')
            self.send_response(500)
            self.send_header('Content-Length', str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        conn = http.client.HTTPConnection('127.0.0.1', UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ('host', 'content-length', 'connection')}
        conn.request('POST', self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        status = resp.status
        conn.close()
        target = b'FROM embeddings WHERE' in body and status == 200 and MODE != 'readonly'
        if not target:
            self.send_response(status)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        ends = row_ends(data)
        if len(ends) <= ROW + 1:  # too short to damage (e.g. an empty collection): pass it through
            self.send_response(status)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        if MODE == 'cut-mid-row':
            self.end_headers()
            self.wfile.write(data[:ends[ROW - 1] + 5])
        elif MODE == 'cut-at-row':
            self.end_headers()
            self.wfile.write(data[:ends[ROW - 1]])
        elif MODE == 'garbage':
            bad = bytearray(data)
            bad[ends[ROW - 1]] = 7
            self.end_headers()
            self.wfile.write(bytes(bad))
        elif MODE == 'broken':
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            raise SystemExit(f'faulty-proxy: unknown mode {MODE}')


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(('127.0.0.1', 0), Handler)
with open(PORT_FILE + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(PORT_FILE + '.tmp', PORT_FILE)
srv.serve_forever()
