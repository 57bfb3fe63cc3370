#!/usr/bin/env python3
"""faulty-proxy.py UPSTREAM_URL PORT_FILE [options] - an HTTP/1.1 (keep-alive) proxy on 127.0.0.1 in
front of a real Chroma server that misbehaves the way proxies and load balancers in the field do, to
test how the Chroma server target counts, retries and reports. Requests are numbered from 1 in the
order they arrive; everything not named by an option is passed through unchanged.

  --fail-every N        every Nth request is answered 500 (a plain-text body, as a proxy would);
                        odd-numbered failures are answered without forwarding the request, even ones
                        after forwarding it (the server did the work, its answer is replaced)
  --fail-records N      every Nth request to a record route (add/upsert/get/count), counted apart
                        from the others, is answered 500 without forwarding
  --fail-from N         every request from the Nth on is answered 500 without forwarding (a backend
                        that stays down behind the proxy)
  --throttle-every N    every Nth request is answered 429 with Retry-After: 1, not forwarded
  --drop-create         the first create-collection request (POST .../collections) is forwarded and
                        its answer dropped: the connection is closed without a response
  --log FILE            one line per request: "N METHOD PATH -> STATUS|dropped"
  --lifetime S          exit after S seconds whatever happens (default 600): a test that dies
                        cannot leave the proxy behind for long
The port it listens on is written to PORT_FILE once it is ready.
"""
import argparse
import http.client
import http.server
import os
import socketserver
import threading
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument('upstream')
ap.add_argument('port_file')
ap.add_argument('--fail-every', type=int, default=0)
ap.add_argument('--fail-records', type=int, default=0)
ap.add_argument('--fail-from', type=int, default=0)
ap.add_argument('--throttle-every', type=int, default=0)
ap.add_argument('--drop-create', action='store_true')
ap.add_argument('--log')
ap.add_argument('--lifetime', type=float, default=600)
A = ap.parse_args()
UP = urllib.parse.urlsplit(A.upstream)
lock = threading.Lock()
state = {'n': 0, 'rec': 0, 'fails': 0, 'dropped': False}
RECORD_OPS = ('/add', '/upsert', '/get', '/count')


def log(line):
    if A.log:
        with lock, open(A.log, 'a') as f:
            f.write(line + '\n')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, like nginx in front of Chroma

    def log_message(self, *a):
        pass

    def forward(self, body):
        conn = http.client.HTTPConnection(UP.hostname, UP.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ('host', 'connection')}
        conn.request(self.command, self.path, body=body if body else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheader('Content-Type', 'application/json'), data

    def answer(self, status, ctype, data, extra=()):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def decide(self):
        with lock:
            state['n'] += 1
            n = state['n']
            record = self.path.endswith(RECORD_OPS)
            if record:
                state['rec'] += 1
            if A.drop_create and not state['dropped'] and self.command == 'POST' and self.path.endswith('/collections'):
                state['dropped'] = True
                return n, 'drop'
            if A.fail_from and n >= A.fail_from:
                return n, 'fail-down'
            if A.throttle_every and n % A.throttle_every == 0:
                return n, 'throttle'
            if (A.fail_every and n % A.fail_every == 0) or (record and A.fail_records and state['rec'] % A.fail_records == 0):
                state['fails'] += 1
                return n, 'fail-before' if state['fails'] % 2 else 'fail-after'
        return n, 'pass'

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0') or 0))
        n, what = self.decide()
        oops = b'<html><body><h1>500 Internal Server Error</h1>upstream hiccup</body></html>'
        if what == 'throttle':
            log(f'{n} {self.command} {self.path} -> 429')
            return self.answer(429, 'text/plain', b'slow down', [('Retry-After', '1')])
        if what in ('fail-before', 'fail-down'):
            log(f'{n} {self.command} {self.path} -> 500 (not forwarded)')
            return self.answer(500, 'text/html', oops)
        status, ctype, data = self.forward(body)
        if what == 'fail-after':
            log(f'{n} {self.command} {self.path} -> 500 (forwarded: {status})')
            return self.answer(500, 'text/html', oops)
        if what == 'drop':
            log(f'{n} {self.command} {self.path} -> dropped (forwarded: {status})')
            self.close_connection = True
            self.connection.shutdown(2)
            return
        log(f'{n} {self.command} {self.path} -> {status}')
        self.answer(status, ctype, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the client hung up (it was stopped, or gave up): not the test's business


srv = Server(('127.0.0.1', 0), Handler)
threading.Timer(A.lifetime, lambda: os._exit(0)).start()
with open(A.port_file + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(A.port_file + '.tmp', A.port_file)
srv.serve_forever()
