#!/usr/bin/env python3
"""verify catches every kind of damage: migrate real fixtures, then tamper
with a copy of the result in one way at a time (a document byte, a metadata
type, one float, a dropped row, an added row, a broken HNSW link, a stale
pickle, and where the reused legacy index kept tombstones, one given a live
label) - each must be detected (exit 3) and named; the untouched result
passes (exit 0).

usage: verify_tamper.py BINARY [STORE...]   (prints 'verify: N passed, N failed')
Without STOREs: three real fixtures; with them, those legacy stores (e.g. generated ones in every space)."""
import json, os, shutil, sqlite3, struct, subprocess, sys, tempfile

ROOT = os.path.abspath(os.environ.get("CM_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "chroma-migrate"))
FIX = os.path.join(ROOT, "..", "shared", "fixtures", "legacy")
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}\n{detail}")


def verify(store, out):
    r = subprocess.run([BIN, "verify", "--quiet", "--json", "--from", store, "--to", out], capture_output=True,
                       text=True)
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        rep = None
    return r.returncode, rep, r.stdout + r.stderr


def header(seg_dir):
    h = open(os.path.join(seg_dir, "header.bin"), "rb").read()
    (ver, off0, maxel, count, size, label_off, data_off, maxlevel, ep, maxM, maxM0, M, mult, efc) = struct.unpack(
        "<iQQQQQQiIQQQdQ", h)
    return dict(count=count, size=size, label_off=label_off, data_off=data_off, maxM0=maxM0)


def first_vector_segment(out):
    db = sqlite3.connect(os.path.join(out, "chroma.sqlite3"))
    seg = db.execute("SELECT s.id FROM segments s JOIN collections c ON c.id = s.collection "
                     "WHERE s.scope = 'VECTOR' AND c.dimension IS NOT NULL ORDER BY c.rowid LIMIT 1").fetchone()[0]
    db.close()
    return os.path.join(out, seg)


def tampered(base, name, fn, must):
    out = base + "-" + name
    shutil.copytree(base, out)
    fn(out)
    code, rep, log = verify(STORE, out)
    check(code == 3, f"{name}: detected (exit 3)", f"exit {code}\n{log[-3000:]}")
    check(must in log, f"{name}: the report names it ({must!r})", log[-3000:])
    shutil.rmtree(out, ignore_errors=True)


def sql(out, q, *args):
    db = sqlite3.connect(os.path.join(out, "chroma.sqlite3"))
    db.execute(q, args)
    db.commit()
    db.close()


def change_doc_byte(out):
    db = sqlite3.connect(os.path.join(out, "chroma.sqlite3"))
    rid, doc = db.execute("SELECT id, string_value FROM embedding_metadata WHERE key = 'chroma:document' "
                          "ORDER BY id LIMIT 1").fetchone()
    doc = ("X" if doc[:1] != "X" else "Y") + doc[1:]
    db.execute("UPDATE embedding_metadata SET string_value = ? WHERE id = ? AND key = 'chroma:document'", (doc, rid))
    db.commit()
    db.close()


def change_meta_type(out):
    db = sqlite3.connect(os.path.join(out, "chroma.sqlite3"))
    row = db.execute("SELECT id, key, int_value FROM embedding_metadata WHERE int_value IS NOT NULL LIMIT 1").fetchone()
    if row:
        db.execute("UPDATE embedding_metadata SET int_value = NULL, float_value = ? WHERE id = ? AND key = ?",
                   (float(row[2]), row[0], row[1]))
    else:
        row = db.execute("SELECT id, key, string_value FROM embedding_metadata WHERE key != 'chroma:document' "
                         "AND string_value IS NOT NULL LIMIT 1").fetchone()
        db.execute("UPDATE embedding_metadata SET string_value = NULL, int_value = 7 WHERE id = ? AND key = ?",
                   (row[0], row[1]))
    db.commit()
    db.close()


def change_float(out):
    seg = first_vector_segment(out)
    h = header(seg)
    p = os.path.join(seg, "data_level0.bin")
    data = bytearray(open(p, "rb").read())
    # the first live element: a tombstone (a reused legacy index keeps some) holds no record
    live = next(i for i in range(len(data) // h["size"]) if not data[i * h["size"] + 2] & 1)
    off = live * h["size"] + h["data_off"]
    (x,) = struct.unpack_from("<f", data, off)
    struct.pack_into("<f", data, off, x + 0.25)
    open(p, "wb").write(data)


def tombstones(out):
    seg = first_vector_segment(out)
    h = header(seg)
    data = open(os.path.join(seg, "data_level0.bin"), "rb").read()
    return [i for i in range(h["count"]) if data[i * h["size"] + 2] & 1]


def revive_label(out):
    """A tombstone given a live record's label (its retired label lost)."""
    seg = first_vector_segment(out)
    h = header(seg)
    p = os.path.join(seg, "data_level0.bin")
    data = bytearray(open(p, "rb").read())
    dead = tombstones(out)[0]
    struct.pack_into("<Q", data, dead * h["size"] + h["label_off"], 1)
    open(p, "wb").write(data)


def drop_row(out):
    db = sqlite3.connect(os.path.join(out, "chroma.sqlite3"))
    rid = db.execute("SELECT max(id) FROM embeddings").fetchone()[0]
    db.execute("DELETE FROM embeddings WHERE id = ?", (rid,))
    db.execute("DELETE FROM embedding_metadata WHERE id = ?", (rid,))
    db.commit()
    db.close()


def add_row(out):
    db = sqlite3.connect(os.path.join(out, "chroma.sqlite3"))
    seg, = db.execute("SELECT segment_id FROM embeddings LIMIT 1").fetchone()
    db.execute("INSERT INTO embeddings (segment_id, embedding_id, seq_id) VALUES (?, 'intruder', 1)", (seg,))
    db.commit()
    db.close()


def break_link(out):
    seg = first_vector_segment(out)
    h = header(seg)
    p = os.path.join(seg, "data_level0.bin")
    data = bytearray(open(p, "rb").read())
    for i in range(h["count"]):
        (n,) = struct.unpack_from("<H", data, i * h["size"])
        if n:
            struct.pack_into("<I", data, i * h["size"] + 4, h["count"] + 1000)
            break
    open(p, "wb").write(data)


def stale_pickle(out):
    # The pickle of another collection (or an older one) no longer matches.
    seg = first_vector_segment(out)
    db = sqlite3.connect(os.path.join(out, "chroma.sqlite3"))
    others = [r[0] for r in db.execute("SELECT id FROM segments WHERE scope = 'VECTOR'")]
    # another collection with as many records may hold the same ids in the same order (generated stores
    # do): its pickle would be the same map, no damage - then the pickle is cut short instead
    def records(vec_seg):
        return db.execute("SELECT count(*) FROM embeddings e JOIN segments m ON m.id = e.segment_id "
                          "JOIN segments v ON v.collection = m.collection WHERE v.id = ?", (vec_seg,)).fetchone()[0]
    mine = records(os.path.basename(seg))
    src = [o for o in others if o != os.path.basename(seg) and os.path.exists(os.path.join(out, o, "index_metadata.pickle"))
           and records(o) != mine]
    db.close()
    if src:
        shutil.copy(os.path.join(out, src[0], "index_metadata.pickle"), os.path.join(seg, "index_metadata.pickle"))
    else:
        p = os.path.join(seg, "index_metadata.pickle")
        data = open(p, "rb").read()
        open(p, "wb").write(data[: len(data) // 2])


tmp = tempfile.mkdtemp(prefix="cm-verify-")
STORES = [os.path.abspath(p) for p in sys.argv[2:]] or [
    os.path.join(FIX, f) for f in ["chroma-core__chroma-migrate__test_data_duckdb", "sdan__chatmaps__cafe_data",
                                   "nagiteja__PaperScope-AI__data-chroma"]]
for STORE in STORES:
    fixture = os.path.basename(STORE)
    base = os.path.join(tmp, fixture)
    r = subprocess.run([BIN, "migrate", "--quiet", "--from", STORE, "--to", base], capture_output=True, text=True)
    check(r.returncode == 0, f"{fixture}: migrate", r.stderr)
    if r.returncode:
        continue
    code, rep, log = verify(STORE, base)
    check(code == 0 and rep and rep["ok"], f"{fixture}: untouched result passes", log[-3000:])
    if rep:
        check(all(c["sampled"] == 0 or c["self_first"] == c["sampled"] for c in rep["collections"]),
              f"{fixture}: every sampled record finds itself first", log[-2000:])
    tampered(base, "document byte", change_doc_byte, "document differs")
    tampered(base, "metadata type", change_meta_type, "metadata key")
    tampered(base, "one float", change_float, "embedding value")
    tampered(base, "dropped row", drop_row, "not in the target")
    tampered(base, "added row", add_row, '"extra":1')
    tampered(base, "broken HNSW link", break_link, "structure")
    tampered(base, "stale pickle", stale_pickle, "pickle")
    if tombstones(base):  # a reused legacy index with deleted elements kept (nagiteja: 18)
        tampered(base, "tombstone with a live label", revive_label, "still maps an id to its label")
    r = subprocess.run([BIN, "migrate", "--quiet", "--verify", "--from", STORE, "--to", base + "-mv"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"{fixture}: migrate --verify passes", r.stderr[-2000:])
shutil.rmtree(tmp, ignore_errors=True)
print(f"verify: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
