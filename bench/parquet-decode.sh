#!/usr/bin/env bash
# Benchmark (not a test): our Parquet decode of a 100,000 x 384 legacy
# embeddings file against DuckDB reading the same file, in the same run.
# Both single-threaded (DuckDB threads=1) so the ratio compares decoders.
#   bench/parquet-decode.sh [ROWS] [DIM]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000} dim=${2:-384}
make -s all
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Isrc -o "$tmp/decode" bench/bench_parquet_decode.c build/libchroma-migrate.a \
  -lsqlite3 -lcurl -lsnappy -lzstd -lz -llz4 -lbrotlidec -lpthread -lm
(cd tests/node && node make-store.mjs "$tmp/store" --collections 1 --rows "$rows" --dim "$dim" --kind latent --odd --seed 9 >/dev/null)
file=$tmp/store/chroma-embeddings.parquet
best_ours=999 best_duck=999
for i in 1 2 3; do
  o=$("$tmp/decode" "$file" | cut -d' ' -f1)
  d=$(cd tests/node && node duckdb-scan.mjs "$file")
  best_ours=$(python3 -c "print(min($best_ours, $o))"); best_duck=$(python3 -c "print(min($best_duck, $d))")
done
python3 -c "
o, d = $best_ours, $best_duck
print(f'parquet decode {$rows} x {$dim} ({$(stat -c %s "$file")} bytes): chroma-migrate {o:.3f} s, DuckDB {d:.3f} s (1 thread), ratio DuckDB/ours {d/o:.2f}x (best of 3)')"
