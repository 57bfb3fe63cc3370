#!/usr/bin/env bash
# Unpacks Debian 13 (trixie)'s libc6 into a folder, for the Chroma 1.5.9 test
# server only, without touching the system: the npm binding of Chroma >= 1.0.6
# is linked against glibc 2.38/2.39 (__isoc23_sscanf, pidfd_spawnp) and
# Debian 12 has 2.36. tests/node/lib/chroma-server.mjs then runs node through
# DEST/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 with --library-path, so
# only that one process sees the newer C library.
#
# apt-get runs with a private sources list, lists folder and cache (nothing
# of the system's apt state is read or written) and only downloads the
# package; dpkg -x unpacks it without installing.
#   scripts/install-chroma15-libc.sh DEST      (idempotent)
set -euo pipefail
dest=${1:?usage: install-chroma15-libc.sh DEST}
loader=$dest/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -x "$loader" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc/preferences.d"
echo 'deb http://deb.debian.org/debian trixie main' >"$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::Etc::Preferences=$work/etc/preferences" -o "Dir::Etc::PreferencesParts=$work/etc/preferences.d"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Architecture=amd64
          -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
echo "fetching Debian 13's libc6 for the Chroma 1.5.9 test server (into $dest)" >&2
apt-get "${apt_opts[@]}" update -qq
(cd "$work" && apt-get "${apt_opts[@]}" download -qq libc6:amd64)
deb=$(ls "$work"/libc6_*.deb)
mkdir -p "$dest"
dpkg -x "$deb" "$dest"
basename "$deb" >"$dest/PACKAGE"
[ -x "$loader" ] || { echo "install-chroma15-libc.sh: $deb holds no $loader" >&2; exit 1; }
