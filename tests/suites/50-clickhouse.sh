#!/usr/bin/env bash
# The ClickHouse source (clickhouse://) against a real ClickHouse: Debian's clickhouse-server 18.16
# started as a plain process on 127.0.0.1 with its config in a temporary folder
# (tests/clickhouse/server.sh), loaded with ../shared/fixtures/clickhouse, a database chromadb 0.3.29
# wrote. Checks:
#   - inspect --json: the 4 collections, their uuids, records and distinct ids (1200, 300, 150 with
#     145 ids, 0); the location never shows a password;
#   - export equals expected.jsonl record for record, in order (tests/clickhouse/compare-export.py);
#   - migrate into a persistent directory, checked through the real Chroma 1.0 server and its JS
#     client against expected.jsonl (turned into a legacy store by DuckDB,
#     tests/node/jsonl-to-legacy-store.mjs, then tests/node/check-migrated.mjs), with
#     --duplicates first and last (order = insertion order);
#   - credentials: percent-encoded password in the URL, CLICKHOUSE_PASSWORD, never printed;
#     a database name that needs percent-encoding;
#   - every error: unreachable server, wrong password, unknown user, no such database, missing
#     tables, tables of another schema, orphaned records, an error ClickHouse reports in the middle
#     of an answer, truncated / broken / malformed answers (tests/clickhouse/faulty-proxy.py),
#     a read-only user, the native TCP port, https against an http port, malformed URLs.
# CM_BIN picks the binary (default build-san/chroma-migrate). Prints "clickhouse: N passed, N failed".
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
root=$PWD
bin=${CM_BIN:-build-san/chroma-migrate}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
fixture=$(cd ../shared/fixtures/clickhouse 2>/dev/null && pwd) || { echo "no ../shared/fixtures/clickhouse"; echo "clickhouse: 0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cm-ch-suite.XXXXXX")
proxy_pid=
. tests/clickhouse/server.sh
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  ch_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then ok; else bad "$name"; fi
}
finish() {
  echo "clickhouse: $pass passed, $fail failed"
  ((fail == 0))
  exit $?
}

command -v clickhouse-server >/dev/null || { bad "clickhouse-server is not installed (scripts/install-test-deps.sh)"; finish; }
[ -x "$bin" ] || { bad "no $bin (make san)"; finish; }
# HTTPS too, with a certificate from a private CA made here (issue 15, item 10)
mkdir -p "$tmp/tls"
( cd "$tmp/tls" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=cm test CA" \
  && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" \
  && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext.cnf \
  && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf ) \
  >"$tmp/tls/openssl.log" 2>&1 || { cat "$tmp/tls/openssl.log"; bad "openssl could not make the test CA"; finish; }
export CH_TLS_CERT=$tmp/tls/srv.pem CH_TLS_KEY=$tmp/tls/srv.key
if ! ch_start "$tmp/ch"; then bad "clickhouse-server did not start"; finish; fi
P=$CH_HTTP_PORT
url="clickhouse://127.0.0.1:$P"
echo "-- ClickHouse $(ch_query 'SELECT version()') on 127.0.0.1:$P (pid $CH_PID)"
if ! (cd "$fixture" && ./load.sh "$P") >"$tmp/load.log" 2>&1; then cat "$tmp/load.log"; bad "load.sh"; finish; fi
ok

sq() { ch_query "$1" >"$tmp/sq" 2>&1 || bad "setup query failed: ${1:0:100}: $(head -c 300 "$tmp/sq")"; }

# expect_fail NAME PATTERN COMMAND... : exit status 1, stderr matches the extended regex PATTERN
expect_fail() {
  local name=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 1 ] && grep -Eq -- "$pat" "$tmp/err"; then
    ok
    echo "   $name: $(head -c 400 "$tmp/err")"
  else
    bad "$name: exit $rc, stderr: $(head -c 600 "$tmp/err"), want /$pat/"
  fi
  cat "$tmp/out" "$tmp/err" >>"$tmp/all-output"
}
run() { # COMMAND... : runs, keeps output for the password scan, returns its status
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  cat "$tmp/out" "$tmp/err" >>"$tmp/all-output"
  [ $rc -eq 0 ] || { echo "   exit $rc: $*"; head -c 1500 "$tmp/err"; }
  return $rc
}

# ---------------------------------------------------------------- inspect
echo "-- inspect"
if run "$bin" inspect --quiet --json "$url"; then
  ok
  cp "$tmp/out" "$tmp/inspect.json"
  python3 - "$tmp/inspect.json" "$fixture/collections.tsv" >"$tmp/py" 2>&1 <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
uuids = {l.split('\t')[1]: l.split('\t')[0] for l in open(sys.argv[2], encoding='utf-8') if l.strip()}
want = {'docs_l2': (1200, 1200, 32), 'docs_cosine': (300, 300, 384), 'mixed': (150, 145, 8), 'empty_one': (0, 0, None)}
bad = []
got = {c['name']: c for c in j['collections']}
if set(got) != set(want): bad.append(f'collections {sorted(got)}')
for n, (recs, ids, dim) in want.items():
    c = got.get(n)
    if not c: continue
    if (c['records'], c['unique_ids']) != (recs, ids): bad.append(f'{n}: {c["records"]} records, {c["unique_ids"]} ids')
    if c['id'] != uuids[n]: bad.append(f'{n}: id {c["id"]} != {uuids[n]}')
    if dim is not None and c.get('dimension') != dim: bad.append(f'{n}: dimension {c.get("dimension")}')
if j['records'] != 1650: bad.append(f'records {j["records"]}')
if j['source']['location'] != sys.argv[1] and not j['source']['location'].startswith('clickhouse://127.0.0.1:'): bad.append('location ' + j['source']['location'])
if 'ClickHouse 18.16' not in (j['source']['notes'] or '') or 'storage order' not in j['source']['notes']: bad.append('notes ' + str(j['source']['notes']))
print('\n'.join(bad) if bad else 'ok')
EOF
  check "inspect --json: $(cat "$tmp/py")" grep -qx ok "$tmp/py"
else
  bad "inspect --json"
fi
check "inspect (text)" run "$bin" inspect --quiet "$url/"
check "inspect text names every collection" grep -q "docs_cosine" "$tmp/out"

# ---------------------------------------------------------------- export
echo "-- export vs expected.jsonl"
if run "$bin" export "$url/default"; then
  ok
  cp "$tmp/out" "$tmp/export.jsonl"
  python3 tests/clickhouse/compare-export.py "$tmp/export.jsonl" "$fixture/expected.jsonl" >"$tmp/cmp" 2>&1
  sed 's/^/   /' "$tmp/cmp" # indented: run-all.sh counts only this suite's own closing line
  check "export equals expected.jsonl" grep -q "export-vs-expected: [0-9]* passed, 0 failed" "$tmp/cmp"
else
  bad "export"
fi
if run "$bin" export --collection mixed "$url"; then
  check "export --collection mixed: 150 rows" [ "$(wc -l <"$tmp/out")" = 150 ]
else
  bad "export --collection mixed"
fi

# ---------------------------------------------------------------- migrate + real Chroma
echo "-- migrate, checked through the real Chroma 1.0 server"
expect_fail "migrate refuses the 1e300 embedding without --skip-invalid-records" "d-00000.*not a finite float32|not a finite float32.*d-00000" \
  "$bin" migrate --quiet --from "$url" --to "$tmp/refused"
check "nothing written when refused" [ ! -e "$tmp/refused" ]
store="$tmp/oracle-store"
if (cd tests/node && node jsonl-to-legacy-store.mjs "$fixture" "$store") >"$tmp/conv.log" 2>&1; then
  ok
  for dup in first last; do
    out="$tmp/migrated-$dup"
    if run "$bin" migrate --quiet --from "$url" --to "$out" --skip-invalid-records --duplicates "$dup"; then
      ok
      extra=()
      [ "$dup" = last ] && extra=(--no-writes)
      (cd tests/node && node check-migrated.mjs --store "$store" --dir "$out" --skip-invalid-records \
        --duplicates "$dup" "${extra[@]}") >"$tmp/check-$dup.log" 2>&1
      rc=$?
      grep -E '^(FAIL|collection |check-migrated:)' "$tmp/check-$dup.log" | sed "s/^/   [$dup] /"
      check "check-migrated (--duplicates $dup)" [ $rc -eq 0 ]
      check "check-migrated ran (--duplicates $dup)" grep -Eq "check-migrated: [1-9][0-9]* passed, 0 failed" "$tmp/check-$dup.log"
    else
      bad "migrate --duplicates $dup"
    fi
  done
else
  cat "$tmp/conv.log"
  bad "jsonl-to-legacy-store"
fi

# ---------------------------------------------------------------- credentials
echo "-- credentials"
pw=$CH_TEST_PASSWORD
pwenc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$pw")
if run "$bin" inspect --quiet --json "clickhouse://chroma:$pwenc@127.0.0.1:$P/default"; then
  ok
  check "location masks the password" grep -q '"location":"clickhouse://chroma:\*\*\*@127.0.0.1:'"$P"'/default"' "$tmp/out"
else
  bad "user with a percent-encoded password"
fi
check "CLICKHOUSE_PASSWORD" run env CLICKHOUSE_PASSWORD="$pw" "$bin" inspect --quiet "clickhouse://chroma@127.0.0.1:$P"
expect_fail "wrong password" "refused user 'chroma'.*Code 193.*check the user and password" \
  "$bin" inspect --quiet "clickhouse://chroma:not-it@127.0.0.1:$P/"
expect_fail "wrong password from CLICKHOUSE_PASSWORD" "refused user 'chroma'.*Code 193" \
  env CLICKHOUSE_PASSWORD=wrong "$bin" inspect --quiet "clickhouse://chroma@127.0.0.1:$P/"
expect_fail "password missing" "refused user 'chroma'.*Code 19[34]" "$bin" inspect --quiet "clickhouse://chroma@127.0.0.1:$P/"
expect_fail "unknown user" "refused user 'nobody'.*Code (192|516)" "$bin" inspect --quiet "clickhouse://nobody@127.0.0.1:$P/"
# percent-decoding of the database name
(cd "$fixture" && CH_DATABASE="chroma db" ./load.sh "$P") >"$tmp/load2.log" 2>&1 || { cat "$tmp/load2.log"; bad "load.sh into 'chroma db'"; }
if run "$bin" inspect --quiet --json "clickhouse://127.0.0.1:$P/chroma%20db"; then
  check "database 'chroma db' (percent-encoded)" grep -q '"records":1650}' "$tmp/out"
else
  bad "database 'chroma db'"
fi

# ---------------------------------------------------------------- databases that are not chroma's
echo "-- schema errors"
emb_cols="collection_uuid UUID, uuid UUID, embedding Array(Float64), document Nullable(String), id Nullable(String), metadata Nullable(String)"
sq "CREATE DATABASE emptydb"
sq "CREATE DATABASE halfdb"
sq "CREATE TABLE halfdb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE halfdb.notes (x String) ENGINE = Memory"
sq "CREATE DATABASE otherdb"
sq "CREATE TABLE otherdb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE otherdb.embeddings (collection_uuid UUID, uuid UUID, embedding Array(Float32), document Nullable(String), id Nullable(String), metadata Nullable(String)) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "CREATE DATABASE nodocdb"
sq "CREATE TABLE nodocdb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE nodocdb.embeddings (collection_uuid UUID, uuid UUID, embedding Array(Float64), id Nullable(String), metadata Nullable(String)) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "CREATE DATABASE orphandb"
sq "CREATE TABLE orphandb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE orphandb.embeddings ($emb_cols) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "INSERT INTO orphandb.collections VALUES ('11111111-1111-4111-8111-111111111111', 'kept', 'null')"
sq "INSERT INTO orphandb.embeddings VALUES ('11111111-1111-4111-8111-111111111111', '00000000-0000-4000-8000-000000000001', [1.0, 2.0], 'a', 'a', NULL), ('22222222-2222-4222-8222-222222222222', '00000000-0000-4000-8000-000000000002', [1.0, 2.0], 'b', 'b', NULL), ('22222222-2222-4222-8222-222222222222', '00000000-0000-4000-8000-000000000003', [3.0, 4.0], 'c', 'c', NULL)"
expect_fail "no such database (Code 81)" "has no database 'nodb' \(Code 81.*check the /DATABASE part" "$bin" inspect --quiet "$url/nodb"
expect_fail "missing tables (empty database)" "database 'emptydb' has neither table 'collections' nor 'embeddings'.*not a chroma 0.3.x database" \
  "$bin" inspect --quiet "$url/emptydb"
expect_fail "missing table embeddings" "database 'halfdb' has no table 'embeddings'.*its tables: 'collections', 'notes'" \
  "$bin" inspect --quiet "$url/halfdb"
expect_fail "another schema (Array(Float32))" "column otherdb.embeddings.embedding is Array\(Float32\), but chroma 0.3.x wrote Array\(Float64\)" \
  "$bin" inspect --quiet "$url/otherdb"
expect_fail "another schema (no document column)" "table nodocdb.embeddings has no column 'document'" \
  "$bin" inspect --quiet "$url/nodocdb"
expect_fail "orphaned records" "2 records in orphandb.embeddings belong to collection uuid 22222222-2222-4222-8222-222222222222, which is not in orphandb.collections" \
  "$bin" inspect --quiet "$url/orphandb"
# chromadb 0.3.0 created embeddings.metadata as String (0.3.1 made it Nullable(String), and later
# releases never alter an existing table): such a database is read, its metadata intact.
sq "CREATE DATABASE v030db"
sq "CREATE TABLE v030db.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE v030db.embeddings (collection_uuid UUID, uuid UUID, embedding Array(Float64), document Nullable(String), id Nullable(String), metadata String) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "INSERT INTO v030db.collections VALUES ('66666666-6666-4666-8666-666666666666', 'old', 'null')"
sq "INSERT INTO v030db.embeddings VALUES ('66666666-6666-4666-8666-666666666666', '00000000-0000-4000-8000-000000000021', [1.0, 2.0], 'd1', 'o1', '{\"k\": 7, \"s\": \"x\"}'), ('66666666-6666-4666-8666-666666666666', '00000000-0000-4000-8000-000000000022', [3.0, 4.0], NULL, 'o2', 'null')"
if run "$bin" export "$url/v030db"; then
  check "chromadb 0.3.0 schema (metadata String): export reads both records with their metadata" python3 -c '
import json, sys
rows = {r["id"]: r for r in map(json.loads, open(sys.argv[1]))}
ok = set(rows) == {"o1", "o2"} and rows["o1"]["metadata"] == {"k": 7, "s": "x"} and rows["o1"]["document"] == "d1"
ok = ok and rows["o2"].get("metadata") in (None, {}) and rows["o2"]["embedding"] == [3.0, 4.0]
sys.exit(0 if ok else 1)' "$tmp/out"
else
  bad "chromadb 0.3.0 schema (metadata String): export failed: $(head -c 300 "$tmp/err")"
fi
# Code 60 from the server itself: `embeddings` is a view whose table is gone, so system.columns
# still lists chroma's columns but reading it fails with "Table ... doesn't exist".
sq "CREATE DATABASE gonedb"
sq "CREATE TABLE gonedb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE gonedb.t ($emb_cols) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "CREATE VIEW gonedb.embeddings AS SELECT * FROM gonedb.t"
sq "DROP TABLE gonedb.t"
expect_fail "missing table reported by ClickHouse (Code 60)" "database 'gonedb': a table is missing \\(Code 60: Table gonedb.t doesn't exist" \
  "$bin" inspect --quiet "$url/gonedb"

# ---------------------------------------------------------------- errors inside an answer
echo "-- answers that cannot be trusted"
sq "CREATE DATABASE bigdb"
sq "CREATE TABLE bigdb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE bigdb.embeddings ($emb_cols) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "INSERT INTO bigdb.collections VALUES ('33333333-3333-4333-8333-333333333333', 'big', 'null')"
sq "INSERT INTO bigdb.embeddings SELECT toUUID('33333333-3333-4333-8333-333333333333'), generateUUIDv4(), arrayMap(i -> toFloat64(i + number), range(128)), concat('doc ', toString(number)), concat('id-', toString(number)), '{\"n\": 1}' FROM system.numbers LIMIT 4000"
check "bigdb readable by default" run "$bin" inspect --quiet "$url/bigdb"
# user `limited` may get 3000 result rows: ClickHouse has sent ~3 MB when it fails, and appends its error text
expect_fail "ClickHouse error in the middle of the answer (Code 396)" "error in the middle of its answer, at row [0-9]+: .*Limit for result.*\(Code 396\)" \
  "$bin" inspect --quiet "clickhouse://limited@127.0.0.1:$P/bigdb"

# Rows larger than the read-ahead buffer (1 MiB): 3 MB documents, 100,000-dimensional embeddings.
sq "CREATE DATABASE hugedb"
sq "CREATE TABLE hugedb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE hugedb.embeddings ($emb_cols) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "INSERT INTO hugedb.collections VALUES ('44444444-4444-4444-8444-444444444444', 'huge', 'null')"
sq "INSERT INTO hugedb.embeddings SELECT toUUID('44444444-4444-4444-8444-444444444444'), generateUUIDv4(), arrayMap(i -> toFloat64(i * (number + 1)) / 8, range(100000)), arrayStringConcat(arrayMap(x -> 'abcdefghij', range(300000 + number))), concat('h', toString(number)), NULL FROM system.numbers LIMIT 3"
if run "$bin" export "$url/hugedb"; then
  python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = len(rows) == 3
for r in rows:
    k = int(r["id"][1:])
    e = r["embedding"]
    ok = ok and len(r["document"]) == 10 * (300000 + k) and len(e) == 100000
    ok = ok and all(e[i] == i * (k + 1) / 8 for i in range(100000))
sys.exit(0 if ok else 1)' "$tmp/out"
  check "rows larger than the read-ahead buffer" [ $? -eq 0 ]
else
  bad "export of huge rows"
fi

start_proxy() { # MODE
  rm -f "$tmp/proxy-port"
  python3 tests/clickhouse/faulty-proxy.py "$P" "$1" "$tmp/proxy-port" 2>>"$tmp/proxy.log" &
  proxy_pid=$!
  for _ in $(seq 1 100); do [ -s "$tmp/proxy-port" ] && break; sleep 0.05; done
  X=$(cat "$tmp/proxy-port" 2>/dev/null)
}
stop_proxy() { kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; proxy_pid=; }
start_proxy cut-mid-row
expect_fail "answer cut in the middle of a row" "collection 'mixed'.*ends in the middle of row 10 .*truncated RowBinary" \
  "$bin" export "clickhouse://127.0.0.1:$X/"
check "rows before the cut were exported" [ "$(wc -l <"$tmp/out")" = 10 ]
stop_proxy
start_proxy cut-at-row
expect_fail "answer cut at a row boundary" "collection 'mixed'.*read 10 records but counted 150" \
  "$bin" migrate --quiet --from "clickhouse://127.0.0.1:$X/" --to "$tmp/cut" --skip-invalid-records
check "nothing written after a cut answer" [ ! -e "$tmp/cut" ]
stop_proxy
start_proxy broken
expect_fail "connection broken mid-answer" "connection to ClickHouse at 127.0.0.1:$X broke after [0-9]+ bytes" \
  "$bin" inspect --quiet "clickhouse://127.0.0.1:$X/"
stop_proxy
start_proxy garbage
expect_fail "malformed RowBinary" "malformed answer at row 10 .*Nullable flag at byte 0 is 7" \
  "$bin" inspect --quiet "clickhouse://127.0.0.1:$X/"
stop_proxy
# A read-only user that may not set max_threads (current releases; 18.16 lets max_threads pass, so
# the proxy refuses it as they do): records are then sorted by uuid, the same order in every pass.
start_proxy readonly
if run "$bin" inspect --quiet --json "clickhouse://127.0.0.1:$X/"; then
  check "read-only user: works, and says the order is not the inserted one" grep -q 'read-only (readonly=1).*sorted by their internal uuid' "$tmp/out"
  check "read-only user: all records" grep -q '"records":1650}' "$tmp/out"
else
  bad "read-only user (Code 164 on settings)"
fi
if run "$bin" export "clickhouse://127.0.0.1:$X/" && cp "$tmp/out" "$tmp/ro1.jsonl" && run "$bin" export "clickhouse://127.0.0.1:$X/"; then
  check "read-only user: the same order every time" cmp -s "$tmp/out" "$tmp/ro1.jsonl"
else
  bad "read-only user: export"
fi
if run "$bin" migrate --quiet --json --from "clickhouse://127.0.0.1:$X/" --to "$tmp/ro-migrated" --skip-invalid-records; then
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
w = {c["name"]: c["written"] for c in j["collections"]}
sys.exit(0 if w == {"mixed": 145, "docs_cosine": 300, "empty_one": 0, "docs_l2": 1199} else 1)' "$tmp/out"
  check "read-only user: migrate writes every id once" [ $? -eq 0 ]
else
  bad "read-only user: migrate"
fi
stop_proxy

# ---------------------------------------------------------------- text Chroma cannot hold
# ClickHouse strings are bytes: an id or document need not be UTF-8, and metadata JSON may carry a lone
# surrogate escape ("\ud800x") or be no JSON object at all. Nothing invalid may reach the target; the
# policies decide, and the records they keep arrive exactly (checked through the real Chroma server
# against a DuckDB-written store holding the same records).
echo "-- text that is not UTF-8, metadata that is no object"
cu=55555555-5555-4555-8555-555555555555
sq "CREATE DATABASE textdb"
sq "CREATE TABLE textdb.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid"
sq "CREATE TABLE textdb.embeddings ($emb_cols) ENGINE = MergeTree() ORDER BY collection_uuid"
sq "INSERT INTO textdb.collections VALUES ('$cu', 'texts', 'null')"
meta_sur='{"s": "\\ud800x", "k": 1}' # ClickHouse literal: \\ is one backslash
sq "INSERT INTO textdb.embeddings VALUES ('$cu', '00000000-0000-4000-8000-000000000011', [1.0, 2.0], 'plain', 'c-ok', '{\"k\": 1}'), ('$cu', '00000000-0000-4000-8000-000000000012', [1.5, 2.5], 'doc', 'c-sur', '$meta_sur'), ('$cu', '00000000-0000-4000-8000-000000000013', [2.0, 1.0], 'doc', 'c-repr', '{''a'': 1}'), ('$cu', '00000000-0000-4000-8000-000000000014', [3.0, 1.0], concat('bad ', unhex('FF'), ' doc'), 'c-baddoc', NULL), ('$cu', '00000000-0000-4000-8000-000000000015', [4.0, 1.0], 'doc', concat('c-badid-', unhex('EDA080')), NULL)"
same=$(ch_query "SELECT metadata = '$meta_sur' AND length(metadata) = 24 FROM textdb.embeddings WHERE id = 'c-sur'")
check "textdb: ClickHouse holds the surrogate escape as text" [ "$same" = 1 ]
run "$bin" inspect --json "$url/textdb"
check "text: inspect exits 0 and reads all 5 records" python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["collections"][0]; sys.exit(c["records"] != 5)' "$tmp/out"
check "text: inspect counts each kind" python3 -c '
import json,sys
c=json.load(open(sys.argv[1]))["collections"][0]
k={p["kind"]: p for p in c["problems"]}
ids=lambda kind: {e["id"] for e in k[kind]["examples"]}
ok = k["text_not_utf8"]["count"] == 2 and k["invalid_metadata"]["count"] == 1 and k["metadata_not_object"]["count"] == 1
ok = ok and "c-baddoc" in ids("text_not_utf8") and ids("invalid_metadata") == {"c-sur"} and ids("metadata_not_object") == {"c-repr"}
sys.exit(0 if ok else 1)' "$tmp/out"
expect_fail "text: migrate refuses by default, naming the records" "c-sur.*--invalid-metadata" \
  "$bin" migrate --quiet --from "$url/textdb" --to "$tmp/text-refused"
check "text: the refusal names the bad document and the metadata that is no object" grep -q "c-baddoc.*not UTF-8" "$tmp/err"
check "text: nothing written when refused" [ ! -e "$tmp/text-refused" ]
check "text: the refusal shows the bad id escaped, never its invalid bytes" \
  python3 -c 'import sys; t=open(sys.argv[1],"rb").read(); t.decode("utf-8"); sys.exit(0 if b"c-badid-\\ud800" in t else 1)' "$tmp/err"
cat >"$tmp/text-spec.json" <<EOF
{"collections": [{"uuid": "$cu", "name": "texts", "metadata": null}],
 "records": [
  {"collection_uuid": "$cu", "uuid": "u1", "id": "c-ok", "embedding": [1.0, 2.0], "document": "plain", "metadata": "{\"k\": 1}"},
  {"collection_uuid": "$cu", "uuid": "u2", "id": "c-sur", "embedding": [1.5, 2.5], "document": "doc", "metadata": "{\"s\": \"\\\\ud800x\", \"k\": 1}"},
  {"collection_uuid": "$cu", "uuid": "u3", "id": "c-repr", "embedding": [2.0, 1.0], "document": "doc", "metadata": "{'a': 1}"}]}
EOF
(cd tests/node && node make-store-from-json.mjs "$tmp/text-oracle" "$tmp/text-spec.json") >"$tmp/text-oracle.log" 2>&1 ||
  bad "text: oracle store: $(tail -3 "$tmp/text-oracle.log")"
for pol in drop stringify; do
  out="$tmp/text-$pol"
  if run "$bin" migrate --quiet --json --from "$url/textdb" --to "$out" --invalid-metadata "$pol" --skip-invalid-records; then
    check "text ($pol): 3 written, 2 left out as not UTF-8" python3 -c '
import json,sys
c=json.load(open(sys.argv[1]))["collections"][0]
sys.exit(0 if c["written"] == 3 and c["skipped"]["not_utf8_text"] == 2 and c["metadata_not_object"] == 1 else 1)' "$tmp/out"
    check "text ($pol): every SQLite text value is UTF-8" python3 tests/tools/sqlite_text_utf8.py "$out/chroma.sqlite3"
    (cd tests/node && node check-migrated.mjs --store "$tmp/text-oracle" --dir "$out" --invalid-metadata "$pol" --no-writes) \
      >"$tmp/text-check-$pol.log" 2>&1
    check "text ($pol): the real Chroma server shows exactly the kept records" \
      grep -Eq "check-migrated: [1-9][0-9]* passed, 0 failed" "$tmp/text-check-$pol.log"
    grep -E '^FAIL' "$tmp/text-check-$pol.log" | head -5
  else
    bad "text ($pol): migrate"
  fi
done

# ---------------------------------------------------------------- wrong endpoints, bad URLs
echo "-- endpoints and URLs"
expect_fail "native TCP port instead of HTTP" "127.0.0.1:$CH_TCP_PORT.*(HTTP|http)" "$bin" inspect --quiet "clickhouse://127.0.0.1:$CH_TCP_PORT/"
expect_fail "https against the http port" "TLS connection to ClickHouse at 127.0.0.1:$P failed" "$bin" inspect --quiet "clickhouses://127.0.0.1:$P/"
# A port that accepts and then says nothing (as an HTTP port may, waiting for a request line): the
# handshake times out (10 s), which is still a TLS failure, not "is it running?".
silent_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
conns=[]
while True: conns.append(s.accept())' "$silent_port" &
silent_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$silent_port") 2>/dev/null && break; sleep 0.1; done
expect_fail "https against a port that stays silent" "TLS connection to ClickHouse at 127.0.0.1:$silent_port failed" "$bin" inspect --quiet "clickhouses://127.0.0.1:$silent_port/"
kill "$silent_pid" 2>/dev/null; wait "$silent_pid" 2>/dev/null
expect_fail "bad port" "port must be a number from 1 to 65535" "$bin" inspect --quiet "clickhouse://127.0.0.1:70000/"
expect_fail "bad percent-escape" "password has a '%' that is not followed by two hex digits" "$bin" inspect --quiet "clickhouse://u:p%zz@127.0.0.1:$P/"
expect_fail "URL with settings" "settings cannot be given in the URL" "$bin" inspect --quiet "clickhouse://127.0.0.1:$P?max_threads=8"
expect_fail "no host" "no host" "$bin" inspect --quiet "clickhouse:///default"

# ---------------------------------------------------------------- clickhouses:// with a private CA
echo "-- HTTPS (port $CH_HTTPS_PORT, private CA)"
surl="clickhouses://127.0.0.1:$CH_HTTPS_PORT/"
ca=$tmp/tls/ca.pem
run "$bin" export "$url/" && cp "$tmp/out" "$tmp/plain.jsonl"
if run "$bin" export --cacert "$ca" "$surl"; then
  check "https export with --cacert is the plain HTTP export, byte for byte" cmp -s "$tmp/out" "$tmp/plain.jsonl"
  check "https export is not empty" test -s "$tmp/out"
else bad "export --cacert over https"; fi
expect_fail "https with a private CA and no --from-cacert" "certificate.*--from-cacert FILE.*--from-insecure" \
  env -u CURL_CA_BUNDLE -u SSL_CERT_FILE "$bin" inspect --quiet "$surl"
check "the untrusted-certificate message does not send the user to another port" bash -c '! grep -q "8443 by default" "$1"' _ "$tmp/err"
check "https with --insecure" run "$bin" inspect --quiet --insecure "$surl"
check "https with CURL_CA_BUNDLE naming the CA" run env CURL_CA_BUNDLE="$ca" "$bin" inspect --quiet "$surl"
check "https with SSL_CERT_FILE naming the CA" run env -u CURL_CA_BUNDLE SSL_CERT_FILE="$ca" "$bin" inspect --quiet "$surl"
if run "$bin" migrate --quiet --from "$surl" --from-cacert "$ca" --to "$tmp/tls-out" --skip-invalid-records; then
  check "migrate from clickhouses:// with --from-cacert writes a store" test -f "$tmp/tls-out/chroma.sqlite3"
  check "verify from clickhouses:// with --from-cacert matches" run "$bin" verify --quiet --from "$surl" --from-cacert "$ca" --to "$tmp/tls-out" --skip-invalid-records
else bad "migrate --from clickhouses:// --from-cacert"; fi
check "migrate from clickhouses:// with --from-insecure" run "$bin" migrate --quiet --from "$surl" --from-insecure --to "$tmp/tls-out2" --skip-invalid-records
expect_fail "--from-cacert with plain clickhouse://" "applies to clickhouses:// \(HTTPS\) only" "$bin" inspect --quiet --cacert "$ca" "$url"
rm -rf "$tmp/tls-out" "$tmp/tls-out2"

# ---------------------------------------------------------------- the password never shows
check "the password appears in no output" bash -c '! grep -aqF -e "$1" -e "$2" -e not-it "$3"' _ "$pw" "$pwenc" "$tmp/all-output"

# ---------------------------------------------------------------- server stopped
echo "-- server stopped"
ch_stop
expect_fail "unreachable server" "cannot connect to ClickHouse at 127.0.0.1:$P: .*is it running\? check --from" "$bin" inspect --quiet "$url"
expect_fail "unreachable server (migrate)" "cannot connect to ClickHouse at 127.0.0.1:$P" "$bin" migrate --quiet --from "$url" --to "$tmp/never"
check "nothing written when unreachable" [ ! -e "$tmp/never" ]
finish
