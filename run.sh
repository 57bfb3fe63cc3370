#!/usr/bin/env bash
# Builds chroma-migrate (installing what the build needs from Debian if
# missing) and runs it. With no arguments: inspects the bundled sample store
# and migrates it into ./chroma_migrated. With arguments: passes them on,
# e.g. ./run.sh migrate --from ./chroma --to ./chroma_migrated
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-build-deps.sh
make -s -j"$(nproc)" >/dev/null
if (($#)); then
  exec build/chroma-migrate "$@"
fi
sample=examples/sample-store
build/chroma-migrate inspect "$sample"
to=./chroma_migrated
if [ -e "$to" ]; then
  to="./chroma_migrated-$(date +%Y%m%d-%H%M%S)"
  echo "./chroma_migrated already exists; writing to $to instead" >&2
fi
build/chroma-migrate migrate --from "$sample" --to "$to"
