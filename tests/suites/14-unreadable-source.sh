#!/usr/bin/env bash
# A legacy store this user may not read must be reported as "permission
# denied" with the path, not as "not a legacy Chroma store" or "no legacy
# index" (issue 15, item 10). The tests run as root, whom permissions do not
# stop, so the binary runs as the unprivileged user nobody (setpriv).
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
bin=$PWD/build-san/chroma-migrate
. tests/lib/check.sh
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  echo "unreadable-source: needs root and setpriv to run as nobody; 0 passed, 0 failed"; exit 0
fi
tmp=$(mktemp -d); trap 'chmod -R u+rwX "$tmp"; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
store=$tmp/store
cp -r ../shared/fixtures/legacy/purabshingvi1011__customer-support-bot__vectorstore "$store"
chmod -R a+rX "$store"
mkdir "$tmp/out" && chmod 777 "$tmp/out"
[ -x "$bin" ] && as_nobody "$bin" --help >/dev/null 2>&1 || { echo "nobody cannot run $bin; 0 passed, 1 failed"; exit 1; }

# the store folder itself: no permission to look into it
chmod 000 "$store"
for cmd in "inspect" "export" "migrate --from"; do
  as_nobody "$bin" $cmd "$store" $( [ "$cmd" = "migrate --from" ] && echo "--to $tmp/out/a") >/dev/null 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 1 ] && grep -q "$store: permission denied" "$tmp/err" && ! grep -q "not a legacy" "$tmp/err"; then
    ok "${cmd%% *}: unreadable store folder is 'permission denied' with its path"
  else bad "${cmd%% *} of an unreadable store: exit $rc: $(cat "$tmp/err")"; fi
done
chmod 755 "$store"

# index/ unreadable: the migration still works (the index is built), and
# both the source note and the index line say permission denied, with paths
chmod 000 "$store/index"
as_nobody "$bin" migrate --from "$store" --to "$tmp/out/b" >"$tmp/out.txt" 2>"$tmp/err"
rc=$?
all=$(cat "$tmp/out.txt" "$tmp/err")
if [ $rc -eq 0 ] && grep -q "$store/index: permission denied" <<<"$all" \
   && grep -q "cannot read $store/index/.*Permission denied" <<<"$all" && ! grep -q "no legacy index" <<<"$all"; then
  ok "unreadable index/: migrated, index built, 'permission denied' with the paths"
else bad "unreadable index/: exit $rc: $all"; fi
as_nobody "$bin" migrate --index reuse --from "$store" --to "$tmp/out/c" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "cannot read $store/index/index_.*Permission denied" "$tmp/err"; then
  ok "--index reuse with unreadable index/: refused, says permission denied"
else bad "--index reuse with unreadable index/: exit $rc: $(cat "$tmp/err")"; fi
as_nobody "$bin" inspect "$store" >"$tmp/out.txt" 2>&1
if grep -q "$store/index: permission denied" "$tmp/out.txt"; then ok "inspect notes the unreadable index/"
else bad "inspect with unreadable index/: $(cat "$tmp/out.txt")"; fi
chmod 755 "$store/index"

# one index file unreadable (the folder is fine)
chmod 000 "$store"/index/index_*.bin
as_nobody "$bin" migrate --from "$store" --to "$tmp/out/d" >"$tmp/out.txt" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "cannot read $store/index/index_.*\.bin: Permission denied" "$tmp/out.txt"; then
  ok "unreadable index file: built, says which file"
else bad "unreadable index file: exit $rc: $(cat "$tmp/out.txt")"; fi
chmod 444 "$store"/index/*

# and all readable: the index is reused (the setup itself is right)
as_nobody "$bin" migrate --from "$store" --to "$tmp/out/e" >"$tmp/out.txt" 2>&1
if grep -q "index: reused" "$tmp/out.txt"; then ok "readable store: index reused as nobody"
else bad "readable store as nobody: $(cat "$tmp/out.txt")"; fi
suite_end unreadable-source
