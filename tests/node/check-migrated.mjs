// check-migrated.mjs - check a migrated Chroma >= 0.4 target against the legacy store, through the REAL
// Chroma 1.0 server and the official JS client (plus raw REST v2 reads parsed with typed-json, because
// the client cannot tell the float 1.0 from the int 1 nor keep ints beyond 2^53).
//
// usage: node tests/node/check-migrated.mjs --store STORE_DIR (--dir MIGRATED_DIR | --url http://127.0.0.1:PORT)
//          [--tenant T --database D] [--duplicates first|last] [--invalid-metadata drop|stringify]
//          [--rename OLD=NEW ...] [--skip-invalid-records] [--collection NAME ...] [--dimension-rule majority|first]
//          [--dedup-scope all|valid] [--in-place] [--keep-copy] [--no-writes] [--sample N] [--page N] [--max-report N] [--log FILE]
//          [--allow-extra-hnsw-keys] [--lenient-config-space] [--ip-recall R]
//
// The expected content comes from DuckDB's reading of the store and the policies (lib/expected.mjs),
// independently of the C code. With --dir the server runs on a copy of MIGRATED_DIR in a temporary
// folder (so the directory stays as the migration left it; --in-place uses it directly); the copy is
// removed at the end (--keep-copy keeps it, with the server log, when a check failed). With --url the server is already
// running: the restart steps are reported as skipped (never as passed), and the write steps still
// modify that server's data (--no-writes skips them, reported as skipped).
//
// Checks, per collection: it exists under its (renamed) name; its metadata (values and types, as maps)
// equals the legacy collection metadata after policies, hnsw:* keys included; the configured space
// (configuration_json.hnsw.space) is hnsw:space (default l2); the reported dimension; count; every id
// present once and no other id; per record the document (exact), metadata (typed; -0.0 == 0.0 because
// Chroma's SQLite drops the sign of zero) and embedding (== Math.fround(legacy double) exactly for
// l2/ip; within a few float32 ulps for cosine, where Chroma keeps unit vectors and norms); the distance
// space numerically (query 2v restricted to the record's id: l2 |v|^2, ip 1-2|v|^2, cosine 0); up to
// --sample (50) records queried by their own embedding come back first (or tie: a result at least as
// close whose stored vector gives that distance, e.g. an exact duplicate vector; in ip collections, where
// a record's own vector need not be its best match and HNSW recall is below 1 even in an index Chroma built
// itself, a fraction --ip-recall (0.9) of the sampled queries must pass). Then writes: 20 new
// records added, server restarted, found again (count, get by id, query first); one old record updated
// (document + metadata, merged as Chroma does) and another deleted, restart, both effects kept, count,
// and a sample of old records re-read.
// Output: failures (first --max-report, default 30, in detail), a line per collection, then
// `check-migrated: N passed, N failed`. Exit 0 if nothing failed, 1 otherwise, 2 on usage errors.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromaClient } from './lib/chroma-client.mjs';
import { readLegacyStore } from './lib/legacy-oracle.mjs';
import { computeExpected, metadataDiff } from './lib/expected.mjs';
import { ChromaRest } from './lib/chroma-rest.mjs';
import { startChroma } from './lib/chroma-server.mjs';
import { takePolicyArg, defaultPolicies, POLICY_USAGE } from './lib/policy-args.mjs';
import { Rng } from './lib/rng.mjs';
import * as TJ from './lib/typed-json.mjs';
const { ChromaClient } = await chromaClient(); // the client paired with $CM_CHROMA's server

const USAGE = 'usage: node tests/node/check-migrated.mjs --store STORE_DIR (--dir MIGRATED_DIR | --url URL) '
  + `[--tenant T --database D] ${POLICY_USAGE} [--in-place] [--keep-copy] [--no-writes] [--sample N] [--page N] [--max-report N] `
  + '[--log FILE] [--allow-extra-hnsw-keys] [--lenient-config-space] [--ip-recall R]';

const N_NEW = 20;

function parseArgs(argv) {
  const o = {
    store: null, dir: null, url: null, tenant: 'default_tenant', database: 'default_database',
    policies: defaultPolicies(), inPlace: false, keepCopy: false, noWrites: false, sample: 50, page: 1000, maxReport: 30,
    log: null, allowExtraHnswKeys: false, lenientConfigSpace: false, ipRecall: 0.9,
  };
  for (let i = 0; i < argv.length; i++) {
    const j = takePolicyArg(argv, i, o.policies);
    if (j >= 0) { i = j; continue; }
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    const num = () => { const v = val(); if (!/^\d+$/.test(v)) throw new Error(`${a} needs a number`); return Number(v); };
    switch (a) {
      case '--store': o.store = val(); break;
      case '--dir': o.dir = val(); break;
      case '--url': o.url = val(); break;
      case '--tenant': o.tenant = val(); break;
      case '--database': o.database = val(); break;
      case '--in-place': o.inPlace = true; break;
      case '--keep-copy': o.keepCopy = true; break;
      case '--no-writes': o.noWrites = true; break;
      case '--sample': o.sample = num(); break;
      case '--page': o.page = Math.max(1, num()); break;
      case '--max-report': o.maxReport = num(); break;
      case '--log': o.log = val(); break;
      case '--allow-extra-hnsw-keys': o.allowExtraHnswKeys = true; break;
      case '--lenient-config-space': o.lenientConfigSpace = true; break;
      case '--ip-recall': o.ipRecall = Number(val()); if (!(o.ipRecall >= 0 && o.ipRecall <= 1)) throw new Error('--ip-recall needs 0..1'); break;
      default: throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (!o.store || !o.dir === !o.url) throw new Error(USAGE);
  return o;
}

// ------------------------------------------------------------------ bookkeeping

class Checks {
  constructor(maxReport) {
    this.passed = 0; this.failed = 0; this.skipped = []; this.warnings = [];
    this.maxReport = maxReport; this.reported = 0;
    this.per = new Map(); this.scope = null;
  }
  at(scope) { this.scope = scope; if (!this.per.has(scope)) this.per.set(scope, { passed: 0, failed: 0 }); }
  pass() { this.passed++; if (this.scope) this.per.get(this.scope).passed++; }
  fail(what, detail) {
    this.failed++;
    if (this.scope) this.per.get(this.scope).failed++;
    if (this.reported++ < this.maxReport) console.log(`FAIL ${this.scope ? `[${this.scope}] ` : ''}${what}: ${detail}`);
  }
  check(ok, what, detail) { if (ok) this.pass(); else this.fail(what, typeof detail === 'function' ? detail() : detail); return ok; }
  skip(what, why) { this.skipped.push(`${what}: ${why}`); console.log(`skipped: ${what} (${why})`); }
  warn(text) { this.warnings.push(text); console.log(`warning: ${text}`); }
}

const q = (s, n = 60) => {
  if (s === null || s === undefined) return String(s);
  const j = JSON.stringify(s);
  return j.length > n ? `${j.slice(0, n)}...(${s.length} chars)` : j;
};

function ulp32(x) {
  x = Math.abs(Math.fround(x));
  if (x === 0 || x < 1.1754943508222875e-38) return 1.401298464324817e-45;
  const e = Math.floor(Math.log2(x));
  let u = 2 ** (e - 23);
  if (Math.fround(x + u) === x) u *= 2; // log2 rounding at powers of two
  return u;
}

function norm2(v) { let s = 0; for (let k = 0; k < v.length; k++) s += v[k] * v[k]; return s; }
function dot(a, b) { let s = 0; for (let k = 0; k < a.length; k++) s += a[k] * b[k]; return s; }

function distance(space, a, b) {
  if (space === 'l2') { let s = 0; for (let k = 0; k < a.length; k++) { const d = a[k] - b[k]; s += d * d; } return s; }
  if (space === 'ip') return 1 - dot(a, b);
  const na = Math.sqrt(norm2(a)), nb = Math.sqrt(norm2(b));
  if (na === 0 || nb === 0) return NaN;
  return 1 - dot(a, b) / (na * nb);
}

function distTol(space, ...ds) {
  const m = Math.max(1, ...ds.filter(Number.isFinite).map(Math.abs));
  return space === 'cosine' ? 2e-5 : 1e-4 * m;
}

// Compare a returned embedding (numbers parsed from float32 text) with the expected float32 vector.
function embeddingDiff(exp32, got, space) {
  if (!Array.isArray(got) && !(got instanceof Float32Array)) return `expected ${exp32.length} numbers, got ${q(got)}`;
  if (got.length !== exp32.length) return `expected length ${exp32.length}, got ${got.length}`;
  if (space !== 'cosine') {
    for (let k = 0; k < exp32.length; k++) {
      const g = Math.fround(got[k]);
      if (!Object.is(g, exp32[k])) return `[${k}] expected ${exp32[k]} (float32 of the legacy double), got ${got[k]}`;
    }
    return null;
  }
  const n = Math.sqrt(norm2(exp32));
  for (let k = 0; k < exp32.length; k++) {
    const g = Math.fround(got[k]);
    const tol = 8 * ulp32(exp32[k]) + 1e-6 * n;
    if (!(Math.abs(g - exp32[k]) <= tol)) return `[${k}] expected ${exp32[k]} (+- ${tol.toExponential(2)}, cosine), got ${got[k]}`;
  }
  return null;
}

function sampleIndexes(n, k) {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const out = [];
  for (let i = 0; i < k; i++) out.push(Math.floor((i * n) / k));
  return out;
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

// ------------------------------------------------------------------ main

async function main() {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) { console.error(e.message); return 2; }
  const t0 = Date.now();
  const ck = new Checks(o.maxReport);
  const store = await readLegacyStore(o.store);
  const exp = computeExpected(store, o.policies);
  const tRead = Date.now();

  let srv = null, url = o.url, workDir = null, tmpRoot = null;
  let logFile = o.log;
  if (o.dir) {
    if (!fs.existsSync(path.join(o.dir, 'chroma.sqlite3'))) { console.error(`${o.dir}: no chroma.sqlite3`); return 2; }
    if (o.inPlace) workDir = o.dir;
    else {
      // the copy sits in its own temporary folder, next to the server log
      tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'check-migrated-'));
      workDir = path.join(tmpRoot, 'chroma');
      fs.cpSync(o.dir, workDir, { recursive: true });
    }
    logFile ??= path.join(tmpRoot ?? os.tmpdir(), tmpRoot ? 'server.log' : `check-migrated-${process.pid}.log`);
  }
  console.log(`check-migrated: store ${o.store} (${store.collections.length} collections, ${store.totalRows} rows; DuckDB ${store.duckdbVersion})`
    + (o.dir ? `, target dir ${o.dir}${o.inPlace ? '' : ` (server runs on a copy: ${workDir})`}` : `, target server ${o.url}`));
  for (const n of exp.notes) console.log(`note: ${n}`);
  ck.at('policies');
  if (store.missing.length === 2) ck.fail('store', `${o.store} holds neither chroma-collections.parquet nor chroma-embeddings.parquet`);
  else if (store.missing.length) console.log(`note: the store has no ${store.missing[0]}`);
  for (const p of exp.problems) ck.fail('store vs policies', p);

  const ef = { generate: async () => { throw new Error('check-migrated: nothing here embeds text'); } };
  let rest, client;
  const connect = (u) => {
    const parsed = new URL(u);
    rest = new ChromaRest(u, o.tenant, o.database);
    client = new ChromaClient({ host: parsed.hostname, port: Number(parsed.port || 80), ssl: parsed.protocol === 'https:', tenant: o.tenant, database: o.database });
  };
  const start = async () => {
    srv = await startChroma(workDir, { logFile });
    url = srv.url;
    connect(url);
  };
  const restart = async (why) => {
    if (!srv) { ck.skip(`restart: ${why}`, '--url mode: no server to restart'); return false; }
    const ex = await srv.stop();
    ck.at('server');
    // ex.shutdown: Chroma 1.5.9 shut down on SIGTERM but never exits by itself (lib/chroma-server.mjs)
    ck.check(ex && (ex.signal === 'SIGTERM' || ex.code === 0 || ex.shutdown === 'SIGTERM'), 'server stop',
      () => `exit ${JSON.stringify(ex)}`);
    await start();
    ck.pass();
    return true;
  };

  try {
    if (o.dir) {
      ck.at('server');
      try { await start(); ck.pass(); } catch (e) { ck.fail('server start on the migrated directory', e.message); throw e; }
      console.log(`server: ${url} (log ${logFile})`);
    } else connect(url);

    // ---------------------------------------------------------------- collections
    ck.at('collections');
    const listed = await rest.listCollections();
    const listedNames = new Set(listed.map((c) => TJ.get(c, 'name').v));
    const expectedNames = new Set(exp.collections.map((c) => c.name));
    if (!o.policies.only) {
      for (const n of listedNames) ck.check(expectedNames.has(n), 'unexpected collection', () => `${q(n)} is in the target but not in the store`);
    }
    const state = [];
    for (const ec of exp.collections) {
      const scope = `collection ${q(ec.name)}`;
      ck.at(scope);
      const st = { ec, scope, col: null, id: null, newRecs: [], updated: null, deleted: null, ipRecall: o.ipRecall };
      state.push(st);
      if (!ck.check(listedNames.has(ec.name), 'exists', `not in the target (${listed.length} collections there)`)) continue;
      try {
        await checkCollection(o, ck, rest, client, ef, st);
      } catch (e) {
        ck.fail('error', e.stack || String(e));
        if (srv && srv.exited()) throw new Error(`the server died: ${JSON.stringify(srv.exited())}`);
      }
    }

    // ---------------------------------------------------------------- writes
    const live = state.filter((st) => st.col);
    if (o.noWrites) ck.skip('writes, restarts and their checks', '--no-writes');
    else if (live.length) {
      for (const st of live) await guarded(ck, st, srv, () => addNew(ck, client, st));
      const restarted = await restart('after adding records');
      for (const st of live) await guarded(ck, st, srv, () => verifyNew(ck, rest, client, st, restarted, o));
      for (const st of live) await guarded(ck, st, srv, () => updateDelete(ck, client, st));
      const restarted2 = await restart('after update and delete');
      for (const st of live) await guarded(ck, st, srv, () => verifyUpdateDelete(ck, rest, client, st, restarted2, o));
    }
  } catch (e) {
    ck.at('run');
    ck.fail('aborted', e.stack || String(e));
    if (srv && srv.exited()) console.log(`--- server log tail (${logFile}) ---\n${fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')}`);
  } finally {
    if (srv && !srv.exited()) await srv.stop();
    if (tmpRoot) {
      if (ck.failed && o.keepCopy) console.log(`note: the server's copy and log are kept for inspection: ${tmpRoot}`);
      else {
        fs.rmSync(tmpRoot, { recursive: true, force: true });
        if (ck.failed) console.log("note: --keep-copy keeps the server's copy of the directory and its log for inspection");
      }
    } else if (logFile && !o.log && ck.failed === 0) fs.rmSync(logFile, { force: true });
  }

  for (const [scope, c] of ck.per) if (scope.startsWith('collection ')) console.log(`${scope}: ${c.passed} passed, ${c.failed} failed`);
  if (ck.reported > ck.maxReport) console.log(`... ${ck.reported - ck.maxReport} more failures not shown (--max-report)`);
  if (ck.skipped.length) console.log(`skipped (not counted as passed): ${ck.skipped.length}`);
  console.log(`time: read store ${((tRead - t0) / 1000).toFixed(1)} s, total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`check-migrated: ${ck.passed} passed, ${ck.failed} failed`);
  return ck.failed ? 1 : 0;
}

async function guarded(ck, st, srv, fn) {
  ck.at(st.scope);
  try {
    await fn();
  } catch (e) {
    ck.fail('error', e.stack || String(e));
    if (srv && srv.exited()) throw new Error(`the server died: ${JSON.stringify(srv.exited())}`);
  }
}

async function checkCollection(o, ck, rest, client, ef, st) {
  const { ec } = st;
  const typed = await rest.getCollection(ec.name);
  st.col = await client.getCollection({ name: ec.name, embeddingFunction: ef });
  st.id = st.col.id;
  // metadata
  let gotMeta = TJ.get(typed, 'metadata');
  if (o.allowExtraHnswKeys && gotMeta && gotMeta.t === 'obj') {
    const expKeys = new Set(ec.metadata ? TJ.keys(ec.metadata) : []);
    const kept = gotMeta.v.filter(([k]) => !k.startsWith('hnsw:') || expKeys.has(k));
    gotMeta = kept.length ? { t: 'obj', v: kept } : null;
  }
  const md = metadataDiff(ec.metadata, gotMeta);
  ck.check(md === null, 'collection metadata', md);
  // configured space
  const conf = TJ.get(typed, 'configuration_json');
  const hnsw = conf && TJ.get(conf, 'hnsw');
  const space = hnsw && hnsw.t === 'obj' ? TJ.get(hnsw, 'space') : undefined;
  const spaceText = space && space.t === 'str' ? space.v : (conf ? TJ.pyDumps(conf).slice(0, 200) : '(no configuration_json)');
  if (space && space.t === 'str' && space.v === ec.space) ck.pass();
  else if (o.lenientConfigSpace) ck.warn(`${st.scope}: configuration_json.hnsw.space is ${q(spaceText)}, expected ${q(ec.space)} (--lenient-config-space: the numeric check decides)`);
  else ck.fail('configured space', `configuration_json.hnsw.space: expected ${q(ec.space)}, got ${q(spaceText)}`);
  // dimension
  const dim = TJ.get(typed, 'dimension');
  const gotDim = dim && dim.t === 'int' ? Number(dim.v) : null;
  ck.check(gotDim === ec.dimension, 'dimension', () => `expected ${ec.dimension}, got ${dim ? TJ.describe(dim) : '(absent)'}`);
  // count
  const count = await st.col.count();
  ck.check(count === ec.records.length, 'count', () => `expected ${ec.records.length}, got ${count}`);

  // every record, in pages
  const seen = new Set();
  let unexpected = 0;
  for (let offset = 0; ; offset += o.page) {
    const g = await st.col.get({ limit: o.page, offset, include: ['embeddings', 'documents', 'metadatas'] });
    if (!g.ids.length) break;
    const tm = await rest.get(st.id, { ids: g.ids, include: ['metadatas'] });
    const tIds = TJ.get(tm, 'ids').v.map((n) => n.v);
    const tMetas = TJ.get(tm, 'metadatas').v;
    const metaById = new Map(tIds.map((id, i) => [id, tMetas[i]]));
    for (let i = 0; i < g.ids.length; i++) {
      const id = g.ids[i];
      if (seen.has(id)) { ck.fail('id returned twice', q(id)); continue; }
      seen.add(id);
      const rec = ec.byId.get(id);
      if (!rec) { unexpected++; ck.fail('unexpected id', `${q(id)} is in the target but not expected`); continue; }
      ck.pass(); // present
      const doc = g.documents[i] ?? null;
      ck.check(doc === rec.document, `id ${q(id)} document`, () => `expected ${q(rec.document)}, got ${q(doc)}`);
      const mdd = metadataDiff(rec.metadata, metaById.get(id));
      ck.check(mdd === null, `id ${q(id)} metadata`, mdd);
      const ed = embeddingDiff(rec.embedding32, g.embeddings[i], ec.space);
      ck.check(ed === null, `id ${q(id)} embedding`, ed);
    }
    if (g.ids.length < o.page) break;
  }
  let missing = 0;
  for (const rec of ec.records) if (!seen.has(rec.id)) { missing++; ck.fail('missing id', `${q(rec.id)} (legacy row ${rec.row}) is not in the target`); }
  if (missing === 0 && unexpected === 0) ck.pass();

  if (ec.records.length) {
    await spaceCheck(ck, st, ec.records);
    await selfQueries(ck, st, sampleIndexes(ec.records.length, o.sample).map((i) => ec.records[i]), ec.records.length);
  }
}

// Query with 2v (v: a record's embedding) and check that every returned distance is the expected
// space's formula applied to that result's expected vector, and not another space's (for the record
// itself: l2 |v|^2, ip 1-2|v|^2, cosine 0). Unfiltered on purpose: a query restricted to one id
// (`ids`) goes through HNSW's filtered search, which in ip collections sometimes returns nothing.
async function spaceCheck(ck, st, candidates, lookup = (id) => st.ec.byId.get(id) ?? st.newRecs.find((r) => r.id === id)) {
  const { ec } = st;
  const pick = candidates.find((r) => norm2(r.embedding32) > 1e-3) ?? candidates[0];
  const v2 = Array.from(pick.embedding32, (x) => 2 * x);
  const res = await st.col.query({ queryEmbeddings: [v2], nResults: Math.min(10, candidates.length), include: ['distances'] });
  const ids = res.ids?.[0] ?? [], ds = res.distances?.[0] ?? [];
  if (!ck.check(ids.length > 0, 'distance space (query 2v)', `no results for ${q(pick.id)}`)) return;
  let bad = null, separated = 0;
  ids.forEach((id, i) => {
    const r = lookup(id);
    if (!r) { bad ??= `result ${q(id)} is not an expected record`; return; }
    const vals = Object.fromEntries(['l2', 'ip', 'cosine'].map((s) => [s, distance(s, v2, r.embedding32)]));
    const want = vals[ec.space];
    if (!(Math.abs(ds[i] - want) <= distTol(ec.space, want))) {
      bad ??= `result ${i + 1} ${q(id)}: distance ${ds[i]}, ${ec.space} gives ${want} (${Object.entries(vals).filter(([s]) => s !== ec.space).map(([s, x]) => `${s} would give ${x}`).join(', ')})`;
    }
    if (Object.entries(vals).every(([s, x]) => s === ec.space || Math.abs(ds[i] - x) > distTol(s, x))) separated++;
  });
  if (bad) ck.fail('distance space (query 2v)', `query 2x ${q(pick.id)}: ${bad}`);
  else if (!separated) ck.skip(`${st.scope}: distance space (query 2v)`, 'the distances do not tell the spaces apart');
  else ck.pass();
}

// Each sampled record, queried by its own embedding, comes back first (or ties, see the header).
async function selfQueries(ck, st, recs, total, lookup = (id) => st.ec.byId.get(id) ?? st.newRecs.find((r) => r.id === id)) {
  const { ec } = st;
  // Outliers are left out: a zero vector has no cosine direction, and HNSW cannot navigate to a vector
  // whose norm is far from the rest (float32 distances of ~1e20 all look alike): Chroma's own index
  // misses those too.
  const norms = recs.map((r) => Math.sqrt(norm2(r.embedding32))).sort((a, b) => a - b);
  const median = norms[Math.floor(norms.length / 2)] || 0;
  const ref = median || 1;
  const qs = recs.filter((r) => {
    const n = Math.sqrt(norm2(r.embedding32));
    if (ec.space === 'cosine' && n === 0) return false;
    return ec.space === 'cosine' || (n <= 100 * ref && n >= ref / 100) || recs.length < 3;
  });
  if (qs.length < recs.length) console.log(`note: ${st.scope}: ${recs.length - qs.length} outlier vector(s) left out of the self-queries`);
  if (!qs.length) return;
  const k = Math.min(10, total);
  let ipTotal = 0, ipMiss = 0;
  for (let b = 0; b < qs.length; b += 50) {
    const batch = qs.slice(b, b + 50);
    const res = await st.col.query({ queryEmbeddings: batch.map((r) => Array.from(r.embedding32)), nResults: k, include: ['distances'] });
    batch.forEach((r, i) => {
      const ids = res.ids[i] || [], ds = res.distances[i] || [];
      const self = distance(ec.space, r.embedding32, r.embedding32);
      const tol = distTol(ec.space, self, ds[0]);
      let ok = ids[0] === r.id;
      let why = '';
      if (!ok) {
        const rank = ids.indexOf(r.id);
        if (rank > 0 && Math.abs(ds[rank] - ds[0]) <= tol) ok = true; // tie with the first
        else {
          const first = lookup(ids[0]);
          const calc = first ? distance(ec.space, r.embedding32, first.embedding32) : NaN;
          // another record at least as close as the record itself, and the index holds its vector
          if (first && Math.abs(calc - ds[0]) <= tol && ds[0] <= self + tol) ok = true;
          why = `first is ${q(ids[0])} at distance ${ds[0]} (its expected vector gives ${calc}); own distance ${self}; own id at rank ${rank < 0 ? `> ${k}` : rank + 1}${rank >= 0 ? ` with distance ${ds[rank]}` : ''}`;
        }
      }
      if (ec.space !== 'ip') ck.check(ok, `id ${q(r.id)} query by own embedding`, why);
      else {
        ipTotal++;
        if (!ok) { ipMiss++; ck.warn(`${st.scope}: id ${q(r.id)} query by own embedding (ip, counted in the recall check): ${why}`); }
      }
    });
  }
  // Inner product is not a metric: HNSW recall for a record's own vector is high but not 100% even in
  // an index Chroma built itself, so ip self-queries are checked in aggregate (--ip-recall, default 0.9).
  if (ipTotal) {
    const recall = (ipTotal - ipMiss) / ipTotal;
    ck.check(recall >= st.ipRecall, `query by own embedding (ip): ${ipTotal} queries`,
      () => `${ipMiss} not found first or tied: recall ${recall.toFixed(3)} < ${st.ipRecall}`);
  }
}

async function addNew(ck, client, st) {
  const { ec } = st;
  const dim = ec.dimension ?? 8;
  const rng = new Rng('check-migrated', ec.name);
  let prefix = 'check-migrated-new';
  while (ec.records.some((r) => r.id.startsWith(prefix))) prefix += '-x';
  st.newRecs = [];
  // New vectors lie near the collection's data (an existing vector plus noise of a tenth of its typical
  // component size): a vector far from everything else is one HNSW cannot reliably navigate to, in
  // Chroma's own index as much as in ours. An empty collection gets uniform vectors in [-1, 1).
  const sample = sampleIndexes(ec.records.length, 500).map((i) => ec.records[i].embedding32);
  const norms = sample.map((v) => Math.sqrt(norm2(v))).sort((a, b) => a - b);
  const median = norms[Math.floor(norms.length / 2)] || 0;
  const bases = sample.filter((v) => { const n = Math.sqrt(norm2(v)); return n >= median / 10 && n <= median * 10 && n > 0; });
  const sigma = 0.1 * (median > 0 ? median / Math.sqrt(dim) : 1);
  for (let i = 0; i < N_NEW; i++) {
    const v = new Float32Array(dim);
    if (bases.length) {
      const base = bases[rng.int(bases.length)];
      for (let k = 0; k < dim; k++) v[k] = base[k] + sigma * rng.normal();
    } else {
      for (let k = 0; k < dim; k++) v[k] = rng.next() * 2 - 1;
    }
    const doc = `check-migrated new record ${i}: ${Array.from({ length: 5 }, () => rng.pick(WORDS)).join(' ')}`;
    const meta = { cm_i: i, cm_f: i + 0.25, cm_s: `s${i}`, cm_b: i % 2 === 0 };
    st.newRecs.push({ id: `${prefix}-${i}`, embedding32: v, document: doc, metaPlain: meta, metadata: TJ.fromPlain(meta) });
  }
  await st.col.add({
    ids: st.newRecs.map((r) => r.id),
    embeddings: st.newRecs.map((r) => Array.from(r.embedding32)),
    documents: st.newRecs.map((r) => r.document),
    metadatas: st.newRecs.map((r) => r.metaPlain),
  });
  const c = await st.col.count();
  ck.check(c === ec.records.length + N_NEW, 'count after adding 20', () => `expected ${ec.records.length + N_NEW}, got ${c}`);
}

async function getTyped(rest, st, ids) {
  const g = await st.col.get({ ids, include: ['embeddings', 'documents', 'metadatas'] });
  const tm = await rest.get(st.id, { ids, include: ['metadatas'] });
  const tIds = TJ.get(tm, 'ids').v.map((n) => n.v);
  const tMetas = TJ.get(tm, 'metadatas').v;
  const metaById = new Map(tIds.map((id, i) => [id, tMetas[i]]));
  const out = new Map();
  g.ids.forEach((id, i) => out.set(id, { document: g.documents[i] ?? null, embedding: g.embeddings[i], metadata: metaById.get(id) }));
  return out;
}

function checkRecord(ck, st, rec, got, label) {
  if (!ck.check(!!got, `${label} ${q(rec.id)}`, 'not found')) return;
  ck.check(got.document === rec.document, `${label} ${q(rec.id)} document`, () => `expected ${q(rec.document)}, got ${q(got.document)}`);
  const mdd = metadataDiff(rec.metadata, got.metadata);
  ck.check(mdd === null, `${label} ${q(rec.id)} metadata`, mdd);
  const ed = embeddingDiff(rec.embedding32, got.embedding, st.ec.space);
  ck.check(ed === null, `${label} ${q(rec.id)} embedding`, ed);
}

async function verifyNew(ck, rest, client, st, restarted, o) {
  const { ec } = st;
  st.col = await client.getCollection({ name: ec.name, embeddingFunction: { generate: async () => { throw new Error('no'); } } });
  const when = restarted ? 'after restart' : 'without restart';
  const c = await st.col.count();
  ck.check(c === ec.records.length + N_NEW, `count ${when}`, () => `expected ${ec.records.length + N_NEW}, got ${c}`);
  const got = await getTyped(rest, st, st.newRecs.map((r) => r.id));
  for (const r of st.newRecs) checkRecord(ck, st, r, got.get(r.id), `new record ${when}`);
  if (ec.records.length === 0) await spaceCheck(ck, st, st.newRecs);
  await selfQueries(ck, st, st.newRecs, ec.records.length + N_NEW);
}

async function updateDelete(ck, client, st) {
  const { ec } = st;
  const n = ec.records.length;
  if (n === 0) { ck.skip(`${st.scope}: update/delete of old records`, 'the collection had no records'); return; }
  const u = ec.records[Math.floor(n / 3)];
  const newMeta = { cm_updated: true, cm_rev: 2 };
  await st.col.update({ ids: [u.id], embeddings: [Array.from(u.embedding32)], documents: ['updated by check-migrated'], metadatas: [newMeta] });
  // Chroma merges update metadata into the old one
  const merged = new Map(u.metadata ? TJ.entries(u.metadata) : []);
  for (const [k, v] of Object.entries(newMeta)) merged.set(k, TJ.fromPlain(v));
  st.updated = { ...u, document: 'updated by check-migrated', metadata: { t: 'obj', v: [...merged] } };
  if (n >= 2) {
    let di = Math.floor((2 * n) / 3);
    if (ec.records[di].id === u.id) di = (di + 1) % n;
    st.deleted = ec.records[di];
    await st.col.delete({ ids: [st.deleted.id] });
  } else ck.skip(`${st.scope}: delete of an old record`, 'only one record');
  const c = await st.col.count();
  const want = n + N_NEW - (st.deleted ? 1 : 0);
  ck.check(c === want, 'count after update and delete', () => `expected ${want}, got ${c}`);
}

async function verifyUpdateDelete(ck, rest, client, st, restarted, o) {
  const { ec } = st;
  st.col = await client.getCollection({ name: ec.name, embeddingFunction: { generate: async () => { throw new Error('no'); } } });
  const when = restarted ? 'after restart' : 'without restart';
  const want = ec.records.length + N_NEW - (st.deleted ? 1 : 0);
  const c = await st.col.count();
  ck.check(c === want, `count after update/delete ${when}`, () => `expected ${want}, got ${c}`);
  if (st.updated) {
    const got = await getTyped(rest, st, [st.updated.id]);
    checkRecord(ck, st, st.updated, got.get(st.updated.id), `updated record ${when}`);
  }
  if (st.deleted) {
    const g = await st.col.get({ ids: [st.deleted.id] });
    ck.check(g.ids.length === 0, `deleted record ${q(st.deleted.id)} ${when}`, () => `still returned: ${q(g.ids)}`);
  }
  // old records still intact (skip the updated/deleted ones) and new ones too
  const sample = sampleIndexes(ec.records.length, Math.min(o.sample, 50)).map((i) => ec.records[i])
    .filter((r) => r.id !== st.updated?.id && r.id !== st.deleted?.id);
  if (sample.length) {
    const got = await getTyped(rest, st, sample.map((r) => r.id));
    for (const r of sample) checkRecord(ck, st, r, got.get(r.id), `old record ${when}`);
  }
  const gotNew = await getTyped(rest, st, st.newRecs.map((r) => r.id));
  let newOk = st.newRecs.every((r) => gotNew.has(r.id));
  ck.check(newOk, `new records still there ${when}`, () => `missing: ${q(st.newRecs.filter((r) => !gotNew.has(r.id)).map((r) => r.id))}`);
}

main().then((code) => process.exit(code), (e) => { console.error(`check-migrated: ${e.stack || e}`); process.exit(2); });
