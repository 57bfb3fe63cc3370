#!/usr/bin/env bash
# Every libFuzzer target runs briefly on its seed corpus (CI smoke run; a
# longer run by hand: build/fuzz/fuzz_X -max_total_time=3600 CORPUS). The seed is
# fixed (CM_FUZZ_SEED, default 1) so that CI repeats what passed here; CM_FUZZ_SEED=0
# explores with a random one.
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
secs=${CM_FUZZ_SECONDS:-8}
make -s fuzz >/dev/null 2>"${TMPDIR:-/tmp}/fuzz-build.log" || { cat "${TMPDIR:-/tmp}/fuzz-build.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
pass=0 fail=0
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for f in build/fuzz/fuzz_*; do
  name=$(basename "$f"); kind=${name#fuzz_}
  corpus="$work/$kind"; mkdir -p "$corpus"
  [ -d "fuzz/corpus/$kind" ] && cp -r "fuzz/corpus/$kind/." "$corpus/"
  [ -x "fuzz/seed-$kind.sh" ] && "fuzz/seed-$kind.sh" "$corpus" >/dev/null 2>&1
  if (cd "$work" && "$OLDPWD/$f" -max_total_time="$secs" -seed="${CM_FUZZ_SEED:-1}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$corpus" >"$work/$kind.log" 2>&1); then
    pass=$((pass + 1)); echo "ok   $name ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$kind.log" | tail -1))"
  else
    fail=$((fail + 1)); echo "FAIL $name"; tail -n 40 "$work/$kind.log"
  fi
done
echo "fuzz: $pass passed, $fail failed"
((fail == 0))
