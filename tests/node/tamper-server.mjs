// tamper-server.mjs BINARY STORE_DIR
//
// `verify` against a real Chroma 1.0 server: migrate a legacy store into a fresh server with
// `migrate --verify` (must pass), verify the untouched result (exit 0, every sampled record finds itself),
// then damage it through the official JS client one way at a time, each in its own collection, and verify
// again after each: exit 3, the damaged collection flagged with the right kind of problem, every earlier
// damage still flagged, and no collection flagged that was not touched. Kinds: a document byte, a metadata
// value's type, one float of an embedding, a deleted record, an added record, the collection's metadata,
// an HNSW parameter. The store needs at least 7 non-empty collections (the chroma-migrate fixture has 10).
// Prints `ok`/`FAIL` lines and `tamper-server: N passed, N failed`; exit 1 on any failure.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromaClient } from './lib/chroma-client.mjs';
import { startChroma } from './lib/chroma-server.mjs';
const { ChromaClient } = await chromaClient(); // the client paired with $CM_CHROMA's server

const [bin, store] = process.argv.slice(2);
if (!bin || !store) {
  console.error('usage: node tests/node/tamper-server.mjs BINARY STORE_DIR');
  process.exit(2);
}
let passed = 0, failed = 0;
function check(ok, what, detail = '') {
  if (ok) { passed++; console.log(`ok   ${what}`); } else { failed++; console.log(`FAIL ${what}\n${detail}`); }
}

function run(...args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// -> {code, rep (parsed --json report or null), log}
function verify(url) {
  const r = run('verify', '--quiet', '--json', '--from', store, '--to', url);
  let rep = null;
  try { rep = JSON.parse(r.out); } catch { rep = null; }
  return { code: r.code, rep, log: (r.out + r.err).slice(-3000) };
}

// What the report says is wrong with one collection: a list of words (empty when it is clean).
function problems(c) {
  const p = [];
  if (!c.found) p.push('not found');
  if (c.missing) p.push('missing');
  if (c.extra > 0) p.push('extra');
  if (c.different) p.push('different');
  if (c.settings.length) p.push('settings');
  if (c.sampled !== c.self_first) p.push('self-query');
  return p;
}

// Counted problems of a collection the report gives no example line for (every one must be explained).
function unexplained(c) {
  const kinds = [['missing', c.missing, c.missing_examples], ['extra', c.extra, c.extra_examples],
    ['different', c.different, c.different_examples], ['self-query', c.sampled - c.self_first, c.self_query_examples]];
  return kinds.filter(([, n, ex]) => n > 0 && !(ex && ex.length >= Math.min(n, 5))).map(([k]) => k);
}

const ef = { generate: async () => { throw new Error('tamper-server: nothing here embeds text'); } };

// Each: [name, kind the report must show, detail text it must contain, async (collection) => void]
const TAMPERS = [
  ['document byte', 'different', 'document differs', async (col) => {
    // with its own embedding: a document alone would be sent to the embedding function
    const g = await col.get({ limit: 1, include: ['documents', 'embeddings'] });
    const doc = g.documents[0] ?? '';
    const changed = (doc[0] === 'X' ? 'Y' : 'X') + doc.slice(1);
    await col.update({ ids: [g.ids[0]], documents: [changed], embeddings: [Array.from(g.embeddings[0])] });
  }],
  ['metadata type', 'different', 'metadata key', async (col) => {
    const g = await col.get({ limit: 1, include: ['metadatas'] });
    const m = g.metadatas[0] || {};
    const key = Object.keys(m)[0] ?? 'tamper';
    const v = m[key];
    // the same value in another type: "7" -> 7, 7 -> "7", true -> "true"; an absent key gets an int
    const other = v === undefined ? 7 : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : typeof v === 'string' ? 7 : String(v);
    await col.update({ ids: [g.ids[0]], metadatas: [{ ...m, [key]: other }] });
  }],
  ['one float', 'different', 'embedding value', async (col) => {
    const g = await col.get({ limit: 1, include: ['embeddings'] });
    const e = Array.from(g.embeddings[0]);
    e[0] += 0.25;
    await col.update({ ids: [g.ids[0]], embeddings: [e] });
  }],
  ['deleted record', 'missing', 'not in the target', async (col) => {
    const g = await col.get({ limit: 1, include: [] });
    await col.delete({ ids: [g.ids[0]] });
  }],
  ['added record', 'extra', '"extra":1', async (col) => {
    const g = await col.get({ limit: 1, include: ['embeddings'] });
    const e = Array.from(g.embeddings[0], (x) => x + 1);
    await col.add({ ids: ['tamper-intruder'], embeddings: [e], documents: ['not from the source'] });
  }],
  ['collection metadata', 'settings', 'metadata', async (col) => {
    await col.modify({ metadata: { ...(col.metadata || {}), tampered: 'yes' } });
  }],
  ['HNSW parameter', 'settings', 'ef_search', async (col) => {
    await col.modify({ configuration: { hnsw: { ef_search: 37 } } });
  }],
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-tamper-server-'));
const srv = await startChroma(path.join(tmp, 'data'), { logFile: path.join(tmp, 'server.log') });
try {
  const m = run('migrate', '--quiet', '--verify', '--from', store, '--to', srv.url);
  check(m.code === 0, 'migrate --to SERVER --verify passes', (m.out + m.err).slice(-3000));
  const v0 = verify(srv.url);
  check(v0.code === 0 && v0.rep && v0.rep.ok, 'untouched server result passes (exit 0)', v0.log);
  if (!v0.rep) throw new Error('no report');
  const colls = v0.rep.collections.filter((c) => c.expected > 0).map((c) => c.name);
  check(colls.length >= TAMPERS.length, `the store has ${TAMPERS.length} non-empty collections to damage`);
  check(v0.rep.collections.every((c) => c.sampled === c.self_first && c.structure_checked === false),
    'every sampled record finds itself first through the server; HNSW structure reported as not checkable');
  const parsed = new URL(srv.url);
  const client = new ChromaClient({ host: parsed.hostname, port: Number(parsed.port), ssl: false });
  const damaged = new Map();
  for (let k = 0; k < TAMPERS.length && k < colls.length; k++) {
    const [what, kind, text, fn] = TAMPERS[k];
    const name = colls[k];
    await fn(await client.getCollection({ name, embeddingFunction: ef }));
    damaged.set(name, kind);
    const v = verify(srv.url);
    check(v.code === 3, `${what} (in ${name}): detected (exit 3)`, `exit ${v.code}\n${v.log}`);
    if (!v.rep) continue;
    const c = v.rep.collections.find((x) => x.name === name);
    const json = JSON.stringify(c);
    check(problems(c).includes(kind) && json.includes(text),
      `${what}: the report flags ${name} as '${kind}' and names it (${JSON.stringify(text)})`, json.slice(0, 2000));
    const flagged = v.rep.collections.filter((x) => problems(x).length).map((x) => x.name).sort();
    check(JSON.stringify(flagged) === JSON.stringify([...damaged.keys()].sort()),
      `${what}: exactly the damaged collections are flagged (${damaged.size})`, `flagged: ${flagged}`);
    const bare = v.rep.collections.filter((x) => unexplained(x).length).map((x) => `${x.name}: ${unexplained(x)}`);
    check(bare.length === 0, `${what}: every counted problem has example lines`, bare.join('\n'));
  }
  // The text report of the last state names the collections and ends with the verdict.
  const t = run('verify', '--from', store, '--to', srv.url);
  check(t.code === 3 && /does NOT match the source/.test(t.out + t.err) && colls.slice(0, TAMPERS.length).every((n) => t.out.includes(n)),
    'text report: verdict line and every damaged collection named', (t.out + t.err).slice(-2000));
} finally {
  await srv.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`tamper-server: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
