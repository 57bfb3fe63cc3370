#!/usr/bin/env bash
# Every migration policy end to end through the real Chroma server.
cd "${CM_ROOT:-$(dirname "$0")/../..}" && exec python3 tests/e2e/policies.py build-san/chroma-migrate
