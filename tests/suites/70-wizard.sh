#!/usr/bin/env bash
# The interactive wizard in a real pseudo-terminal (tmux), against the real
# components: a ClickHouse loaded with ../shared/fixtures/clickhouse, a Chroma
# 1.0 server holding a migrated fixture (the HTTP source) and another one as
# the HTTP target. Starts them, then runs tests/e2e/wizard.py.
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cm-wizard-suite.XXXXXX")
pids=()
cleanup() {
  ch_stop
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
. tests/clickhouse/server.sh
. tests/lib/chroma-server.sh
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL $*"; echo "wizard: 0 passed, 1 failed"; exit 1; }

ch_start "$tmp/ch" || fail "clickhouse-server did not start"
(cd ../shared/fixtures/clickhouse && ./load.sh "$CH_HTTP_PORT") >"$tmp/load.log" 2>&1 || { cat "$tmp/load.log"; fail "load.sh"; }
start_chroma src "$tmp/srv-src" || fail "the source Chroma server did not start"
src_url=$CHROMA_URL
start_chroma dst "$tmp/srv-dst" || fail "the target Chroma server did not start"
dst_url=$CHROMA_URL
build/chroma-migrate migrate --quiet --from ../shared/fixtures/legacy/chroma-core__chroma-migrate__test_data_duckdb \
  --to "$src_url" >"$tmp/fill.log" 2>&1 || { cat "$tmp/fill.log"; fail "filling the source server"; }

CM_WIZ_CH_PORT=$CH_HTTP_PORT CM_WIZ_SRC_URL=$src_url CM_WIZ_DST_URL=$dst_url \
  python3 -u tests/e2e/wizard.py build/chroma-migrate
