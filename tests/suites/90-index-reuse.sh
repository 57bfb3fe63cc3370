#!/usr/bin/env bash
# Reusing the legacy hnswlib index (--index auto|reuse|rebuild) on every
# fixture store and on stores indexed by real hnswlib (python3-hnswlib), checked
# through the real Chroma 1.0 server; see tests/e2e/index_reuse.py.
cd "${CM_ROOT:-$(dirname "$0")/../..}" && exec python3 tests/e2e/index_reuse.py build-san/chroma-migrate
