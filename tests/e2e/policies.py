#!/usr/bin/env python3
"""Each migration policy, end to end: legacy stores with exactly the odd cases
(written by DuckDB), our binary, and the result checked through the real Chroma
1.0 server (tests/node/check-migrated.mjs computes the expected content from
the store on its own, applying the same policy). Stopping policies must leave
no target at all and name the records concerned.

usage: policies.py BINARY   (prints 'policies: N passed, N failed')"""
import json, os, random, shutil, subprocess, sys, tempfile, uuid

ROOT = os.environ.get("CM_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
NODE_DIR = os.path.join(ROOT, "tests", "node")
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "chroma-migrate"))
tmp = tempfile.mkdtemp(prefix="cm-policies-")
passed = failed = 0
rng = random.Random(7)


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}\n{detail}")


def vec(dim):
    return [round(rng.uniform(-1, 1), 6) for _ in range(dim)]


def rec(cu, rid, dim=8, doc="d", meta='{"k": 1}', emb="auto"):
    return {"collection_uuid": cu, "uuid": str(uuid.uuid4()), "id": rid,
            "embedding": vec(dim) if emb == "auto" else emb, "document": doc, "metadata": meta}


def make_store(name, collections, records):
    d = os.path.join(tmp, name)
    spec = os.path.join(tmp, name + ".json")
    with open(spec, "w") as f:
        json.dump({"collections": collections, "records": records}, f)
    subprocess.run(["node", "make-store-from-json.mjs", d, spec], cwd=NODE_DIR, check=True)
    return d


def migrate(store, out, *args):
    return subprocess.run([BIN, "migrate", "--quiet", "--from", store, "--to", out, *args],
                          capture_output=True, text=True)


def checker(store, out, *args):
    r = subprocess.run(["node", "check-migrated.mjs", "--store", store, "--dir", out, *args], cwd=NODE_DIR,
                       capture_output=True, text=True)
    return r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def case_ok(label, store, mig_args=(), check_args=()):
    out = os.path.join(tmp, label.replace(" ", "_"))
    r = migrate(store, out, *mig_args)
    check(r.returncode == 0, f"{label}: migrate succeeds", r.stderr)
    if r.returncode == 0:
        ok, log = checker(store, out, *check_args)
        check(ok, f"{label}: real Chroma server shows the expected content", log)
    shutil.rmtree(out, ignore_errors=True)


def case_stops(label, store, must_mention, mig_args=()):
    out = os.path.join(tmp, label.replace(" ", "_"))
    r = migrate(store, out, *mig_args)
    check(r.returncode == 1, f"{label}: stops with exit 1", f"exit {r.returncode}\n{r.stderr}")
    check(not os.path.exists(out), f"{label}: nothing written", str(os.listdir(tmp)))
    parent = os.listdir(tmp)
    check(not any(p.startswith("." + os.path.basename(out)) for p in parent), f"{label}: no partial folder left")
    for m in must_mention:
        check(m in r.stderr, f"{label}: the message names {m!r}", r.stderr)


# duplicates: first (default), last, error
cu = str(uuid.uuid4())
recs = [rec(cu, f"id-{i}", doc=f"doc {i}") for i in range(30)]
recs += [rec(cu, "id-3", doc="second copy of 3"), rec(cu, "id-7", doc="second copy of 7", meta='{"k": 2.5}')]
dups = make_store("dups", [{"uuid": cu, "name": "dups", "metadata": None}], recs)
case_ok("duplicates first", dups)
case_ok("duplicates last", dups, ["--duplicates", "last"], ["--duplicates", "last"])
case_stops("duplicates error", dups, ["id-3", "id-7", "--duplicates"], ["--duplicates", "error"])

# invalid metadata: error (default), drop, stringify
cu = str(uuid.uuid4())
recs = [rec(cu, f"m-{i}") for i in range(20)]
recs[2]["metadata"] = '{"a": null, "b": 1}'
recs[5]["metadata"] = '{"nested": {"x": [1, 2]}, "ok": "yes"}'
recs[9]["metadata"] = '{"l": [1, "two"], "f": NaN}'
recs[11]["metadata"] = '{"inf": Infinity, "big": 123456789012345678901234567890}'
recs[12]["metadata"] = '{"only": null}'
badmeta = make_store("badmeta", [{"uuid": cu, "name": "badmeta", "metadata": '{"hnsw:space": "ip"}'}], recs)
case_stops("invalid metadata error", badmeta, ["m-2", "m-5", "--invalid-metadata"])
case_ok("invalid metadata drop", badmeta, ["--invalid-metadata", "drop"], ["--invalid-metadata", "drop"])
case_ok("invalid metadata stringify", badmeta, ["--invalid-metadata", "stringify"],
        ["--invalid-metadata", "stringify"])

# names invalid from 0.4 on: stop, then --rename
cu1, cu2 = str(uuid.uuid4()), str(uuid.uuid4())
names = make_store("names", [{"uuid": cu1, "name": "my docs", "metadata": None},
                             {"uuid": cu2, "name": "ok-name", "metadata": '{"owner": "me"}'}],
                   [rec(cu1, f"a{i}") for i in range(5)] + [rec(cu2, f"b{i}") for i in range(5)])
case_stops("invalid name", names, ["my docs", "--rename"])
case_ok("rename", names, ["--rename", "my docs=my-docs"], ["--rename", "my docs=my-docs"])
case_ok("collection filter", names, ["--collection", "ok-name"], ["--collection", "ok-name"])

# mixed dimensions, missing embeddings, null elements, missing ids: stop, then skip
cu = str(uuid.uuid4())
recs = [rec(cu, f"v-{i}", dim=8) for i in range(25)]
recs += [rec(cu, "v-wide", dim=12), rec(cu, "v-none", emb=None), rec(cu, "v-empty", emb=[]),
         rec(cu, "v-nullelem", emb=[0.5, None, 1, 2, 3, 4, 5, 6]), rec(cu, None)]
mixed = make_store("mixed", [{"uuid": cu, "name": "mixed", "metadata": None}], recs)
case_stops("invalid records", mixed, ["v-none", "12 dims", "--skip-invalid-records"])
case_ok("skip invalid records", mixed, ["--skip-invalid-records"], ["--skip-invalid-records"])
out = os.path.join(tmp, "skipjson")
r = migrate(mixed, out, "--skip-invalid-records", "--json")
try:
    rep = json.loads(r.stdout)
    sk = rep["collections"][0]["skipped"]
    check(rep["records_written"] == 25 and sk["wrong_dimension"] == 1 and sk["missing_embedding"] == 3
          and sk["missing_id"] == 1, "skip invalid records: --json counts each reason", r.stdout)
except (ValueError, KeyError, IndexError) as e:
    check(False, "skip invalid records: --json report parses", f"{e}\n{r.stdout}\n{r.stderr}")
shutil.rmtree(out, ignore_errors=True)

# empty collection, and a store with no collections at all
cu1, cu2 = str(uuid.uuid4()), str(uuid.uuid4())
empty = make_store("empty", [{"uuid": cu1, "name": "has-none", "metadata": '{"note": "empty"}'},
                             {"uuid": cu2, "name": "has-some", "metadata": None}],
                   [rec(cu2, f"s{i}") for i in range(3)])
case_ok("empty collection", empty)
nothing = make_store("nothing", [], [])
case_ok("store with no collections", nothing)

# target exists and is not empty
busy = os.path.join(tmp, "busy")
os.makedirs(busy)
open(os.path.join(busy, "keep.txt"), "w").write("mine")
r = migrate(empty, busy)
check(r.returncode == 1 and "not an empty directory" in r.stderr and os.listdir(busy) == ["keep.txt"],
      "existing non-empty target is refused and left alone", r.stderr)

shutil.rmtree(tmp, ignore_errors=True)
print(f"policies: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
