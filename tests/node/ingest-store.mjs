// ingest-store.mjs STORE_DIR URL [--batch N]
//
// The reference path for the benchmarks: reads a legacy store with DuckDB and
// adds every record to a running Chroma server through the official JS client,
// in batches (default 1000), as a user without chroma-migrate would. Prints
// one JSON line: {"records", "seconds"} where seconds covers the adds plus the
// first query of each collection (which makes Chroma 1.x apply its log).
import { chromaClient } from './lib/chroma-client.mjs';
import { readLegacyStore } from './lib/legacy-oracle.mjs';
const { ChromaClient } = await chromaClient(); // the client paired with $CM_CHROMA's server

const args = process.argv.slice(2);
const [store, url] = args;
const bi = args.indexOf('--batch');
const batch = bi >= 0 ? Number(args[bi + 1]) : 1000;
const noEmbed = { generate: async () => { throw new Error('no embedding function in benchmarks'); } };

const data = await readLegacyStore(store);
const u = new URL(url);
const client = new ChromaClient({ host: u.hostname, port: Number(u.port), ssl: false });
let n = 0;
const t0 = performance.now();
for (const c of data.collections) {
  let meta = null;
  try { meta = c.metadataRaw && c.metadataRaw !== 'null' ? JSON.parse(c.metadataRaw) : null; } catch { meta = null; }
  if (meta && Object.keys(meta).length === 0) meta = null;
  const coll = await client.createCollection({ name: c.name, metadata: meta ?? undefined, embeddingFunction: noEmbed });
  const seen = new Set();
  const rows = data.records.get(c.uuid).filter((r) => r.id !== null && r.embedding && !seen.has(r.id) && seen.add(r.id));
  for (let i = 0; i < rows.length; i += batch) {
    const part = rows.slice(i, i + batch);
    await coll.add({
      ids: part.map((r) => r.id),
      embeddings: part.map((r) => Array.from(r.embedding)),
      documents: part.map((r) => r.document ?? undefined),
      metadatas: part.map((r) => {
        if (!r.metadataRaw) return undefined;
        const m = JSON.parse(r.metadataRaw);
        return Object.keys(m).length ? m : undefined;
      }),
    });
    n += part.length;
  }
  if (rows.length) await coll.query({ queryEmbeddings: [Array.from(rows[0].embedding)], nResults: 1 });
}
console.log(JSON.stringify({ records: n, seconds: (performance.now() - t0) / 1000 }));
