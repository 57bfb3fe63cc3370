#!/usr/bin/env bash
# Installs what building chroma-migrate needs from Debian 12, if missing.
set -euo pipefail
pkgs=(build-essential pkg-config libsqlite3-dev libcurl4-openssl-dev libsnappy-dev libzstd-dev zlib1g-dev
      liblz4-dev libbrotli-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing build dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
