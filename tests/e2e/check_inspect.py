#!/usr/bin/env python3
"""Compares `chroma-migrate inspect --json` with a fixture's expected.json
(what DuckDB reads from the same Parquet files): per collection its name,
uuid, rows, distinct ids, dimensions, non-null documents and metadatas.
Prints 'inspect <store>: N passed, N failed'."""
import json, sys

ours = json.load(open(sys.argv[1]))
exp = json.load(open(sys.argv[2]))
label = sys.argv[3]
passed = failed = 0

def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"MISMATCH {label}: {what}")

by_uuid = {c["id"]: c for c in ours["collections"]}
check(len(ours["collections"]) == len(exp["collections"]),
      f"collections {len(ours['collections'])} != {len(exp['collections'])}")
check(ours["records"] == exp["total_rows"], f"records {ours['records']} != {exp['total_rows']}")
for e in exp["collections"]:
    c = by_uuid.get(e["uuid"])
    check(c is not None, f"collection {e['uuid']} missing")
    if c is None:
        continue
    n = e["name"]
    check(c["name"] == n, f"name {c['name']!r} != {n!r}")
    check(c["records"] == e["rows"], f"{n}: records {c['records']} != {e['rows']}")
    check(c["unique_ids"] == e["distinct_ids"], f"{n}: unique_ids {c['unique_ids']} != {e['distinct_ids']}")
    check(c["duplicate_ids"] == e["rows"] - e["distinct_ids"], f"{n}: duplicate_ids {c['duplicate_ids']}")
    check(sorted(c["dimensions"]) == sorted(e["dims"]), f"{n}: dims {c['dimensions']} != {e['dims']}")
    check(c["dimension"] == (e["dims"][0] if len(e["dims"]) == 1 else None), f"{n}: dimension {c['dimension']}")
    check(c["documents"] == e["documents"], f"{n}: documents {c['documents']} != {e['documents']}")
    check(c["metadatas"] == e["metadatas"], f"{n}: metadatas {c['metadatas']} != {e['metadatas']}")
    raw = json.loads(e["metadata"]) if e["metadata"] is not None else None
    if raw == {}:
        raw = None
    check(c["metadata"] == raw, f"{n}: collection metadata {c['metadata']} != {raw}")
    kinds = {p["kind"] for p in c["problems"]}
    check(("duplicate_ids" in kinds) == (e["rows"] != e["distinct_ids"]), f"{n}: duplicate_ids problem {kinds}")
print(f"inspect {label}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
