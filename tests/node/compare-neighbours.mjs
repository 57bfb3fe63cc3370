// compare-neighbours.mjs - does a migrated directory whose HNSW graph was converted from the legacy index
// answer queries as well as one whose graph was rebuilt? Both are served by the REAL Chroma 1.0 server
// (each on a copy of its directory) and queried through the official JS client; the truth is an exact
// brute-force search over the records as lib/expected.mjs computes them from the legacy store (DuckDB).
//
// usage: node tests/node/compare-neighbours.mjs --store STORE_DIR --a DIR_A --b DIR_B [--queries N] [--k K]
//          [--tolerance T] [policy options as for check-migrated.mjs]
//
// Per collection, N (default 50) self-queries (a record's own float32 embedding) and N sampled queries
// (0.7 x one record + 0.3 x another) go to both servers with nResults = min(K, count) (K default 10).
// A returned id counts for recall@K when its exact distance is within the exact K-th distance (ties count).
// A self-query passes when the first result is at the exact best distance (the record itself or a tie).
// Checks: recall@K of A >= recall@K of B - T (default 0.02), self-query pass rate of A >= B's - T, and
// every query answered with min(K, count) ids. Also reports how many of the top K ids A and B share.
// Output: a line per collection, then `compare-neighbours: N passed, N failed`; exit 1 on a failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromaClient } from './lib/chroma-client.mjs';
import { readLegacyStore } from './lib/legacy-oracle.mjs';
import { computeExpected } from './lib/expected.mjs';
import { startChroma } from './lib/chroma-server.mjs';
import { takePolicyArg, defaultPolicies, POLICY_USAGE } from './lib/policy-args.mjs';
import { Rng } from './lib/rng.mjs';
const { ChromaClient } = await chromaClient(); // the client paired with $CM_CHROMA's server

const USAGE = 'usage: node tests/node/compare-neighbours.mjs --store STORE_DIR --a DIR_A --b DIR_B [--queries N] '
  + `[--k K] [--tolerance T] ${POLICY_USAGE}`;

function parseArgs(argv) {
  const o = { store: null, a: null, b: null, queries: 50, k: 10, tolerance: 0.02, policies: defaultPolicies() };
  for (let i = 0; i < argv.length; i++) {
    const j = takePolicyArg(argv, i, o.policies);
    if (j >= 0) { i = j; continue; }
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--store': o.store = v; i++; break;
      case '--a': o.a = v; i++; break;
      case '--b': o.b = v; i++; break;
      case '--queries': o.queries = Number(v); i++; break;
      case '--k': o.k = Number(v); i++; break;
      case '--tolerance': o.tolerance = Number(v); i++; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (!o.store || !o.a || !o.b) throw new Error('--store, --a and --b are required');
  return o;
}

let o;
try {
  o = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`${e.message}\n${USAGE}`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.log(`FAIL ${what}`); }
}

function unit(v) {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return Float64Array.from(v, (x) => x / n);
}

function distFn(space) {
  if (space === 'l2') {
    return (q, x) => { let s = 0; for (let i = 0; i < q.length; i++) { const d = q[i] - x[i]; s += d * d; } return s; };
  }
  return (q, x) => { let s = 0; for (let i = 0; i < q.length; i++) s += q[i] * x[i]; return 1 - s; };
}

const noEmbed = { generate: async () => { throw new Error('no embedding function in this test'); } };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-compare-'));
const servers = [];
try {
  const store = await readLegacyStore(o.store);
  const exp = computeExpected(store, o.policies);
  const clients = [];
  for (const [tag, dir] of [['a', o.a], ['b', o.b]]) {
    const work = path.join(tmp, tag);
    fs.cpSync(dir, work, { recursive: true });
    const srv = await startChroma(work, { logFile: path.join(tmp, `${tag}.log`) });
    servers.push(srv);
    const u = new URL(srv.url);
    clients.push(new ChromaClient({ host: u.hostname, port: Number(u.port), ssl: false }));
  }
  const rng = new Rng(42);
  for (const ec of exp.collections) {
    const recs = ec.records;
    if (!recs.length) continue;
    const n = recs.length;
    const k = Math.min(o.k, n);
    const space = ec.space || 'l2';
    const dist = distFn(space);
    const prep = (v) => (space === 'cosine' ? unit(v) : Float64Array.from(v));
    const base = recs.map((r) => prep(r.embedding32));
    const queries = [];
    const nq = Math.min(o.queries, n);
    for (let i = 0; i < nq; i++) {
      const r = recs[rng.int(n)];
      queries.push({ self: true, v: Array.from(r.embedding32) });
    }
    for (let i = 0; i < nq; i++) {
      const a = recs[rng.int(n)].embedding32;
      const b = recs[rng.int(n)].embedding32;
      queries.push({ self: false, v: Array.from(a, (x, j) => Math.fround(0.7 * x + 0.3 * b[j])) });
    }
    // exact distances per query: sorted, and a lookup by id
    const truth = queries.map((q) => {
      const qv = prep(q.v);
      const byId = new Map();
      const ds = new Float64Array(n);
      for (let i = 0; i < n; i++) { ds[i] = dist(qv, base[i]); byId.set(recs[i].id, ds[i]); }
      const sorted = Float64Array.from(ds).sort();
      return { byId, best: sorted[0], kth: sorted[k - 1] };
    });
    const stats = [];
    for (const client of clients) {
      const col = await client.getCollection({ name: ec.name, embeddingFunction: noEmbed });
      let recall = 0; let selfOk = 0; let selfN = 0; let short = 0;
      const ids = [];
      for (let s = 0; s < queries.length; s += 25) {
        const part = queries.slice(s, s + 25);
        const res = await col.query({ queryEmbeddings: part.map((q) => q.v), nResults: k, include: ['distances'] });
        part.forEach((q, qi) => {
          const got = res.ids[qi] || [];
          const t = truth[s + qi];
          ids.push(got);
          if (got.length !== k) short++;
          const eps = (x) => 1e-5 * Math.max(1, Math.abs(x));
          let good = 0;
          for (const id of got) if ((t.byId.get(id) ?? Infinity) <= t.kth + eps(t.kth)) good++;
          recall += good / k;
          if (q.self) {
            selfN++;
            if (got.length && (t.byId.get(got[0]) ?? Infinity) <= t.best + eps(t.best)) selfOk++;
          }
        });
      }
      stats.push({ recall: recall / queries.length, self: selfN ? selfOk / selfN : 1, short, ids });
    }
    const [A, B] = stats;
    let shared = 0;
    A.ids.forEach((ia, i) => { const sb = new Set(B.ids[i]); shared += ia.filter((x) => sb.has(x)).length / k; });
    shared /= queries.length;
    console.log(`${ec.name} (${space}, ${n} records, ${queries.length} queries, k=${k}): recall A ${A.recall.toFixed(4)} `
      + `B ${B.recall.toFixed(4)}; self-queries A ${A.self.toFixed(4)} B ${B.self.toFixed(4)}; top-${k} shared ${shared.toFixed(4)}`);
    check(A.short === 0 && B.short === 0, `${ec.name}: ${A.short} / ${B.short} queries answered with fewer than ${k} ids`);
    check(A.recall >= B.recall - o.tolerance, `${ec.name}: recall@${k} A ${A.recall.toFixed(4)} < B ${B.recall.toFixed(4)} - ${o.tolerance}`);
    check(A.self >= B.self - o.tolerance, `${ec.name}: self-queries A ${A.self.toFixed(4)} < B ${B.self.toFixed(4)} - ${o.tolerance}`);
  }
} catch (e) {
  failed++;
  console.log(`FAIL ${e.stack || e}`);
} finally {
  for (const s of servers) await s.stop().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`compare-neighbours: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
