#!/usr/bin/env bash
# Runs every test: unit tests under ASan+UBSan, fuzz smoke runs, the
# format-level oracle tests, and the end-to-end tests through the real
# components (DuckDB, the Chroma 1.0.19 and 1.5.9 servers and their JS clients). Each suite
# prints "name: N passed, N failed"; this adds them up and prints the total.
set -uo pipefail
cd "$(dirname "$0")/.."
export CM_ROOT=$PWD
export TMPDIR=${TMPDIR:-/tmp}
log=$(mktemp -d "$TMPDIR/cm-tests.XXXXXX")
total_pass=0 total_fail=0 failed_suites=()

run_suite() { # name, command...
  local name=$1; shift
  local out="$log/${name//\//_}.log" start=$SECONDS
  echo "== $name"
  "$@" >"$out" 2>&1
  local rc=$?
  local line p=0 f=0
  while read -r line; do
    if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
      p=$((p + BASH_REMATCH[1])); f=$((f + BASH_REMATCH[2]))
    fi
  done < <(grep -E '^[A-Za-z0-9_./ -]*: [0-9]+ passed, [0-9]+ failed' "$out")
  if ((rc != 0 && f == 0)); then f=1; fi
  if ((p == 0 && f == 0)); then f=1; echo "   (no test ran)"; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  if ((rc != 0 || f != 0)); then
    failed_suites+=("$name")
    echo "   FAILED ($p passed, $f failed, exit $rc, $((SECONDS - start)) s); last lines of $out:"
    tail -n 25 "$out" | sed 's/^/   | /'
  else
    echo "   ok ($p passed, $((SECONDS - start)) s)"
  fi
}

make -s -j2 all unit >/dev/null || { echo "build failed"; exit 1; }
make -s -j2 san >/dev/null 2>"$log/san-build.log" || { cat "$log/san-build.log"; echo "sanitizer build failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in build-san/tests/test_*; do
  [ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
done

for s in tests/suites/*.sh; do
  [ -x "$s" ] && run_suite "$(basename "$s" .sh)" "$s"
done

# Today's Chroma (1.5.9), again for what depends on the server: the server as a target (fixtures, kills
# and --resume, a restart), as a source, and verify against it. Suite 20 opens every profile in both
# servers itself. What tests only our own client (TLS, proxies, stand-ins of old servers, options) ran
# once above.
run_suite "60-http-target@chroma-1.5.9" env CM_CHROMA=1.5 CM_HTTP_SECTIONS="1 2 3" tests/suites/60-http-target.sh
run_suite "65-http-source@chroma-1.5.9" env CM_CHROMA=1.5 CM_HTTP_SECTIONS="1" tests/suites/65-http-source.sh
run_suite "80-verify@chroma-1.5.9" env CM_CHROMA=1.5 CM_VERIFY_SERVER_ONLY=1 tests/suites/80-verify.sh

echo
echo "logs: $log"
if ((${#failed_suites[@]})); then echo "failed suites: ${failed_suites[*]}"; fi
echo "all tests: $total_pass passed, $total_fail failed"
((total_fail == 0))
