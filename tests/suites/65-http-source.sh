#!/usr/bin/env bash
# A running Chroma server as the SOURCE (--from http[s]://...):
#  1. the real Chroma 1.0 server (npm bindings 1.0.5): legacy fixture stores put into it with our HTTP
#     target (CM_HTTP_SOURCE_FILL=node: with tests/node/fill-chroma.mjs instead), each into its own
#     database, then read back from it into a persistent directory and into a second Chroma server,
#     both compared with the ORIGINAL legacy store through the official JS client
#     (tests/node/check-migrated.mjs); a generated store big enough for many pages, mixed distance
#     spaces (the server's configuration comes back as hnsw:space), verify, a tenant and database of
#     our own, an unknown database;
#  2. chromadb 0.3.29 (cannot be installed here): tests/http-source/standin.mjs answers as the recorded
#     exchanges show, ClickHouse paging that skips and repeats rows and the 500 on NaN rows included.
#     The recorded rig read back equals the recorded answers (check-rig-export.mjs); every fixture store
#     served by it is exported record by record in file order, duplicated ids included, and compared
#     with DuckDB's reading (compare-export.mjs): every stored row exactly once; NaN rows are named by
#     id, stop the run by default, and --skip-invalid-records migrates the rest exactly;
#  3. v1 (0.4.24) and v2 on Python (0.5.23) through the same stand-in: pages, NaN rows, a record
#     stored without an embedding (its answer's embeddings list is one shorter), a collection list
#     longer than one page, token auth (the token never printed);
#  4. options: usage errors, refusals, an unreachable server.
# Prints "http-source: N passed, N failed".
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
root=$PWD
bin=${CM_BIN:-build-san/chroma-migrate}
[[ $bin == /* ]] || bin=$root/$bin
fixtures=$root/../shared/fixtures/legacy
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
fill_mode=${CM_HTTP_SOURCE_FILL:-ours}
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
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # description, shell condition (evaluated here)
  if eval "$2"; then ok "$1"; else bad "$1"; fi
}
# CM_HTTP_SECTIONS="1" runs only those sections; each other one is reported as skipped, never as passed
# (the Chroma 1.5.9 pass of tests/run-all.sh runs the sections whose outcome depends on the server)
want() {
  [ -z "${CM_HTTP_SECTIONS:-}" ] || [[ " $CM_HTTP_SECTIONS " == *" $1 "* ]] && return 0
  echo "skipped (not counted as passed): section $1"; return 1
}
show() { sed 's/^/     | /' "$1" | tail -n "${2:-15}"; }
one_line_error() { [ "$(grep -c . "$1")" -eq 1 ] && grep -q '^chroma-migrate: ' "$1"; }

. tests/lib/chroma-server.sh # start_chroma NAME DIR -> CHROMA_URL (the real Chroma 1.0 server)
# start_standin NAME args... -> SURL, SPID (requests logged to $tmp/NAME.req)
start_standin() {
  local name=$1; shift
  node tests/http-source/standin.mjs --log "$tmp/$name.req" "$@" >"$tmp/$name.sout" 2>&1 &
  SPID=$!
  pids+=($SPID)
  SURL=
  for _ in $(seq 200); do
    SURL=$(sed -n 's|^http-source-standin: listening on \(http://[0-9.:]*\).*|\1|p' "$tmp/$name.sout")
    [ -n "$SURL" ] && break
    sleep 0.05
  done
  [ -n "$SURL" ] || { echo "stand-in $name did not start:"; cat "$tmp/$name.sout"; }
}
create_db() { # URL DB [TENANT]
  curl -sf -X POST -H 'Content-Type: application/json' -d "{\"name\":\"$2\"}" \
    "$1/api/v2/tenants/${3:-default_tenant}/databases" >/dev/null
}
# fill URL DB STORE [policies...]: the legacy store into the server (our target, or the node reference)
fill() {
  local url=$1 db=$2 store=$3; shift 3
  if [ "$fill_mode" = ours ]; then
    if "$bin" migrate --quiet --from "$store" --to "$url" --database "$db" "$@" >"$tmp/fill.log" 2>&1; then
      ok "$(basename "$store"): put into $url (database $db) with our HTTP target"
      return 0
    fi
    bad "$(basename "$store"): put into the server with our HTTP target (falling back to fill-chroma.mjs)"
    show "$tmp/fill.log" 5
  fi
  (cd tests/node && node fill-chroma.mjs --store "$store" --url "$url" --database "$db" "$@") >"$tmp/fill.log" 2>&1 ||
    { bad "$(basename "$store"): fill-chroma.mjs"; show "$tmp/fill.log"; return 1; }
}
# check-migrated; LABEL, then its arguments
check_migrated() {
  local label=$1; shift
  if (cd tests/node && node check-migrated.mjs "$@") >"$tmp/check.log" 2>&1; then
    ok "$label: check-migrated ($(grep -o '[0-9]* passed, [0-9]* failed' "$tmp/check.log" | tail -1))"
  else
    bad "$label: check-migrated"; grep -E 'FAIL|fail|Error' "$tmp/check.log" | head -20 | sed 's/^/     | /'
  fi
}
json_field() { # FILE PYTHON-EXPR (d is the parsed JSON)
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

# ================================================================ 1. the real Chroma server (1.0.19, or $CM_CHROMA)
if want 1; then

start_chroma src "$tmp/srv-src" || { echo "http-source: 0 passed, 1 failed"; exit 1; }
src=$CHROMA_URL
start_chroma dst "$tmp/srv-dst" || { echo "http-source: 0 passed, 1 failed"; exit 1; }
dst=$CHROMA_URL
echo "source server $src, second server $dst"

i=0
for name in chroma-core__chroma-migrate__test_data_duckdb sdan__chatmaps__cafe_data hongyonghan__GPT_tools__db \
  sdan__chatmaps__data; do
  store=$fixtures/$name
  i=$((i + 1))
  db=fx$i
  pol=()
  [ "$name" = sdan__chatmaps__data ] && pol=(--duplicates first)
  create_db "$src" "$db" && create_db "$dst" "$db" || { bad "$name: create database $db"; continue; }
  fill "$src" "$db" "$store" "${pol[@]}" || continue
  out=$tmp/dir-$db
  if "$bin" migrate --quiet --from "$src" --from-database "$db" --to "$out" >"$tmp/m.log" 2>&1; then
    ok "$name: read from the server into a directory"
    check_migrated "$name (server -> directory)" --store "$store" --dir "$out" "${pol[@]}"
  else
    bad "$name: server -> directory"; show "$tmp/m.log"
  fi
  if "$bin" migrate --quiet --from "$src" --from-database "$db" --to "$dst" --database "$db" >"$tmp/m2.log" 2>&1; then
    ok "$name: read from the server into a second server"
    check_migrated "$name (server -> server)" --store "$store" --url "$dst" --database "$db" --no-writes "${pol[@]}"
  else
    bad "$name: server -> server"; show "$tmp/m2.log"
  fi
done

"$bin" inspect "$src" --database fx1 --json >"$tmp/insp.json" 2>"$tmp/insp.err"
check "inspect names the server, its version and API (Rust 1.0.0, v2)" \
  '[ "$(json_field "$tmp/insp.json" "d[\"source\"][\"kind\"]")" = "Chroma server (REST API v2)" ] &&
   json_field "$tmp/insp.json" "d[\"source\"][\"notes\"]" | grep -q "Chroma server 1.0.0 (REST API v2, Rust), tenant .default_tenant., database .fx1."'
check "inspect counts every record of the database (515)" \
  '[ "$(json_field "$tmp/insp.json" "sum(c[\"records\"] for c in d[\"collections\"])")" = 515 ]'

echo "     ($SECONDS s)"
# many pages, mixed spaces (the server's configuration comes back as hnsw:space), verify
big=$tmp/big
(cd tests/node && node make-store.mjs "$big" --collections 3 --total-rows 3000 --dim 64 --space mixed --seed 11 >/dev/null 2>&1) ||
  bad "make-store 3000 x 64"
create_db "$src" big
fill "$src" big "$big"
if "$bin" migrate --from "$src" --from-database big --to "$tmp/dir-big" --verify >"$tmp/big.out" 2>"$tmp/big.err"; then
  ok "3000 records over several pages into a directory, --verify passed"
  check_migrated "3000 records, l2, ip and cosine" --store "$big" --dir "$tmp/dir-big" --sample 10
else
  bad "3000 records over several pages"; show "$tmp/big.err"
fi
check "the pages were read one after another without repeats: records read = 3000" \
  'grep -q "3000 records read, 3000 written" "$tmp/big.out"'

# a tenant and database of our own
curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"team"}' "$src/api/v2/tenants" >/dev/null
create_db "$src" docs team
small=$fixtures/sdan__chatmaps__cafe_data
(cd tests/node && node fill-chroma.mjs --store "$small" --url "$src" --tenant team --database docs) >/dev/null 2>&1 ||
  bad "fill-chroma into tenant team"
"$bin" migrate --quiet --from "$src" --from-tenant team --from-database docs --to "$tmp/dir-team" >"$tmp/team.log" 2>&1
rc=$?
check "--from-tenant/--from-database read that database" '[ $rc -eq 0 ]'
check_migrated "tenant team, database docs" --store "$small" --dir "$tmp/dir-team"
"$bin" inspect "$src" --database no_such_db >"$tmp/nodb.out" 2>&1
rc=$?
check "an unknown database: exit 1, one line with the server's message and the databases there are" \
  '[ $rc -eq 1 ] && one_line_error "$tmp/nodb.out" && grep -q "no_such_db" "$tmp/nodb.out" && grep -q "the databases of tenant .default_tenant. are:.*fx1" "$tmp/nodb.out"'

# a collection made with a configuration only (no hnsw:space in its metadata): the space the server
# uses comes across as hnsw:space
create_db "$src" cfg
cid=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"name":"cfg_only","configuration":{"hnsw":{"space":"ip","max_neighbors":24}}}' \
  "$src/api/v2/tenants/default_tenant/databases/cfg/collections" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X POST -H 'Content-Type: application/json' -d '{"ids":["a","b","c"],"embeddings":[[1,0],[0,1],[0.5,0.5]],"documents":["x",null,"z"],"metadatas":[{"k":1},null,{"f":1.5}]}' \
  "$src/api/v2/tenants/default_tenant/databases/cfg/collections/$cid/add" >/dev/null
"$bin" migrate --from "$src" --from-database cfg --to "$tmp/dir-cfg" --json >"$tmp/cfg.json" 2>/dev/null
check "a collection configured as ip (M 24) on the server keeps ip and M 24" \
  '[ "$(json_field "$tmp/cfg.json" "\"%s %s\" % (d[\"collections\"][0][\"space\"], d[\"records_written\"])")" = "ip 3" ] &&
   "$bin" inspect "$src" --database cfg | grep -q "metadata: {\"hnsw:space\":\"ip\",\"hnsw:M\":24}"'

echo "     ($SECONDS s)"
fi # section 1

# ================================================================ 2. chromadb 0.3.29 (stand-in)
if want 2; then

start_standin rig --version 0.3.29 --rig
curl -s -X POST -d '{"limit": 3, "offset": 0, "include": []}' "$SURL/api/v1/collections/b61e5289-2f8d-4d17-9168-6492775cbec6/get" >"$tmp/p0"
curl -s -X POST -d '{"limit": 3, "offset": 3, "include": []}' "$SURL/api/v1/collections/b61e5289-2f8d-4d17-9168-6492775cbec6/get" >"$tmp/p3"
curl -s -X POST -d '{"limit": 3, "offset": 6, "include": []}' "$SURL/api/v1/collections/b61e5289-2f8d-4d17-9168-6492775cbec6/get" >"$tmp/p6"
check "the stand-in pages as recorded: p0 twice, p3 and p4 never (so paging cannot be used on 0.3.x)" \
  '[ "$(cat "$tmp/p0" "$tmp/p3" "$tmp/p6" | grep -o "\"p[0-9]\"" | sort | uniq -c | tr -s " " | tr "\n" ";")" = " 2 \"p0\"; 1 \"p1\"; 2 \"p2\"; 1 \"p5\"; 1 \"p6\";" ]'
n0=$(grep -c . "$tmp/rig.req")
"$bin" export "$SURL" >"$tmp/rig.jsonl" 2>"$tmp/rig.err"
rc=$?
check "0.3.29 rig: export runs" '[ $rc -eq 0 ]'
if node tests/http-source/check-rig-export.mjs "$tmp/rig.jsonl" >"$tmp/rigc.log" 2>&1; then
  ok "0.3.29 rig read back equals the recorded answers ($(tail -1 "$tmp/rigc.log"))"
else
  bad "0.3.29 rig read back"; show "$tmp/rigc.log" 20
fi
check "0.3.29: no get with limit or offset, ids first (include []), then by id" \
  'tail -n +$((n0 + 1)) "$tmp/rig.req" >"$tmp/rig.ours" && ! grep "/get" "$tmp/rig.ours" | grep -q "\"limit\"\|\"offset\"" &&
   grep -q "/get {\"include\":\[\]}" "$tmp/rig.ours" && grep -q "/get {\"ids\":\[" "$tmp/rig.ours"'
"$bin" inspect "$SURL" --json >"$tmp/rig.json" 2>/dev/null
check "0.3.29: the NaN row e3 is named in the notes, with the 500 and the way to get it (clickhouse://)" \
  'json_field "$tmp/rig.json" "d[\"source\"][\"notes\"]" | grep -q "collection .rig_edge.: 1 record the server cannot send (it answered 500 Internal Server Error: ValueError(.Out of range float values are not JSON compliant.)): id .e3." &&
   json_field "$tmp/rig.json" "d[\"source\"][\"notes\"]" | grep -q "clickhouse://"'
check "0.3.29: inspect lists e3 as a record the server could not send, not as one without an embedding" \
  '[ "$(json_field "$tmp/rig.json" "\" \".join(p[\"kind\"] + \":\" + \",\".join(e[\"id\"] for e in p[\"examples\"]) for c in d[\"collections\"] for p in c[\"problems\"] if \"e3\" in str(p))")" = "unsent_records:e3" ] &&
   json_field "$tmp/rig.json" "d[\"source\"][\"notes\"]" | grep -q "named as a record the server could not send (not as without an embedding)"'
"$bin" migrate --from "$SURL" --to "$tmp/dir-rig" >"$tmp/rigm.out" 2>"$tmp/rigm.err"
rc=$?
check "0.3.29: the NaN row stops the run before writing (exit 1), naming e3 and --skip-invalid-records" \
  '[ $rc -eq 1 ] && [ ! -e "$tmp/dir-rig" ] && grep -q "e3" "$tmp/rigm.err" && grep -q -- "--skip-invalid-records" "$tmp/rigm.err"'
"$bin" migrate --from "$SURL" --to "$tmp/dir-rig" --skip-invalid-records --json >"$tmp/rigm.json" 2>/dev/null
check "0.3.29: --skip-invalid-records migrates the rest (15 of 17: e3 unreadable, a6 of another dimension)" \
  '[ "$(json_field "$tmp/rigm.json" "\"%s %s %s\" % (d[\"status\"], d[\"records_read\"], d[\"records_written\"])")" = "ok 17 15" ]'
check "0.3.29: e3 is left out as one the server could not send, not as a missing embedding" \
  '[ "$(json_field "$tmp/rigm.json" "\" \".join(\"%s %s %s\" % (c[\"name\"], c[\"skipped\"][\"server_could_not_send\"], c[\"skipped\"][\"missing_embedding\"]) for c in d[\"collections\"] if c[\"name\"] == \"rig_edge\")")" = "rig_edge 1 0" ]'
check "0.3.29: the spaces came from the collection metadata (cosine, l2, ip)" \
  '[ "$(json_field "$tmp/rigm.json" "\" \".join(c[\"space\"] for c in d[\"collections\"])")" = "cosine l2 ip l2 l2" ]'
"$bin" inspect "$SURL" --tenant t1 >"$tmp/rigt.out" 2>&1
check "0.3.29: a tenant is refused in one line (no tenants before 0.4.15)" \
  'one_line_error "$tmp/rigt.out" && grep -q "no tenants or databases" "$tmp/rigt.out"'
kill "$SPID" 2>/dev/null

# every fixture store served by 0.3.29: exported record by record, in file order
for store in "$fixtures"/*/; do
  name=$(basename "$store")
  start_standin "s03-$name" --version 0.3.29 --store "$store"
  "$bin" export "$SURL" >"$tmp/exp.jsonl" 2>"$tmp/exp.err" || { bad "$name (0.3.29): export"; show "$tmp/exp.err"; }
  if node tests/node/compare-export.mjs "$store" "$tmp/exp.jsonl" >"$tmp/cmp.log" 2>&1; then
    ok "$name (0.3.29): every stored row once, in file order ($(tail -1 "$tmp/cmp.log"))"
  else
    bad "$name (0.3.29): compare-export"; show "$tmp/cmp.log" 20
  fi
  kill "$SPID" 2>/dev/null
done
# duplicates: which copy is first and last follows the listed (= stored) order
dups=$fixtures/sdan__chatmaps__data
start_standin dups --version 0.3.29 --store "$dups"
for pol in first last; do
  "$bin" migrate --quiet --from "$SURL" --to "$tmp/dir-dups-$pol" --duplicates "$pol" >"$tmp/d.log" 2>&1 ||
    { bad "0.3.29 duplicates $pol: migrate"; show "$tmp/d.log"; }
  check_migrated "0.3.29, 47 duplicated rows, --duplicates $pol" --store "$dups" --dir "$tmp/dir-dups-$pol" --duplicates "$pol"
done
# 2 runs x 2 passes (analysis, writing): 4 x 33 ids asked, none twice in a request
check "0.3.29: each distinct id asked for once per pass (33 distinct ids, 80 rows)" \
  '[ "$(node tests/http-source/asked-ids.mjs "$tmp/dups.req")" = "132 33" ]'
kill "$SPID" 2>/dev/null

# NaN rows among real ones
td=$fixtures/chroma-core__chroma-migrate__test_data_duckdb
start_standin nan03 --version 0.3.29 --store "$td" --nan collection_3:nan-1 --nan collection_7:nan-2 --nan collection_7:nan-3
"$bin" migrate --quiet --from "$SURL" --to "$tmp/dir-nan03" >"$tmp/n.out" 2>&1
rc=$?
check "0.3.29 + 3 NaN rows: stops, naming them" \
  '[ $rc -eq 1 ] && grep -q "nan-1" "$tmp/n.out" && grep -q "nan-2" "$tmp/n.out" && grep -q "nan-3" "$tmp/n.out"'
"$bin" migrate --from "$SURL" --to "$tmp/dir-nan03" --skip-invalid-records >"$tmp/n2.out" 2>"$tmp/n2.err"
check "0.3.29 + 3 NaN rows: --skip-invalid-records: 518 read, 515 written, 3 left out, as rows the server could not send" \
  'grep -q "518 records read, 515 written, 3 left out" "$tmp/n2.out" && grep -q "^collection_7 .* 2 the server could not send them$" "$tmp/n2.out" &&
   ! grep -q "no embedding" "$tmp/n2.out"'
check_migrated "0.3.29 + NaN rows, the rest" --store "$td" --dir "$tmp/dir-nan03"
kill "$SPID" 2>/dev/null

# ids 0.3.29 on ClickHouse does not find by id (it quotes them with Python's repr(): zero-width space,
# other non-printables, ' without ", a non-BMP format character), next to ids it does find; one of
# them stored twice. Exported row by row and migrated into a directory and the real Chroma server.
node tests/http-source/ids-03.mjs --check >"$tmp/ids03.log" 2>&1 ||
  { bad "ids-03.mjs: repr model differs from python3's repr"; show "$tmp/ids03.log"; }
rs=$tmp/repr-store
node tests/http-source/repr-ids-spec.mjs >"$tmp/repr-spec.json" &&
  (cd tests/node && node make-store-from-json.mjs "$rs" "$tmp/repr-spec.json") >/dev/null 2>&1 || bad "make the repr-ids store"
start_standin repr --version 0.3.29 --store "$rs"
curl -s -X POST -d '{"ids":["zw\u200bsp","plain-1"],"include":[]}' "$SURL/api/v1/collections/3b8f6d2e-1c4a-4e5b-9a7d-0e2f4c6b8a10/get" >"$tmp/zw.json"
curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"ids":["it'"'"'s"],"include":[]}' "$SURL/api/v1/collections/5d1e9a7c-2b3f-4c8d-8e6a-1f0b2c3d4e5f/get" >"$tmp/q.code"
check "stand-in as 0.3.29: get by ids does not find 'zw\u200bsp' (repr), an id with ' fails with a 500" \
  '[ "$(cat "$tmp/zw.json")" = "{\"ids\":[\"plain-1\"],\"embeddings\":null,\"documents\":null,\"metadatas\":null}" ] && [ "$(cat "$tmp/q.code")" = 500 ]'
"$bin" export "$SURL" >"$tmp/repr.jsonl" 2>"$tmp/repr.err" || { bad "0.3.29 repr ids: export"; show "$tmp/repr.err"; }
if node tests/node/compare-export.mjs "$rs" "$tmp/repr.jsonl" >"$tmp/cmp.log" 2>&1; then
  ok "0.3.29 repr ids: every stored row once, in file order ($(tail -1 "$tmp/cmp.log"))"
else
  bad "0.3.29 repr ids: compare-export"; show "$tmp/cmp.log" 20
fi
"$bin" inspect "$SURL" --json >"$tmp/repr-i.json" 2>"$tmp/repr-i.err"
check "0.3.29 repr ids: inspect names the 11 ids not found by id and reads them anyway (26 records)" \
  'json_field "$tmp/repr-i.json" "d[\"source\"][\"notes\"]" | grep -q "8 ids the server does not find by id.*3 ids the server does not find by id" &&
   [ "$(json_field "$tmp/repr-i.json" "sum(c[\"records\"] for c in d[\"collections\"])")" = 26 ]'
for pol in first last; do
  "$bin" migrate --quiet --from "$SURL" --to "$tmp/dir-repr-$pol" --duplicates "$pol" >"$tmp/rm.log" 2>&1 ||
    { bad "0.3.29 repr ids: migrate --duplicates $pol"; show "$tmp/rm.log"; }
  check_migrated "0.3.29 repr ids -> directory, --duplicates $pol" --store "$rs" --dir "$tmp/dir-repr-$pol" --duplicates "$pol"
done
create_db "$dst" repr03
if "$bin" migrate --quiet --from "$SURL" --to "$dst" --database repr03 >"$tmp/rm2.log" 2>&1; then
  check_migrated "0.3.29 repr ids -> the real Chroma server" --store "$rs" --url "$dst" --database repr03 --no-writes
else
  bad "0.3.29 repr ids -> the real Chroma server"; show "$tmp/rm2.log"
fi
kill "$SPID" 2>/dev/null
# an unfindable id whose row holds NaN: its sorted page fails, then that row alone; named as one the server
# cannot send. (A duplicated unfindable id in a collection with a NaN row stops the run: no answer has
# its copies in stored order.)
start_standin reprnan --version 0.3.29 --store "$rs" --nan $'repr_more:nan\u200bid'
"$bin" migrate --from "$SURL" --to "$tmp/dir-reprnan" --skip-invalid-records --json >"$tmp/rn.json" 2>"$tmp/rn.err"
check "0.3.29 repr ids + a NaN row not found by id: 27 read, 25 written (NaN row and a later copy left out)" \
  '[ "$(json_field "$tmp/rn.json" "\"%s %s %s\" % (d[\"status\"], d[\"records_read\"], d[\"records_written\"])")" = "ok 27 25" ]'
check_migrated "0.3.29 repr ids + NaN row, the rest" --store "$rs" --dir "$tmp/dir-reprnan"
kill "$SPID" 2>/dev/null

echo "     ($SECONDS s)"
fi # section 2

# ================================================================ 3. v1 (0.4.24) and v2 on Python (0.5.23)
if want 3; then

tok=v1-src-token-5150
start_standin v04 --version 0.4.24 --store "$td" --nan collection_3:nan-1 --token "$tok"
"$bin" migrate --quiet --from "$SURL" --to "$tmp/dir-v04" >"$tmp/v04a.out" 2>&1
rc=$?
check "0.4.24: no token: exit 1, one line, 401 and how to give it" \
  '[ $rc -eq 1 ] && one_line_error "$tmp/v04a.out" && grep -q "401 Unauthorized" "$tmp/v04a.out" && grep -q -- "--from-header" "$tmp/v04a.out"'
"$bin" migrate --quiet --from "$SURL" --from-header "Authorization: Bearer wrong-$tok" --to "$tmp/dir-v04" >"$tmp/v04b.out" 2>&1
check "0.4.24: a wrong token: one line naming the header, not its value" \
  'one_line_error "$tmp/v04b.out" && grep -q "header .Authorization." "$tmp/v04b.out" && ! grep -q "$tok" "$tmp/v04b.out"'
"$bin" inspect "$SURL" --header "Authorization: Bearer $tok" --json >"$tmp/v04.json" 2>"$tmp/v04i.err"
check "0.4.24: inspect says REST API v1 and names the NaN row" \
  '[ "$(json_field "$tmp/v04.json" "d[\"source\"][\"kind\"]")" = "Chroma server (REST API v1)" ] &&
   json_field "$tmp/v04.json" "d[\"source\"][\"notes\"]" | grep -q "Chroma server 0.4.24 (REST API v1).*collection .collection_3.: 1 record the server cannot send.*id .nan-1."'
"$bin" migrate --from "$SURL" --from-headers "{\"Authorization\": \"Bearer $tok\"}" --to "$tmp/dir-v04" --skip-invalid-records \
  >"$tmp/v04c.out" 2>"$tmp/v04c.err"
check "0.4.24: --from-headers JSON, --skip-invalid-records: 516 read, 515 written" \
  'grep -q "516 records read, 515 written, 1 left out" "$tmp/v04c.out"'
check_migrated "0.4.24, the rest" --store "$td" --dir "$tmp/dir-v04"
check "0.4.24: pages with limit/offset, tenant and database as query parameters, v2 only probed" \
  'grep -q "\"limit\":100,\"offset\":0" "$tmp/v04.req" && grep -q "GET /api/v1/collections?tenant=default_tenant&database=default_database&limit=100&offset=0" "$tmp/v04.req" &&
   [ "$(grep -c /api/v2 "$tmp/v04.req")" -eq "$(grep -c "/api/v2/heartbeat" "$tmp/v04.req")" ]'
check "0.4.24: the token appears in no output" '! grep -l -F "$tok" "$tmp"/v04*.out "$tmp"/v04*.err "$tmp/v04.json"'
kill "$SPID" 2>/dev/null

many=$tmp/many
(cd tests/node && node make-store.mjs "$many" --collections 110 --total-rows 330 --dim 8 --seed 4 >/dev/null 2>&1) ||
  bad "make-store 110 collections"
first=$(node tests/http/store-names.mjs "$many" | head -1)
start_standin v05 --version 0.5.23 --store "$many" --no-embedding "$first:n1" --no-embedding "$first:n2"
"$bin" inspect "$SURL" --json >"$tmp/v05.json" 2>"$tmp/v05.err"
check "0.5.23: v2 on Python, 110 collections listed over two pages" \
  '[ "$(json_field "$tmp/v05.json" "len(d[\"collections\"])")" = 110 ] && grep -q "collections?limit=100&offset=100" "$tmp/v05.req" &&
   json_field "$tmp/v05.json" "d[\"source\"][\"notes\"]" | grep -q "Chroma server 0.5.23 (REST API v2, Python)"'
check "0.5.23: records stored without an embedding (a shorter embeddings list) are found by id, documents kept" \
  '"$bin" export "$SURL" --collection "$first" | grep "\"id\":\"n[12]\"" | grep -c "\"embedding\":null,\"document\":\"no embedding given\"" | grep -q 2'
"$bin" migrate --quiet --from "$SURL" --to "$tmp/dir-v05" --skip-invalid-records >"$tmp/v05m.log" 2>&1 ||
  { bad "0.5.23: migrate"; show "$tmp/v05m.log"; }
check_migrated "0.5.23, 110 collections" --store "$many" --dir "$tmp/dir-v05" --sample 1 --no-writes
kill "$SPID" 2>/dev/null

echo "     ($SECONDS s)"
fi # section 3

# ================================================================ 4. options
if want 4; then

"$bin" migrate --quiet --from "$src" --from-header 'Bearer s3cr3t-no-colon' --to "$tmp/o1" >"$tmp/o1.out" 2>&1
rc=$?
check "--from-header without ':' is a usage error (exit 2) that does not show it" \
  '[ $rc -eq 2 ] && ! grep -q s3cr3t "$tmp/o1.out" && grep -q -- "--from-header" "$tmp/o1.out"'
"$bin" inspect "$small" --header 'X-A: b' >"$tmp/o2.out" 2>&1
check "a header for a directory source is refused" 'grep -q "apply to a Chroma server" "$tmp/o2.out"'
"$bin" inspect "http://user:s3cr3t@127.0.0.1:1" >"$tmp/o3.out" 2>&1
check "credentials in the URL are refused without showing them" \
  'grep -q credentials "$tmp/o3.out" && ! grep -q s3cr3t "$tmp/o3.out"'
start=$SECONDS
"$bin" inspect "http://127.0.0.1:9" >"$tmp/o4.out" 2>&1
check "an unreachable server: one line, within 15 s" \
  'one_line_error "$tmp/o4.out" && grep -q "cannot reach a Chroma server" "$tmp/o4.out" && [ $((SECONDS - start)) -le 15 ]'
"$bin" migrate --help >"$tmp/help.out" 2>&1
check "migrate --help lists the source options" 'grep -q -- "--from-header" "$tmp/help.out" && grep -q -- "--from-database" "$tmp/help.out"'
fi # section 4

# ================================================================ 5. text Chroma cannot hold, from a server
if want 5; then
# A server's JSON answer can carry a lone surrogate ("\udcff") in a metadata value or key: the same rules
# as for any source (inspect names it, the default stops, stringify keeps the escape, nothing invalid is
# written), checked for API v2 (the 0.5.23 stand-in) against a DuckDB-written store of the same records.
echo "-- lone surrogates and reserved keys in a server's answers"
sur_cu=77777777-7777-4777-8777-777777777777
cat >"$tmp/sur.json" <<EOS
{"collections": [{"uuid": "$sur_cu", "name": "sur-texts", "metadata": null}],
 "records": [
  {"collection_uuid": "$sur_cu", "uuid": "s1", "id": "s-ok", "embedding": [1.0, 2.0], "document": "plain", "metadata": "{\"k\": 1}"},
  {"collection_uuid": "$sur_cu", "uuid": "s2", "id": "s-val", "embedding": [1.5, 2.5], "document": "doc", "metadata": "{\"s\": \"a\\\\udcffb\", \"k\": 2}"},
  {"collection_uuid": "$sur_cu", "uuid": "s3", "id": "s-key", "embedding": [2.0, 1.0], "document": "doc", "metadata": "{\"\\\\ud800k\": 3}"},
  {"collection_uuid": "$sur_cu", "uuid": "s4", "id": "s-res", "embedding": [3.0, 1.0], "document": "doc", "metadata": "{\"chroma:document\": \"x\", \"k\": 4}"}]}
EOS
(cd tests/node && node make-store-from-json.mjs "$tmp/sur-store" "$tmp/sur.json") >"$tmp/sur.log" 2>&1 || bad "surrogate store: $(tail -2 "$tmp/sur.log")"
start_standin sur --version 0.5.23 --store "$tmp/sur-store"
curl -s -X POST -H 'Content-Type: application/json' -d '{"include": ["metadatas"]}' \
  "$SURL/api/v2/tenants/default_tenant/databases/default_database/collections/$(curl -s "$SURL/api/v2/tenants/default_tenant/databases/default_database/collections" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')/get" >"$tmp/sur-answer.json"
check "the server's answer carries the lone surrogate as JSON escapes" 'grep -qi "udcff" "$tmp/sur-answer.json" && grep -qi "ud800k" "$tmp/sur-answer.json"'
"$bin" inspect --json "$SURL" >"$tmp/sur-inspect.json" 2>"$tmp/sur-inspect.err"
check "inspect of the server: exit 0, 3 records with metadata Chroma cannot store" \
  '[ "$(json_field "$tmp/sur-inspect.json" "[p[\"count\"] for p in d[\"collections\"][0][\"problems\"] if p[\"kind\"] == \"invalid_metadata\"]")" = "[3]" ]'
"$bin" migrate --quiet --from "$SURL" --to "$tmp/sur-refused" >"$tmp/sur-r.out" 2>&1
rc=$?
check "migrate from the server refuses by default, naming the records" \
  '[ $rc -eq 1 ] && grep -q "s-val" "$tmp/sur-r.out" && grep -q "s-key" "$tmp/sur-r.out" && grep -q -- "--invalid-metadata" "$tmp/sur-r.out" && [ ! -e "$tmp/sur-refused" ]'
for pol in drop stringify; do
  if "$bin" migrate --quiet --from "$SURL" --to "$tmp/sur-$pol" --invalid-metadata "$pol" >"$tmp/sur-$pol.log" 2>&1; then
    check "from the server ($pol): every SQLite text value is UTF-8" 'python3 tests/tools/sqlite_text_utf8.py "$tmp/sur-$pol/chroma.sqlite3"'
    check_migrated "from the server ($pol)" --store "$tmp/sur-store" --dir "$tmp/sur-$pol" --invalid-metadata "$pol" --no-writes
  else
    bad "migrate from the server ($pol): $(tail -3 "$tmp/sur-$pol.log")"
  fi
done
kill "$SPID" 2>/dev/null
fi # section 5

echo "http-source: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
