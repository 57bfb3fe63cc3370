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

# text Chroma cannot hold and metadata that is no JSON object (issue 14: lone UTF-16 surrogates, a
# Python repr, bare lists/strings/numbers, keys in the reserved 'chroma:' namespace, the empty id)
def text_columns_valid(out):
    """Every TEXT value in the result's SQLite is strict UTF-8 (nothing invalid written)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
    from sqlite_text_utf8 import bad_text
    return bad_text(os.path.join(out, "chroma.sqlite3"))


def case_clean(label, store, mig_args=(), check_args=()):
    out = os.path.join(tmp, label.replace(" ", "_"))
    r = migrate(store, out, *mig_args)
    check(r.returncode == 0, f"{label}: migrate succeeds", r.stderr)
    if r.returncode == 0:
        bad = text_columns_valid(out)
        check(not bad, f"{label}: no invalid UTF-8 in any SQLite text", str(bad[:5]))
        ok, log = checker(store, out, *check_args)
        check(ok, f"{label}: real Chroma server shows the expected content", log)
    shutil.rmtree(out, ignore_errors=True)
    return r


cu = str(uuid.uuid4())
recs = [rec(cu, f"t-{i}") for i in range(12)]
recs[1]["metadata"] = '{"s": "\\udcff", "ok": 1}'
recs[2]["metadata"] = '{"\\udcff": 1, "fine": "yes"}'
recs[3]["metadata"] = "{'a': 1}"
recs[4]["metadata"] = '["m.txt", 2]'
recs[5]["metadata"] = '"n.txt"'
recs[6]["metadata"] = '42'
recs[7]["metadata"] = '{"chroma:document": "x", "_chroma:document": 3, "chroma:uri": "u", "k": 2}'
recs[8]["metadata"] = '{"n": ["\\ud800"], "p": "\\ud83d\\ude00 pair is fine"}'
recs[9]["metadata"] = '{"mix": "a\\ud800x"}'
recs[10]["id"] = ""
texty = make_store("texty", [{"uuid": cu, "name": "texty", "metadata": None}], recs)
case_stops("unstorable text error", texty, ["t-1", "t-3", "t-4", "t-7", "--invalid-metadata", "empty id",
                                           "--skip-invalid-records"])
r = subprocess.run([BIN, "inspect", "--json", texty], capture_output=True, text=True)
try:
    c = json.loads(r.stdout)["collections"][0]
    kinds = {p["kind"]: p["count"] for p in c["problems"]}
    check(r.returncode == 0, "unstorable text: inspect exits 0", r.stderr)
    check(c["unique_ids"] == 12 and c["records"] == 12, "unstorable text: inspect counts the empty id among the ids",
          r.stdout)
    check(kinds.get("metadata_not_object") == 4, "unstorable text: inspect counts 4 metadata texts that are no object",
          r.stdout)
    check(kinds.get("invalid_metadata") == 5, "unstorable text: inspect counts 5 records with unstorable metadata",
          r.stdout)
    check(kinds.get("missing_ids") == 1, "unstorable text: inspect lists the empty id", r.stdout)
    ids = {e["id"] for p in c["problems"] for e in p.get("examples", [])}
    check({"t-3", "t-4", "t-5", "t-6"} <= ids, "unstorable text: inspect names each record", r.stdout)
except (ValueError, KeyError, IndexError) as e:
    check(False, "unstorable text: inspect --json parses", f"{e}\n{r.stdout}\n{r.stderr}")
case_clean("unstorable text drop", texty, ["--invalid-metadata", "drop", "--skip-invalid-records"],
           ["--invalid-metadata", "drop", "--skip-invalid-records"])
r = case_clean("unstorable text stringify", texty, ["--invalid-metadata", "stringify", "--skip-invalid-records",
                                                     "--json"],
               ["--invalid-metadata", "stringify", "--skip-invalid-records"])
try:
    c = json.loads(r.stdout)["collections"][0]
    check(c["metadata_keys_renamed"] == 3 and c["metadata_not_object"] == 4 and c["skipped"]["missing_id"] == 1,
          "unstorable text stringify: the report counts renamed keys, texts kept and the empty id", r.stdout)
except (ValueError, KeyError, IndexError) as e:
    check(False, "unstorable text stringify: --json report parses", f"{e}\n{r.stdout}\n{r.stderr}")

# names invalid from 0.4 on: stop, then --rename
cu1, cu2 = str(uuid.uuid4()), str(uuid.uuid4())
names = make_store("names", [{"uuid": cu1, "name": "my docs", "metadata": None},
                             {"uuid": cu2, "name": "ok-name", "metadata": '{"owner": "me"}'}],
                   [rec(cu1, f"a{i}") for i in range(5)] + [rec(cu2, f"b{i}") for i in range(5)])
case_stops("invalid name", names, ["my docs", "--rename"])
case_ok("rename", names, ["--rename", "my docs=my-docs"], ["--rename", "my docs=my-docs"])
case_ok("collection filter", names, ["--collection", "ok-name"], ["--collection", "ok-name"])

# a --collection or --rename OLD that names no collection (a typo) stops every command with exit 1 and lists
# the collections there are, instead of silently doing something else (issue 15, item 9)
def names_listed(text):
    return "'my docs'" in text and "'ok-name'" in text


for label, args in [("--rename of no collection", ["--rename", "my-docs=x-docs", "--rename", "my docs=my-docs"]),
                    ("--collection of no collection", ["--collection", "nope", "--rename", "my docs=my-docs"])]:
    case_stops(f"migrate {label}", names, ["no such collection", args[1].split("=")[0]], args)
    r = migrate(names, os.path.join(tmp, "x"), *args)
    check(names_listed(r.stderr), f"migrate {label}: the message lists the collections there are", r.stderr)
named_out = os.path.join(tmp, "named-out")
r = migrate(names, named_out, "--rename", "my docs=my-docs")
check(r.returncode == 0, "verify setup: migrate with --rename", r.stderr)
for label, args in [("--rename", ["--rename", "my docs=my-docs", "--rename", "nope=x-docs"]),
                    ("--collection", ["--rename", "my docs=my-docs", "--collection", "nope"])]:
    r = subprocess.run([BIN, "verify", "--quiet", "--from", names, "--to", named_out, *args], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "nope" in r.stderr and "no such collection" in r.stderr and names_listed(r.stderr),
          f"verify {label} of no collection: exit 1, lists the collections", f"exit {r.returncode}\n{r.stderr}")
r = subprocess.run([BIN, "export", names, "--collection", "nope"], capture_output=True, text=True)
check(r.returncode == 1 and r.stdout == "" and "--collection nope: no such collection" in r.stderr
      and names_listed(r.stderr), "export --collection of no collection: exit 1, nothing printed, lists them",
      f"exit {r.returncode}\nstdout {r.stdout[:300]}\n{r.stderr}")
r = subprocess.run([BIN, "export", nothing_yet := make_store("none-here", [], []), "--collection", "nope"],
                   capture_output=True, text=True)
check(r.returncode == 1 and "has no collections" in r.stderr, "export --collection of an empty store: says so",
      r.stderr)
shutil.rmtree(named_out, ignore_errors=True)

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
