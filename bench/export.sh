#!/usr/bin/env bash
# Benchmark (not a test): `export` (JSON Lines) of a legacy store against
# `inspect` reading the same store, in the same run, as a ratio: export reads
# exactly what inspect reads and adds only the JSON writing, so the ratio is
# the cost of writing JSON (mostly shortest round-trip float digits).
# Output goes to /dev/null (the disk is not measured). Best of 3 each.
#   bench/export.sh [ROWS] [DIM] [STORE_DIR]   (default 200000 x 768; with STORE_DIR
#                                               an existing store is used, or made there)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-200000} dim=${2:-768} store=${3:-}
make -s all
bin=$PWD/build/chroma-migrate
if [ -z "$store" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  store=$tmp/store
fi
if [ ! -f "$store/chroma-collections.parquet" ]; then
  (cd tests/node && node make-store.mjs "$store" --collections 1 --rows "$rows" --dim "$dim" --seed 3 >/dev/null)
fi
best() { # best wall-clock seconds of 3 runs of "$@" (stdout discarded)
  local b=999999 t0 t1 i
  for i in 1 2 3; do
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    b=$(python3 -c "print(min($b, $t1 - $t0))")
  done
  echo "$b"
}
ti=$(best "$bin" inspect --quiet "$store")
te=$(best "$bin" export "$store")
bytes=$("$bin" export "$store" | wc -c)
python3 -c "
i, e = $ti, $te
print(f'export {$rows} x {$dim} ({$bytes} bytes of JSON Lines): export {e:.2f} s, inspect (reading) {i:.2f} s, ratio export/inspect {e/i:.2f}x (best of 3)')"
