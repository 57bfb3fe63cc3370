// legacy-oracle.mjs - what a legacy (chromadb 0.3.x) persist_directory holds, as DuckDB reads it.
//
// readLegacyStore(dir) -> {
//   dir, missing: [file names not present],
//   collections: [{uuid, name, metadataRaw, row}]            in file order
//   records: Map(collection uuid -> [{id, uuid, embedding, embeddingNulls, document, metadataRaw, row}])
//            in file order; embedding: Float64Array | null; embeddingNulls: number of NULL elements
//            inside the list (stored as NaN in `embedding`), 0 normally; embeddingNullAt: their
//            positions (null when there are none)
//   orphans: [records whose collection_uuid matches no collection (or is NULL), with .collectionUuid]
//   totalRows, duckdbVersion
// }
// File order: read_parquet(..., file_row_number=true) ORDER BY file_row_number, and we check that the
// row numbers are exactly 0..n-1.
//
// DuckDB is the oracle: this file must not share code or assumptions with the C reader.

import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export const COLLECTIONS_FILE = 'chroma-collections.parquet';
export const EMBEDDINGS_FILE = 'chroma-embeddings.parquet';

let sharedInstance = null;
export async function duckdbConnection() {
  if (!sharedInstance) sharedInstance = await DuckDBInstance.create(':memory:', { threads: '2' });
  return sharedInstance.connect();
}

export function sqlString(s) {
  return "'" + String(s).replaceAll("'", "''") + "'";
}

async function forEachChunk(con, sql, fn) {
  const res = await con.stream(sql);
  for (;;) {
    const chunk = await res.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    fn(chunk);
  }
}

function checkRowNumbers(rows, file) {
  for (let k = 0; k < rows.length; k++) {
    if (rows[k] !== k) throw new Error(`legacy-oracle: ${file}: file_row_number ${rows[k]} at position ${k}`);
  }
}

export async function readLegacyStore(dir, opts = {}) {
  const con = opts.connection || (await duckdbConnection());
  const out = {
    dir,
    missing: [],
    collections: [],
    records: new Map(),
    orphans: [],
    totalRows: 0,
    duckdbVersion: null,
  };
  out.duckdbVersion = (await con.runAndReadAll('select version()')).getRows()[0][0];
  const cpath = path.join(dir, COLLECTIONS_FILE);
  const epath = path.join(dir, EMBEDDINGS_FILE);

  if (fs.existsSync(cpath)) {
    const rowNums = [];
    await forEachChunk(con,
      `select uuid, name, metadata, file_row_number from read_parquet(${sqlString(cpath)}, file_row_number=true) order by file_row_number`,
      (chunk) => {
        const [u, nm, md, rn] = [0, 1, 2, 3].map((c) => chunk.getColumnVector(c));
        for (let r = 0; r < chunk.rowCount; r++) {
          const row = Number(rn.getItem(r));
          rowNums.push(row);
          out.collections.push({ uuid: u.getItem(r), name: nm.getItem(r), metadataRaw: md.getItem(r), row });
        }
      });
    checkRowNumbers(rowNums, COLLECTIONS_FILE);
  } else {
    out.missing.push(COLLECTIONS_FILE);
  }
  for (const c of out.collections) out.records.set(c.uuid, []);

  if (fs.existsSync(epath)) {
    const rowNums = [];
    await forEachChunk(con,
      `select collection_uuid, uuid, embedding, document, id, metadata, file_row_number
         from read_parquet(${sqlString(epath)}, file_row_number=true) order by file_row_number`,
      (chunk) => {
        const cols = [0, 1, 2, 3, 4, 5, 6].map((c) => chunk.getColumnVector(c));
        const [cu, uu, em, doc, id, md, rn] = cols;
        for (let r = 0; r < chunk.rowCount; r++) {
          const row = Number(rn.getItem(r));
          rowNums.push(row);
          let embedding = null;
          let embeddingNulls = 0;
          let embeddingNullAt = null;
          const ev = em.getItemVector(r);
          if (ev) {
            embedding = new Float64Array(ev.itemCount);
            for (let k = 0; k < embedding.length; k++) {
              const x = ev.getItem(k);
              if (x === null) {
                embeddingNulls++;
                (embeddingNullAt ??= []).push(k);
                embedding[k] = NaN;
              } else embedding[k] = x;
            }
          }
          const rec = {
            id: id.getItem(r),
            uuid: uu.getItem(r),
            embedding,
            embeddingNulls,
            embeddingNullAt,
            document: doc.getItem(r),
            metadataRaw: md.getItem(r),
            row,
          };
          const cuuid = cu.getItem(r);
          const list = cuuid === null ? undefined : out.records.get(cuuid);
          if (list) list.push(rec);
          else { rec.collectionUuid = cuuid; out.orphans.push(rec); }
        }
      });
    checkRowNumbers(rowNums, EMBEDDINGS_FILE);
    out.totalRows = rowNums.length;
  } else {
    out.missing.push(EMBEDDINGS_FILE);
  }
  return out;
}

// Summary in the shape of the fixtures' expected.json (handy for self-checks).
export function summarize(store) {
  return {
    collections: store.collections.map((c) => {
      const recs = store.records.get(c.uuid);
      return {
        name: c.name,
        uuid: c.uuid,
        metadata: c.metadataRaw,
        rows: recs.length,
        distinct_ids: new Set(recs.map((r) => r.id)).size,
        dims: [...new Set(recs.filter((r) => r.embedding).map((r) => r.embedding.length))].sort((a, b) => a - b),
        documents: recs.filter((r) => r.document !== null).length,
        metadatas: recs.filter((r) => r.metadataRaw !== null).length,
      };
    }),
    total_rows: store.totalRows,
  };
}

// CLI: node lib/legacy-oracle.mjs STORE_DIR  -> prints the summary as JSON.
if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) { console.error('usage: node legacy-oracle.mjs STORE_DIR'); process.exit(2); }
  const store = await readLegacyStore(dir);
  console.log(JSON.stringify({ ...summarize(store), missing: store.missing, orphans: store.orphans.length }, null, 1));
}
