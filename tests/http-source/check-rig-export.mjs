// check-rig-export.mjs - checks `chroma-migrate export http://STANDIN` of the 0.3.29 rig (standin.mjs
// --rig) against the answers RECORDED from the real chromadb 0.3.29 server
// (../shared/reference/chroma-0.3-rest-api.md), not against the stand-in's own data: every stored row
// exactly once, in the order the server listed the ids, values and types as the server sent them
// (embeddings as float64, metadata int vs float, big ints, key order, non-ASCII ids), and the row the
// server cannot send (e3: NaN) present as its id alone.
//
// usage: node tests/http-source/check-rig-export.mjs EXPORT.jsonl
// Prints the differences, then "check-rig-export: N passed, N failed"; exit 1 on a failure.

import fs from 'node:fs';
import * as TJ from '../node/lib/typed-json.mjs';

// Bodies copied from the recording (get answers; rig_ip from its add request, which the recording
// answered 201 for and which was never read back whole).
const RECORDED = {
  rig_cosine: '{"ids":["a1","a2","a3","a4","a6"],"embeddings":[[-0.13,-0.02,0.09,0.2,0.31,0.42,-0.47,-0.36],[1.0,0.0,-2.0,0.1,1e-07,-0.0,3.5,123456.789],[-0.39,-0.28,-0.17,-0.06,0.05,0.16,0.27,0.38],[-0.02,0.09,0.2,0.31,0.42,-0.47,-0.36,-0.25],[0.1,0.2]],"documents":["first document","second: unicode é☃ \\"quoted\\"\\ttab\\nnewline","third document, no metadata",null,null],"metadatas":[{"s":"str","i":42,"f":3.14,"b":true},{"s":"x\'y\\"z","i":-7,"f":1e-07,"b":false,"big":9007199254740993},null,{"kind":"no-document","n":4},null]}',
  rig_paging: '{"ids":["p0","p1","p2","p3","p4","p5","p6"],"embeddings":[[0.2,0.31,0.42,-0.47,-0.36,-0.25,-0.14,-0.03],[-0.43,-0.32,-0.21,-0.1,0.01,0.12,0.23,0.34],[-0.06,0.05,0.16,0.27,0.38,0.49,-0.4,-0.29],[0.31,0.42,-0.47,-0.36,-0.25,-0.14,-0.03,0.08],[-0.32,-0.21,-0.1,0.01,0.12,0.23,0.34,0.45],[0.05,0.16,0.27,0.38,0.49,-0.4,-0.29,-0.18],[0.42,-0.47,-0.36,-0.25,-0.14,-0.03,0.08,0.19]],"documents":["paging doc 0","paging doc 1","paging doc 2","paging doc 3","paging doc 4","paging doc 5","paging doc 6"],"metadatas":[{"k":0,"even":true,"name":"p0"},{"k":1,"even":false,"name":"p1"},{"k":2,"even":true,"name":"p2"},{"k":3,"even":false,"name":"p3"},{"k":4,"even":true,"name":"p4"},{"k":5,"even":false,"name":"p5"},{"k":6,"even":true,"name":"p6"}]}',
  rig_ip: '{"ids": ["i1", "i2"], "embeddings": [[-0.1, 0.01, 0.12, 0.23, 0.34, 0.45, -0.44, -0.33], [0.27, 0.38, 0.49, -0.4, -0.29, -0.18, -0.07, 0.04]], "documents": ["ip one", "ip two"], "metadatas": [{"x": 1}, {"x": 2.5}]}',
  rig_nometa: '{"ids":[],"embeddings":[],"documents":[],"metadatas":[]}',
  // the answer before the NaN row was added, then e3 as the server cannot send it
  rig_edge: '{"ids":["clé-1 ☃","e2","e3"],"embeddings":[[-0.4,-0.29,-0.18,-0.07,0.04,0.15,0.26,0.37],[-0.03,0.08,0.19,0.3,0.41,-0.48,-0.37,-0.26],null],"documents":["non-ascii id","plain",null],"metadatas":[{"name":"café ☃","huge":1e+300,"tiny":5e-324,"neg":-0.5},{"x":1},null]}',
};
const COLLECTION_IDS = {
  rig_cosine: '67b24618-6286-4867-9662-cb53da217609', rig_paging: 'b61e5289-2f8d-4d17-9168-6492775cbec6',
  rig_ip: 'e4265a75-906e-4638-88f9-e985679e0176', rig_nometa: 'eb230ee0-8c6b-472f-87e4-37d4bad2eb15',
  rig_edge: '391872f4-3cb2-46f4-bd8b-bad82db7ca78',
};

const file = process.argv[2];
if (!file) { console.error('usage: node tests/http-source/check-rig-export.mjs EXPORT.jsonl'); process.exit(2); }
let pass = 0, fail = 0;
const ok = (cond, what) => { if (cond) pass++; else { fail++; console.log(`FAIL ${what}`); } };

const got = new Map(); // collection -> [typed line]
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (!line) continue;
  const v = TJ.parse(line);
  const name = TJ.get(v, 'collection').v;
  if (!got.has(name)) got.set(name, []);
  got.get(name).push(v);
}
ok(got.size === 4, `4 collections with records (rig_nometa has none), got ${[...got.keys()].join(', ')}`);
for (const [name, text] of Object.entries(RECORDED)) {
  const ans = TJ.parse(text);
  const ids = TJ.get(ans, 'ids').v, embs = TJ.get(ans, 'embeddings').v, docs = TJ.get(ans, 'documents').v, metas = TJ.get(ans, 'metadatas').v;
  const lines = got.get(name) ?? [];
  ok(lines.length === ids.length, `${name}: ${ids.length} records, got ${lines.length}`);
  for (let k = 0; k < Math.min(lines.length, ids.length); k++) {
    const l = lines[k], what = `${name} record #${k} (${ids[k].v})`;
    ok(TJ.get(l, 'collection_id').v === COLLECTION_IDS[name], `${what}: collection id`);
    ok(TJ.get(l, 'id').v === ids[k].v, `${what}: id (got ${TJ.describe(TJ.get(l, 'id'))}); listed order`);
    const d = TJ.diff(embs[k], TJ.get(l, 'embedding'));
    ok(d === null, `${what}: embedding ${d}`);
    ok(TJ.diff(docs[k], TJ.get(l, 'document')) === null, `${what}: document ${TJ.diff(docs[k], TJ.get(l, 'document'))}`);
    const md = TJ.diff(metas[k], TJ.get(l, 'metadata'), { keyOrder: true });
    ok(md === null, `${what}: metadata ${md}`);
  }
}
console.log(`check-rig-export: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
