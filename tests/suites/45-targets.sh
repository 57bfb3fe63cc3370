#!/usr/bin/env bash
# What --to can be, checked before any long work (issue 15, items 1 and 5-8), through the real binary:
#   - a target that cannot work fails before the source is read: shown with a source that needs a
#     decision (known only once it is read), so the error must name the target instead;
#   - a symbolic link to an empty folder, an existing empty folder (its mode and owner kept), a
#     mount point (a tmpfs: staged inside it), all verified record for record;
#   - refused up front, leaving nothing behind: a dangling link, a link loop, a read-only place, a
#     full disk (a small tmpfs: the run fails and leaves the folder empty), HOST:PORT without a
#     scheme, another scheme (ftp://), a --to inside the --from folder;
#   - the --json report of a refused URL holds no credential and names a server target, and the
#     report of a run stopped for a decision gives each collection its real distance space.
# Prints "targets: N passed, N failed".
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
bin=${CM_BIN:-$PWD/build-san/chroma-migrate}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
sample=$PWD/examples/sample-store
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cm-targets.XXXXXX")
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
. tests/lib/check.sh
cd "$tmp"

# run NAME EXPECTED-EXIT PATTERN ARGS... : exit code and a stderr pattern (extended regex)
run() {
  local name=$1 want=$2 pat=$3; shift 3
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$pat" ] || grep -Eq -- "$pat" "$tmp/err"; }; then ok "$name"; else
    bad "$name: exit $rc (want $want), stderr: $(head -c 600 "$tmp/err"), want /$pat/"; fi
}
verified() { "$bin" verify --quiet --from "$sample" --to "$1" >/dev/null 2>&1; }

# The ordering proof: with --rename recipes=ab the source needs a decision, which is only known after
# it has been read; a run that names the target's problem instead has checked the target first.
blocked=(--rename recipes=ab)
"$bin" migrate --quiet --from "$sample" --to blocked-probe "${blocked[@]}" >/dev/null 2>"$tmp/blocked.err"
probe="the name 'ab' is shorter"
check "the probe source needs a decision once read" grep -qF "$probe" "$tmp/blocked.err"

echo "-- the target first"
run "unreachable server: named before the source is read" 1 "cannot reach a Chroma server at http://127.0.0.1:9" \
  migrate --quiet --from "$sample" --to http://127.0.0.1:9 "${blocked[@]}"
check "unreachable server: the source was not read" bash -c '! grep -qF "$2" "$1"' _ "$tmp/err" "$probe"
run "missing parent folder: named before the source is read" 1 "parent folder .*no/such does not exist" \
  migrate --quiet --from "$sample" --to no/such/out "${blocked[@]}"
check "missing parent: the source was not read" bash -c '! grep -qF "$2" "$1"' _ "$tmp/err" "$probe"

echo "-- addresses that are no folder"
run "HOST:PORT without a scheme is refused" 1 "looks like a server address; give http://localhost:8000" \
  migrate --quiet --from "$sample" --to localhost:8000
check "HOST:PORT: no folder made" [ ! -e localhost:8000 ]
run "ftp:// is refused" 1 "not ftp://" migrate --quiet --from "$sample" --to ftp://x
check "ftp://: no folder made" [ ! -e ftp: ]
run "./HOST:PORT is a folder" 0 "" migrate --quiet --from "$sample" --to ./localhost:8000
check "./HOST:PORT: verified" verified ./localhost:8000

echo "-- inside the source"
cp -r "$sample" src
mkdir -p src/index
before=$(cd src && find . | sort | md5sum)
run "--to inside --from is refused" 1 "is inside the source folder" migrate --quiet --from src --to src/inner
run "--to src/index/x is refused" 1 "is inside the source folder" migrate --quiet --from src --to src/index/x
run "--to the source itself is refused" 1 "is inside the source folder|not an empty directory" migrate --quiet --from src --to src
ln -s src srclink
run "--to inside --from through a link is refused" 1 "is inside the source folder" migrate --quiet --from srclink --to src/inner2
check "the source is unchanged" [ "$(cd src && find . | sort | md5sum)" = "$before" ]
run "--to a sibling named like the source is fine" 0 "" migrate --quiet --from src --to src-out
check "sibling: verified" verified src-out

echo "-- links and existing folders"
mkdir real && ln -s real link
run "a link to an empty folder" 0 "" migrate --quiet --from "$sample" --to link
check "link: still a link" [ -L link ]
check "link: the folder it names holds the result" [ -f real/chroma.sqlite3 ]
check "link: verified" verified link
ln -s nowhere dangling
run "a dangling link is refused" 1 "symbolic link to nowhere, which does not exist" migrate --quiet --from "$sample" --to dangling
check "dangling: nothing made" [ ! -e nowhere ]
ln -s loop loop
run "a link loop is refused" 1 "loop of symbolic links" migrate --quiet --from "$sample" --to loop
mkdir kept && chmod 0750 kept && chown nobody:nogroup kept
run "an existing empty folder" 0 "" migrate --quiet --from "$sample" --to kept
check "existing folder: mode kept (0750)" [ "$(stat -c %a kept)" = 750 ]
check "existing folder: owner kept (nobody:nogroup)" [ "$(stat -c %U:%G kept)" = nobody:nogroup ]
check "existing folder: verified" verified kept
check "no staging folder left beside the results" bash -c '! ls -A "$1" | grep -q partial' _ "$tmp"
echo x >busy-file
run "an existing file is refused" 1 "not a folder" migrate --quiet --from "$sample" --to busy-file

echo "-- mount points, a full disk, a read-only place"
mount_tmpfs() { # DIR OPTIONS
  mkdir -p "$1" && mount -t tmpfs -o "$2" tmpfs "$1" && mounts+=("$PWD/$1")
}
if mount_tmpfs mnt size=20m; then
  run "an empty mount point" 0 "" migrate --quiet --from "$sample" --to mnt
  check "mount point: verified" verified mnt
  check "mount point: only the result inside" bash -c '[ "$(ls -A mnt | grep -c partial)" = 0 ] && [ -f mnt/chroma.sqlite3 ]'
else
  bad "cannot mount a tmpfs here (the mount-point checks need root)"
fi
if mount_tmpfs full size=256k; then
  run "a full disk fails with what happened" 1 "disk is full|No space left on device" migrate --quiet --from "$sample" --to full
  check "full disk: the folder is left empty" [ -z "$(ls -A full)" ]
else
  bad "cannot mount a small tmpfs (full-disk check)"
fi
if mount_tmpfs ro size=1m,ro; then
  run "a read-only place is refused before the source is read" 1 "cannot create it in .*ro: Read-only file system" \
    migrate --quiet --from "$sample" --to ro/out "${blocked[@]}"
else
  bad "cannot mount a read-only tmpfs"
fi

echo "-- what reports say"
"$bin" migrate --json --from "$sample" --to 'http://user:SECRET-PW@127.0.0.1:6' >"$tmp/rep.json" 2>"$tmp/rep.err"
rc=$?
check "credentials in the URL: refused (exit 1)" [ $rc = 1 ]
check "credentials in the URL: no secret in the report or messages" bash -c '! grep -q SECRET-PW "$1" "$2"' _ "$tmp/rep.json" "$tmp/rep.err"
check "credentials in the URL: the report names a Chroma server" \
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["target"]; sys.exit(t["kind"] != "Chroma server" or "***@127.0.0.1:6" not in t["location"])' "$tmp/rep.json"
"$bin" migrate --json --from "$sample" --to decided --rename recipes=ab >"$tmp/rep.json" 2>/dev/null
check "a run stopped for a decision reports each collection's space" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sp = {c["name"]: c["space"] for c in r["collections"]}
sys.exit(0 if r["status"] == "needs_decision" and sp.get("support-tickets") == "cosine" and sp.get("recipes") == "l2" else 1)' "$tmp/rep.json"
check "a run stopped for a decision leaves no staging folder" bash -c '! ls -A "$1" | grep -q "decided"' _ "$tmp"

suite_end targets
