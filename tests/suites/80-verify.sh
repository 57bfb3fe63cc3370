#!/usr/bin/env bash
# verify on untouched and tampered migration results: persistent directories
# (tampered in their files) and a real Chroma 1.0 server (tampered through the
# official JS client) - for real fixtures and for a generated store with
# collections in every distance space (l2, ip, cosine; latent vectors, not
# normalised); and clean runs in every space against both kinds of target,
# where another record may legitimately answer a self-query (ip, equal vectors).
# The server is Chroma 1.0.19, or $CM_CHROMA's; CM_VERIFY_SERVER_ONLY=1 (the Chroma 1.5.9 pass of
# tests/run-all.sh) runs only the parts with a server, and says the others were skipped.
cd "${CM_ROOT:-$(dirname "$0")/../..}" || exit 1
rc=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd tests/node && node make-store.mjs "$tmp/spaces" --collections 7 --space mixed --rows 400 --dim 32 --kind latent \
  --seed 4 >/dev/null) || { echo "generate [spaces]: 0 passed, 1 failed"; rc=1; }
if [ "${CM_VERIFY_SERVER_ONLY:-}" = 1 ]; then
  echo "skipped (not counted as passed): tests/e2e/verify_tamper.py (directories, no server)"
else
  python3 tests/e2e/verify_tamper.py build-san/chroma-migrate || rc=1
  python3 tests/e2e/verify_tamper.py build-san/chroma-migrate "$tmp/spaces" || rc=1
fi
(cd tests/node && node tamper-server.mjs ../../build-san/chroma-migrate \
  ../../../shared/fixtures/legacy/chroma-core__chroma-migrate__test_data_duckdb) || rc=1
(cd tests/node && node tamper-server.mjs ../../build-san/chroma-migrate "$tmp/spaces") || rc=1
(cd tests/node && node verify-spaces.mjs ../../build-san/chroma-migrate) || rc=1
exit $rc
