#!/usr/bin/env bash
# A planted secret never shows (issue 15: "leak nothing"). Every command (migrate, verify, inspect,
# export) is run with the secret in a request header (--header, --headers JSON, --headers @FILE,
# --from-header), as the password of a URL, and against servers that fail in every way: the real
# Chroma 1.0.19 server (success), a hostile server that answers 401, 403, 500 and 413 with every
# request header it received echoed in its body and in its own response headers (so an error
# message that quotes the server's answer would carry the secret), a server that is gone, and a run
# interrupted by SIGINT. Then every stdout, stderr, --json report and every file a run left behind
# (the target folder, its .chroma-migrate.json, staging folders) is searched for the secret.
# Prints "secrets: N passed, N failed".
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
. tests/lib/check.sh
suite_start cm-secrets
. tests/lib/chroma-server.sh

secret="sEcReT-$$-$RANDOM-tok"
mkdir -p "$tmp/runs" "$tmp/keys" "$tmp/cmds"
printf '{"Authorization": "Bearer %s", "X-Api-Key": "%s"}' "$secret" "$secret" >"$tmp/keys/headers.json"
chmod 600 "$tmp/keys/headers.json"
n=0
# r EXPECT ARGS...: runs the binary; its stdout, stderr and status are kept under $tmp/runs
r() {
  local want=$1; shift
  n=$((n + 1))
  "$bin" "$@" >"$tmp/runs/$n.out" 2>"$tmp/runs/$n.err"
  local rc=$?
  echo "$* => $rc" >"$tmp/cmds/$n"
  if [[ " $want " == *" $rc "* ]]; then ok "run $n exits $rc: ${*:1:6}"; else
    bad "run $n: exit $rc (want $want): $* :: $(head -c 400 "$tmp/runs/$n.err")"; fi
}

# The hostile server: every answer is an error that echoes the request's headers.
hport=$(free_port)
python3 - "$hport" >"$tmp/hostile.log" 2>&1 <<'EOF' &
import http.server, json, sys, itertools
codes = itertools.cycle([401, 403, 500, 413])
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        code = 401 if "auth401" in self.path else next(codes)
        echo = {k: v for k, v in self.headers.items()}
        print(json.dumps(echo), flush=True)
        body = json.dumps({"error": "Unauthorized", "message": f"bad credentials: {echo}"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("WWW-Authenticate", f"Bearer realm=\"{echo.get('Authorization', '')}\"")
        self.send_header("X-Echo", json.dumps(echo))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
pids+=($!)
hostile=http://127.0.0.1:$hport
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$hport") 2>/dev/null && break; sleep 0.1; done

start_chroma srv "$tmp/srv-data" || { bad "the Chroma server did not start"; echo "secrets: $pass passed, $fail failed"; exit 1; }
url=$CHROMA_URL
H=(--header "Authorization: Bearer $secret")

echo "-- successes, with the secret sent"
r 0 migrate --from "$sample" --to "$url" "${H[@]}" --verbose
r 0 verify --from "$sample" --to "$url" "${H[@]}" --json
r 0 verify --from "$sample" --to "$url" --headers "@$tmp/keys/headers.json"
r 0 inspect "$url" "${H[@]}" --json
r 0 export "$url" --headers "{\"Authorization\": \"Bearer $secret\"}"
r 0 migrate --from "$url" --from-header "Authorization: Bearer $secret" --to "$tmp/dir-from-server" --json
r 0 migrate --from "$url" --from-headers "@$tmp/keys/headers.json" --to "$tmp/dir-from-server2" --verbose
r 0 migrate --from "$sample" --to "$url" "${H[@]}" --resume --json

echo "-- a hostile server echoing the secret in every error"
for k in 1 2 3 4; do
  r "1" migrate --from "$sample" --to "$hostile" "${H[@]}" --timeout 5 --json
done
r "1" migrate --from "$sample" --to "$hostile/auth401" --headers "@$tmp/keys/headers.json" --verbose
r "1" verify --from "$sample" --to "$hostile" "${H[@]}" --json
r "1" inspect "$hostile" "${H[@]}"
r "1" inspect "$hostile/auth401" "${H[@]}" --json
r "1" export "$hostile" --header "X-Api-Key: $secret"
r "1" migrate --from "$hostile" --from-header "Authorization: Bearer $secret" --to "$tmp/never1" --json
r "1" migrate --from "$hostile/auth401" --from-headers "@$tmp/keys/headers.json" --to "$tmp/never2"

echo "-- credentials in URLs, a server that is gone, a bad header"
r "1 2" migrate --from "$sample" --to "http://user:$secret@127.0.0.1:$hport" --json
r "1 2" migrate --from "http://user:$secret@127.0.0.1:$hport" --to "$tmp/never3" --json
r "1 2" inspect "https://user:$secret@127.0.0.1:$hport"
r "1 2" verify --from "$sample" --to "http://:$secret@127.0.0.1:$hport"
gone=$(free_port)
r "1" migrate --from "$sample" --to "http://127.0.0.1:$gone" "${H[@]}" --timeout 2 --json
r "2" migrate --from "$sample" --to "$url" --header "Authorization Bearer $secret"
r "2" migrate --from "$sample" --to "$url" --headers "{\"Authorization\": $secret}"

echo "-- interrupted"
(cd tests/node && node make-store.mjs "$tmp/big" --collections 1 --rows 20000 --dim 16 --seed 9 >/dev/null) || bad "store"
n=$((n + 1))
"$bin" migrate --from "$tmp/big" --to "$url" "${H[@]}" --database default_database --batch-size 200 --jobs 1 --json \
  >"$tmp/runs/$n.out" 2>"$tmp/runs/$n.err" &
mp=$!
sleep 3
kill -INT "$mp" 2>/dev/null
wait "$mp"
rc=$?
check "interrupted run exits 130" [ "$rc" = 130 ]

echo "-- nothing shows the secret"
hits=$(grep -rlaF -- "$secret" "$tmp/runs" "$tmp"/dir-* 2>/dev/null)
check "no output of $n runs holds the secret" [ -z "$hits" ]
[ -n "$hits" ] && for f in $hits; do echo "   in $f: $(grep -aoF -m1 -- "$secret" "$f" | head -1) <- $(f=${f##*/}; cat "$tmp/cmds/${f%.*}" 2>/dev/null)"; done
left=$(find "$tmp" -name '*.partial-*' | wc -l)
check "no staging folder left behind" [ "$left" = 0 ]
check "the hostile server did get the secret (so it was sent)" grep -qF -- "$secret" "$tmp/hostile.log"
check "the targets hold the server's manifest without the headers" bash -c '! grep -qF -- "$1" "$2"/.chroma-migrate.json' _ "$secret" "$tmp/dir-from-server"
check "the failures said why (401 named)" grep -lq "401" "$tmp"/runs/*.err

suite_end secrets
