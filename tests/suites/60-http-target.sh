#!/usr/bin/env bash
# The Chroma server target (--to http[s]://...), against real parts:
#  - every real legacy store migrated into the real Chroma 1.0 server (npm
#    bindings 1.0.5), each into its own database (--database), then compared
#    exactly through the official JS client (tests/node/check-migrated.mjs --url);
#  - a generated store big enough to take several seconds: the migration
#    SIGKILLed at several points and rerun with --resume (exact counts, no
#    duplicates, nothing sent twice), and the server killed and restarted in
#    the middle of a run (retries finish the job);
#  - Debian's nginx in front of the server, serving TLS with a certificate from
#    a test CA made here, answering 401 without the right token: the right token
#    works, a missing or wrong one gives one clear line, an untrusted certificate
#    is refused unless --cacert or --insecure, and the token never appears in
#    any output;
#  - v1 code paths against tests/http/v1-standin.mjs, which answers as the
#    recorded chromadb 0.4.x exchanges do (errors included).
# Prints "http-target: N passed, N failed".
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
root=$PWD
bin=$root/${CM_BIN:-build-san/chroma-migrate}
fixtures=$root/../shared/fixtures/legacy
small=$fixtures/sdan__chatmaps__cafe_data
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
tmp=$(mktemp -d)
pass=0 fail=0
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok   $*"; }
section() { echo "== $* (at ${SECONDS}s)"; }
# CM_HTTP_SECTIONS="1 2 3" runs only those sections; each other one is reported as skipped, never as
# passed (the Chroma 1.5.9 pass of tests/run-all.sh runs the sections whose outcome depends on the server)
want() {
  [ -z "${CM_HTTP_SECTIONS:-}" ] || [[ " $CM_HTTP_SECTIONS " == *" $1 "* ]] && return 0
  echo "skipped (not counted as passed): section $1"; return 1
}
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # description, shell condition (evaluated here)
  if eval "$2"; then ok "$1"; else bad "$1"; fi
}
show() { sed 's/^/     | /' "$1" | tail -n "${2:-15}"; }

# ---------------------------------------------------------------- helpers

. tests/lib/chroma-server.sh # start_chroma, chroma_child, free_port

# v2 database path
v2db() { echo "$1/api/v2/tenants/default_tenant/databases/$2"; }
create_db() { # URL DB
  curl -sf -X POST -H 'Content-Type: application/json' -d "{\"name\":\"$2\"}" \
    "$1/api/v2/tenants/default_tenant/databases" >/dev/null
}
# count of a collection in a v2 database, or -1
coll_count() { # URL DB NAME
  local base id
  base=$(v2db "$1" "$2")
  id=$(curl -s "$base/collections/$3" | python3 -c 'import json,sys
try: print(json.load(sys.stdin)["id"])
except Exception: pass' 2>/dev/null)
  [ -n "$id" ] || { echo -1; return; }
  curl -s "$base/collections/$id/count" || echo -1
}
# waits until FILE has a line matching PATTERN (or the process is gone)
wait_line() { # FILE PATTERN PID
  for _ in $(seq 2400); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
one_line_error() { # FILE: exactly one non-empty line, starting "chroma-migrate:"
  [ "$(grep -c . "$1")" -eq 1 ] && grep -q '^chroma-migrate: ' "$1"
}
# check-migrated against a running server; its own counts go to a log
check_migrated() { # STORE URL DB LABEL [check-migrated options]
  if (cd tests/node && node check-migrated.mjs --store "$1" --url "$2" --database "$3" "${@:5}") >"$tmp/check.log" 2>&1; then
    ok "$4: check-migrated ($(grep -o '[0-9]* passed, [0-9]* failed' "$tmp/check.log" | tail -1))"
  else
    bad "$4: check-migrated"; grep -E 'FAIL|fail|Error' "$tmp/check.log" | head -20 | sed 's/^/     | /'
  fi
}

start_chroma main "$tmp/srv-main" || { echo "http-target: 0 passed, 1 failed"; exit 1; }
url=$CHROMA_URL
echo "Chroma 1.0 server at $url"


# ---------------------------------------------------------------- 1. every fixture
section "1. every fixture"
if want 1; then

i=0
for store in "$fixtures"/*/; do
  name=$(basename "$store")
  i=$((i + 1))
  db="fx$i"
  create_db "$url" "$db" || { bad "$name: create database"; continue; }
  if "$bin" migrate --quiet --from "$store" --to "$url" --database "$db" >"$tmp/m.log" 2>&1; then
    ok "$name: migrated into $url (database $db)"
    check_migrated "$store" "$url" "$db" "$name"
  else
    bad "$name: migrate"; show "$tmp/m.log"
  fi
done

# the summary names the server and its API generation; a second run stops
store=$fixtures/chroma-core__chroma-migrate__test_data_duckdb
create_db "$url" sum
"$bin" migrate --from "$store" --to "$url/" --database sum >"$tmp/sum.out" 2>"$tmp/sum.err"
check "the summary names the server and its API generation" \
  'grep -q "^result: Chroma server 1.0.0 at $url (API v2" "$tmp/sum.out"'
hp=${url#http://}
check "the summary says how to reach the result from Python and JS (its database included)" \
  'grep -qF "chromadb.HttpClient(host=\"${hp%:*}\", port=${hp##*:}, tenant=\"default_tenant\", database=\"sum\")" "$tmp/sum.out" &&
   grep -qF "new ChromaClient({ host: \"${hp%:*}\", port: ${hp##*:}, tenant: \"default_tenant\", database: \"sum\" })" "$tmp/sum.out"'
"$bin" migrate --quiet --from "$store" --to "$url" --database sum >"$tmp/again.out" 2>"$tmp/again.err"
rc=$?
check "an existing collection stops the run (exit 1, one line, names --resume)" \
  '[ $rc -eq 1 ] && one_line_error "$tmp/again.err" && grep -q "already exists" "$tmp/again.err" && grep -q -- --resume "$tmp/again.err"'
"$bin" migrate --from "$store" --to "$url" --database sum --resume --json >"$tmp/res.json" 2>"$tmp/res.err"
check "--resume over a complete migration succeeds and sends nothing again" \
  'python3 -c "import json,sys; sys.exit(json.load(open(\"$tmp/res.json\"))[\"status\"] != \"ok\")" &&
   grep -q "were already on the server and were not sent again" "$tmp/res.err"'
check_migrated "$store" "$url" sum "after --resume of a complete run"
"$bin" migrate --quiet --from "$store" --to "$url" --database no_such_db >"$tmp/nodb.out" 2>&1
check "an unknown database: one line with the server's message" \
  'one_line_error "$tmp/nodb.out" && grep -q "no_such_db" "$tmp/nodb.out"'
fi # section 1

# ---------------------------------------------------------------- 2. SIGKILL + --resume
section "2. SIGKILL + --resume"
if want 2; then

big=$tmp/big
# latent (clustered, like real embeddings): on uniform random 128-d vectors
# Chroma's own HNSW misses some self-queries whoever writes the records
(cd tests/node && node make-store.mjs "$big" --collections 2 --total-rows 30000 --dim 128 --kind latent \
  --space mixed --odd --seed 3 >/dev/null) || bad "make-store 30000 x 128"
echo "     store made (${SECONDS}s)"
mapfile -t bignames < <(node tests/http/store-names.mjs "$big")
bigc0=${bignames[0]:-} bigc1=${bignames[1]:-}
create_db "$url" resume
# The server answers count requests only after the adds queued before them,
# so the kill points come from the migration's own progress: --verbose says
# when it starts writing a collection and each time the server acknowledged a
# batch (of 1000 here); the counts are read after each kill.
run_bg() { # LOG args...
  local log=$1; shift
  "$bin" migrate --verbose --batch-size 1000 --from "$big" --to "$url" --database resume "$@" >"$log.out" 2>"$log.err" &
  BG=$!
}
# kill 1: as soon as the first collection exists
run_bg "$tmp/k1"
wait_line "$tmp/k1.err" "writing '$bigc0'" "$BG"
kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
echo "     SIGKILL 1 (${SECONDS}s): $bigc0 had $(coll_count "$url" resume "$bigc0") records"
# kill 2: in the middle of the first collection
run_bg "$tmp/k2" --resume
wait_line "$tmp/k2.err" "'$bigc0': [0-9]* records added so far" "$BG"
kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
n2=$(coll_count "$url" resume "$bigc0")
echo "     SIGKILL 2 (${SECONDS}s): $bigc0 had $n2 records"
check "SIGKILL 2 came in the middle of the first collection" '[ "$n2" -gt 0 ] && [ "$n2" -lt 15000 ]'
# kill 3: in the second collection
run_bg "$tmp/k3" --resume
wait_line "$tmp/k3.err" "'$bigc1': [0-9]* records added so far" "$BG"
kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
n3=$(coll_count "$url" resume "$bigc1")
echo "     SIGKILL 3 (${SECONDS}s): $bigc1 had $n3 records"
check "SIGKILL 3 came in the middle of the second collection" '[ "$n3" -gt 0 ] && [ "$n3" -lt 15000 ]'
check "the rerun said it resumes" 'grep -q "resuming" "$tmp/k3.err"'
# finish
"$bin" migrate --from "$big" --to "$url" --database resume --resume >"$tmp/k4.out" 2>"$tmp/k4.err"
rc=$?
check "the last --resume run finishes (exit 0, at ${SECONDS}s)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || show "$tmp/k4.err"
check "it did not send again what the server had" 'grep -q "were already on the server and were not sent again" "$tmp/k4.err"'
check_migrated "$big" "$url" resume "after 3 SIGKILLs and --resume"
fi # section 2

# ---------------------------------------------------------------- 3. server restart mid-run
section "3. server restart mid-run"
if want 3; then

start_chroma restart "$tmp/srv-restart" || bad "start a second server"
rurl=$CHROMA_URL rport=${CHROMA_URL##*:} rpid=$CHROMA_PID
"$bin" migrate --verbose --batch-size 1000 --from "$big" --collection "$bigc1" --to "$rurl" >"$tmp/r.out" 2>"$tmp/r.err" &
mig=$!
if wait_line "$tmp/r.err" "'$bigc1': [0-9]* records added so far" "$mig"; then
  child=$(chroma_child "$rpid")
  kill -9 "${child:-$rpid}" 2>/dev/null
  wait "$rpid" 2>/dev/null
  echo "     server killed at $(date +%T); restarting in 3 s"
  sleep 3
  start_chroma restart2 "$tmp/srv-restart" "$rport" || bad "restart the server on port $rport"
fi
wait "$mig"
rc=$?
check "the migration rides out the server restart (exit 0, at ${SECONDS}s)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || show "$tmp/r.err"
check "it said it was retrying" 'grep -q "retrying in" "$tmp/r.err"'
check_migrated "$big" "$rurl" default_database "after a server restart" --collection "$bigc1"
fi # section 3

# ---------------------------------------------------------------- 4. nginx + TLS + token
section "4. nginx + TLS + token"
if want 4; then

token="tok-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pki=$tmp/pki
mkdir -p "$pki"
(
  cd "$pki" &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=chroma-migrate test CA' &&
    openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >ext.cnf &&
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf
) >"$tmp/openssl.log" 2>&1 || { bad "make a test CA and server certificate"; show "$tmp/openssl.log"; }
nport=$(free_port)
mkdir -p "$tmp/nginx"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  client_max_body_size 64m;
  upstream chroma { server ${url#http://}; keepalive 8; }
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $pki/srv.pem;
    ssl_certificate_key $pki/srv.key;
    default_type application/json;
    location / {
      if (\$http_authorization != "Bearer $token") {
        return 401 '{"error":"AuthError","message":"Unauthorized"}';
      }
      proxy_pass http://chroma;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
nginx -c "$tmp/nginx.conf" >"$tmp/nginx.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sk "https://127.0.0.1:$nport/" >/dev/null 2>&1 && break; sleep 0.1; done
surl="https://127.0.0.1:$nport"
create_db "$url" tls1
create_db "$url" tls2
outs=()
tls() { # LABEL args... -> $tmp/tls-LABEL.{out,err}, rc in TLS_RC
  local l=$1; shift
  "$bin" migrate --from "$small" --to "$surl" "$@" >"$tmp/tls-$l.out" 2>"$tmp/tls-$l.err"
  TLS_RC=$?
  outs+=("$tmp/tls-$l.out" "$tmp/tls-$l.err")
}
tls right --cacert "$pki/ca.pem" --header "Authorization: Bearer $token" --database tls1 --verbose
check "right token + --cacert: migrated through nginx (TLS)" '[ $TLS_RC -eq 0 ]'
[ $TLS_RC -eq 0 ] || show "$tmp/tls-right.err"
# verify first: check_migrated below adds, changes and deletes records through the client
"$bin" verify --from "$small" --to "$surl" --cacert "$pki/ca.pem" --header "Authorization: Bearer $token" \
  --database tls1 --sample 20 >"$tmp/tls-verify.out" 2>"$tmp/tls-verify.err"
vrc=$?
outs+=("$tmp/tls-verify.out" "$tmp/tls-verify.err")
check "verify through nginx (TLS + token + --database) passes" \
  '[ $vrc -eq 0 ] && grep -q "matches the source record for record" "$tmp/tls-verify.out"'
[ $vrc -eq 0 ] || { show "$tmp/tls-verify.out" 30; show "$tmp/tls-verify.err"; }
"$bin" verify --from "$small" --to "$surl" --cacert "$pki/ca.pem" --database tls1 >"$tmp/tls-verify-401.out" 2>"$tmp/tls-verify-401.err"
vrc=$?
check "verify without the token: exit 1 with one clear line" \
  '[ $vrc -eq 1 ] && one_line_error "$tmp/tls-verify-401.err" && grep -q "401" "$tmp/tls-verify-401.err"'
check_migrated "$small" "$url" tls1 "through nginx + TLS"
"$bin" verify --from "$small" --to "$surl" --cacert "$pki/ca.pem" --header "Authorization: Bearer $token" \
  --database tls1 --json >"$tmp/tls-verify-after.out" 2>"$tmp/tls-verify-after.err"
vrc=$?
outs+=("$tmp/tls-verify-after.out" "$tmp/tls-verify-after.err")
check "verify finds check-migrated's writes through the JS client (exit 3: 20 extra, a delete, an update)" \
  '[ $vrc -eq 3 ] && python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[\"collections\"][0]; assert c[\"extra\"]==20 and c[\"missing\"]>=1 and c[\"different\"]>=1, c" "$tmp/tls-verify-after.out"'
tls json --insecure --headers "{\"Authorization\": \"Bearer $token\"}" --database tls2 --json
check "--headers JSON + --insecure: migrated" '[ $TLS_RC -eq 0 ]'
check_migrated "$small" "$url" tls2 "--headers JSON + --insecure"
printf '{"Authorization": "Bearer %s"}' "$token" >"$tmp/headers.json"
tls file --cacert "$pki/ca.pem" --headers "@$tmp/headers.json" --database tls2 --resume --quiet
check "--headers @FILE works (a --resume of that run)" '[ $TLS_RC -eq 0 ]'
tls missing --cacert "$pki/ca.pem" --database tls1
check "missing token: exit 1 with one clear line" \
  '[ $TLS_RC -eq 1 ] && one_line_error "$tmp/tls-missing.err" && grep -q "401 Unauthorized" "$tmp/tls-missing.err" && grep -q -- --header "$tmp/tls-missing.err"'
tls wrong --cacert "$pki/ca.pem" --header 'Authorization: Bearer wrong-token-123' --database tls1
check "wrong token: exit 1 with one clear line naming the header, not its value" \
  '[ $TLS_RC -eq 1 ] && one_line_error "$tmp/tls-wrong.err" && grep -q "header .Authorization." "$tmp/tls-wrong.err" && ! grep -q wrong-token-123 "$tmp/tls-wrong.err"'
tls untrusted --header "Authorization: Bearer $token" --database tls1
check "an untrusted certificate is refused (one line, names --cacert)" \
  '[ $TLS_RC -eq 1 ] && one_line_error "$tmp/tls-untrusted.err" && grep -q certificate "$tmp/tls-untrusted.err" && grep -q -- --cacert "$tmp/tls-untrusted.err"'
tls untrusted-json --header "Authorization: Bearer $token" --database tls1 --json
check "the --json report of a refused run is one JSON object with the error" \
  'python3 -c "import json; d=json.load(open(\"$tmp/tls-untrusted-json.out\")); assert d[\"status\"]==\"failed\" and \"certificate\" in d[\"error\"]"'
check "the token appears in no output (${#outs[@]} files)" '! grep -l -F "$token" "${outs[@]}"'
fi # section 4

# ---------------------------------------------------------------- 5. v1 (stand-in for chromadb 0.4.x)
section "5. v1 (stand-in for chromadb 0.4.x)"
if want 5; then

start_standin() { # LABEL args... -> SURL
  node tests/http/v1-standin.mjs --log "$tmp/$1.req" "${@:2}" >"$tmp/$1.sout" 2>&1 &
  pids+=($!)
  SPID=$!
  SURL=
  for _ in $(seq 100); do
    SURL=$(sed -n 's|^v1-standin: listening on \(http://[0-9.:]*\).*|\1|p' "$tmp/$1.sout")
    [ -n "$SURL" ] && break
    sleep 0.05
  done
}
v1tok=v1-secret-token-42
start_standin v1 --token "$v1tok" --max-batch 300 --fail-every 7
store=$fixtures/chroma-core__chroma-migrate__test_data_duckdb
"$bin" migrate --from "$store" --to "$SURL" --header "Authorization: Bearer $v1tok" >"$tmp/v1.out" 2>"$tmp/v1.err"
rc=$?
check "v1 (0.4.24): migrated, riding out 503s" '[ $rc -eq 0 ] && grep -q "retrying in" "$tmp/v1.err"'
[ $rc -eq 0 ] || show "$tmp/v1.err"
check "v1: the summary says API v1" 'grep -q "Chroma server 0.4.24 at .* (API v1)" "$tmp/v1.err"'
if (cd tests/http && node check-standin.mjs --store "$store" --url "$SURL") >"$tmp/cs.log" 2>&1; then
  ok "v1: content exact ($(tail -1 "$tmp/cs.log"))"
else
  bad "v1: content"; show "$tmp/cs.log" 20
fi
check "v1: tenant and database sent as query parameters" \
  'grep -q "POST /api/v1/collections?tenant=default_tenant&database=default_database" "$tmp/v1.req"'
check "v1: no batch above max_batch_size" '! grep -q exceeds "$tmp/v1.err"'
check "v1: nothing sent to /api/v2 but the probe" '[ "$(grep -c /api/v2 "$tmp/v1.req")" -eq 1 ]'
"$bin" migrate --quiet --from "$store" --to "$SURL" --header "Authorization: Bearer $v1tok" >"$tmp/v1b.out" 2>&1
check "v1: an existing collection (500 UniqueConstraintError) stops the run" 'grep -q "already exists on" "$tmp/v1b.out"'
adds_before=$(grep -c '/add$' "$tmp/v1.req")
"$bin" migrate --from "$store" --to "$SURL" --header "Authorization: Bearer $v1tok" --resume >"$tmp/v1c.out" 2>"$tmp/v1c.err"
rc=$?
check "v1: --resume of a complete run sends no add" '[ $rc -eq 0 ] && [ "$(grep -c "/add$" "$tmp/v1.req")" -eq "$adds_before" ]'
"$bin" migrate --quiet --from "$store" --to "$SURL" >"$tmp/v1d.out" 2>&1
check "v1: no token: one line (401 AuthorizationError)" \
  'one_line_error "$tmp/v1d.out" && grep -q "AuthorizationError: Unauthorized" "$tmp/v1d.out"'
# a refused batch: the server's own message, the collection and the first id of the batch
one=$fixtures/sdan__chatmaps__cafe_data
cname=$(node tests/http/store-names.mjs "$one" | head -1)
cid=$(curl -s -X POST -H "Authorization: Bearer $v1tok" -H 'Content-Type: application/json' \
  -d "{\"name\":\"$cname\"}" "$SURL/api/v1/collections" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -s -X POST -H "Authorization: Bearer $v1tok" -H 'Content-Type: application/json' \
  -d '{"ids":["x"],"embeddings":[[1.0,2.0]]}' "$SURL/api/v1/collections/$cid/add" >/dev/null
"$bin" migrate --quiet --from "$one" --to "$SURL" --header "Authorization: Bearer $v1tok" --on-existing append >"$tmp/v1e.out" 2>&1
check "v1: a refused batch stops with the server's message, the collection and the first id" \
  'grep -q "Embedding dimension [0-9]* does not match collection dimensionality 2" "$tmp/v1e.out" && grep -q "collection .$cname., batch of [0-9]* records from id ." "$tmp/v1e.out"'
check "v1: the token appears in no output" '! grep -l -F "$v1tok" "$tmp"/v1*.out "$tmp"/v1*.err'
kill "$SPID" 2>/dev/null

start_standin v1old --version 0.4.10
"$bin" migrate --quiet --from "$small" --to "$SURL" >"$tmp/old.out" 2>&1
rc=$?
check "v1 before 0.4.15: migrated" '[ $rc -eq 0 ]'
check "v1 before 0.4.15: no tenant/database parameters sent" '! grep -q "tenant=" "$tmp/v1old.req"'
if (cd tests/http && node check-standin.mjs --store "$small" --url "$SURL") >"$tmp/cs2.log" 2>&1; then
  ok "v1 before 0.4.15: content exact"; else bad "v1 before 0.4.15: content"; show "$tmp/cs2.log"; fi
"$bin" migrate --quiet --from "$small" --to "$SURL" --database other >"$tmp/old2.out" 2>&1
check "v1 before 0.4.15: --database refused in one line" \
  'one_line_error "$tmp/old2.out" && grep -q "no tenants or databases" "$tmp/old2.out"'
kill "$SPID" 2>/dev/null
start_standin v03 --version 0.3.29
"$bin" migrate --quiet --from "$small" --to "$SURL" >"$tmp/v03.out" 2>&1
check "a 0.3.x server is refused in one line" 'one_line_error "$tmp/v03.out" && grep -q 0.3.29 "$tmp/v03.out"'
kill "$SPID" 2>/dev/null
fi # section 5

# ---------------------------------------------------------------- 6. options
section "6. options"
if want 6; then

"$bin" migrate --quiet --from "$small" --to "$tmp/dir-out" --resume >"$tmp/o1.out" 2>&1
check "--resume with a directory target is refused" 'grep -q -- "--resume applies to a Chroma server" "$tmp/o1.out"'
"$bin" migrate --quiet --from "$small" --to "$url" --header 'Bearer s3cr3t-no-colon' >"$tmp/o2.out" 2>&1
rc=$?
check "a --header without ':' is a usage error that does not show it" '[ $rc -eq 2 ] && ! grep -q s3cr3t "$tmp/o2.out"'
"$bin" migrate --quiet --from "$small" --to "http://user:s3cr3t@127.0.0.1:1" >"$tmp/o3.out" 2>&1
check "credentials in the URL are refused without showing them" \
  'grep -q credentials "$tmp/o3.out" && ! grep -q s3cr3t "$tmp/o3.out"'
"$bin" migrate --quiet --from "$small" --to "$url" --jobs 0 >"$tmp/o4.out" 2>&1
rc=$?
check "--jobs 0 is a usage error (exit 2)" '[ $rc -eq 2 ]'
fi # section 6

# ---------------------------------------------------------------- 7. a faulty proxy, lost answers, Ctrl-C
section "7. a faulty proxy, lost answers, Ctrl-C"
if want 7; then

# tests/http/faulty-proxy.py: a bounded proxy on 127.0.0.1 in front of the real server
start_proxy() { # LABEL options... -> PURL, PROXY (its pid); its log in $tmp/LABEL.plog
  rm -f "$tmp/$1.port"
  python3 tests/http/faulty-proxy.py "$url" "$tmp/$1.port" --log "$tmp/$1.plog" --lifetime 300 "${@:2}" &
  PROXY=$!
  pids+=("$PROXY")
  for _ in $(seq 100); do [ -s "$tmp/$1.port" ] && break; sleep 0.05; done
  PURL=http://127.0.0.1:$(cat "$tmp/$1.port" 2>/dev/null)
}
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }
cnt0() { local n; n=$(coll_count "$@"); [ "$n" -lt 0 ] 2>/dev/null && n=0; echo "$n"; }
fstore=$tmp/fstore
(cd tests/node && node make-store.mjs "$fstore" --collections 2 --total-rows 6000 --dim 32 --kind latent \
  --space mixed --seed 5 >/dev/null) || bad "make-store 6000 x 32"
mapfile -t fnames < <(node tests/http/store-names.mjs "$fstore")

# 7a. 1 request in 20 answered 500, half of them after the server did the work
create_db "$url" flaky
start_proxy flaky --fail-every 20
"$bin" migrate --json --batch-size 100 --from "$fstore" --to "$PURL" --database flaky >"$tmp/flaky.json" 2>"$tmp/flaky.err"
rc=$?
kill "$PROXY" 2>/dev/null
check "a proxy failing 1 request in 20 with 500: the run completes (exit 0)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || show "$tmp/flaky.err"
check "  the proxy answered 500 before and after forwarding, and those were retried" \
  'grep -q "500 (not forwarded)" "$tmp/flaky.plog" && grep -q "500 (forwarded: 201)" "$tmp/flaky.plog" &&
   grep -q "answered 500 Internal Server Error; retrying in" "$tmp/flaky.err"'
check "  --json written is what the server holds (3000 + 3000)" \
  '[ "$(jget "$tmp/flaky.json" "[c[\"written\"] for c in d[\"collections\"]]")" = "[3000, 3000]" ] &&
   [ "$(coll_count "$url" flaky "${fnames[0]}") $(coll_count "$url" flaky "${fnames[1]}")" = "3000 3000" ]'
check_migrated "$fstore" "$url" flaky "through a proxy failing 1 request in 20"

# 7b. the backend stays down behind the proxy (500 from request 30 on)
create_db "$url" down
start_proxy down --fail-from 30
"$bin" migrate --json --batch-size 100 --from "$fstore" --to "$PURL" --database down >"$tmp/down.json" 2>"$tmp/down.err"
rc=$?
kill "$PROXY" 2>/dev/null
n0=$(cnt0 "$url" down "${fnames[0]}")
w0=$(jget "$tmp/down.json" 'd["collections"][0]["written"]')
check "500 that does not pass: the run stops after 5 attempts (exit 1)" \
  '[ $rc -eq 1 ] && grep -q "500 Internal Server Error.*after 5 attempts" "$tmp/down.err"'
check "  --json written ($w0) is what the server holds ($n0), nothing in doubt" \
  '[ "$n0" -gt 0 ] && [ "$w0" = "$n0" ] && [ "$(jget "$tmp/down.json" "d[\"records_written\"]")" = "$n0" ] &&
   [ "$(jget "$tmp/down.json" "d[\"records_in_doubt\"]")" = 0 ] && [ "$(jget "$tmp/down.json" "d[\"target_keeps_partial_writes\"]")" = True ]'
check "  the error line says what the server acknowledged" \
  'grep -q "the server acknowledged $n0 records before the stop: .${fnames[0]}. $n0" "$tmp/down.err"'
"$bin" migrate --json --from "$fstore" --to "$url" --database down --resume >"$tmp/down2.json" 2>"$tmp/down2.err"
check "  --resume then writes $((6000 - n0)) and finds $n0 already there" \
  '[ "$(jget "$tmp/down2.json" "[d[\"records_written\"], d[\"records_already_on_target\"]]")" = "[$((6000 - n0)), $n0]" ]'
"$bin" migrate --from "$fstore" --to "$url" --database down --resume >"$tmp/down3.out" 2>"$tmp/down3.err"
check "  a --resume that sends nothing says 0 written, 6000 already there" \
  'grep -q "6000 records read, 0 written, 6000 already there" "$tmp/down3.out"'
check_migrated "$fstore" "$url" down "after a stop on 500s and --resume"

# 7c. 429 with Retry-After: 1 on every 7th request
create_db "$url" slow
start_proxy slow --throttle-every 7
"$bin" migrate --batch-size 500 --from "$fstore" --to "$PURL" --database slow >"$tmp/slow.out" 2>"$tmp/slow.err"
rc=$?
kill "$PROXY" 2>/dev/null
check "429 + Retry-After: waited the second asked for, completed" \
  '[ $rc -eq 0 ] && grep -q "answered 429 Too Many Requests; retrying in 1.0 s" "$tmp/slow.err" &&
   [ "$(coll_count "$url" slow "${fnames[0]}") $(coll_count "$url" slow "${fnames[1]}")" = "3000 3000" ]'

# 7d. the answer to create-collection lost after the server created it
create_db "$url" lost
start_proxy lost --drop-create
"$bin" migrate --from "$fstore" --to "$PURL" --database lost >"$tmp/lost.out" 2>"$tmp/lost.err"
rc=$?
kill "$PROXY" 2>/dev/null
check "a lost answer to create-collection: the run recognises its own collection (exit 0)" \
  '[ $rc -eq 0 ] && grep -q "collections -> dropped (forwarded: 200)" "$tmp/lost.plog" && grep -q "created by this run" "$tmp/lost.err"'
[ $rc -eq 0 ] || show "$tmp/lost.err"
check_migrated "$fstore" "$url" lost "after a lost create answer"
create_db "$url" lost2
curl -s -X POST -H 'Content-Type: application/json' -d "{\"name\":\"${fnames[0]}\",\"metadata\":{\"hnsw:space\":\"l2\"}}" \
  "$(v2db "$url" lost2)/collections" >/dev/null
"$bin" migrate --quiet --from "$fstore" --to "$url" --database lost2 >"$tmp/lost2.out" 2>&1
check "  an empty collection that was there before the run still needs --resume" \
  'one_line_error "$tmp/lost2.out" && grep -q "already exists" "$tmp/lost2.out"'

# 7e. Ctrl-C (a real SIGINT) in the middle of a run
istore=$tmp/istore
(cd tests/node && node make-store.mjs "$istore" --collections 2 --total-rows 20000 --dim 64 --kind latent \
  --space mixed --seed 9 >/dev/null) || bad "make-store 20000 x 64"
mapfile -t inames < <(node tests/http/store-names.mjs "$istore")
create_db "$url" sigint
"$bin" migrate --json --verbose --batch-size 500 --from "$istore" --to "$url" --database sigint >"$tmp/int.json" 2>"$tmp/int.err" &
mig=$!
wait_line "$tmp/int.err" "'${inames[0]}': [0-9]* records added so far" "$mig"
kill -INT "$mig" 2>/dev/null
wait "$mig"
rc=$?
n0=$(cnt0 "$url" sigint "${inames[0]}") n1=$(cnt0 "$url" sigint "${inames[1]}")
echo "     SIGINT: the server holds $n0 + $n1 records"
check "Ctrl-C mid-run: exit 130, and the error line says what the server acknowledged" \
  '[ $rc -eq 130 ] && ! grep -q "nothing was written" "$tmp/int.err" &&
   grep -q "interrupted; the server acknowledged $((n0 + n1)) records before the stop" "$tmp/int.err"'
check "  --json written per collection is what the server holds" \
  '[ "$n0" -gt 0 ] && [ "$(jget "$tmp/int.json" "[c[\"written\"] for c in d[\"collections\"]]")" = "[$n0, $n1]" ]'
"$bin" migrate --quiet --from "$istore" --to "$url" --database sigint --resume >"$tmp/int2.out" 2>&1
rc=$?
check "  --resume finishes it (exit 0)" '[ $rc -eq 0 ]'
check_migrated "$istore" "$url" sigint "after Ctrl-C and --resume"
fi # section 7

section "done"
echo "http-target: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
