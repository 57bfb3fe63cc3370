// make-sample-store.mjs - regenerate examples/sample-store: a small legacy (chromadb 0.3.x) persist_directory,
// written the way chromadb 0.3.x wrote it: DuckDB in-memory tables, then
//   COPY (SELECT * FROM collections) TO 'chroma-collections.parquet' (FORMAT PARQUET)
//   COPY (SELECT * FROM embeddings)  TO 'chroma-embeddings.parquet'  (FORMAT PARQUET)
//
// usage (from anywhere; DuckDB comes from tests/node/node_modules, run `npm ci --omit=optional` there first):
//   node examples/sample-store/make-sample-store.mjs [OUT_DIR]     (default: this script's folder)
//
// Deterministic: the same script and DuckDB version give the same files.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../tests/node/package.json', import.meta.url));
const { DuckDBInstance, listValue, LIST, DOUBLE } = require('@duckdb/node-api');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(process.argv[2] ?? HERE);

// ---------------------------------------------------------------- deterministic randomness (mulberry32)
function rng(seed) {
  let a = seed >>> 0;
  const u32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const r = {
    next: () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992, // 53 bits
    int: (n) => Math.floor(r.next() * n),
    pick: (arr) => arr[r.int(arr.length)],
    normal: () => {
      let u = 0;
      while (u === 0) u = r.next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.next());
    },
    uuid4: () => {
      const h = () => u32().toString(16).padStart(8, '0');
      const s = h() + h() + h() + h();
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-${'89ab'[u32() & 3]}${s.slice(17, 20)}-${s.slice(20, 32)}`;
    },
  };
  return r;
}

// ---------------------------------------------------------------- Python json.dumps text (what chromadb stored)
function pyStr(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else if (c > 0xffff) {
      const v = c - 0x10000;
      out += `\\u${(0xd800 + (v >> 10)).toString(16)}\\u${(0xdc00 + (v & 0x3ff)).toString(16)}`;
    } else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}
// values: strings, booleans, {int: n}, {float: x} (x with a short decimal form, no exponent)
function pyDumps(obj) {
  if (obj === null) return 'null';
  return '{' + Object.entries(obj).map(([k, v]) => {
    let t;
    if (typeof v === 'string') t = pyStr(v);
    else if (typeof v === 'boolean') t = v ? 'true' : 'false';
    else if ('int' in v) t = String(v.int);
    else t = Number.isInteger(v.float) ? `${v.float}.0` : String(v.float);
    return `${pyStr(k)}: ${t}`;
  }).join(', ') + '}';
}

// ---------------------------------------------------------------- content
const R = rng(20230601);

const CUISINES = {
  italian: { dishes: ['risotto ai funghi', 'spaghetti carbonara', 'lasagne al forno', 'panna cotta', 'minestrone', 'osso buco', 'tiramisù', 'gnocchi al pesto'], words: ['parmesan', 'basil', 'olive oil', 'garlic', 'tomatoes', 'mozzarella'] },
  french: { dishes: ['crème brûlée', 'ratatouille', 'coq au vin', 'quiche lorraine', 'soupe à l’oignon', 'bœuf bourguignon', 'tarte tatin', 'croque-monsieur'], words: ['butter', 'shallots', 'thyme', 'red wine', 'gruyère', 'cream'] },
  japanese: { dishes: ['miso ramen', 'chicken katsu', 'okonomiyaki', 'salmon teriyaki', 'onigiri', 'gyoza', 'matcha cheesecake', 'tempura udon'], words: ['soy sauce', 'mirin', 'dashi', 'ginger', 'sesame', 'nori'] },
  mexican: { dishes: ['tacos al pastor', 'chiles rellenos', 'pozole rojo', 'guacamole', 'enchiladas verdes', 'churros', 'tamales', 'sopa de lima'], words: ['lime', 'cilantro', 'chipotle', 'corn tortillas', 'cumin', 'jalapeño'] },
  indian: { dishes: ['chana masala', 'butter chicken', 'palak paneer', 'dal tadka', 'aloo gobi', 'lamb rogan josh', 'mango lassi', 'vegetable biryani'], words: ['garam masala', 'turmeric', 'ghee', 'coriander', 'cardamom', 'yoghurt'] },
  nordic: { dishes: ['gravlax', 'kanelbullar', 'smørrebrød', 'meatballs with lingonberries', 'rye porridge', 'pickled herring', 'fish soup', 'rhubarb crumble'], words: ['dill', 'rye', 'lingonberries', 'cardamom', 'potatoes', 'sour cream'] },
};
const VEG_HINT = ['risotto', 'minestrone', 'ratatouille', 'quiche', 'tarte', 'onigiri', 'guacamole', 'chana', 'palak', 'dal', 'aloo', 'biryani', 'porridge', 'crumble', 'kanelbullar', 'churros', 'panna', 'tiramisù', 'crème', 'lassi', 'gnocchi', 'cheesecake'];

// clustered embeddings: a centre per group plus noise, like a real embedding model would give
function centres(dim, n, r) {
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => r.normal()));
}
function embed(centre, spread, r, f32) {
  return centre.map((c) => {
    const x = (c + spread * r.normal()) / Math.sqrt(centre.length);
    return f32 ? Math.fround(x) : x;
  });
}

const collections = [];
const rows = []; // {coll, rec} in add() order

// recipes: 64 dims, l2 (no hnsw:space), 300 records in 3 add() batches
{
  const uuid = R.uuid4();
  collections.push({ uuid, name: 'recipes', metadata: pyDumps({ description: 'Family recipes, embedded with a 64-dim model', version: { int: 2 } }) });
  const names = Object.keys(CUISINES);
  const cs = centres(64, names.length, R);
  const recs = [];
  for (let i = 0; i < 300; i++) {
    const ci = R.int(names.length);
    const cuisine = names[ci];
    const dish = R.pick(CUISINES[cuisine].dishes);
    const w = CUISINES[cuisine].words;
    const servings = 1 + R.int(8);
    const prep = 5 * (2 + R.int(24));
    const rating = Math.round((3 + R.next() * 2) * 2) / 2; // 3.0 .. 5.0 in halves: 4.0 stays a float
    const veg = VEG_HINT.some((h) => dish.includes(h));
    const doc = `${dish[0].toUpperCase()}${dish.slice(1)} (${cuisine}). Serves ${servings}, ready in ${prep} minutes. `
      + `You need ${R.pick(w)}, ${R.pick(w)} and ${R.pick(w)}; ${R.pick(['simmer gently', 'bake until golden', 'stir often', 'rest before serving', 'season to taste'])}.`;
    const meta = {
      title: dish, cuisine, servings: { int: servings }, prep_minutes: { int: prep }, rating: { float: rating },
      vegetarian: veg, calories_per_serving: { int: 150 + R.int(700) },
    };
    if (i % 10 === 3) meta.source = 'grandma’s notebook';
    recs.push({ id: `recipe-${String(i + 1).padStart(3, '0')}`, embedding: embed(cs[ci], 0.35, R, i % 4 === 0), document: doc, metadata: pyDumps(meta) });
  }
  collections[collections.length - 1].recs = recs;
}

// support-tickets: 32 dims, cosine, 150 records in 2 add() batches
{
  const uuid = R.uuid4();
  collections.push({ uuid, name: 'support-tickets', metadata: pyDumps({ 'hnsw:space': 'cosine' }) });
  const topics = [
    ['login', 'I cannot log in after resetting my password', 'The login page says my session expired'],
    ['billing', 'I was charged twice this month', 'Please send me an invoice with our VAT number'],
    ['export', 'The CSV export is missing the last column', 'Exports time out for large projects'],
    ['mobile', 'The app crashes when I open the camera', 'Push notifications stopped on Android 14'],
    ['api', 'The API returns 429 even at low volume', 'Webhook signatures do not validate'],
  ];
  const cs = centres(32, topics.length, R);
  const recs = [];
  for (let i = 0; i < 150; i++) {
    const ti = R.int(topics.length);
    const [topic, a, b] = topics[ti];
    const priority = R.pick(['low', 'normal', 'normal', 'high', 'urgent']);
    const resolved = R.next() < 0.7;
    const doc = `${R.pick([a, b])}. ${R.pick(['Customer on the Pro plan.', 'Happens since the last update.', 'Tried another browser, same result.', 'Screenshot attached in the ticket.'])}`;
    const meta = { ticket: { int: 10200 + i * 3 + R.int(3) }, topic, priority, resolved };
    if (resolved) meta.response_hours = { float: Math.round(R.next() * 7200) / 100 };
    recs.push({ id: `TCK-${10200 + i}`, embedding: embed(cs[ti], 0.5, R, false), document: doc, metadata: pyDumps(meta) });
  }
  collections[collections.length - 1].recs = recs;
}

// archive-2022: created, never filled
collections.push({ uuid: R.uuid4(), name: 'archive-2022', metadata: 'null', recs: [] });

// add() batches, interleaved as an application would have made them
const batches = [['recipes', 0, 120], ['support-tickets', 0, 80], ['recipes', 120, 240], ['support-tickets', 80, 150], ['recipes', 240, 300]];
for (const [name, a, b] of batches) {
  const c = collections.find((x) => x.name === name);
  for (const rec of c.recs.slice(a, b)) rows.push({ c, rec });
}

// ---------------------------------------------------------------- write
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run('CREATE TABLE collections (uuid VARCHAR, name VARCHAR, metadata VARCHAR)');
await con.run('CREATE TABLE embeddings (collection_uuid VARCHAR, uuid VARCHAR, embedding DOUBLE[], document VARCHAR, id VARCHAR, metadata VARCHAR)');
for (const c of collections) await con.run('INSERT INTO collections VALUES ($1, $2, $3)', [c.uuid, c.name, c.metadata]);
const app = await con.createAppender('embeddings');
for (const { c, rec } of rows) {
  app.appendVarchar(c.uuid);
  app.appendVarchar(R.uuid4());
  app.appendList(listValue(rec.embedding), LIST(DOUBLE));
  app.appendVarchar(rec.document);
  app.appendVarchar(rec.id);
  app.appendVarchar(rec.metadata);
  app.endRow();
}
app.closeSync();
fs.mkdirSync(OUT, { recursive: true });
const q = (p) => "'" + p.replaceAll("'", "''") + "'";
for (const [t, f] of [['collections', 'chroma-collections.parquet'], ['embeddings', 'chroma-embeddings.parquet']]) {
  const p = path.join(OUT, f);
  fs.rmSync(p, { force: true });
  await con.run(`COPY (SELECT * FROM ${t}) TO ${q(p)} (FORMAT PARQUET)`);
}
console.log(`make-sample-store: wrote ${OUT}: ${collections.length} collections (${collections.map((c) => `${c.name} ${c.recs.length}`).join(', ')})`);
