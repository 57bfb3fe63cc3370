#!/usr/bin/env bash
# Adds the small real index files of the legacy fixtures to a fuzz corpus.
set -euo pipefail
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
for f in "$root"/../shared/fixtures/legacy/*/index/index_*.bin; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] && cp "$f" "$out/fixture-$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f")"
done
exit 0
