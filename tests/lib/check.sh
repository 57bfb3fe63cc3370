# check.sh - the tally every shell suite keeps (source it from the project root).
#
#   ok TEXT / bad TEXT     count a passed / failed check and print it ("ok   ..." / "FAIL ...")
#   check NAME CMD ARGS... runs CMD; ok NAME when it succeeds, bad NAME otherwise
#   suite_end NAME         prints "NAME: N passed, N failed" (the line tests/run-all.sh reads)
#                          and returns 1 when a check failed
#   suite_start PREFIX     the usual scene: root (the project), bin (CM_BIN or build-san's
#                          binary, made absolute), sample (the bundled store), tmp (a fresh
#                          folder named PREFIX), and a pids array whose processes, like tmp,
#                          are gone when the suite exits
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
suite_end() { echo "$1: $pass passed, $fail failed"; ((fail == 0)); }

suite_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
suite_start() {
  root=$PWD
  bin=${CM_BIN:-$root/build-san/chroma-migrate}
  case $bin in /*) ;; *) bin=$root/$bin ;; esac
  sample=$root/examples/sample-store
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  pids=()
  trap suite_cleanup EXIT
}
