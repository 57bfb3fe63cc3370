// check-standin.mjs - compare what the v1 stand-in server (v1-standin.mjs) holds with a legacy store, as
// DuckDB reads it and the policies expect (../node/lib/expected.mjs): collection names (and nothing
// else in that tenant/database), collection metadata (typed), count, every id once, documents, typed
// metadata, and embeddings equal to the legacy doubles exactly (the v1 path sends JSON numbers).
//
// usage: node tests/http/check-standin.mjs --store DIR --url http://127.0.0.1:PORT [--tenant T] [--database D]
// Prints failures, then "check-standin: N passed, N failed"; exit 1 on any failure.

import { readLegacyStore } from '../node/lib/legacy-oracle.mjs';
import { computeExpected, metadataDiff } from '../node/lib/expected.mjs';
import * as TJ from '../node/lib/typed-json.mjs';

const o = { store: null, url: null, tenant: 'default_tenant', database: 'default_database' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--store') o.store = v();
  else if (a === '--url') o.url = v();
  else if (a === '--tenant') o.tenant = v();
  else if (a === '--database') o.database = v();
  else { console.error(`check-standin: unknown argument ${a}`); process.exit(2); }
}
if (!o.store || !o.url) { console.error('usage: check-standin.mjs --store DIR --url URL [--tenant T] [--database D]'); process.exit(2); }

let pass = 0, fail = 0, shown = 0;
const check = (cond, what) => {
  if (cond) { pass++; return true; }
  fail++;
  if (shown++ < 30) console.log(`FAIL: ${what}`);
  return false;
};

const store = await readLegacyStore(o.store);
const exp = computeExpected(store, {});
for (const p of exp.problems) check(false, `store vs default policies: ${p}`);
const dump = await (await fetch(`${o.url}/__dump`)).json();
const here = dump.collections.filter((c) => c.tenant === o.tenant && c.database === o.database);
const byName = new Map(here.map((c) => [c.name, c]));
check(here.length === exp.collections.length, `collections: ${here.length} on the server, ${exp.collections.length} expected (${here.map((c) => c.name).join(', ')})`);
for (const ec of exp.collections) {
  const c = byName.get(ec.name);
  if (!check(c, `collection ${ec.name}: missing`)) continue;
  const meta = c.metadata === null ? null : TJ.parse(c.metadata);
  const md = metadataDiff(ec.metadata, meta);
  check(md === null, `collection ${ec.name}: metadata ${md}`);
  check(c.records.length === ec.records.length, `collection ${ec.name}: ${c.records.length} records, expected ${ec.records.length}`);
  const seen = new Set();
  for (const r of c.records) {
    check(!seen.has(r.id), `collection ${ec.name}: id ${JSON.stringify(r.id)} twice`);
    seen.add(r.id);
    const er = ec.byId.get(r.id);
    if (!check(er, `collection ${ec.name}: unexpected id ${JSON.stringify(r.id)}`)) continue;
    check(r.document === er.document, `collection ${ec.name} id ${JSON.stringify(r.id)}: document ${JSON.stringify(r.document)?.slice(0, 80)} vs ${JSON.stringify(er.document)?.slice(0, 80)}`);
    const d = metadataDiff(er.metadata, r.metadata === null ? null : TJ.parse(r.metadata));
    check(d === null, `collection ${ec.name} id ${JSON.stringify(r.id)}: metadata ${d}`);
    const e = r.embedding || [];
    let same = e.length === er.embedding.length;
    for (let k = 0; same && k < e.length; k++) same = Object.is(e[k], er.embedding[k]) || (e[k] === 0 && er.embedding[k] === 0);
    check(same, `collection ${ec.name} id ${JSON.stringify(r.id)}: embedding differs (${e.slice(0, 3)} vs ${Array.from(er.embedding.slice(0, 3))})`);
  }
  for (const er of ec.records) if (!seen.has(er.id)) check(false, `collection ${ec.name}: id ${JSON.stringify(er.id)} missing`);
  console.log(`collection ${ec.name}: ${c.records.length} records`);
}
console.log(`check-standin: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
