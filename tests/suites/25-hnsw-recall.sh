#!/usr/bin/env bash
# Our HNSW graph's recall@10 against exact search and against hnswlib itself
# (Debian's libhnswlib-dev) on the same data, for l2, ip and cosine.
cd "${CM_ROOT:-$(dirname "$0")/../..}" && exec tests/hnsw/recall.sh
