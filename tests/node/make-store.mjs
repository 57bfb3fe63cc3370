// make-store.mjs - write a legacy (chromadb 0.3.x) persist_directory the way chromadb 0.3.x did:
// DuckDB in-memory tables collections(uuid, name, metadata) and embeddings(collection_uuid, uuid,
// embedding DOUBLE[], document, id, metadata), then COPY (SELECT * FROM t) TO f (FORMAT PARQUET).
//
// usage: node tests/node/make-store.mjs OUT_DIR [options]
//   --collections N        collections with records (default 1)
//   --rows N               records per collection (default 100)      | --total-rows N  split over the collections
//   --empty-collections N  extra collections without records (default 0)
//   --dim D                embedding dimension (default 8)
//   --kind random|latent   random: uniform doubles in [-1,1); latent: 16-dim latent space x a per-collection
//                          random projection, plus noise (clustered like real embeddings). Default random.
//                          About 1 row in 4 holds float32-exact values, the others true doubles.
//   --compression uncompressed|snappy|gzip|zstd|lz4|brotli   (default snappy; lz4 writes LZ4_RAW)
//   --row-group-size N     DuckDB ROW_GROUP_SIZE (DuckDB rounds up to whole 2048-row vectors)
//   --parquet-version v1|v2  DuckDB PARQUET_VERSION. NOTE: DuckDB 1.4 v2 changes the encodings
//                          (RLE_DICTIONARY, BYTE_STREAM_SPLIT, DELTA_*) but still writes DATA_PAGE (v1)
//                          headers; for DATA_PAGE_V2 headers use --writer parquet-wasm --parquet-version v2.
//   --dictionary on|off    off = DICTIONARY_SIZE_LIMIT 0 (plain encoding everywhere). Default on.
//   --writer duckdb|parquet-wasm   parquet-wasm: DuckDB still builds the data and writes the files, then
//                          parquet-wasm (arrow-rs) re-writes them with the same options (+ --page-size),
//                          producing DATA_PAGE_V2 with --parquet-version v2. Root schema is then
//                          `arrow_schema`, not `duckdb_schema`.
//   --page-size BYTES      data page size limit (parquet-wasm writer only): many pages per column chunk
//   --odd                  per collection ~30 extra records: NUL bytes / control chars / emoji / quotes /
//                          backslashes / empty and NULL documents, odd ids, metadata with str/int/float(1.0)/
//                          bool/negative and i64-extreme ints, 2^53+1, tiny/huge floats, -0.0, \u escapes with
//                          surrogate pairs (exactly as Python json.dumps), NULL metadata and {} metadata;
//                          embedding values that test float32 rounding (ties, subnormals, -0.0)
//   --duplicates K         K extra rows that repeat an earlier id of the same collection with different
//                          content (one id three times when K >= 3); also one id shared across collections
//   --invalid-metadata     per collection 8 extra records whose metadata holds values Chroma >= 0.4 cannot
//                          store (null, nested object, list, NaN, Infinity, -Infinity, int >= 2^64; one
//                          record with only invalid values); collection 0's metadata gets a list and a null
//   --invalid-records K    per collection K extra records Chroma cannot take: NULL embedding, empty
//                          embedding, wrong dimension, NULL id, empty-string id, NULL element, value beyond
//                          float32 range, NaN element (cycled)
//   --space l2|ip|cosine|mixed   collection metadata {"hnsw:space": ...} (mixed: l2, ip, cosine in turn);
//                          without it the collection metadata is the string 'null' (as chromadb wrote it)
//   --bad-name             collection 0 is named "my collection" (invalid from 0.4 on), collection 1 "ab"
//   --batch B              rows per add() batch: collections are interleaved in blocks of B (default 100)
//   --seed S               (default 1). Output is deterministic for the same options, seed and DuckDB version.
//   --force                overwrite existing parquet files in OUT_DIR
//
// Extra records (--odd, --duplicates, --invalid-*) come on top of --rows, placed at seeded positions.
// Generated ids: id0000000, id0000001, ... (the same ids in every collection, as ids are per collection).

import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, LIST, DOUBLE, listValue } from '@duckdb/node-api';
import { Rng } from './lib/rng.mjs';
import { pyDumps, fromPlain } from './lib/typed-json.mjs';
import { COLLECTIONS_FILE, EMBEDDINGS_FILE, sqlString } from './lib/legacy-oracle.mjs';

const USAGE = 'usage: node tests/node/make-store.mjs OUT_DIR [--collections N] [--rows N | --total-rows N] '
  + '[--empty-collections N] [--dim D] [--kind random|latent] [--compression C] [--row-group-size N] '
  + '[--parquet-version v1|v2] [--dictionary on|off] [--writer duckdb|parquet-wasm] [--page-size BYTES] [--odd] '
  + '[--duplicates K] [--invalid-metadata] [--invalid-records K] [--space l2|ip|cosine|mixed] [--bad-name] '
  + '[--batch B] [--seed S] [--force]';

const WORDS = ['apple', 'river', 'stone', 'cloud', 'engine', 'garden', 'signal', 'paper', 'orbit', 'lantern',
  'copper', 'meadow', 'harbor', 'pixel', 'thunder', 'velvet', 'window', 'canyon', 'marble', 'quartz', 'saddle',
  'tunnel', 'violet', 'walnut', 'yellow', 'zephyr', 'beacon', 'cobalt', 'dragon', 'ember', 'falcon', 'glacier'];

export function parseArgs(argv) {
  const o = {
    out: null, collections: 1, rows: 100, totalRows: null, emptyCollections: 0, dim: 8, kind: 'random',
    compression: 'snappy', rowGroupSize: null, parquetVersion: 'v1', dictionary: 'on', writer: 'duckdb',
    pageSize: null, odd: false, duplicates: 0, invalidMetadata: false, invalidRecords: 0, space: null,
    badName: false, batch: 100, seed: 1, force: false,
  };
  const num = (v, name) => {
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${name} needs a non-negative integer`);
    return Number(v);
  };
  const oneOf = (v, name, allowed) => {
    if (!allowed.includes(v)) throw new Error(`${name} must be one of ${allowed.join('|')}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    switch (a) {
      case '--collections': o.collections = num(next(), a); break;
      case '--rows': o.rows = num(next(), a); break;
      case '--total-rows': o.totalRows = num(next(), a); break;
      case '--empty-collections': o.emptyCollections = num(next(), a); break;
      case '--dim': o.dim = num(next(), a); break;
      case '--kind': o.kind = oneOf(next(), a, ['random', 'latent']); break;
      case '--compression': o.compression = oneOf(next(), a, ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli']); break;
      case '--row-group-size': o.rowGroupSize = num(next(), a); break;
      case '--parquet-version': o.parquetVersion = oneOf(next(), a, ['v1', 'v2']); break;
      case '--dictionary': o.dictionary = oneOf(next(), a, ['on', 'off']); break;
      case '--writer': o.writer = oneOf(next(), a, ['duckdb', 'parquet-wasm']); break;
      case '--page-size': o.pageSize = num(next(), a); break;
      case '--odd': o.odd = true; break;
      case '--duplicates': o.duplicates = num(next(), a); break;
      case '--invalid-metadata': o.invalidMetadata = true; break;
      case '--invalid-records': o.invalidRecords = num(next(), a); break;
      case '--space': o.space = oneOf(next(), a, ['l2', 'ip', 'cosine', 'mixed']); break;
      case '--bad-name': o.badName = true; break;
      case '--batch': o.batch = Math.max(1, num(next(), a)); break;
      case '--seed': o.seed = num(next(), a); break;
      case '--force': o.force = true; break;
      case '-h': case '--help': throw new Error(USAGE);
      default:
        if (a.startsWith('-') || o.out !== null) throw new Error(`unknown argument ${a}\n${USAGE}`);
        o.out = a;
    }
  }
  if (!o.out) throw new Error(USAGE);
  if (o.dim < 1) throw new Error('--dim must be >= 1');
  if (o.pageSize !== null && o.writer !== 'parquet-wasm') throw new Error('--page-size needs --writer parquet-wasm');
  return o;
}

// ------------------------------------------------------------------ special (hand-made) records

const f32 = Math.fround;

function randomVector(rng, dim, f32exact) {
  const v = new Array(dim);
  for (let j = 0; j < dim; j++) {
    const x = rng.next() * 2 - 1;
    v[j] = f32exact ? f32(x) : x;
  }
  return v;
}

// Metadata text exactly as Python json.dumps wrote it. Values: plain JS, {__float: x} for floats
// that are integral (1.0), BigInt for ints beyond 2^53, {__raw: 'NaN'} for a raw token.
function pyMeta(obj) {
  if (obj === null) return null;
  const parts = Object.entries(obj).map(([k, v]) => {
    const text = v !== null && typeof v === 'object' && '__raw' in v ? v.__raw : pyDumps(fromPlain(v));
    return `${pyDumps(fromPlain(k))}: ${text}`;
  });
  return '{' + parts.join(', ') + '}';
}

function oddRecords(rng, c, dim) {
  const recs = [];
  const vec = () => randomVector(rng, dim, rng.next() < 0.5);
  const add = (id, document, metadata, embedding = vec()) => recs.push({ id, document, metadata, embedding });
  const huge = 2n ** 63n - 1n;
  // documents
  add('odd-nul', 'before\u0000after\u0000\u0000end', pyMeta({ kind: 'nul bytes' }));
  add('odd-control', 'ctl:\u0001\u0002\u0007\b\t\n\u000b\f\r\u001b\u001f\u007f|', pyMeta({ kind: 'control characters' }));
  add('odd-emoji', 'emoji 😀🎉👩‍💻 and CJK 漢字 and accents café naïve e\u0301', pyMeta({ kind: 'emoji', text: 'caf\u00e9 😀 \u6f22\u5b57' }));
  add('odd-quotes', 'quotes "double" \'single\' `back` «guillemets»', pyMeta({ kind: 'quotes', q: 'say "hi" \'there\'' }));
  add('odd-backslash', 'back\\slash \\n \\u0041 \\\\ C:\\path\\file', pyMeta({ kind: 'backslash', p: 'C:\\dir\\x', esc: '\\u00e9 is not an escape' }));
  add('odd-empty-doc', '', pyMeta({ kind: 'empty document' }));
  add('odd-null-doc', null, pyMeta({ kind: 'null document' }));
  add('odd-null-doc-null-meta', null, null);
  add('odd-long-doc', 'long '.repeat(3000) + 'end', pyMeta({ kind: 'long document', length: 15003 }));
  add('odd-newlines', 'line1\nline2\r\nline3\rend\n', pyMeta({ kind: 'newlines' }));
  // metadata
  add('odd-meta-null', 'metadata is NULL', null);
  add('odd-meta-empty', 'metadata is {}', '{}');
  add('odd-meta-types', 'all value types', pyMeta({
    s: 'text', i: 42, f: 3.25, one_float: { __float: 1.0 }, zero_float: { __float: 0.0 }, t: true, fl: false,
    neg_i: -17, neg_f: -2.5, zero: 0,
  }));
  add('odd-meta-ints', 'extreme ints', pyMeta({
    i64_max: huge, i64_min: -(2n ** 63n), two53: 2n ** 53n, two53_plus_1: 2n ** 53n + 1n, minus_one: -1,
  }));
  add('odd-meta-floats', 'extreme floats', pyMeta({
    tiny: 1e-07, sub: 5e-324, big: { __float: 1e16 }, max: { __float: 1.7976931348623157e308 }, int_1e16: 10000000000000000n, third: 1 / 3, neg_zero: { __raw: '-0.0' },
    e_neg: 1.5e-10, int_like: { __float: 123456789.0 }, f32_tie: 1.0000000596046448,
  }));
  add('odd-meta-escapes', 'escapes', pyMeta({
    emoji: '😀 smile', cjk: '漢字', ctl: 'tab\there\nnl', quote: '"q"', bs: '\\', del: '\u007f', nbsp: 'a\u00a0b',
    'key with spaces': 'v', 'ünïcødé key': 'ü', 'emoji 🎉 key': true,
  }));
  add('odd-meta-one-key', 'single key', pyMeta({ only: 'one' }));
  add('odd-meta-many-keys', 'many keys', pyMeta(Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`k${String(k).padStart(2, '0')}`, k % 3 === 0 ? k : k % 3 === 1 ? `v${k}` : k + 0.5]))));
  add('odd-meta-long-str', 'long metadata string', pyMeta({ long: 'x'.repeat(5000) }));
  // ids
  add('id with spaces', 'odd id', pyMeta({ kind: 'id' }));
  add('ünïcødé-id-😀', 'odd id', pyMeta({ kind: 'id' }));
  add('quote"id\'s', 'odd id', pyMeta({ kind: 'id' }));
  add('back\\slash\\id', 'odd id', pyMeta({ kind: 'id' }));
  add('tab\tid', 'odd id', pyMeta({ kind: 'id' }));
  add('   ', 'id of three spaces', pyMeta({ kind: 'id' }));
  add('0', 'numeric-looking id', pyMeta({ kind: 'id' }));
  add('L'.repeat(300), 'long id', pyMeta({ kind: 'id' }));
  // embedding values that test the double -> float32 conversion
  const ev = (vals) => Array.from({ length: dim }, (_, j) => vals[j % vals.length]);
  add('odd-emb-ties', 'float32 ties and rounding', pyMeta({ kind: 'embedding' }),
    ev([1 + 2 ** -24, 1 + 3 * 2 ** -24, -(1 + 2 ** -24), 0.1, 1 / 3, 2 ** -24 * 1.5, 16777217, 0.30000000000000004]));
  add('odd-emb-small', 'subnormals and zeros', pyMeta({ kind: 'embedding' }),
    ev([-0.0, 1e-40, -1e-42, 1e-50, 0.0, 1e-38, 1.401298464324817e-45, 0.5]));
  add('odd-emb-large', 'large values', pyMeta({ kind: 'embedding' }),
    ev([123456.789, -98765.4321, 1e10, 3.0000001, -7.25, 65504.0001, 2.5, -1e-3]));
  add('odd-emb-zero', 'all-zero vector (cosine: norm 0)', pyMeta({ kind: 'embedding' }), ev([0]));
  add('odd-emb-dup-vector', 'same vector as odd-emb-ties', pyMeta({ kind: 'embedding duplicate' }),
    ev([1 + 2 ** -24, 1 + 3 * 2 ** -24, -(1 + 2 ** -24), 0.1, 1 / 3, 2 ** -24 * 1.5, 16777217, 0.30000000000000004]));
  return recs.map((r) => ({ ...r, tag: 'odd' }));
}

function invalidMetadataRecords(rng, c, dim) {
  const vec = () => randomVector(rng, dim, false);
  const m = (id, meta) => ({ id, document: `invalid metadata: ${id}`, metadata: meta, embedding: vec(), tag: 'invalid-metadata' });
  return [
    m('badmeta-null', '{"ok": "yes", "bad": null}'),
    m('badmeta-object', '{"ok": 1, "nested": {"a": 1, "b": [1, 2]}}'),
    m('badmeta-list', '{"list": [1, "two", 3.0], "ok": true}'),
    m('badmeta-nan', '{"nan": NaN, "ok": 1.5}'),
    m('badmeta-inf', '{"inf": Infinity, "z": 0.25}'),
    m('badmeta-ninf', '{"ninf": -Infinity, "ok": "x"}'),
    m('badmeta-bigint', '{"huge": 18446744073709551616, "ok": 2}'),
    m('badmeta-all-invalid', '{"a": null, "b": [], "c": {}, "d": NaN}'),
  ];
}

function invalidRecords(rng, c, dim, k) {
  const kinds = ['null-embedding', 'empty-embedding', 'wrong-dim', 'null-id', 'empty-id', 'null-element', 'f32-overflow', 'nan-element'];
  const out = [];
  for (let n = 0; n < k; n++) {
    const kind = kinds[n % kinds.length];
    let embedding = randomVector(rng, dim, false);
    let id = `invalid-${kind}-${n}`;
    if (kind === 'null-embedding') embedding = null;
    if (kind === 'empty-embedding') embedding = [];
    if (kind === 'wrong-dim') embedding = randomVector(rng, dim + 1, false);
    if (kind === 'null-id') id = null;
    if (kind === 'empty-id') id = '';
    if (kind === 'null-element') embedding[0] = null;
    if (kind === 'f32-overflow') embedding[0] = 1e39;
    if (kind === 'nan-element') embedding[0] = NaN;
    out.push({ id, document: `invalid record: ${kind}`, metadata: pyMeta({ invalid: kind }), embedding, tag: 'invalid-record' });
  }
  return out;
}

// ------------------------------------------------------------------ main

export async function makeStore(o) {
  const t0 = Date.now();
  fs.mkdirSync(o.out, { recursive: true });
  for (const f of [COLLECTIONS_FILE, EMBEDDINGS_FILE]) {
    const p = path.join(o.out, f);
    if (fs.existsSync(p)) {
      if (!o.force) throw new Error(`${p} exists (use --force)`);
      fs.rmSync(p);
    }
  }
  const rng = new Rng('make-store', o.seed);
  const C = o.collections;
  const spaces = ['l2', 'ip', 'cosine'];
  const colls = [];
  for (let c = 0; c < C + o.emptyCollections; c++) {
    const empty = c >= C;
    let name = C + o.emptyCollections === 1 ? 'langchain' : (empty ? `empty_collection_${c - C}` : `collection_${c}`);
    if (o.badName && c === 0) name = 'my collection';
    if (o.badName && c === 1) name = 'ab';
    let rows = 0;
    if (!empty) rows = o.totalRows !== null ? Math.floor(o.totalRows / C) + (c < o.totalRows % C ? 1 : 0) : o.rows;
    let meta = null;
    if (o.space) meta = { 'hnsw:space': o.space === 'mixed' ? spaces[c % 3] : o.space };
    let metaText = meta ? pyMeta(meta) : 'null';
    if (o.invalidMetadata && c === 0) {
      metaText = meta ? metaText.slice(0, -1) + ', "tags": ["demo", "invalid"], "owner": null}' : '{"tags": ["demo", "invalid"], "owner": null}';
    }
    colls.push({ c, uuid: rng.uuid4(), name, metaText, rows });
  }

  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  const S = o.seed, D = o.dim, B = o.batch, NC = Math.max(1, colls.length);
  await con.run(`create table collections (uuid VARCHAR, name VARCHAR, metadata VARCHAR)`);
  await con.run(`create table embeddings (collection_uuid VARCHAR, uuid VARCHAR, embedding DOUBLE[], document VARCHAR, id VARCHAR, metadata VARCHAR)`);
  for (const cl of colls) {
    await con.run(`insert into collections values ($1, $2, $3)`, [cl.uuid, cl.name, cl.metaText]);
  }
  await con.run(`create temp table coll_info (c INTEGER, cuuid VARCHAR, cname VARCHAR, nrows BIGINT)`);
  for (const cl of colls) await con.run(`insert into coll_info values ($1, $2, $3, $4)`, [cl.c, cl.uuid, cl.name, cl.rows]);

  // Random numbers from DuckDB's hash (deterministic for a DuckDB version). Each row gets a seed
  // rs = hash(S, c, k); value x of the row is hash(rs # x), whose 64-bit finaliser mixes every bit.
  // (Do not use hash(S, c, k, j) directly: DuckDB combines the argument hashes cheaply, so rows whose
  // combined prefix shares its high bits get nearly the same vector for all j.)
  await con.run(`create temp macro hx(rs, x) as hash(xor(rs, (x)::UBIGINT))`);
  await con.run(`create temp macro u01(rs, x) as (hx(rs, x) >> 11)::DOUBLE / 9007199254740992.0`);
  await con.run(`create temp macro ordof(c, k) as ((k // ${B}) * ${NC} + c) * ${B} + (k % ${B})`);
  await con.run(`create temp table keys as
      select c, cuuid, cname, k, ordof(c, k)::DOUBLE as ord,
             hash(${S}, c, k) as rs,
             (hx(hash(${S}, c, k), 1000003) % 4 = 0) as f32row
        from (select c, cuuid, cname, unnest(range(nrows)) as k from coll_info)
       order by ord`);
  const words = `[${WORDS.map(sqlString).join(', ')}]`;
  let embExpr;
  let from = 'keys';
  if (o.kind === 'random') {
    embExpr = `list_transform(range(${D}), j -> CASE WHEN f32row THEN (u01(rs, j) * 2 - 1)::FLOAT::DOUBLE ELSE u01(rs, j) * 2 - 1 END)`;
  } else {
    // v = W_c z + noise: z 16-dim (sum of 3 uniforms per coordinate), W_c a per-collection D x 16 matrix
    // held in a DuckDB variable (a constant: joining it in would copy it into every row)
    const L = 16;
    for (const cl of colls.slice(0, C)) {
      await con.run(`set variable W${cl.c} = (select list(list_transform(range(${L}), l -> (u01(hash(${S}, ${cl.c}, j, 'W'), l) * 2 - 1) / sqrt(${L})) order by j) from range(${D}) r(j))`);
    }
    const wSel = C === 1 ? `getvariable('W0')` : `CASE c ${colls.slice(0, C).map((cl) => `WHEN ${cl.c} THEN getvariable('W${cl.c}')`).join(' ')} END`;
    from = `(select *, list_transform(range(${L}), l -> u01(rs, 200000 + l) + u01(rs, 300000 + l) + u01(rs, 400000 + l) - 1.5) as z from keys)`;
    const v = `list_dot_product(z, wj) + 0.05 * (u01(rs, j) * 2 - 1)`;
    embExpr = `list_transform(${wSel}, (wj, j) -> CASE WHEN f32row THEN (${v})::FLOAT::DOUBLE ELSE ${v} END)`;
  }
  await con.run(`create temp macro uuidfmt(h1, h2) as printf('%08x-%04x-4%03x-%04x-%012x', h1 >> 32, (h1 >> 16) & 65535, h1 & 4095, ((h2 >> 48) & 16383) | 32768, h2 & 281474976710655)`);
  const uuidExpr = `uuidfmt(hx(rs, 1000001), hx(rs, 1000002))`;
  const docExpr = `'Record ' || k || ' of ' || cname || ': ' || array_to_string(list_transform(range(4 + (hx(rs, 1000004) % 12)::INTEGER), w -> ${words}[1 + (hx(rs, 2000000 + w) % ${WORDS.length})::INTEGER]), ' ') || '.'`;
  const metaExpr = `'{"source": "file-' || (k % 23) || '.txt", "chunk": ' || k || ', "score": ' || (round(u01(rs, 1000005) * 100, 3))::VARCHAR
      || ', "weight": ' || ((hx(rs, 1000006) % 64)::DOUBLE / 8)::VARCHAR || ', "reviewed": ' || CASE WHEN hx(rs, 1000007) % 2 = 0 THEN 'true' ELSE 'false' END
      || CASE WHEN k % 7 = 0 THEN ', "lang": "en"' ELSE '' END || '}'`;
  await con.run(`create temp table gen as
      select ord, cuuid as collection_uuid, ${uuidExpr} as uuid, ${embExpr} as embedding,
             ${docExpr} as document, 'id' || lpad(k::VARCHAR, 7, '0') as id, ${metaExpr} as metadata
        from ${from}`); // keys is sorted by ord and DuckDB preserves insertion order: no sort of the big rows

  // hand-made records, placed at seeded positions in each collection's file order
  const specials = [];
  const posAfter = (cl, k) => {
    const ord = ((Math.floor(k / B) * NC + cl.c) * B + (k % B));
    return ord + 0.5 + specials.length * 1e-7;
  };
  const place = (cl, recs) => {
    for (const r of recs) {
      const k = cl.rows > 0 ? rng.int(cl.rows) : 0;
      specials.push({ ...r, cuuid: cl.uuid, ord: cl.rows > 0 ? posAfter(cl, k) : (1e15 + specials.length) });
    }
  };
  for (const cl of colls.slice(0, C)) {
    const crng = new Rng('special', o.seed, cl.c);
    if (o.odd) place(cl, oddRecords(crng, cl.c, D));
    if (o.invalidMetadata) place(cl, invalidMetadataRecords(crng, cl.c, D));
    if (o.invalidRecords) place(cl, invalidRecords(crng, cl.c, D, o.invalidRecords));
  }
  if (o.duplicates > 0) {
    const withRows = colls.slice(0, C).filter((cl) => cl.rows > 0);
    if (withRows.length === 0) throw new Error('--duplicates needs rows');
    const drng = new Rng('dups', o.seed);
    let first = null;
    for (let n = 0; n < o.duplicates; n++) {
      let cl, k0, after;
      if (n === 2) { // the third duplicate repeats the first one's id again: three occurrences
        ({ cl, k0 } = first);
        after = first.after + drng.int(cl.rows - first.after);
      } else {
        cl = withRows[n % withRows.length];
        k0 = drng.int(Math.ceil(cl.rows / 2));
        after = k0 + drng.int(cl.rows - k0);
      }
      if (n === 0) first = { k0, after, cl };
      const id = 'id' + String(k0).padStart(7, '0');
      specials.push({
        id, cuuid: cl.uuid, ord: posAfter(cl, after), tag: 'duplicate',
        document: `DUPLICATE #${n} of ${id} (original at position ${k0})`,
        metadata: pyMeta({ duplicate: n, of: id, score: { __float: 1.0 } }),
        embedding: randomVector(drng, D, n % 2 === 0),
      });
    }
    // an id used by special records in two different collections (not a duplicate: ids are per collection)
    if (withRows.length >= 2) {
      for (const cl of withRows.slice(0, 2)) {
        specials.push({ id: 'shared-across-collections', cuuid: cl.uuid, ord: posAfter(cl, drng.int(cl.rows)), tag: 'shared-id',
          document: `shared id in ${cl.name}`, metadata: pyMeta({ collection: cl.name }), embedding: randomVector(drng, D, false) });
      }
    }
  }

  if (specials.length > 0) {
    await con.run(`create table special as select * from gen limit 0`);
    const app = await con.createAppender('special');
    for (const s of specials) {
      app.appendDouble(s.ord);
      if (s.cuuid === null) app.appendNull(); else app.appendVarchar(s.cuuid);
      app.appendVarchar(new Rng('uuid', o.seed, s.ord).uuid4());
      if (s.embedding === null) app.appendNull(); else app.appendList(listValue(s.embedding), LIST(DOUBLE));
      if (s.document === null) app.appendNull(); else app.appendVarchar(s.document);
      if (s.id === null) app.appendNull(); else app.appendVarchar(s.id);
      if (s.metadata === null) app.appendNull(); else app.appendVarchar(s.metadata);
      app.endRow();
    }
    app.closeSync();
    await con.run(`insert into embeddings select collection_uuid, uuid, embedding, document, id, metadata
                     from (select * from gen union all select * from special) order by ord`);
  } else {
    await con.run(`insert into embeddings select collection_uuid, uuid, embedding, document, id, metadata from gen`);
  }
  const tBuilt = Date.now();

  const copyOpts = ['FORMAT PARQUET', `COMPRESSION ${o.compression === 'lz4' ? 'lz4_raw' : o.compression}`];
  if (o.rowGroupSize) copyOpts.push(`ROW_GROUP_SIZE ${o.rowGroupSize}`);
  if (o.parquetVersion === 'v2') copyOpts.push('PARQUET_VERSION V2');
  if (o.dictionary === 'off') copyOpts.push('DICTIONARY_SIZE_LIMIT 0');
  for (const [table, file] of [['collections', COLLECTIONS_FILE], ['embeddings', EMBEDDINGS_FILE]]) {
    await con.run(`COPY (SELECT * FROM ${table}) TO ${sqlString(path.join(o.out, file))} (${copyOpts.join(', ')})`);
  }
  if (o.writer === 'parquet-wasm') await rewriteWithParquetWasm(o);
  const counts = (await con.runAndReadAll(`select (select count(*) from collections), (select count(*) from embeddings)`)).getRows()[0];
  return {
    out: o.out,
    collections: Number(counts[0]),
    rows: Number(counts[1]),
    specials: specials.length,
    buildMs: tBuilt - t0,
    writeMs: Date.now() - tBuilt,
  };
}

async function rewriteWithParquetWasm(o) {
  // the package's ./node build is CommonJS inside a "type": "module" package: use the ESM build
  const pw = await import('parquet-wasm/esm');
  const wasmPath = new URL('./node_modules/parquet-wasm/esm/parquet_wasm_bg.wasm', import.meta.url);
  pw.initSync({ module: fs.readFileSync(wasmPath) });
  const comp = { uncompressed: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', lz4: 'LZ4_RAW', brotli: 'BROTLI' }[o.compression];
  for (const file of [COLLECTIONS_FILE, EMBEDDINGS_FILE]) {
    const p = path.join(o.out, file);
    const table = pw.readParquet(new Uint8Array(fs.readFileSync(p)));
    let b = new pw.WriterPropertiesBuilder()
      .setWriterVersion(o.parquetVersion === 'v2' ? pw.WriterVersion.V2 : pw.WriterVersion.V1)
      .setCompression(pw.Compression[comp])
      .setDictionaryEnabled(o.dictionary === 'on');
    if (o.rowGroupSize) b = b.setMaxRowGroupSize(o.rowGroupSize);
    // arrow-rs checks the page size limit after each write batch: shrink the batch too
    if (o.pageSize) b = b.setDataPageSizeLimit(o.pageSize).setWriteBatchSize(Math.max(1, Math.min(1024, Math.floor(o.pageSize / 64))));
    const bytes = pw.writeParquet(table, b.build());
    fs.writeFileSync(p, bytes);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const r = await makeStore(o);
  console.log(`make-store: wrote ${r.out}: ${r.collections} collections, ${r.rows} records (${r.specials} hand-made), `
    + `build ${(r.buildMs / 1000).toFixed(1)} s, write ${(r.writeMs / 1000).toFixed(1)} s`);
}
