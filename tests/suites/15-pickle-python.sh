#!/usr/bin/env bash
# Our index_metadata.pickle loaded by real Python's pickle module.
cd "${CM_ROOT:-$(dirname "$0")/../..}" && exec tests/pickle-python.sh
