#!/bin/sh
# pickle-python.sh - loads pickles written by our PersistentData writer in
# Python's own unpickler, with a stub chromadb.segment.impl.vector.
# local_persistent_hnsw module, and checks every field.
#
# Needs a C compiler and python3 (nothing else installed); without python3
# it says so and exits 0. Prints "pickle-python: N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1

PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
    echo "pickle-python: python3 not found, skipped"
    echo "pickle-python: 0 passed, 0 failed"
    exit 0
fi
CC=${CC:-cc}

T=$(mktemp -d "${TMPDIR:-/tmp}/pickle-python.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

# Built from the writer's own sources (not build/libchroma-migrate.a) so the
# check always runs the current code, whatever state the rest of the tree is in.
if ! $CC -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Isrc -o "$T/write_pickle" \
        tests/tools/write_pickle.c src/chroma/persistent_data.c src/format/pickle_write.c src/util/mem.c src/util/err.c src/util/utf8.c src/util/hex.c; then
    echo "pickle-python: cannot compile tests/tools/write_pickle.c"
    echo "pickle-python: 0 passed, 1 failed"
    exit 1
fi

mkdir -p "$T/stub/chromadb/segment/impl/vector"
for d in chromadb chromadb/segment chromadb/segment/impl chromadb/segment/impl/vector; do
    : > "$T/stub/$d/__init__.py"
done
printf 'class PersistentData:\n    pass\n' > "$T/stub/chromadb/segment/impl/vector/local_persistent_hnsw.py"

pass=0
fail=0
# name N LABEL_BASE SEQ_MUL [MAX_SEQ_ID]
run_case() {
    name=$1
    shift
    out="$T/$name.pickle"
    if ! "$T/write_pickle" "$out" "$@"; then
        echo "pickle-python: $name: writer failed"
        fail=$((fail + 1))
        return
    fi
    if PYTHONPATH="$T/stub" "$PY" - "$out" "$@" <<'PYEOF'
import io, pickle, pickletools, sys
path, n, base, mul = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
msi = int(sys.argv[5]) if len(sys.argv) > 5 else None
data = open(path, "rb").read()
pickletools.dis(data, out=io.StringIO())          # well-formed opcode stream
from chromadb.segment.impl.vector.local_persistent_hnsw import PersistentData
o = pickle.loads(data)
assert type(o) is PersistentData, type(o)
d = o.__dict__
want_keys = ["dimensionality", "total_elements_added"] + (["max_seq_id"] if msi is not None else []) + \
            ["id_to_label", "label_to_id", "id_to_seq_id"]
assert list(d.keys()) == want_keys, list(d.keys())
assert d["dimensionality"] == 384
assert d["total_elements_added"] == (base + n - 1 if n else 0), d["total_elements_added"]
if msi is not None:
    assert d["max_seq_id"] == msi and type(d["max_seq_id"]) is int
ids = ["id-%d-\u00e9\u20ac\U0001F600" % i for i in range(n)]
assert d["id_to_label"] == {ids[i]: base + i for i in range(n)}
assert list(d["id_to_label"]) == ids                   # label order kept
assert d["label_to_id"] == {base + i: ids[i] for i in range(n)}
assert d["id_to_seq_id"] == {ids[i]: (i * mul) % 2**32 for i in range(n)}
assert data[:2] == b"\x80\x02" and data[-1:] == b"."
PYEOF
    then
        pass=$((pass + 1))
    else
        echo "pickle-python: $name: Python check failed"
        fail=$((fail + 1))
    fi
}

run_case empty 0 1 1
run_case tiny 5 1 7 1099511627776
run_case labels0 3 0 1 2
run_case large 3000 70000 1000003 4294967295
run_case batch-edge 1000 1 3

echo "pickle-python: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
