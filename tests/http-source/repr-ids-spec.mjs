// repr-ids-spec.mjs - prints a make-store-from-json.mjs spec of a legacy store whose ids chromadb
// 0.3.29 on ClickHouse cannot find by id (see ids-03.mjs): non-printable characters written by
// Python's repr as \uNNNN, \xNN (U+0080-U+00FF), \UNNNNNNNN, ids with ' but no " (a query error),
// next to ids that do work by id (tab, ASCII controls, both quotes, backslashes, printable non-BMP),
// "zwu200bsp" (what ClickHouse looks for instead of "zw\u200bsp"), and an unfindable id stored twice.
// Records are spread over two collections, with documents and metadata, in a fixed order.
//
// usage: node tests/http-source/repr-ids-spec.mjs > SPEC.json
import { createHash } from 'node:crypto';

const unfindable = ['zw\u200bsp', 'nel\u0085x', 'nb\u00a0sp', 'soft\u00adhy', 'ls\u2028x', 'bom\ufeff',
  'tag\u{e0001}', 'pua\u{f0000}', "it's", "it's a \\ too", 'ideo\u3000sp'];
const findable = ['plain-1', 'zwu200bsp', 'tab\tx', 'nl\nx', 'c\u0001d', 'del\u007f', 'esc\u001bx', 'say "hi"',
  'both \' and "', 'back\\slash', 'emoji 😀', 'clé-1 ☃', 'plain-2'];

const colls = [
  { uuid: '3b8f6d2e-1c4a-4e5b-9a7d-0e2f4c6b8a10', name: 'repr_ids', metadata: '{"hnsw:space": "cosine"}' },
  { uuid: '5d1e9a7c-2b3f-4c8d-8e6a-1f0b2c3d4e5f', name: 'repr_more', metadata: 'null' },
];
const records = [];
let n = 0;
function add(coll, id) {
  n++;
  // internal uuids in no particular order, as uuid4 gives them (so sorting by uuid reorders the rows)
  const h = createHash('sha256').update(String(n)).digest('hex');
  records.push({
    collection_uuid: coll.uuid,
    uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`,
    embedding: [n / 8, -n / 16, 0.1 * (n % 7), n % 2 ? 1e-7 : -0.25],
    document: n % 5 === 0 ? null : `document of ${JSON.stringify(id)} (${n})`,
    id,
    metadata: n % 6 === 0 ? null : JSON.stringify({ n, id, half: n + 0.5 }),
  });
}
// interleaved, so every chunk mixes both kinds
const all = [];
for (let k = 0; k < Math.max(unfindable.length, findable.length); k++) {
  if (k < findable.length) all.push(findable[k]);
  if (k < unfindable.length) all.push(unfindable[k]);
}
all.forEach((id, k) => add(colls[k % 3 === 2 ? 1 : 0], id));
add(colls[0], 'zw\u200bsp'); // a second copy of an unfindable id
add(colls[1], 'last plain');
console.log(JSON.stringify({ collections: colls, records }));
