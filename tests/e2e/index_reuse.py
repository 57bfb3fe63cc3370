#!/usr/bin/env python3
"""Reusing the legacy hnswlib index (issue 9), end to end.

For every real fixture store: `migrate --index auto --json` says per collection whether the legacy index was
reused or why not (the documented cases: stale entries, an orphan index, the chromadb <= 0.3.14 shared-map
bug, soft deletes, no index at all). Where every collection's index matches, `--index reuse` succeeds, the
result passes tests/node/check-migrated.mjs (the real Chroma 1.0 server: content, self-queries, writes after
the migration, restarts) and answers queries as well as a `--index rebuild` result
(tests/node/compare-neighbours.mjs: recall@10 against exact brute force, self-queries). Where it does not
match, auto falls back to a rebuild and `--index reuse` fails with exit 1, a clear message and no target.

Then the same on stores whose legacy index was written by real hnswlib the way chromadb 0.3.x did
(bench/legacy-index.py with Debian's python3-hnswlib; skipped, and counted as failed, when it is missing):
a 3-collection store with l2, ip and cosine (reused, checked, compared), and damaged variants (stale
entries and soft deletes, kept as tombstones; missing rows and changed vectors, inserted into the legacy
graph, and too many of them, rebuilt; shared maps; a truncated index file), and one added to a batch per
process, whose index_metadata curr_elements chromadb left above total_elements_added (reused: the file and
the id maps decide, not that counter).

usage: index_reuse.py BINARY   (prints 'index-reuse: N passed, N failed')"""
import glob, json, os, pickle, re, shutil, subprocess, sys, tempfile

ROOT = os.path.abspath(os.environ.get("CM_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")))
NODE_DIR = os.path.join(ROOT, "tests", "node")
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures", "legacy")
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-san", "chroma-migrate"))
tmp = tempfile.mkdtemp(prefix="cm-index-reuse-")
passed = failed = 0

REUSED = "reused the legacy index"
# Per fixture store: collection name (or '*') -> regex the index note must match; None: no note (no records).
# A reused index's note may add what it kept: "reused the legacy index (N deleted elements kept as deleted)".
EXPECT = {
    "chroma-core__chroma-migrate__test_data_duckdb": {"*": REUSED},
    "sdan__chatmaps__cafe_data": {"*": REUSED},
    # 80 rows, 33 distinct ids: the duplicates policy keeps 33 records, the index holds 80 live elements
    "sdan__chatmaps__data": {"*": r"built \(47 stale index entries|built \(47 of 80 index elements would be deleted"},
    "ddlxt__Graduation-Project__vector_db": {
        "scenic_knowledge": REUSED,
        "route_knowledge": r"built \(the id maps hold \d+ entries for labels this index lacks.*shared-map bug",
        "service_knowledge": r"built \(the id maps hold \d+ entries for labels this index lacks.*shared-map bug",
    },
    # soft-deleted and stale elements are kept as tombstones with retired labels (src/index/hnsw_reuse.h)
    "nagiteja__PaperScope-AI__data-chroma": {"*": REUSED + r" \(18 deleted elements kept as deleted\)"},
    "purabshingvi1011__customer-support-bot__vectorstore": {"*": REUSED + r" \(1 stale element kept as deleted\)"},
    "hongyonghan__GPT_tools__db": {"*": r"built \(no legacy index for this collection\)"},
    # the only collection has no records; the index file is for a collection that no longer exists
    "PierreAnders__PersonalAI__app-persist": {"*": None},
}


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}\n{detail}".rstrip())


def migrate(store, out, *args):
    return subprocess.run([BIN, "migrate", "--quiet", "--from", store, "--to", out, *args], capture_output=True,
                          text=True)


def notes_of(r):
    try:
        j = json.loads(r.stdout)
        return {c["name"]: c["index"] for c in j["collections"]}, j
    except (ValueError, KeyError, TypeError):
        return None, None


def node(script, *args):
    r = subprocess.run(["node", script, *args], cwd=NODE_DIR, capture_output=True, text=True)
    return r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def no_leftovers(out):
    parent, base = os.path.dirname(out), os.path.basename(out)
    return not os.path.exists(out) and not glob.glob(os.path.join(parent, f".{base}.partial-*"))


def reuse_must_fail(label, store):
    out = os.path.join(tmp, label + "-reuse")
    r = migrate(store, out, "--index", "reuse")
    check(r.returncode == 1 and "cannot be reused" in r.stderr and no_leftovers(out),
          f"{label}: --index reuse refuses (exit 1, a reason, no target)",
          f"exit {r.returncode}\n{r.stderr[-1500:]}")


def reuse_and_compare(label, store):
    """--index reuse succeeds; check-migrated passes; neighbours as good as a rebuild."""
    a = os.path.join(tmp, label + "-reuse")
    b = os.path.join(tmp, label + "-rebuild")
    r = migrate(store, a, "--index", "reuse", "--json")
    notes, _ = notes_of(r)
    ok = r.returncode == 0 and notes is not None and all(v is None or v.startswith(REUSED) for v in notes.values())
    check(ok, f"{label}: --index reuse succeeds and reuses every index", f"exit {r.returncode}\n{r.stdout[-800:]}{r.stderr[-1500:]}")
    if not ok:
        return
    r = migrate(store, b, "--index", "rebuild", "--json")
    notes, _ = notes_of(r)
    check(r.returncode == 0 and notes is not None and
          all(v in ("built (--index rebuild)", None) for v in notes.values()),
          f"{label}: --index rebuild builds every index", f"exit {r.returncode}\n{r.stdout[-800:]}{r.stderr[-800:]}")
    v = subprocess.run([BIN, "verify", "--quiet", "--from", store, "--to", a], capture_output=True, text=True)
    check(v.returncode == 0, f"{label}: verify passes on the reused result (HNSW structure, labels, self-queries)",
          v.stdout[-1500:] + v.stderr[-800:])
    good, out = node("check-migrated.mjs", "--store", store, "--dir", a)
    check(good, f"{label}: the reused result passes check-migrated (real server, writes, restarts)", out)
    good, out = node("compare-neighbours.mjs", "--store", store, "--a", a, "--b", b)
    for line in out.splitlines():
        if "recall" in line:
            print(f"     {line}")
    check(good, f"{label}: reused answers queries as well as rebuilt (recall@10 >= rebuilt - 0.02)", out)
    shutil.rmtree(a, ignore_errors=True)
    shutil.rmtree(b, ignore_errors=True)


def fixtures():
    for store in sorted(glob.glob(os.path.join(FIXTURES, "*", ""))):
        name = os.path.basename(os.path.dirname(store))
        want = EXPECT.get(name)
        if want is None:
            check(False, f"{name}: not in this suite's table of expected outcomes")
            continue
        out = os.path.join(tmp, name + "-auto")
        r = migrate(store, out, "--index", "auto", "--json")
        notes, _ = notes_of(r)
        check(r.returncode == 0 and notes is not None, f"{name}: --index auto --json", f"{r.stdout[-500:]}{r.stderr[-1500:]}")
        if notes is None:
            continue
        for coll, note in sorted(notes.items()):
            pat = want.get(coll, want.get("*", "<missing>"))
            if pat is None:
                ok = note is None
            else:
                ok = note is not None and re.fullmatch(f"(?:{pat}).*", note) is not None
            print(f"     {name} / {coll}: {note}")
            check(ok, f"{name} / {coll}: index note is as documented", f"got {note!r}, want {pat!r}")
        reused = [c for c, n in notes.items() if n is not None and n.startswith(REUSED)]
        others = [c for c, n in notes.items() if n is not None and not n.startswith(REUSED)]
        if reused and not others:
            reuse_and_compare(name, store)
        else:
            if others:
                reuse_must_fail(name, store)
            if reused:
                # a mixed store: the auto result (some reused, some rebuilt) against a rebuild
                b = os.path.join(tmp, name + "-rebuild")
                r = migrate(store, b, "--index", "rebuild")
                good, txt = node("compare-neighbours.mjs", "--store", store, "--a", out, "--b", b)
                check(r.returncode == 0 and good, f"{name}: partly reused answers queries as well as rebuilt", txt)
                shutil.rmtree(b, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


def hnswlib_python():
    for p in ("/usr/bin/python3", "python3"):
        if shutil.which(p) and subprocess.run([p, "-c", "import hnswlib, numpy"], capture_output=True).returncode == 0:
            return p
    return None


def pickle_load(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def make_store(label, *args):
    d = os.path.join(tmp, label)
    subprocess.run(["node", "make-store.mjs", d, *args], cwd=NODE_DIR, check=True, stdout=subprocess.DEVNULL)
    return d


def legacy_index(py, store, *args):
    r = subprocess.run([py, os.path.join(ROOT, "bench", "legacy-index.py"), store, *args], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])


def synthetic():
    py = hnswlib_python()
    if not py:
        check(False, "python3-hnswlib is not installed (scripts/install-test-deps.sh): hnswlib-made stores skipped")
        return
    # l2, ip and cosine collections, realistic vectors, an index made by real hnswlib as chromadb 0.3.x did
    store = make_store("hnswlib-mixed", "--collections", "3", "--rows", "2000", "--dim", "48", "--kind", "latent",
                       "--space", "mixed", "--seed", "21")
    legacy_index(py, store)
    r = migrate(store, os.path.join(tmp, "mixed-auto"), "--json")
    notes, _ = notes_of(r)
    check(notes is not None and len(notes) == 3 and all(n == REUSED for n in notes.values()),
          "hnswlib-made store (l2, ip, cosine): every index reused by default", f"{r.stdout[-800:]}{r.stderr[-800:]}")
    shutil.rmtree(os.path.join(tmp, "mixed-auto"), ignore_errors=True)
    reuse_and_compare("hnswlib-mixed", store)

    cases = [
        ("stale", ["--stale", "3"], REUSED + r" \(3 stale elements kept as deleted\)$"),
        ("deleted", ["--deleted", "4"], REUSED + r" \(4 deleted elements kept as deleted\)$"),
        ("missing", ["--missing", "2"], REUSED + r" \(2 missing records inserted into the graph\)$"),
        ("missing-most", ["--missing", "160"], r"built \(160 of 300 records are not in the index: more than are in it"),
        ("perturbed", ["--perturb", "1"],
         REUSED + r" \(1 changed record inserted into the graph, 1 replaced element kept as deleted\)$"),
        ("shared-maps", ["--shared-maps", "6"], r"built \(the id maps hold 6 entries for labels this index lacks"),
        ("old-format", ["--shared-maps", "0"], REUSED),
    ]
    for label, args, pat in cases:
        store = make_store("hnswlib-" + label, "--collections", "1", "--rows", "300", "--dim", "16",
                           "--space", "cosine", "--seed", "5")
        legacy_index(py, store, *args)
        out = os.path.join(tmp, label + "-auto")
        r = migrate(store, out, "--json")
        notes, _ = notes_of(r)
        note = list(notes.values())[0] if notes else None
        print(f"     hnswlib-{label}: {note}")
        check(r.returncode == 0 and note is not None and re.match(pat, note) is not None,
              f"hnswlib-{label}: auto says '{pat}'", f"got {note!r}\n{r.stderr[-800:]}")
        if note is None or not note.startswith(REUSED):
            reuse_must_fail("hnswlib-" + label, store)
        elif note != REUSED:
            # tombstones kept: verify, the real server (writes reuse deleted slots), neighbours vs a rebuild
            reuse_and_compare("hnswlib-" + label, store)
        shutil.rmtree(out, ignore_errors=True)

    # an index saved before the last 10% of the records were added (and a few updates it never saw): the
    # records go into the legacy graph, which then answers as well as a new one (recall against brute force)
    store = make_store("hnswlib-behind", "--collections", "1", "--rows", "3000", "--dim", "48", "--kind", "latent",
                       "--space", "l2", "--seed", "8")
    legacy_index(py, store, "--missing", "300", "--perturb", "20")
    out = os.path.join(tmp, "behind-auto")
    r = migrate(store, out, "--json")
    notes, _ = notes_of(r)
    note = list(notes.values())[0] if notes else None
    print(f"     hnswlib-behind: {note}")
    check(note == REUSED + " (300 missing and 20 changed records inserted into the graph, 20 replaced elements kept "
          "as deleted)", "hnswlib-behind: 300 missing and 20 changed records inserted into the legacy graph",
          f"got {note!r}\n{r.stderr[-800:]}")
    shutil.rmtree(out, ignore_errors=True)
    reuse_and_compare("hnswlib-behind", store)

    # curr_elements is no live count: chromadb 0.3.x's Hnswlib._load(count) overwrites it with the row count at
    # each load, and add() counts the batch again. A store added to by one process per batch is left with
    # curr_elements above total_elements_added; its index matches the records and is reused.
    store = make_store("hnswlib-reopened", "--collections", "1", "--rows", "300", "--dim", "16", "--space", "cosine",
                       "--seed", "9")
    legacy_index(py, store, "--batch", "100", "--reopen", "1")
    metas = [pickle_load(f) for f in glob.glob(os.path.join(store, "index", "index_metadata_*.pkl"))]
    check(len(metas) == 1 and metas[0].get("curr_elements") == 400 and metas[0].get("total_elements_added") == 300,
          "hnswlib-reopened: index_metadata says curr_elements 400, total_elements_added 300", repr(metas))
    out = os.path.join(tmp, "reopened-auto")
    r = migrate(store, out, "--json")
    notes, _ = notes_of(r)
    note = list(notes.values())[0] if notes else None
    print(f"     hnswlib-reopened: {note}")
    check(r.returncode == 0 and note == REUSED, "hnswlib-reopened: curr_elements above the element count: reused",
          f"got {note!r}\n{r.stderr[-800:]}")
    shutil.rmtree(out, ignore_errors=True)
    reuse_and_compare("hnswlib-reopened", store)
    # the counter does not hide a damaged file
    for f in glob.glob(os.path.join(store, "index", "index_*.bin")):
        with open(f, "r+b") as fh:
            fh.truncate(os.path.getsize(f) - 100)
    r = migrate(store, out, "--json")
    notes, _ = notes_of(r)
    note = list(notes.values())[0] if notes else None
    check(r.returncode == 0 and note is not None and note.startswith("built (index file damaged"),
          "hnswlib-reopened, truncated: rebuilt with the reason", f"got {note!r}\n{r.stderr[-800:]}")
    shutil.rmtree(out, ignore_errors=True)

    # a damaged index file: never a crash, a rebuild with the reason
    store = make_store("hnswlib-truncated", "--collections", "1", "--rows", "300", "--dim", "16", "--seed", "6")
    legacy_index(py, store)
    for f in glob.glob(os.path.join(store, "index", "index_*.bin")):
        size = os.path.getsize(f)
        with open(f, "r+b") as fh:
            fh.truncate(size - 100)
    out = os.path.join(tmp, "truncated-auto")
    r = migrate(store, out, "--json")
    notes, _ = notes_of(r)
    note = list(notes.values())[0] if notes else None
    check(r.returncode == 0 and note is not None and note.startswith("built (index file damaged"),
          "hnswlib-truncated: a truncated index file is rebuilt with the reason", f"got {note!r}\n{r.stderr[-800:]}")
    reuse_must_fail("hnswlib-truncated", store)


try:
    fixtures()
    synthetic()
except Exception as e:  # noqa: BLE001 - report, never hide
    check(False, f"suite crashed: {e!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"index-reuse: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
