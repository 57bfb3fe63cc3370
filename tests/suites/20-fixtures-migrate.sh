#!/usr/bin/env bash
# Every real legacy store migrated into a persistent directory (every output
# profile), then opened by a real Chroma server and checked through its
# official JS client: collections, counts, ids, documents, metadata with
# types, embeddings, distance space, self-queries, and records written through
# Chroma afterwards surviving restarts (tests/node/check-migrated.mjs).
# Servers: Chroma 1.0.19 opens profiles 1.0 and 0.6; Chroma 1.5.9 (today's)
# opens 1.5, 1.0 and 0.6. A profile 1.5 directory given to Chroma 1.0.19 must
# fail as documented (docs/formats.md#migrations: it panics on the 18
# migrations before answering anything), once, on the first store. And profile 1.5
# against what Chroma 1.5.9 writes itself (tests/node/schema-oracle.mjs).
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
bin=build-san/chroma-migrate
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rc=0
run_check() { # CHROMA PROFILE STORE
  local chroma=$1 profile=$2 store=$3 name out
  name=$(basename "$store"); out="$tmp/$name-$profile"
  if [ ! -d "$out" ] && ! $bin migrate --quiet --from "$store" --to "$out" --chroma-version "$profile" >"$tmp/log" 2>&1; then
    echo "migrate $name ($profile): 0 passed, 1 failed"; cat "$tmp/log"; rc=1; return
  fi
  echo "-- $name (profile $profile, Chroma $chroma)"
  if [ "$profile" = 1.5 ] && [ ! -e "$out.verified" ]; then # verify reads the schema's HNSW settings
    if $bin verify --quiet --from "$store" --to "$out" >"$tmp/v.log" 2>&1; then echo "verify $name (1.5): 1 passed, 0 failed"
    else echo "verify $name (1.5): 0 passed, 1 failed"; cat "$tmp/v.log"; rc=1; fi
    touch "$out.verified"
  fi
  local lenient=(); [ "$profile" = 0.6 ] && lenient=(--lenient-config-space)
  (cd tests/node && CM_CHROMA=$chroma node check-migrated.mjs --store "$OLDPWD/$store" --dir "$out" "${lenient[@]}") || rc=1
}
for store in ../shared/fixtures/legacy/*/; do
  for profile in 1.0 0.6; do run_check 1.0 "$profile" "$store"; done
  for profile in 1.5 1.0 0.6; do run_check 1.5 "$profile" "$store"; done
  rm -rf "$tmp/$(basename "$store")"-*
done

# Profile 1.5 is what Chroma 1.5.9 itself writes for the same data (tests/node/schema-oracle.mjs):
# migrations, tables, config_json_str, schema_str with a key per metadata key and type. A generated
# store with every kind of metadata value and all three spaces, plus an empty collection.
(cd tests/node && node make-store.mjs "$tmp/odd" --collections 3 --rows 40 --space mixed --odd --empty-collections 1 >/dev/null) || rc=1
if $bin migrate --quiet --from "$tmp/odd" --to "$tmp/odd-1.5" --chroma-version 1.5 >"$tmp/log" 2>&1; then
  (cd tests/node && node schema-oracle.mjs "$tmp/odd" "$tmp/odd-1.5") || rc=1
else
  echo "migrate odd store (1.5): 0 passed, 1 failed"; cat "$tmp/log"; rc=1
fi

# Profile 1.5 in Chroma 1.0.19: the server dies at start (Rust < 1.2.2 slices its known migrations
# by the number applied), the directory untouched but for one acquire_write row.
store=$(ls -d ../shared/fixtures/legacy/*/ | head -1)
$bin migrate --from "$store" --to "$tmp/p15" --chroma-version 1.5 >"$tmp/p15.out" 2>"$tmp/log" || { cat "$tmp/log"; rc=1; }
cp "$tmp/p15/chroma.sqlite3" "$tmp/before.sqlite3"
(cd tests/node && CM_CHROMA=1.0 timeout 120 node chroma-server.mjs "$tmp/p15" "" "$tmp/p15-1.0.log" >"$tmp/p15-1.0.out" 2>&1)
started=$?
p=0 f=0
if grep -q "^note: Chroma 1.2.1 and older cannot open this directory" "$tmp/p15.out"; then p=$((p + 1))
else f=$((f + 1)); echo "FAIL: the summary of a --chroma-version 1.5 run does not say that Chroma <= 1.2.1 cannot open it"; fi
if grep -q "^chroma server: " "$tmp/p15-1.0.out"; then
  f=$((f + 1)); echo "FAIL: Chroma 1.0.19 started on a profile 1.5 directory"
else p=$((p + 1)); fi
if grep -q "range start index 10 out of range for slice of length 9" "$tmp/p15-1.0.log"; then p=$((p + 1))
else f=$((f + 1)); echo "FAIL: Chroma 1.0.19 did not fail as documented (exit $started):"; tail -5 "$tmp/p15-1.0.log"; fi
same=$(sqlite3 "$tmp/p15/chroma.sqlite3" "ATTACH '$tmp/before.sqlite3' AS b; SELECT (SELECT count(*) FROM migrations) = (SELECT count(*) FROM b.migrations) AND (SELECT count(*) FROM collections) = (SELECT count(*) FROM b.collections) AND (SELECT count(*) FROM embeddings) = (SELECT count(*) FROM b.embeddings)")
if [ "$same" = 1 ]; then p=$((p + 1)); else f=$((f + 1)); echo "FAIL: Chroma 1.0.19 changed the profile 1.5 directory it could not open"; fi
echo "profile 1.5 in Chroma 1.0.19: $p passed, $f failed"
((f == 0)) || rc=1
exit $rc
