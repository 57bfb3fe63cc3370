#!/usr/bin/env bash
# Benchmark (not a test): migrating a 100,000 x 384 legacy store into a
# persistent directory, against ingesting the same records into the real
# Chroma 1.0 server through its API in batches of 1000, measured in the same
# run. Two kinds of vectors: random Gaussian, and "realistic" (16-dimensional
# latent space plus noise). Also our peak RSS against the raw float32 vectors
# plus the HNSW graph (level 0: 2*M links per element).
#   bench/migrate.sh [ROWS] [DIM]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000} dim=${2:-384}
make -s all
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
for kind in random latent; do
  store=$tmp/store-$kind
  (cd tests/node && node make-store.mjs "$store" --collections 1 --rows "$rows" --dim "$dim" --kind "$kind" --seed 5 >/dev/null)
  /usr/bin/time -f '%e %M' -o "$tmp/time" build/chroma-migrate migrate --quiet --from "$store" --to "$tmp/out-$kind" >/dev/null
  read -r ours rss_kb <"$tmp/time"
  port=$((20000 + RANDOM % 20000))
  mkdir -p "$tmp/server-$kind"
  (cd tests/node && node chroma-server.mjs "$tmp/server-$kind" "$port" >"$tmp/server.log" 2>&1) &
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v2/heartbeat" >/dev/null && break; sleep 0.2; done
  theirs=$(cd tests/node && node ingest-store.mjs "$store" "http://127.0.0.1:$port" --batch 1000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
  kill %1 2>/dev/null || true; wait 2>/dev/null || true
  vec_mb=$(python3 -c "print(round($rows*$dim*4/1048576,1))")
  graph_mb=$(python3 -c "print(round($rows*(4+4*32+8+4)/1048576,1))")
  python3 - "$kind" "$ours" "$theirs" "$rss_kb" "$vec_mb" "$graph_mb" <<'PY'
import sys
kind, ours, theirs, rss_kb, vec_mb, graph_mb = sys.argv[1], *map(float, sys.argv[2:])
rss = rss_kb / 1024
print(f"{kind:7s} chroma-migrate {ours:7.1f} s | Chroma 1.0 server ingest {theirs:7.1f} s | ratio {theirs/ours:5.1f}x (goal >= 5)"
      f" | peak RSS {rss:.0f} MB vs vectors {vec_mb:.0f} MB + graph {graph_mb:.0f} MB = {rss/(vec_mb+graph_mb):.2f}x (goal <= 1.25)")
PY
done
