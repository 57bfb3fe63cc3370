#!/usr/bin/env bash
# Installs what the test suite needs (Debian 12 packages and the pinned npm
# rig), if missing. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-build-deps.sh"
pkgs=(clang libclang-rt-14-dev libhnswlib-dev python3-hnswlib python3-numpy sqlite3 python3 curl ca-certificates time tmux man-db clickhouse-server clickhouse-client nginx openssl)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The real components (DuckDB, the Chroma 1.0 server, its official JS client),
# pinned by tests/node/package-lock.json.
if [ ! -f "$here/tests/node/node_modules/.package-lock.json" ] ||
   ! cmp -s "$here/tests/node/package-lock.json" "$here/tests/node/node_modules/.installed-lock" 2>/dev/null; then
  # `npm install` with the committed lockfile installs exactly its versions.
  # (`npm ci` refuses this lockfile: @duckdb/node-bindings names platform
  # packages in a way npm does not record, and reports them "missing".)
  (cd "$here/tests/node" && npm install --omit=optional --no-audit --no-fund --loglevel=error)
  cp "$here/tests/node/package-lock.json" "$here/tests/node/node_modules/.installed-lock"
fi
# Today's Chroma (1.5.9, binding 1.3.4, JS client 3.5.0) in its own folder,
# pinned by tests/node15/package-lock.json, with the newer C library it needs
# unpacked beside it (scripts/install-chroma15-libc.sh says why and how).
"$here/scripts/install-chroma15-libc.sh" "$here/tests/node15/glibc"
if [ ! -f "$here/tests/node15/node_modules/.package-lock.json" ] ||
   ! cmp -s "$here/tests/node15/package-lock.json" "$here/tests/node15/node_modules/.installed-lock" 2>/dev/null; then
  (cd "$here/tests/node15" && npm install --omit=optional --no-audit --no-fund --loglevel=error)
  cp "$here/tests/node15/package-lock.json" "$here/tests/node15/node_modules/.installed-lock"
fi
