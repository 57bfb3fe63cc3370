#!/usr/bin/env bash
# Benchmark (not a test): a ROWS x DIM legacy store (default 100,000 x 384) that carries a matching legacy
# hnswlib index, made the way chromadb 0.3.x saved it (bench/legacy-index.py, Debian's python3-hnswlib),
# migrated with --index reuse (the legacy graph converted), with --index rebuild (our HNSW builder) and, with
# a legacy index that lacks the last 10% of the records, repaired (those inserted into the legacy graph),
# against ingesting the same records into the real Chroma 1.0 server through its API in batches of 1000.
# Also checks that the reused result answers queries as well as the rebuilt one (recall@10 against exact
# brute force over sampled queries, through the real server).
#   bench/index-reuse.sh [ROWS] [DIM] [SPACE l2|ip|cosine]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000} dim=${2:-384} space=${3:-l2}
make -s all
py=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import hnswlib, numpy' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "needs python3-hnswlib and python3-numpy (scripts/install-test-deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
spid=
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
store=$tmp/store

echo "making a $rows x $dim store ($space) and its legacy hnswlib index..." >&2
(cd tests/node && node make-store.mjs "$store" --collections 1 --rows "$rows" --dim "$dim" --kind latent \
  --space "$space" --seed 5 >/dev/null)
t_legacy=$("$py" bench/legacy-index.py "$store" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')

run_migrate() { # mode -> "seconds rss_kb note"
  local mode=$1
  /usr/bin/time -f '%e %M' -o "$tmp/time-$mode" build/chroma-migrate migrate --quiet --json --index "$mode" \
    --from "$store" --to "$tmp/out-$mode" >"$tmp/$mode.json"
  read -r s kb <"$tmp/time-$mode"
  note=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["collections"][0]["index"])' "$tmp/$mode.json")
  echo "$s $kb $note"
}
echo "migrating with --index reuse and --index rebuild..." >&2
read -r t_reuse kb_reuse note_reuse < <(run_migrate reuse)
read -r t_rebuild kb_rebuild note_rebuild < <(run_migrate rebuild)

# The repair path: an index saved before the last 10% of the records were added (chromadb 0.3.x saved
# its index only now and then): those records are inserted into the legacy graph.
missing=$((rows / 10))
echo "a legacy index missing the last $missing records (repair)..." >&2
"$py" bench/legacy-index.py "$store" --missing "$missing" >/dev/null
read -r t_repair kb_repair note_repair < <(run_migrate auto)


echo "ingesting through the Chroma 1.0 server..." >&2
port=$((20000 + RANDOM % 20000))
mkdir -p "$tmp/server"
node tests/node/chroma-server.mjs "$tmp/server" "$port" >"$tmp/server.log" 2>&1 &
spid=$!
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/api/v2/heartbeat" >/dev/null && break; sleep 0.2; done
t_server=$(cd tests/node && node ingest-store.mjs "$store" "http://127.0.0.1:$port" --batch 1000 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
spid=

echo "comparing query answers (reuse vs rebuild, real server)..." >&2
cmp=$(cd tests/node && node compare-neighbours.mjs --store "$store" --a "$tmp/out-reuse" --b "$tmp/out-rebuild" \
  --queries 25 | grep -E 'recall|compare-neighbours:' | tr '\n' ' ')

python3 - "$rows" "$dim" "$space" "$t_legacy" "$t_reuse" "$kb_reuse" "$t_rebuild" "$kb_rebuild" "$t_server" \
  "$note_reuse" "$note_rebuild" "$cmp" "$t_repair" "$kb_repair" "$note_repair" <<'PY'
import sys
rows, dim, space = sys.argv[1:4]
legacy, reuse, kb_reuse, rebuild, kb_rebuild, server = map(float, sys.argv[4:10])
note_reuse, note_rebuild, cmp = sys.argv[10:13]
repair, kb_repair = map(float, sys.argv[13:15])
note_repair = sys.argv[15]
print(f"index reuse benchmark: {rows} x {dim}, {space}; legacy index made by python3-hnswlib in {legacy:.1f} s")
print(f"  migrate --index reuse    {reuse:7.2f} s  peak RSS {kb_reuse/1024:6.0f} MB  ({note_reuse})")
print(f"  migrate --index rebuild  {rebuild:7.2f} s  peak RSS {kb_rebuild/1024:6.0f} MB  ({note_rebuild})")
print(f"  repair (10% missing)     {repair:7.2f} s  peak RSS {kb_repair/1024:6.0f} MB  ({note_repair})")
print(f"  Chroma 1.0 server ingest {server:7.2f} s  (batches of 1000 through the JS client)")
print(f"  reuse vs server {server/reuse:6.1f}x (goal >= 50) | reuse vs rebuild {rebuild/reuse:5.1f}x "
      f"| rebuild vs server {server/rebuild:5.1f}x")
print(f"  queries: {cmp}")
PY
