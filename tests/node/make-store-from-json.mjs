// make-store-from-json.mjs OUT_DIR SPEC.json
//
// Writes a legacy (chromadb 0.3.x) persist_directory from an explicit spec,
// with DuckDB exactly as chromadb 0.3.x did (COPY (SELECT * FROM t) TO f
// (FORMAT PARQUET)). For tests that need precise odd cases: records without
// an embedding, lists with NULL elements, mixed dimensions, NULL ids, names
// Chroma >= 0.4 refuses, stores with no collections.
//
// SPEC: {"collections": [{"uuid", "name", "metadata": raw text or null}],
//        "records": [{"collection_uuid", "uuid", "embedding": [numbers or null] or null,
//                     "document": text or null, "id": text or null, "metadata": raw text or null}]}
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [out, specPath] = process.argv.slice(2);
if (!out || !specPath) {
  console.error('usage: node make-store-from-json.mjs OUT_DIR SPEC.json');
  process.exit(2);
}
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const q = (s) => (s === null || s === undefined ? 'NULL' : "'" + String(s).replaceAll("'", "''") + "'");
const emb = (e) =>
  e === null || e === undefined
    ? 'NULL'
    : '[' + e.map((x) => (x === null ? 'NULL' : `CAST('${x}' AS DOUBLE)`)).join(', ') + ']::DOUBLE[]';

fs.mkdirSync(out, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('CREATE TABLE collections (uuid VARCHAR, name VARCHAR, metadata VARCHAR)');
await con.run(
  'CREATE TABLE embeddings (collection_uuid VARCHAR, uuid VARCHAR, embedding DOUBLE[], document VARCHAR, id VARCHAR, metadata VARCHAR)');
for (const c of spec.collections || [])
  await con.run(`INSERT INTO collections VALUES (${q(c.uuid)}, ${q(c.name)}, ${q(c.metadata)})`);
const recs = spec.records || [];
for (let i = 0; i < recs.length; i += 500) {
  const rows = recs.slice(i, i + 500).map(
    (r) => `(${q(r.collection_uuid)}, ${q(r.uuid)}, ${emb(r.embedding)}, ${q(r.document)}, ${q(r.id)}, ${q(r.metadata)})`);
  await con.run('INSERT INTO embeddings VALUES ' + rows.join(', '));
}
for (const [t, f] of [['collections', 'chroma-collections.parquet'], ['embeddings', 'chroma-embeddings.parquet']])
  await con.run(`COPY (SELECT * FROM ${t}) TO '${path.join(out, f).replaceAll("'", "''")}' (FORMAT PARQUET)`);
