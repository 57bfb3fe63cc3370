#!/usr/bin/env bash
# Seeds a Parquet fuzz corpus (argument: the corpus folder) with the real
# fixture files and the bundled sample store.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
i=0
for f in "$here"/../shared/fixtures/legacy/*/*.parquet "$here"/examples/sample-store/*.parquet; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 300000 ] && cp "$f" "$1/seed-$i.parquet" && i=$((i + 1))
done
