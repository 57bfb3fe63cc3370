#!/usr/bin/env bash
# The layout's rules (docs/design.md): who may include whom (tests/tools/check_layout.py).
cd "${CM_ROOT:-$(dirname "$0")/../..}" && exec python3 tests/tools/check_layout.py .
