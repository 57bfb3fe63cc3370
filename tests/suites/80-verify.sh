#!/usr/bin/env bash
# verify on untouched and tampered migration results: persistent directories
# (tampered in their files) and a real Chroma 1.0 server (tampered through the
# official JS client).
cd "${CM_ROOT:-$(dirname "$0")/../..}" || exit 1
rc=0
python3 tests/e2e/verify_tamper.py build-san/chroma-migrate || rc=1
(cd tests/node && node tamper-server.mjs ../../build-san/chroma-migrate \
  ../../../shared/fixtures/legacy/chroma-core__chroma-migrate__test_data_duckdb) || rc=1
exit $rc
