#!/usr/bin/env bash
# Every real legacy store: our reader (under ASan+UBSan) must give exactly
# what DuckDB reads - counts per expected.json, and record by record (ids,
# documents byte-exact, embeddings bit-exact, metadata values and types).
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
bin=build-san/chroma-migrate
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rc=0
for store in ../shared/fixtures/legacy/*/; do
  name=$(basename "$store")
  if ! $bin inspect --json "$store" >"$tmp/$name.json" 2>"$tmp/$name.err"; then
    echo "inspect $name: 0 passed, 1 failed"; cat "$tmp/$name.err"; rc=1; continue
  fi
  python3 tests/e2e/check_inspect.py "$tmp/$name.json" "$store/expected.json" "$name" || rc=1
  if ! $bin export "$store" >"$tmp/$name.jsonl" 2>"$tmp/$name.err"; then
    echo "export $name: 0 passed, 1 failed"; cat "$tmp/$name.err"; rc=1; continue
  fi
  (cd tests/node && node compare-export.mjs "$OLDPWD/$store" "$tmp/$name.jsonl") || rc=1
  # The same with every PLAIN fixed-width page decompressed as it is consumed
  # (normally only pages over 4 MB are), and with that stream's window so
  # small that it falls back to reading the page whole: identical exports.
  p=0 f=0
  for how in "CM_PARQUET_STREAM_MIN=1" "CM_PARQUET_STREAM_MIN=1 CM_PARQUET_STREAM_WINDOW=64"; do
    if env $how $bin export "$store" 2>"$tmp/$name.err" | cmp -s - "$tmp/$name.jsonl"; then p=$((p + 1)); else
      f=$((f + 1)); rc=1; echo "streamed export of $name differs ($how)"; head -3 "$tmp/$name.err"; fi
  done
  echo "streamed $name: $p passed, $f failed"
done
exit $rc
