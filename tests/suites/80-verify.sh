#!/usr/bin/env bash
# verify on untouched and tampered migration results.
cd "${CM_ROOT:-$(dirname "$0")/../..}" && exec python3 tests/e2e/verify_tamper.py build-san/chroma-migrate
