#!/usr/bin/env bash
# The interactive wizard in a real pseudo-terminal (tmux).
cd "${CM_ROOT:-$(dirname "$0")/../..}" && exec python3 tests/e2e/wizard.py build/chroma-migrate
