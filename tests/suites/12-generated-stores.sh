#!/usr/bin/env bash
# Our Parquet reader against DuckDB on generated legacy stores: every codec,
# PARQUET_VERSION V2 encodings (DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT),
# dictionary off, many row groups, 100,000 rows, and DATA_PAGE_V2 headers
# with many small pages from a second real writer (parquet-wasm, the Rust
# arrow writer). Record by record: ids, documents, embeddings bit-exact,
# metadata values and types (tests/node/compare-export.mjs).
# Each store is also read with every page of PLAIN fixed-width values
# decompressed as it is consumed (CM_PARQUET_STREAM_MIN=1; normally only
# pages over 4 MB are), and with that stream's window shrunk so that it
# falls back to whole-page decompression part way through a page
# (CM_PARQUET_STREAM_WINDOW): both must give byte-identical exports.
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
bin=$PWD/build-san/chroma-migrate
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rc=0
# same_streamed BIN STORE EXPORT LABEL: streamed exports equal EXPORT.
same_streamed() {
  local p=0 f=0 how
  for how in "CM_PARQUET_STREAM_MIN=1" "CM_PARQUET_STREAM_MIN=1 CM_PARQUET_STREAM_WINDOW=4096"; do
    if env $how "$1" export "$2" >"$tmp/streamed.jsonl" 2>"$tmp/err" && cmp -s "$3" "$tmp/streamed.jsonl"; then
      p=$((p + 1))
    else
      f=$((f + 1)); echo "streamed export differs ($how) [$4]"; head -3 "$tmp/err"
    fi
  done
  echo "streamed [$4]: $p passed, $f failed"
  ((f == 0))
}
cases=(
  "--compression uncompressed"
  "--compression snappy --row-group-size 700"
  "--compression gzip"
  "--compression snappy --parquet-version v2"
  "--compression zstd --parquet-version v2"
  "--compression lz4"
  "--compression brotli"
  "--dictionary off --parquet-version v2"
  "--writer parquet-wasm --parquet-version v2 --page-size 4096"
  "--writer parquet-wasm --parquet-version v1 --page-size 2048 --compression zstd"
)
for opts in "${cases[@]}"; do
  d=$tmp/store; rm -rf "$d"
  # shellcheck disable=SC2086
  if ! (cd tests/node && node make-store.mjs "$d" --collections 3 --rows 1500 --dim 12 --odd --duplicates 3 --seed 3 $opts >/dev/null); then
    echo "generate [$opts]: 0 passed, 1 failed"; rc=1; continue
  fi
  if ! "$bin" export "$d" >"$tmp/ours.jsonl" 2>"$tmp/err"; then
    echo "export [$opts]: 0 passed, 1 failed"; cat "$tmp/err"; rc=1; continue
  fi
  echo "-- $opts"
  (cd tests/node && node compare-export.mjs "$d" "$tmp/ours.jsonl" | tail -n 3) || rc=1
  same_streamed "$bin" "$d" "$tmp/ours.jsonl" "$opts" || rc=1
done
# 100,000 rows (the optimised binary: this is about size, not memory safety).
d=$tmp/big; rm -rf "$d"
(cd tests/node && node make-store.mjs "$d" --collections 2 --total-rows 100000 --dim 8 --odd --seed 8 >/dev/null) || rc=1
build/chroma-migrate export "$d" >"$tmp/big.jsonl" || rc=1
echo "-- 100,000 rows"
(cd tests/node && node compare-export.mjs "$d" "$tmp/big.jsonl" | tail -n 3) || rc=1
same_streamed build/chroma-migrate "$d" "$tmp/big.jsonl" "100,000 rows" || rc=1
exit $rc
