// verify-spaces.mjs BINARY
//
// `verify` in every distance space (l2, ip, cosine) against both kinds of target: a persistent directory
// and a real Chroma 1.0 server over HTTP. A self-query may legitimately be answered by another record:
// under ip a longer vector pointing the same way is nearer than the record itself, and in every space a
// record with an equal vector is exactly as near. So clean migrations must verify clean (exit 0, every
// sampled record found) for:
//   - a latent 3,000 x 32 store with one collection per space, vectors not normalised (make-store.mjs
//     --kind latent --space mixed): the case of issue 14 (ip against a server reported ~60 problems);
//   - a store of equal vectors under different ids (exact twins, and 2.5x copies: equal under cosine,
//     nearer under ip), every record self-queried (make-store-from-json.mjs).
// And a record's vector changed on the server (through the official JS client) must still be caught.
// Prints `ok`/`FAIL` lines and `verify-spaces: N passed, N failed`; exit 1 on any failure.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromaClient } from './lib/chroma-client.mjs';
import { startChroma } from './lib/chroma-server.mjs';
import { Rng } from './lib/rng.mjs';
const { ChromaClient } = await chromaClient(); // the client paired with $CM_CHROMA's server

const [bin] = process.argv.slice(2);
if (!bin) {
  console.error('usage: node tests/node/verify-spaces.mjs BINARY');
  process.exit(2);
}
const BIN = path.resolve(bin);
let passed = 0, failed = 0;
function check(ok, what, detail = '') {
  if (ok) { passed++; console.log(`ok   ${what}`); } else { failed++; console.log(`FAIL ${what}\n${detail}`); }
}

function run(args, cwd) {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, cwd });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

// -> {code, rep (the --json report or null), log}
function verify(store, target, sample) {
  const r = run([BIN, 'verify', '--quiet', '--json', '--sample', String(sample), '--from', store, '--to', target]);
  let rep = null;
  try { rep = JSON.parse(r.out); } catch { rep = null; }
  return { code: r.code, rep, log: (r.out + r.err).slice(-3000) };
}

// One collection per space; n base vectors (not normalised), each as a, an exact twin b, and c = 2.5 x.
function duplicateSpec(n, dim) {
  const rng = new Rng(14);
  const spec = { collections: [], records: [] };
  ['l2', 'ip', 'cosine'].forEach((space, k) => {
    const uuid = `00000000-0000-4000-8000-00000000000${k}`;
    spec.collections.push({ uuid, name: `dup-${space}`, metadata: JSON.stringify({ 'hnsw:space': space }) });
    for (let i = 0; i < n; i++) {
      const scale = 0.3 + 3 * rng.next();
      const x = Array.from({ length: dim }, () => Math.fround((rng.next() * 2 - 1) * scale));
      const c = x.map((v) => Math.fround(v * 2.5));
      for (const [tag, e] of [['a', x], ['b', x], ['c', c]])
        spec.records.push({ collection_uuid: uuid, uuid: `${uuid.slice(0, 24)}${k}${tag}${String(i).padStart(8, '0')}`,
          embedding: e, document: `${tag} ${i}`, id: `${tag}${i}`, metadata: null });
    }
  });
  return spec;
}

// Migrates store into target with --verify, then verifies again: exit 0, every sampled record found.
function cleanRun(label, store, target, sample) {
  const m = run([BIN, 'migrate', '--quiet', '--verify', '--sample', String(sample), '--from', store, '--to', target]);
  check(m.code === 0, `${label}: migrate --verify passes (exit 0)`, `exit ${m.code}\n${(m.out + m.err).slice(-3000)}`);
  const v = verify(store, target, sample);
  check(v.code === 0 && v.rep && v.rep.ok, `${label}: verify passes (exit 0)`, `exit ${v.code}\n${v.log}`);
  const misses = (v.rep?.collections ?? []).filter((c) => c.sampled === 0 || c.self_first !== c.sampled);
  check(v.rep && misses.length === 0, `${label}: every sampled record is found by its own vector`,
    JSON.stringify(misses).slice(0, 2000));
  return v.rep;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-verify-spaces-'));
const srv = await startChroma(path.join(tmp, 'data'), { logFile: path.join(tmp, 'server.log') });
try {
  const latent = path.join(tmp, 'latent');
  const g = run(['node', 'make-store.mjs', latent, '--collections', '3', '--space', 'mixed', '--rows', '3000',
    '--dim', '32', '--kind', 'latent', '--seed', '14'], path.dirname(new URL(import.meta.url).pathname));
  check(g.code === 0, 'generate a latent 3 x 3,000 x 32 store (l2, ip, cosine)', g.err);
  const dups = path.join(tmp, 'dups');
  fs.writeFileSync(path.join(tmp, 'dups.json'), JSON.stringify(duplicateSpec(150, 16)));
  const d = run(['node', 'make-store-from-json.mjs', dups, path.join(tmp, 'dups.json')],
    path.dirname(new URL(import.meta.url).pathname));
  check(d.code === 0, 'generate a store of equal vectors under different ids', d.err);

  const rep = cleanRun('latent store -> directory', latent, path.join(tmp, 'latent-dir'), 100);
  const spaces = (rep?.collections ?? []).length;
  check(spaces === 3, `the latent store has one collection per space (${spaces})`);
  cleanRun('latent store -> server', latent, srv.url, 100);
  cleanRun('equal vectors -> directory (every record self-queried)', dups, path.join(tmp, 'dups-dir'), 10000);
  cleanRun('equal vectors -> server (every record self-queried)', dups, srv.url, 10000);

  // A vector changed on the server is still caught in each space, and the report names it.
  const parsed = new URL(srv.url);
  const client = new ChromaClient({ host: parsed.hostname, port: Number(parsed.port), ssl: false });
  const ef = { generate: async () => { throw new Error('verify-spaces: nothing here embeds text'); } };
  const names = (rep?.collections ?? []).map((c) => c.name);
  for (const name of names) {
    const col = await client.getCollection({ name, embeddingFunction: ef });
    const got = await col.get({ limit: 1, include: ['embeddings'] });
    const e = Array.from(got.embeddings[0], (x) => -x);
    await col.update({ ids: [got.ids[0]], embeddings: [e] });
    const v = verify(latent, srv.url, 100);
    const c = v.rep?.collections.find((x) => x.name === name);
    check(v.code === 3 && c && c.different === 1 && JSON.stringify(c).includes(got.ids[0]),
      `${name}: a negated vector on the server is caught (exit 3) and its id named`, `exit ${v.code}\n${v.log}`);
    await col.update({ ids: [got.ids[0]], embeddings: [Array.from(got.embeddings[0])] });
  }
  const v = verify(latent, srv.url, 100);
  check(v.code === 0, 'the restored server verifies clean again', v.log);
} finally {
  await srv.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`verify-spaces: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
