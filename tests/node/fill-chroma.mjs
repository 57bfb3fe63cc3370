// fill-chroma.mjs - a reference migration through the REAL Chroma 1.0 server: reads the legacy store
// with DuckDB, applies the same policies as check-migrated.mjs, and writes the result through the server
// into a persistent directory (--dir, a server is started on it) or a running server (--url).
// Its purpose is to produce a directory the real Chroma wrote itself, to validate check-migrated.mjs
// without our C code (and to compare against, e.g. sqlite dumps).
//
// usage: node tests/node/fill-chroma.mjs --store STORE_DIR (--dir OUT_DIR | --url http://127.0.0.1:PORT)
//            [--tenant T --database D] [policy options, see lib/policy-args.mjs]
//
// Collections are created and records added with raw REST v2 requests, because the official JS client
// cannot send what the store holds: JSON.stringify writes the float 1.0 as 1 and rounds ints beyond
// 2^53, and the client refuses a NULL document next to string documents. Embeddings are sent as
// their float32 values (Math.fround of the legacy doubles).

import fs from 'node:fs';
import { readLegacyStore } from './lib/legacy-oracle.mjs';
import { computeExpected } from './lib/expected.mjs';
import { ChromaRest } from './lib/chroma-rest.mjs';
import { startChroma } from './lib/chroma-server.mjs';
import { takePolicyArg, defaultPolicies, POLICY_USAGE } from './lib/policy-args.mjs';

const USAGE = `usage: node tests/node/fill-chroma.mjs --store STORE_DIR (--dir OUT_DIR | --url URL) [--tenant T --database D] ${POLICY_USAGE}`;

function parse(argv) {
  const o = { store: null, dir: null, url: null, tenant: 'default_tenant', database: 'default_database', policies: defaultPolicies() };
  for (let i = 0; i < argv.length; i++) {
    const j = takePolicyArg(argv, i, o.policies);
    if (j >= 0) { i = j; continue; }
    const a = argv[i];
    if (['--store', '--dir', '--url', '--tenant', '--database'].includes(a) && i + 1 < argv.length) o[a.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!o.store || (!o.dir === !o.url)) throw new Error(USAGE);
  return o;
}

async function main() {
  let o;
  try { o = parse(process.argv.slice(2)); } catch (e) { console.error(e.message); return 2; }
  const t0 = Date.now();
  const store = await readLegacyStore(o.store);
  const exp = computeExpected(store, o.policies);
  for (const p of exp.problems) console.log(`problem: ${p}`);
  for (const n of exp.notes) console.log(`note: ${n}`);
  let srv = null;
  let url = o.url;
  if (o.dir) {
    if (fs.existsSync(o.dir) && fs.readdirSync(o.dir).length) { console.error(`${o.dir} is not empty`); return 2; }
    srv = await startChroma(o.dir);
    url = srv.url;
  }
  const rest = new ChromaRest(url, o.tenant, o.database);
  let records = 0;
  try {
    if (o.tenant !== 'default_tenant') {
      const r = await rest.request('POST', `${rest.url}/api/v2/tenants`, { name: o.tenant });
      if (r.status !== 200 && r.status !== 409) throw new Error(`create tenant: ${r.status} ${r.text}`);
    }
    if (o.database !== 'default_database' || o.tenant !== 'default_tenant') {
      const r = await rest.request('POST', `${rest.url}/api/v2/tenants/${encodeURIComponent(o.tenant)}/databases`, { name: o.database });
      if (r.status !== 200 && r.status !== 409) throw new Error(`create database: ${r.status} ${r.text}`);
    }
    for (const c of exp.collections) {
      const created = await rest.createCollection(c.name, c.metadata);
      const id = created.v.find(([k]) => k === 'id')[1].v;
      let batch = [], bytes = 0;
      const flush = async () => {
        if (!batch.length) return;
        await rest.add(id, batch);
        records += batch.length;
        batch = []; bytes = 0;
      };
      for (const r of c.records) {
        batch.push(r);
        bytes += r.embedding32.length * 16 + (r.document?.length ?? 0) * 2 + 200;
        if (batch.length >= 1000 || bytes > 8e6) await flush();
      }
      await flush();
    }
  } finally {
    if (srv) await srv.stop();
  }
  console.log(`fill-chroma: ${exp.collections.length} collections, ${records} records written to ${o.dir ?? url} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

main().then((c) => process.exit(c), (e) => { console.error(`fill-chroma: ${e.stack || e}`); process.exit(1); });
