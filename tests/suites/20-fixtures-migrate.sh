#!/usr/bin/env bash
# Every real legacy store migrated into a persistent directory (both output
# profiles), then opened by the real Chroma 1.0 server and checked through the
# official JS client: collections, counts, ids, documents, metadata with
# types, embeddings, distance space, self-queries, and records written through
# Chroma afterwards surviving restarts (tests/node/check-migrated.mjs).
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
bin=build-san/chroma-migrate
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rc=0
for profile in 1.0 0.6; do
  for store in ../shared/fixtures/legacy/*/; do
    name=$(basename "$store")
    out="$tmp/$name-$profile"
    if ! $bin migrate --quiet --from "$store" --to "$out" --chroma-version "$profile" >"$tmp/log" 2>&1; then
      echo "migrate $name ($profile): 0 passed, 1 failed"; cat "$tmp/log"; rc=1; continue
    fi
    echo "-- $name (profile $profile)"
    lenient=(); [ "$profile" = 0.6 ] && lenient=(--lenient-config-space)
    (cd tests/node && node check-migrated.mjs --store "$OLDPWD/$store" --dir "$out" "${lenient[@]}") || rc=1
    rm -rf "$out"
  done
done
exit $rc
