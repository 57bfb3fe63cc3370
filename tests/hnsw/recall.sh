#!/usr/bin/env bash
# Recall of our HNSW builder against hnswlib's on the same data (l2, ip,
# cosine), and hnswlib loading our files (converted to its single-file
# layout). Needs g++ and Debian's header-only libhnswlib-dev.
#   tests/hnsw/recall.sh [--n N] [--dim D] [--queries Q] [--threads T]
# Closing line: "hnsw-recall: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -f /usr/include/hnswlib/hnswalg.h ]]; then
  echo "hnsw-recall: needs /usr/include/hnswlib (apt-get install libhnswlib-dev)" >&2
  echo "hnsw-recall: 0 passed, 1 failed"
  exit 1
fi
make -s build/libchroma-migrate.a
mkdir -p build/hnsw
# -w: hnswlib's own headers are not warning-clean
g++ -std=c++17 -O2 -g -w -Isrc -o build/hnsw/recall_vs_hnswlib tests/hnsw/recall_vs_hnswlib.cpp \
  build/libchroma-migrate.a -lpthread -lm
exec build/hnsw/recall_vs_hnswlib --tmp "${TMPDIR:-/tmp}" "$@"
