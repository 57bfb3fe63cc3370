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
done
exit $rc
