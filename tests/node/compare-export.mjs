// compare-export.mjs - compare `chroma-migrate export STORE` (JSON Lines) against DuckDB's reading of STORE.
//
// usage: node tests/node/compare-export.mjs STORE_DIR OURS.jsonl|-  [--max-report N]
//        node tests/node/compare-export.mjs --write-reference STORE_DIR > reference.jsonl
//
// Each export line: {"collection":name,"collection_id":uuid,"id":str|null,"embedding":[numbers]|null,
//                    "document":str|null,"metadata":object|null}
// one per source record, no policies applied. Records of each collection must come in file order
// (collections may be interleaved as in the file, or grouped). Compared, record by record:
//   collection name for the uuid; id and document exactly (NUL bytes, control characters included);
//   embedding bit-exact as float64 (Object.is: -0 and NaN count; a NULL list element must be null);
//   metadata values, types (int vs float: 1 vs 1.0, big ints exactly, NaN/Infinity, -0.0) and key order,
//   parsed with typed-json on both sides (the legacy text is Python json.dumps output);
//   record count per collection; lines for unknown collection ids fail.
// Output: the first differences (collection, id, row, field, expected vs got), then
// `compare-export: N passed, N failed` (N counts records plus one count check per collection).
// Exit status: 0 all passed, 1 a difference, 2 usage or unreadable input.

import fs from 'node:fs';
import readline from 'node:readline';
import { readLegacyStore } from './lib/legacy-oracle.mjs';
import * as TJ from './lib/typed-json.mjs';

function usage() {
  console.error('usage: node tests/node/compare-export.mjs STORE_DIR OURS.jsonl|- [--max-report N]\n'
    + '       node tests/node/compare-export.mjs --write-reference STORE_DIR > reference.jsonl');
  process.exit(2);
}

const shortStr = (s, n = 80) => {
  if (s === null || s === undefined) return String(s);
  const j = JSON.stringify(s);
  return j.length > n ? j.slice(0, n) + `...(${s.length} chars)` : j;
};

function numText(x) {
  if (Object.is(x, -0)) return '-0.0';
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return String(x);
}

// Expected metadata node from the legacy text (null when NULL). Unparseable text -> {error}.
function expectedMetadata(raw) {
  if (raw === null) return { node: null };
  try {
    return { node: TJ.parse(raw) };
  } catch (e) {
    return { error: e.message };
  }
}

// Compare one export line (typed) with the expected record. Returns a list of difference texts.
function compareRecord(line, rec, coll) {
  const d = [];
  const field = (name) => TJ.get(line, name);
  const name = field('collection');
  if (!name || name.t !== 'str' || name.v !== coll.name) d.push(`collection: expected ${shortStr(coll.name)}, got ${name ? TJ.describe(name) : '(absent)'}`);
  const id = field('id');
  if (id === undefined) d.push('id: absent');
  else if (rec.id === null ? id.t !== 'null' : !(id.t === 'str' && id.v === rec.id)) d.push(`id: expected ${shortStr(rec.id)}, got ${TJ.describe(id)}`);
  const doc = field('document');
  if (doc === undefined) d.push('document: absent');
  else if (rec.document === null ? doc.t !== 'null' : !(doc.t === 'str' && doc.v === rec.document)) {
    let where = '';
    if (doc.t === 'str' && rec.document !== null) {
      let k = 0;
      while (k < doc.v.length && k < rec.document.length && doc.v[k] === rec.document[k]) k++;
      where = ` (first difference at UTF-16 index ${k}; lengths ${rec.document.length} vs ${doc.v.length})`;
    }
    d.push(`document: expected ${shortStr(rec.document)}, got ${doc.t === 'str' ? shortStr(doc.v) : TJ.describe(doc)}${where}`);
  }
  const emb = field('embedding');
  if (emb === undefined) d.push('embedding: absent');
  else if (rec.embedding === null) {
    if (emb.t !== 'null') d.push(`embedding: expected null, got ${TJ.describe(emb, 60)}`);
  } else if (emb.t !== 'arr') {
    d.push(`embedding: expected ${rec.embedding.length} numbers, got ${TJ.describe(emb, 60)}`);
  } else if (emb.v.length !== rec.embedding.length) {
    d.push(`embedding: expected length ${rec.embedding.length}, got ${emb.v.length}`);
  } else {
    // NULL elements are NaN in the oracle's Float64Array: look them up in the DuckDB reading
    for (let k = 0; k < emb.v.length; k++) {
      const g = emb.v[k];
      const e = rec.embedding[k];
      const eIsNull = rec.embeddingNullAt !== null && rec.embeddingNullAt.includes(k);
      let ok;
      if (eIsNull) ok = g.t === 'null';
      else if (g.t === 'float' || g.t === 'int') ok = Object.is(Number(g.v), e);
      else ok = false;
      if (!ok) {
        d.push(`embedding[${k}]: expected ${eIsNull ? 'null' : numText(e)}, got ${g.t === 'float' || g.t === 'int' ? numText(Number(g.v)) + (g.raw ? ` (text ${g.raw})` : '') : TJ.describe(g)}`);
        break;
      }
    }
  }
  const md = field('metadata');
  const exp = expectedMetadata(rec.metadataRaw);
  if (md === undefined) d.push('metadata: absent');
  else if (exp.error) d.push(`metadata: the legacy text does not parse (${exp.error}); export has ${TJ.describe(md, 60)}`);
  else if (exp.node === null) {
    if (md.t !== 'null') d.push(`metadata: expected null (NULL in the store), got ${TJ.describe(md, 80)}`);
  } else {
    const diff = TJ.diff(exp.node, md, { keyOrder: true }, 'metadata');
    if (diff) d.push(`${diff.startsWith('metadata') ? '' : 'metadata'}${diff} (expected vs got)`);
  }
  return d;
}

async function writeReference(dir) {
  const store = await readLegacyStore(dir);
  const byUuid = new Map(store.collections.map((c) => [c.uuid, c]));
  const all = [];
  for (const [uuid, recs] of store.records) for (const r of recs) all.push([r.row, uuid, r]);
  all.sort((a, b) => a[0] - b[0]);
  const out = fs.createWriteStream(null, { fd: 1 });
  for (const [, uuid, r] of all) {
    const c = byUuid.get(uuid);
    const emb = r.embedding === null ? 'null'
      : '[' + Array.from(r.embedding, (x, k) => (r.embeddingNullAt?.includes(k) ? 'null' : numText(x))).join(',') + ']';
    const md = r.metadataRaw === null ? 'null' : TJ.pyDumps(TJ.parse(r.metadataRaw));
    const line = `{"collection":${JSON.stringify(c.name)},"collection_id":${JSON.stringify(uuid)},"id":${JSON.stringify(r.id)},`
      + `"embedding":${emb},"document":${JSON.stringify(r.document)},"metadata":${md}}\n`;
    if (!out.write(line)) await new Promise((res) => out.once('drain', res));
  }
  await new Promise((res) => out.end(res));
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--write-reference') {
    if (!args[1]) usage();
    await writeReference(args[1]);
    return 0;
  }
  let maxReport = 10;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--max-report') maxReport = Number(args[++i]);
    else pos.push(args[i]);
  }
  if (pos.length !== 2) usage();
  const [storeDir, oursPath] = pos;

  const store = await readLegacyStore(storeDir);
  const colls = new Map(store.collections.map((c) => [c.uuid, c]));
  const cursor = new Map(store.collections.map((c) => [c.uuid, 0])); // next expected record
  const lines = new Map(store.collections.map((c) => [c.uuid, 0])); // export lines seen
  const pending = new Map(store.collections.map((c) => [c.uuid, new Map()])); // skipped: id -> [record #]

  let passed = 0, failed = 0, reported = 0, lineNo = 0;
  const report = (text) => {
    failed++;
    if (reported++ < maxReport) console.log(`DIFF ${text}`);
  };
  let lastRowSeen = -1, globalFileOrder = true;
  if (store.missing.length === 2) report(`${storeDir} holds neither chroma-collections.parquet nor chroma-embeddings.parquet`);

  const input = oursPath === '-' ? process.stdin : fs.createReadStream(oursPath);
  input.on('error', (e) => { console.error(`compare-export: cannot read ${oursPath}: ${e.message}`); process.exit(2); });
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const text of rl) {
    lineNo++;
    if (text.trim() === '') continue;
    let line;
    try {
      line = TJ.parse(text);
    } catch (e) {
      report(`line ${lineNo}: not JSON: ${e.message}`);
      continue;
    }
    if (line.t !== 'obj') { report(`line ${lineNo}: not a JSON object`); continue; }
    const cid = TJ.get(line, 'collection_id');
    if (!cid || cid.t !== 'str') { report(`line ${lineNo}: no string collection_id`); continue; }
    const coll = colls.get(cid.v);
    if (!coll) { report(`line ${lineNo}: collection_id ${cid.v} is not a collection of the store`); continue; }
    const recs = store.records.get(cid.v);
    lines.set(cid.v, lines.get(cid.v) + 1);
    let k = cursor.get(cid.v);
    const idNode = TJ.get(line, 'id');
    const lineId = idNode && idNode.t === 'str' ? idNode.v : null;
    const label = (m) => `collection ${shortStr(coll.name)} record #${m} (file row ${recs[m].row}, id ${shortStr(recs[m].id)})`;
    let rec = k < recs.length ? recs[k] : null;
    let outOfOrder = false;
    if (idNode && (!rec || lineId !== rec.id)) {
      const pend = pending.get(cid.v);
      if (pend.has(lineId)) {
        // a record we skipped earlier (see below) turns up late
        const m = pend.get(lineId).shift();
        if (!pend.get(lineId).length) pend.delete(lineId);
        rec = recs[m];
        outOfOrder = m;
      } else if (rec) {
        // a missing record shifts everything after it: resynchronise on the id (look ahead 50 records);
        // the skipped ones are reported as missing at the end unless they turn up later
        for (let j = k + 1; j < Math.min(recs.length, k + 51); j++) {
          if (recs[j].id === lineId) {
            for (let m = k; m < j; m++) {
              if (!pend.has(recs[m].id)) pend.set(recs[m].id, []);
              pend.get(recs[m].id).push(m);
            }
            k = j;
            rec = recs[k];
            break;
          }
        }
      }
    }
    if (!rec) {
      report(`collection ${shortStr(coll.name)}: extra record (line ${lineNo}, id ${idNode ? TJ.describe(idNode) : '?'}), the store has ${recs.length}`);
      continue;
    }
    if (outOfOrder === false) cursor.set(cid.v, k + 1);
    else report(`${label(outOfOrder)}: out of order (line ${lineNo}, after record #${cursor.get(cid.v) - 1})`);
    if (rec.row < lastRowSeen) globalFileOrder = false;
    lastRowSeen = rec.row;
    const diffs = compareRecord(line, rec, coll);
    if (diffs.length === 0) { if (outOfOrder === false) passed++; }
    else report(`${label(outOfOrder === false ? k : outOfOrder)}: ${diffs.join('; ')}`);
  }
  for (const [uuid, pend] of pending) {
    const coll = colls.get(uuid);
    const recs = store.records.get(uuid);
    for (const ms of pend.values()) for (const m of ms) report(`collection ${shortStr(coll.name)} record #${m} (file row ${recs[m].row}, id ${shortStr(recs[m].id)}): missing from the export`);
  }
  for (const c of store.collections) {
    const n = store.records.get(c.uuid).length;
    const got = lines.get(c.uuid);
    if (got === n) passed++;
    else report(`collection ${shortStr(c.name)}: ${got} records exported, the store has ${n}`);
  }
  if (store.orphans.length) console.log(`note: ${store.orphans.length} store rows belong to no collection (not expected in the export)`);
  if (!globalFileOrder) console.log('note: collections are not interleaved as in the file (each collection is in file order)');
  if (reported > maxReport) console.log(`... ${reported - maxReport} more differences not shown`);
  console.log(`compare-export: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => { console.error(`compare-export: ${e.stack || e}`); process.exit(2); });
