#!/usr/bin/env bash
# Benchmark (not a test): migrating a generated 100,000 x 384 legacy store into
# the real Chroma 1.0 server over HTTP (--to http://...), against the official
# JS client adding the same records in batches of 100, one request at a time
# (what `chroma copy` and most scripts do), in the same run. Each side gets a
# fresh server. Ours is timed end to end (reading and analysing the store
# included); the JS client only for its adds (reading the store excluded).
# Prints records/s of both, the ratio (goal >= 2) and our peak RSS (goal <= 150 MB),
# next to the peak RSS of `inspect` on the same store (the source reader and the
# analysis alone, the floor under any target), and the machine's load average
# (other work on the machine takes CPU from the server, which is the bottleneck).
#   bench/http-target.sh [ROWS] [DIM]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000} dim=${2:-384}
make -s all
tmp=$(mktemp -d)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

start_server() { # DIR -> sets port, srv_pid
  mkdir -p "$1"
  (cd tests/node && exec node chroma-server.mjs "$1" >"$tmp/server.out" 2>&1) &
  srv_pid=$!
  for _ in $(seq 300); do
    port=$(sed -n 's|^chroma server: http://127.0.0.1:\([0-9]*\) .*|\1|p' "$tmp/server.out")
    [ -n "$port" ] && return 0
    sleep 0.2
  done
  echo "the Chroma server did not start:"; cat "$tmp/server.out"; exit 1
}
stop_server() {
  kill "$srv_pid" 2>/dev/null || true
  wait "$srv_pid" 2>/dev/null || true
  srv_pid=
}

echo "generating a ${rows} x ${dim} legacy store ..."
(cd tests/node && node make-store.mjs "$tmp/store" --collections 1 --rows "$rows" --dim "$dim" --kind latent --seed 7 >/dev/null)

/usr/bin/time -f '%M' -o "$tmp/time-inspect" build/chroma-migrate inspect --quiet "$tmp/store" >/dev/null
read -r inspect_kb <"$tmp/time-inspect"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

start_server "$tmp/srv-ours"
/usr/bin/time -f '%e %M' -o "$tmp/time" \
  build/chroma-migrate migrate --quiet --from "$tmp/store" --to "http://127.0.0.1:$port" >"$tmp/ours.log" 2>&1 ||
  { cat "$tmp/ours.log"; exit 1; }
read -r ours rss_kb <"$tmp/time"
stop_server

start_server "$tmp/srv-js"
theirs=$(cd tests/node && node ingest-store.mjs "$tmp/store" "http://127.0.0.1:$port" --batch 100 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
stop_server

python3 - "$rows" "$ours" "$theirs" "$rss_kb" "$inspect_kb" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
rows, ours, theirs, rss_kb, inspect_kb = map(float, sys.argv[1:6])
a, b = rows / ours, rows / theirs
print(f"chroma-migrate --to http: {a:8.0f} records/s ({ours:.1f} s, end to end)")
print(f"JS client, batches of 100: {b:8.0f} records/s ({theirs:.1f} s, adds only)")
print(f"ratio {a / b:.2f}x (goal >= 2) | our peak RSS {rss_kb / 1024:.0f} MB (goal <= 150 MB); "
      f"inspect of the same store alone: {inspect_kb / 1024:.0f} MB")
print(f"load average before: {sys.argv[6]}, after: {sys.argv[7]}")
PY
