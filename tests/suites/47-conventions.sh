#!/usr/bin/env bash
# The command line's conventions (issue 15, items 13 and 14), through the real binary and, for the
# progress figures, the real Chroma 1.0.19 server:
#   - results on stdout, progress and diagnostics on stderr, for every command (as git and rsync);
#   - `help CMD` is `CMD --help`; every command that reads a SOURCE says what one can be
#     (clickhouse:// included) and lists its server options; a usage error names its own command;
#   - wording: "1 record", a server result named once;
#   - progress without a terminal: a plain line every 5 s; on a server target the overall figure
#     is the collection's when there is one collection (it used to run at half, doubling the ETA);
#     on a directory target the overall figure counts the indexing too (half while writing).
# Prints "conventions: N passed, N failed".
set -uo pipefail
cd "${CM_ROOT:-$(dirname "$0")/../..}"
. tests/lib/check.sh
suite_start cm-conv
. tests/lib/chroma-server.sh

echo "-- help"
"$bin" help migrate >"$tmp/h1" 2>&1
"$bin" migrate --help >"$tmp/h2" 2>&1
check "help migrate is migrate --help" cmp -s "$tmp/h1" "$tmp/h2"
check "help migrate starts with its usage" grep -q "^usage: chroma-migrate migrate" "$tmp/h1"
"$bin" help nope >/dev/null 2>"$tmp/h3"; rc=$?
check "help of no command: exit 2, named" bash -c '[ "$1" = 2 ] && grep -q "nope. is not a command" "$2"' _ "$rc" "$tmp/h3"
for c in migrate inspect export verify; do
  "$bin" "$c" --help >"$tmp/help-$c" 2>&1
  check "$c --help names clickhouse:// sources" grep -q "clickhouse://" "$tmp/help-$c"
  check "$c --help names server sources" grep -q "http\[s\]://HOST" "$tmp/help-$c"
done
for c in inspect export; do
  check "$c --help lists its header options" bash -c 'grep -q -- "--header .NAME: VALUE" "$1" && grep -q -- "--cacert" "$1"' _ "$tmp/help-$c"
done
check "migrate --help says a server can be the target" grep -q "Or http\[s\]://HOST\[:PORT\]\[/PREFIX\]: a running Chroma server" "$tmp/help-migrate"
"$bin" verify --threads abc --from x --to y >/dev/null 2>"$tmp/u1"; rc=$?
check "verify --threads abc: exit 2, answered as verify" bash -c '[ "$1" = 2 ] && grep -q "^chroma-migrate verify: --threads" "$2" && ! grep -q "chroma-migrate migrate" "$2"' _ "$rc" "$tmp/u1"
"$bin" migrate --threads abc --from x --to y >/dev/null 2>"$tmp/u2"
check "migrate --threads abc: answered as migrate" grep -q "^chroma-migrate migrate: --threads" "$tmp/u2"
# One option table drives every command (src/cli/options.c): what a command takes, its --help lists.
check "verify --help lists the source server options it takes" \
  bash -c 'grep -q -- "--from-header .NAME: VALUE" "$1" && grep -q -- "--from-cacert FILE" "$1"' _ "$tmp/help-verify"
"$bin" verify --json=yes --from x --to y >/dev/null 2>"$tmp/u3"; rc=$?
check "a flag given a value: exit 2, '--json takes no value'" \
  bash -c '[ "$1" = 2 ] && grep -q "^chroma-migrate verify: --json takes no value" "$2"' _ "$rc" "$tmp/u3"

echo "-- stdout for results, stderr for the rest"
"$bin" migrate --from "$sample" --to "$tmp/out1" >"$tmp/m.out" 2>"$tmp/m.err"
check "migrate: exit 0" [ $? = 0 ]
check "migrate: the summary is on stdout" bash -c 'grep -q "^migrated 3 collections: 450 records read, 450 written" "$1" && grep -q "^result: " "$1" && grep -q "PersistentClient" "$1"' _ "$tmp/m.out"
check "migrate: nothing on stderr for a quick run" [ ! -s "$tmp/m.err" ]
"$bin" inspect "$sample" >"$tmp/i.out" 2>"$tmp/i.err"
check "inspect: the table on stdout, nothing on stderr" bash -c 'grep -q "^recipes " "$1" && [ ! -s "$2" ]' _ "$tmp/i.out" "$tmp/i.err"
"$bin" verify --from "$sample" --to "$tmp/out1" >"$tmp/v.out" 2>"$tmp/v.err"
check "verify: the result on stdout" grep -q "matches the source record for record" "$tmp/v.out"
"$bin" migrate --from "$sample" --to "$tmp/out1" >"$tmp/f.out" 2>"$tmp/f.err"
check "a failure: nothing on stdout, the reason on stderr" bash -c '[ ! -s "$1" ] && grep -q "not an empty directory" "$2"' _ "$tmp/f.out" "$tmp/f.err"

echo "-- wording"
cat >"$tmp/one.json" <<'EOF'
{"collections": [{"uuid": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "name": "one-rec", "metadata": null}],
 "records": [{"collection_uuid": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "uuid": "u", "id": "only", "embedding": [1, 2], "document": "d", "metadata": null}]}
EOF
(cd tests/node && node make-store-from-json.mjs "$tmp/one" "$tmp/one.json") >/dev/null 2>&1 || bad "one-record store"
"$bin" migrate --from "$tmp/one" --to "$tmp/one-out" >"$tmp/w.out" 2>&1
check "one record: 'migrated 1 collection: 1 record read'" grep -q "^migrated 1 collection: 1 record read, 1 written" "$tmp/w.out"

echo "-- progress figures (no terminal: a line every 5 s)"
(cd tests/node && node make-store.mjs "$tmp/big" --collections 1 --rows 30000 --dim 16 --seed 5 >/dev/null) || bad "30000-record store"
if start_chroma srv "$tmp/srv-data"; then
  "$bin" migrate --from "$tmp/big" --to "$CHROMA_URL" --batch-size 500 --jobs 1 >"$tmp/p.out" 2>"$tmp/p.err"
  check "server target: the migration succeeds" grep -q "30000 written" "$tmp/p.out"
  # "writing 'c': A/B ( P%), R/s, ETA x | overall: collection 1 of 1,  Q% of the work, ETA y"
  python3 - "$tmp/p.err" >"$tmp/p.check" <<'EOF'
import re, sys
lines = [l for l in open(sys.argv[1]) if "| overall:" in l and "writing" in l]
pairs = []
for l in lines:
    m = re.search(r"\(\s*(\d+)%\).*\| overall: collection 1 of 1,\s*(\d+)% of the work", l)
    if m:
        pairs.append((int(m.group(1)), int(m.group(2))))
print(len(pairs), pairs)
sys.exit(0 if pairs and all(abs(p - q) <= 1 for p, q in pairs) else 1)
EOF
  rc=$?
  check "server target, one collection: the overall figure is the collection's ($(cat "$tmp/p.check"))" [ $rc = 0 ]
else
  bad "the Chroma server did not start"
fi
(cd tests/node && node make-store.mjs "$tmp/big2" --collections 1 --rows 60000 --dim 32 --seed 6 >/dev/null) || bad "60000-record store"
"$bin" migrate --from "$tmp/big2" --to "$tmp/big-dir" --threads 1 >"$tmp/d.out" 2>"$tmp/d.err"
python3 - "$tmp/d.err" >"$tmp/d.check" <<'EOF'
import re, sys
pairs = []
for l in open(sys.argv[1]):
    m = re.search(r"(writing|indexing) '.*\(\s*(\d+)%\).*\| overall: collection 1 of 1,\s*(\d+)% of the work", l)
    if m:
        pairs.append((m.group(1), int(m.group(2)), int(m.group(3))))
print(len(pairs), pairs)
# Writing is the first half of the work, indexing the second.
want = lambda ph, p: p / 2 if ph == "writing" else 50 + p / 2
sys.exit(0 if pairs and all(abs(want(ph, p) - q) <= 1 for ph, p, q in pairs) else 1)
EOF
rc=$?
check "directory target: overall counts writing and indexing ($(cat "$tmp/d.check"))" [ $rc = 0 ]

suite_end conventions
