// dump-vectors.mjs STORE_DIR OUT_DIR
//
// Reads a legacy store with DuckDB (lib/legacy-oracle.mjs) and writes, for each collection with records,
// what an hnswlib index of it needs, in file order (= the order chromadb 0.3.x added them):
//   OUT_DIR/collections.json   [{uuid, name, metadataRaw, n, dim}]
//   OUT_DIR/<uuid>.keys        one record uuid per line (the parquet `uuid` column)
//   OUT_DIR/<uuid>.f64         n x dim float64, little-endian (the parquet doubles)
// Records without a usable embedding (NULL, NULL elements, another length than the first) are left out.
// Used by bench/legacy-index.py, which builds the legacy index with Debian's python3-hnswlib.
import fs from 'node:fs';
import path from 'node:path';
import { readLegacyStore } from './lib/legacy-oracle.mjs';

const [store, out] = process.argv.slice(2);
if (!store || !out) {
  console.error('usage: node tests/node/dump-vectors.mjs STORE_DIR OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const data = await readLegacyStore(store);
const list = [];
for (const c of data.collections) {
  const recs = (data.records.get(c.uuid) || []).filter((r) => r.embedding && r.embedding.length && !r.embeddingNulls);
  if (!recs.length) continue;
  const dim = recs[0].embedding.length;
  const use = recs.filter((r) => r.embedding.length === dim && r.uuid);
  const buf = Buffer.alloc(use.length * dim * 8);
  use.forEach((r, i) => {
    for (let k = 0; k < dim; k++) buf.writeDoubleLE(r.embedding[k], (i * dim + k) * 8);
  });
  fs.writeFileSync(path.join(out, `${c.uuid}.f64`), buf);
  fs.writeFileSync(path.join(out, `${c.uuid}.keys`), use.map((r) => r.uuid).join('\n') + '\n');
  list.push({ uuid: c.uuid, name: c.name, metadataRaw: c.metadataRaw, n: use.length, dim });
}
fs.writeFileSync(path.join(out, 'collections.json'), JSON.stringify(list));
console.log(JSON.stringify({ collections: list.length, records: list.reduce((a, c) => a + c.n, 0) }));
