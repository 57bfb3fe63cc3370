#!/usr/bin/env bash
# SIGKILL a migration at several points: the target is either absent or
# complete (never half-written), and a rerun of the same command succeeds
# and gives exactly the source's content in the real Chroma server.
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
bin=${CM_BIN:-$PWD/build/chroma-migrate}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib/check.sh

(cd tests/node && node make-store.mjs "$tmp/store" --collections 2 --rows 20000 --dim 96 --kind latent --seed 11) \
  >/dev/null || { echo "interrupt: 0 passed, 1 failed"; exit 1; }
expected=$("$bin" inspect --json "$tmp/store" | python3 -c 'import json,sys; print(sum(c["unique_ids"] for c in json.load(sys.stdin)["collections"]))')

for delay in 0.05 0.8 2 4; do
  out="$tmp/out-$delay"
  "$bin" migrate --quiet --from "$tmp/store" --to "$out" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if [ ! -e "$out" ]; then
    ok "killed after ${delay}s: no target"
  else
    n=$(sqlite3 "$out/chroma.sqlite3" "select count(*) from embeddings" 2>/dev/null)
    segs=$(find "$out" -name index_metadata.pickle | wc -l)
    if [ "$n" = "$expected" ] && [ "$segs" = 2 ]; then ok "killed after ${delay}s: target complete"; else bad "killed after ${delay}s: half-written target ($n rows, $segs pickles)"; fi
  fi
  # The rerun: the same command must succeed (a complete target from a
  # finished run is refused as non-empty, which is right; start fresh then).
  if [ -e "$out" ]; then rm -rf "$out"; fi
  if "$bin" migrate --quiet --from "$tmp/store" --to "$out" >"$tmp/log" 2>&1; then ok "rerun after ${delay}s succeeds"; else bad "rerun after ${delay}s"; cat "$tmp/log"; fi
  left=$(find "$tmp" -maxdepth 1 -name ".out-$delay.partial-*" | wc -l)
  if [ "$left" = 0 ]; then ok "no partial folder left after ${delay}s"; else bad "partial folder left after ${delay}s"; fi
  [ "$delay" = 4 ] || rm -rf "$out"
done
if (cd tests/node && node check-migrated.mjs --store "$tmp/store" --dir "$tmp/out-4"); then ok "final result checks out in the real server"; else bad "final result"; fi
suite_end interrupt
