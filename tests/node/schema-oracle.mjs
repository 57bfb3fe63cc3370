// schema-oracle.mjs - what Chroma 1.5.9 itself writes for the same data, against a migrated directory.
//
// usage: node tests/node/schema-oracle.mjs STORE_DIR MIGRATED_DIR
//
// Starts the real Chroma 1.5.9 server on an empty folder and gives it the legacy store's collections and
// records through its REST API, as a user without chroma-migrate would (collection metadata as stored,
// records in store order, first occurrence of each id, Python's json.dumps text of their metadata sent as
// it is, so 1.0 stays a float; no embedding function, as chroma-migrate has none to name). It then stops
// the server and compares its chroma.sqlite3 with MIGRATED_DIR's (written by --chroma-version 1.5):
//   - the migrations rows (dir, version, filename, sql, hash), in rowid order;
//   - the schema: every CREATE statement in sqlite_master (but Chroma's start-up lock table);
//   - per collection: config_json_str, and schema_str as a value (the one map without an order in
//     Chroma, "keys", compared as a map; everything else field by field in order) and by its length;
//   - no hnsw:* rows in segment_metadata.
// Output: a line per failure, then `schema-oracle: N passed, N failed`. Exit 0 when nothing failed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLegacyStore } from './lib/legacy-oracle.mjs';
import { ChromaRest } from './lib/chroma-rest.mjs';
import { startChroma } from './lib/chroma-server.mjs';

const [store, migrated] = process.argv.slice(2);
if (!store || !migrated) {
  console.error('usage: node tests/node/schema-oracle.mjs STORE_DIR MIGRATED_DIR');
  process.exit(2);
}
let pass = 0, fail = 0;
const check = (ok, what, detail) => {
  if (ok) pass++;
  else { fail++; console.log(`FAIL ${what}${detail ? `: ${detail()}` : ''}`); }
};
const sql = (db, q) => JSON.parse(execFileSync('sqlite3', ['-readonly', '-json', db, q], { encoding: 'utf8' }) || '[]');

const data = await readLegacyStore(store);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-oracle-'));
const srv = await startChroma(path.join(tmp, 'chroma'), { chroma: '1.5', logFile: path.join(tmp, 'server.log') });
const rest = new ChromaRest(srv.url);
const ok2xx = (r, what) => { if (r.status !== 200 && r.status !== 201) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`); return r; };
for (const c of data.collections) {
  const meta = c.metadataRaw && c.metadataRaw !== 'null' && c.metadataRaw !== '{}' ? c.metadataRaw : null;
  const made = ok2xx(await rest.request('POST', '/collections', `{"name":${JSON.stringify(c.name)}${meta ? `,"metadata":${meta}` : ''}}`),
    `creating ${c.name}`);
  const id = JSON.parse(made.text).id;
  const seen = new Set();
  const rows = data.records.get(c.uuid).filter((r) => r.id !== null && r.embedding && !seen.has(r.id) && seen.add(r.id));
  for (let i = 0; i < rows.length; i += 500) {
    const part = rows.slice(i, i + 500);
    const body = `{"ids":${JSON.stringify(part.map((r) => r.id))},"embeddings":${JSON.stringify(part.map((r) => Array.from(r.embedding)))},`
      + `"documents":${JSON.stringify(part.map((r) => r.document ?? null))},`
      + `"metadatas":[${part.map((r) => (r.metadataRaw && r.metadataRaw !== '{}' ? r.metadataRaw : 'null')).join(',')}]}`;
    ok2xx(await rest.request('POST', `/collections/${id}/add`, body), `adding to ${c.name}`);
  }
  // a read makes Chroma apply its log (and so grow the schema by the records' keys)
  ok2xx(await rest.request('POST', `/collections/${id}/get`, '{"limit":1,"include":[]}'), `reading ${c.name}`);
}
await srv.stop();

const theirs = path.join(tmp, 'chroma', 'chroma.sqlite3'), ours = path.join(migrated, 'chroma.sqlite3');
const mig = (db) => sql(db, 'SELECT dir, version, filename, sql, hash FROM migrations ORDER BY rowid');
check(JSON.stringify(mig(ours)) === JSON.stringify(mig(theirs)), 'migrations rows equal Chroma 1.5.9\'s',
  () => `ours ${mig(ours).length} rows, theirs ${mig(theirs).length}`);
// acquire_write is Chroma's start-up lock table: every start creates it if missing and adds a row, so it
// is not part of what a directory holds.
const schema = (db) => sql(db, "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'acquire_write' ORDER BY type, name");
const diffSchema = () => {
  const a = new Set(schema(ours).map((r) => JSON.stringify(r))), b = new Set(schema(theirs).map((r) => JSON.stringify(r)));
  return `only ours: ${[...a].filter((x) => !b.has(x)).join(' | ').slice(0, 400)}; only theirs: ${[...b].filter((x) => !a.has(x)).join(' | ').slice(0, 400)}`;
};
check(JSON.stringify(schema(ours)) === JSON.stringify(schema(theirs)), 'tables and indexes equal Chroma 1.5.9\'s', diffSchema);

// "keys" is a HashMap in Chroma (random order): put theirs in our order, keep every other order
const reorder = (s, order) => { const k = {}; for (const n of order) if (n in s.keys) k[n] = s.keys[n]; for (const n in s.keys) if (!(n in k)) k[n] = s.keys[n]; return { ...s, keys: k }; };
const colls = (db) => new Map(sql(db, 'SELECT name, config_json_str, schema_str FROM collections').map((r) => [r.name, r]));
const a = colls(ours), b = colls(theirs);
check(a.size === b.size && a.size === data.collections.length, 'collections', () => `ours ${a.size}, theirs ${b.size}`);
for (const [name, t] of b) {
  const o = a.get(name);
  if (!o) { check(false, `collection ${name} in ours`); continue; }
  check(o.config_json_str === t.config_json_str, `${name}: config_json_str`, () => `ours ${o.config_json_str}, theirs ${t.config_json_str}`);
  const so = JSON.parse(o.schema_str), st = reorder(JSON.parse(t.schema_str), Object.keys(so.keys));
  check(JSON.stringify(so) === JSON.stringify(st), `${name}: schema_str`, () => `\n  ours   ${JSON.stringify(so)}\n  theirs ${JSON.stringify(st)}`);
  check(o.schema_str.length === t.schema_str.length, `${name}: schema_str length (the same text but for the order of keys)`,
    () => `ours ${o.schema_str.length}, theirs ${t.schema_str.length}`);
}
const segMeta = sql(ours, "SELECT count(*) AS n FROM segment_metadata WHERE key LIKE 'hnsw:%'")[0].n;
check(segMeta === sql(theirs, "SELECT count(*) AS n FROM segment_metadata WHERE key LIKE 'hnsw:%'")[0].n,
  'segment_metadata hnsw:* rows as Chroma 1.5.9', () => `ours ${segMeta}`);
if (!fail) fs.rmSync(tmp, { recursive: true, force: true });
else console.log(`(Chroma 1.5.9's directory and log kept in ${tmp})`);
console.log(`schema-oracle: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
