#!/usr/bin/env bash
# Installs what the tests need (Debian packages, the pinned npm rig with the
# real Chroma server and DuckDB) if missing, then runs every test.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-test-deps.sh
exec make -s test
