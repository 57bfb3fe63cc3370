#!/usr/bin/python3
"""Give a legacy store the index/ folder chromadb 0.3.x would have saved for it.

usage: legacy-index.py STORE_DIR [--batch N] [--threads N] [--stale K] [--deleted K] [--missing K]
                       [--perturb K] [--shared-maps K] [--reopen 0|1] [--collection UUID]

Needs Debian's python3-hnswlib and python3-numpy (run it with /usr/bin/python3) and node (the store is read
with DuckDB by tests/node/dump-vectors.mjs). Per collection it does what chromadb 0.3.26-0.3.29's
chromadb/db/index/hnswlib.py did on collection.add() calls of N records each (default 1000), in file order:
hnswlib.Index(space, dim), init_index(max_elements=1000, ef_construction, M), labels 1, 2, ... from
total_elements_added, resize_index(max(total * resize_factor, 1000)) when full, add_items(embeddings, labels)
with the float64 embeddings (hnswlib casts them to float32 and normalises them for cosine itself), then
save_index(index_<uuid>.bin) and the three pickles with pickle.HIGHEST_PROTOCOL: id_to_uuid_<uuid>.pkl
{label: uuid.UUID}, uuid_to_id_<uuid>.pkl {uuid hex: label}, index_metadata_<uuid>.pkl {dimensionality,
curr_elements, total_elements_added, time_created}. Parameters come from the collection metadata
(hnsw:space, hnsw:construction_ef, hnsw:M, hnsw:search_ef, hnsw:num_threads, hnsw:resize_factor).

Damage, to make the stores real life has (the Parquet data stays the truth):
  --stale K      K extra elements for records that are not in the Parquet data (deleted there, not here)
  --deleted K    K extra elements added and then deleted the 0.3.x way (mark_deleted, removed from the maps)
  --missing K    the last K records are never added
  --perturb K    K records go in with one component changed by 1e-3 (an update the index never saw)
  --shared-maps K  chromadb <= 0.3.14 style: labels from 0, metadata {dimensionality, elements, time_created},
                 and K entries of another collection in both id maps (the maps were shared class attributes)
  --reopen 1     every batch after the first is added by a new process (a script run per batch): chromadb's
                 Hnswlib(.., self.count(collection)) -> _load(curr_elements) overwrites curr_elements with the
                 row count, which already holds the batch being inserted, and add() counts the batch again, so
                 curr_elements ends above total_elements_added (by the last batch), the file being fine
"""
import json, os, pickle, shutil, subprocess, sys, tempfile, time, uuid

import hnswlib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "..", "tests", "node")


def parse_args(argv):
    o = {"store": None, "batch": 1000, "threads": None, "stale": 0, "deleted": 0, "missing": 0, "perturb": 0,
         "shared_maps": -1, "reopen": 0,
         "collection": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            key = a[2:].replace("-", "_")
            if key not in o or i + 1 >= len(argv):
                sys.exit(__doc__)
            o[key] = argv[i + 1] if key == "collection" else int(argv[i + 1])
            i += 2
        else:
            o["store"] = a
            i += 1
    if not o["store"]:
        sys.exit(__doc__)
    return o


def params(meta_raw):
    try:
        m = json.loads(meta_raw) if meta_raw and meta_raw != "null" else {}
    except ValueError:
        m = {}
    m = {k: str(v) for k, v in (m or {}).items()}
    return {"space": m.get("hnsw:space", "l2"), "ef": int(m.get("hnsw:construction_ef", 100)),
            "search_ef": int(m.get("hnsw:search_ef", 10)), "M": int(m.get("hnsw:M", 16)),
            "threads": int(m.get("hnsw:num_threads", 4)), "resize": float(m.get("hnsw:resize_factor", 1.2))}


def build(o, idx_dir, c, keys, vecs):
    p = params(c["metadataRaw"])
    dim = c["dim"]
    rng = np.random.default_rng(11)
    old = o["shared_maps"] >= 0
    n_add = len(keys) - o["missing"]
    recs = [(uuid.UUID(k), vecs[i].copy()) for i, k in enumerate(keys[:n_add])]
    for i in range(min(o["perturb"], len(recs))):
        recs[(i * 7919) % len(recs)][1][0] += 1e-3
    extra = [(uuid.uuid4(), vecs[rng.integers(len(keys))] + rng.normal(0, 0.01, dim)) for _ in range(o["stale"] + o["deleted"])]
    stale, deleted = extra[:o["stale"]], extra[o["stale"]:]
    order = recs + stale + deleted
    # interleave the extras at seeded positions, as real adds would have
    if stale or deleted:
        pos = sorted(rng.choice(len(order), size=len(extra), replace=False))
        base = list(recs)
        for at, e in zip(pos, extra):
            base.insert(min(at, len(base)), e)
        order = base

    index = hnswlib.Index(space=p["space"], dim=dim)
    index.init_index(max_elements=1000, ef_construction=p["ef"], M=p["M"])
    index.set_ef(p["search_ef"])
    index.set_num_threads(o["threads"] or p["threads"])
    total = curr = 0
    id_to_label, label_to_id = {}, {}
    for s in range(0, len(order), o["batch"]):
        part = order[s:s + o["batch"]]
        if o["reopen"] and s > 0:
            curr = s + len(part)  # _load(self.count(collection_id)): the rows, this batch's inserted already
        labels = []
        for u, _ in part:
            label = total if old else total + 1
            total += 1
            curr += 1
            id_to_label[u.hex] = label
            label_to_id[label] = u
            labels.append(label)
        if total > index.get_max_elements():
            index.resize_index(int(max(total * p["resize"], 1000)))
        index.add_items(np.array([v for _, v in part], dtype=np.float64), labels)
    for u, _ in deleted:  # Hnswlib.delete_from_index
        label = id_to_label[u.hex]
        index.mark_deleted(label)
        del label_to_id[label]
        del id_to_label[u.hex]
        curr -= 1
    if old:
        for j in range(max(o["shared_maps"], 0)):
            u = uuid.uuid4()
            label_to_id[total + 1000 + j] = u
            id_to_label[u.hex] = total + 1000 + j
        meta = {"dimensionality": dim, "elements": total, "time_created": time.time()}
    else:
        meta = {"dimensionality": dim, "curr_elements": curr, "total_elements_added": total,
                "time_created": time.time()}
    cu = c["uuid"]
    index.save_index(os.path.join(idx_dir, f"index_{cu}.bin"))
    for name, obj in (("id_to_uuid", label_to_id), ("uuid_to_id", id_to_label), ("index_metadata", meta)):
        with open(os.path.join(idx_dir, f"{name}_{cu}.pkl"), "wb") as f:
            pickle.dump(obj, f, pickle.HIGHEST_PROTOCOL)
    return len(order)


def main():
    o = parse_args(sys.argv[1:])
    tmp = tempfile.mkdtemp(prefix="legacy-index-")
    try:
        subprocess.run(["node", "dump-vectors.mjs", os.path.abspath(o["store"]), tmp], cwd=NODE_DIR, check=True,
                       stdout=subprocess.DEVNULL)
        cols = json.load(open(os.path.join(tmp, "collections.json")))
        idx_dir = os.path.join(o["store"], "index")
        os.makedirs(idx_dir, exist_ok=True)
        t0 = time.time()
        n = 0
        for c in cols:
            if o["collection"] and c["uuid"] != o["collection"]:
                continue
            keys = open(os.path.join(tmp, c["uuid"] + ".keys")).read().split()
            vecs = np.fromfile(os.path.join(tmp, c["uuid"] + ".f64"), dtype="<f8").reshape(c["n"], c["dim"])
            n += build(o, idx_dir, c, keys, vecs)
        print(json.dumps({"collections": len(cols), "elements": n, "seconds": round(time.time() - t0, 2)}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
