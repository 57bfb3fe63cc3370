// jsonl-to-legacy-store.mjs - turn a ClickHouse fixture's oracle (expected.jsonl + collections.tsv) into a
// legacy (chromadb 0.3.x) persist_directory written by DuckDB, so that check-migrated.mjs --store can
// check a migration of the ClickHouse database against it through the real Chroma server.
//
// usage: node tests/node/jsonl-to-legacy-store.mjs FIXTURE_DIR OUT_DIR
//   FIXTURE_DIR  ../shared/fixtures/clickhouse: expected.jsonl (every stored row as chromadb 0.3.29's REST
//                API returned it: collection, seq, id, embedding, document, metadata) and collections.tsv
//                (ClickHouse's TabSeparated dump of `collections`: uuid, name, metadata text)
//   OUT_DIR      gets chroma-collections.parquet and chroma-embeddings.parquet
//
// Nothing here comes from chroma-migrate: the values are expected.jsonl's, kept exactly:
//   - records of a collection are written in `seq` order (insertion order), so the store's file order, which
//     the legacy oracle's duplicate policy follows, is chroma's insertion order;
//   - embeddings are parsed with typed-json and written as CAST('<the JSON literal>' AS DOUBLE), so every
//     double is exact, -0.0 included (a JS number would print -0 as "0");
//   - record metadata is written as Python's json.dumps text of the typed value (ints stay ints, 1.0 stays
//     a float, 2^53+1 stays exact), which is what chroma 0.3.x stored;
//   - collection metadata is collections.tsv's text as it is.
// The store is read back with lib/legacy-oracle.mjs (DuckDB) and compared with expected.jsonl value by
// value before this exits 0.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readLegacyStore } from './lib/legacy-oracle.mjs';
import * as TJ from './lib/typed-json.mjs';

const [fixture, out] = process.argv.slice(2);
if (!fixture || !out) {
  console.error('usage: node tests/node/jsonl-to-legacy-store.mjs FIXTURE_DIR OUT_DIR');
  process.exit(2);
}

// ClickHouse TabSeparated unescaping (\t \n \r \\ \' \b \f \0; \N is NULL).
function tsvField(s) {
  if (s === '\\N') return null;
  const map = { t: '\t', n: '\n', r: '\r', '\\': '\\', "'": "'", b: '\b', f: '\f', 0: '\0' };
  return s.replace(/\\(.)/g, (m, c) => (c in map ? map[c] : m));
}

const collections = [];
for (const line of fs.readFileSync(path.join(fixture, 'collections.tsv'), 'utf8').split('\n')) {
  if (!line) continue;
  const f = line.split('\t');
  if (f.length !== 3) throw new Error(`collections.tsv: ${f.length} fields in ${JSON.stringify(line)}`);
  collections.push({ uuid: tsvField(f[0]), name: tsvField(f[1]), metadata: tsvField(f[2]) });
}
const byName = new Map(collections.map((c) => [c.name, c]));

const rows = [];
const text = fs.readFileSync(path.join(fixture, 'expected.jsonl'), 'utf8');
for (const line of text.split('\n')) {
  if (!line.trim()) continue;
  const node = TJ.parse(line);
  const get = (k) => TJ.get(node, k);
  const coll = get('collection').v;
  if (!byName.has(coll)) throw new Error(`expected.jsonl: collection ${JSON.stringify(coll)} is not in collections.tsv`);
  const emb = get('embedding');
  const doc = get('document');
  const id = get('id');
  const md = get('metadata');
  rows.push({
    coll,
    seq: Number(get('seq').v),
    id: id.t === 'null' ? null : id.v,
    embedding: emb.t === 'null' ? null : emb.v.map((x) => {
      if (x.t !== 'float' && x.t !== 'int') throw new Error(`expected.jsonl: embedding element ${TJ.describe(x)}`);
      return x;
    }),
    document: doc.t === 'null' ? null : doc.v,
    metadata: md.t === 'null' ? null : md,
  });
}
// Collections in collections.tsv order; rows of a collection in insertion order.
const order = new Map(collections.map((c, i) => [c.name, i]));
rows.sort((a, b) => order.get(a.coll) - order.get(b.coll) || a.seq - b.seq);

const q = (s) => (s === null ? 'NULL' : "'" + String(s).replaceAll("'", "''") + "'");
const dbl = (x) => {
  const raw = x.raw ?? x.v.toString();
  if (!/^-?[0-9][0-9.eE+-]*$/.test(raw)) throw new Error(`embedding value ${raw} cannot be written exactly`);
  return `CAST('${raw}' AS DOUBLE)`;
};
const fakeUuid = (k) => `00000000-0000-4000-8000-${String(k).padStart(12, '0')}`;

fs.mkdirSync(out, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('CREATE TABLE collections (uuid VARCHAR, name VARCHAR, metadata VARCHAR)');
await con.run('CREATE TABLE embeddings (collection_uuid VARCHAR, uuid VARCHAR, embedding DOUBLE[], document VARCHAR, id VARCHAR, metadata VARCHAR)');
for (const c of collections) await con.run(`INSERT INTO collections VALUES (${q(c.uuid)}, ${q(c.name)}, ${q(c.metadata)})`);
// One INSERT per batch keeps the rows in this order (DuckDB inserts VALUES rows in order, single thread).
await con.run('SET threads = 1');
for (let i = 0; i < rows.length; i += 100) {
  const values = rows.slice(i, i + 100).map((r, k) => {
    const e = r.embedding === null ? 'NULL' : `[${r.embedding.map(dbl).join(', ')}]::DOUBLE[]`;
    const m = r.metadata === null ? null : TJ.pyDumps(r.metadata);
    return `(${q(byName.get(r.coll).uuid)}, ${q(fakeUuid(i + k))}, ${e}, ${q(r.document)}, ${q(r.id)}, ${q(m)})`;
  });
  await con.run('INSERT INTO embeddings VALUES ' + values.join(', '));
}
for (const [t, f] of [['collections', 'chroma-collections.parquet'], ['embeddings', 'chroma-embeddings.parquet']]) {
  await con.run(`COPY (SELECT * FROM ${t}) TO '${path.join(out, f).replaceAll("'", "''")}' (FORMAT PARQUET)`);
}

// Read it back (DuckDB, the legacy oracle) and compare with expected.jsonl.
const store = await readLegacyStore(out);
let bad = 0;
const fail = (m) => { if (bad++ < 10) console.error(`jsonl-to-legacy-store: ${m}`); };
if (store.orphans.length) fail(`${store.orphans.length} orphan rows`);
let k = 0;
for (const c of collections) {
  const recs = store.records.get(c.uuid) || [];
  const want = rows.filter((r) => r.coll === c.name);
  if (recs.length !== want.length) fail(`${c.name}: ${recs.length} rows read back, ${want.length} expected`);
  for (let i = 0; i < Math.min(recs.length, want.length); i++, k++) {
    const g = recs[i], w = want[i];
    if (g.id !== w.id) fail(`${c.name} seq ${w.seq}: id ${JSON.stringify(g.id)} != ${JSON.stringify(w.id)}`);
    if (g.document !== w.document) fail(`${c.name} seq ${w.seq}: document differs`);
    const wm = w.metadata === null ? null : TJ.pyDumps(w.metadata);
    if (g.metadataRaw !== wm) fail(`${c.name} seq ${w.seq}: metadata ${g.metadataRaw} != ${wm}`);
    const d = g.metadataRaw === null ? null : TJ.diff(TJ.parse(g.metadataRaw), w.metadata);
    if (d) fail(`${c.name} seq ${w.seq}: metadata typed difference ${d}`);
    if ((g.embedding === null) !== (w.embedding === null) || (g.embedding && g.embedding.length !== w.embedding.length)) {
      fail(`${c.name} seq ${w.seq}: embedding shape differs`);
    } else if (g.embedding) {
      for (let j = 0; j < g.embedding.length; j++) {
        if (!Object.is(g.embedding[j], w.embedding[j].v)) { fail(`${c.name} seq ${w.seq}: embedding[${j}] ${g.embedding[j]} != ${w.embedding[j].raw}`); break; }
      }
    }
  }
}
if (bad) {
  console.error(`jsonl-to-legacy-store: ${bad} differences after writing ${out}`);
  process.exit(1);
}
console.log(`jsonl-to-legacy-store: ${out}: ${collections.length} collections, ${rows.length} rows, read back identical`);
