// selftest.mjs - checks the test rig itself, without chroma-migrate: the typed JSON parser, the DuckDB oracle
// against the fixtures' expected.json, make-store (determinism, every writer option reads back the same),
// compare-export (a faithful export passes, damaged ones fail), the policy rules, and check-migrated on a
// directory the real Chroma server filled itself (passes) and on tampered copies of it (fails).
//
// usage: node tests/node/selftest.mjs [--quick]   (--quick: no Chroma server steps)
// Prints `selftest: N passed, N failed`; exit 1 on a failure. Takes about a minute.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import * as TJ from './lib/typed-json.mjs';
import { readLegacyStore, summarize, sqlString } from './lib/legacy-oracle.mjs';
import { computeExpected } from './lib/expected.mjs';
import { defaultPolicies } from './lib/policy-args.mjs';
import { parquetInfo } from './parquet-info.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE, '../../../shared/fixtures/legacy');
const quick = process.argv.includes('--quick');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-selftest-'));
let passed = 0, failed = 0;
const check = (ok, what, detail = '') => {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}${detail ? `\n     ${String(detail).split('\n').join('\n     ')}` : ''}`); }
  return ok;
};
const node = (args, opts = {}) => spawnSync(process.execPath, args, { cwd: HERE, encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
const lastLine = (r) => (r.stdout || '').trim().split('\n').pop();

// ------------------------------------------------------------------ typed-json
{
  const n = TJ.parse('{"i": 1, "f": 1.0, "e": 1e-07, "big": 9223372036854775807, "huge": 18446744073709551616, "nan": NaN, "inf": -Infinity, "nz": -0.0, "s": "a\\u0000\\ud83d\\ude00", "b": true, "n": null, "l": [1, 2.5], "o": {}}');
  const t = (k) => TJ.get(n, k);
  check(t('i').t === 'int' && t('i').v === 1n && t('f').t === 'float' && t('f').v === 1, 'typed-json: 1 is int, 1.0 is float');
  check(t('big').v === 9223372036854775807n && t('huge').v === 18446744073709551616n, 'typed-json: big ints exact');
  check(Number.isNaN(t('nan').v) && t('inf').v === -Infinity && Object.is(t('nz').v, -0), 'typed-json: NaN, -Infinity, -0.0');
  check(t('s').v === 'a\u0000\u{1F600}', 'typed-json: \\u escapes and surrogate pairs');
  check(TJ.pyDumps(n) === '{"i": 1, "f": 1.0, "e": 1e-07, "big": 9223372036854775807, "huge": 18446744073709551616, "nan": NaN, "inf": -Infinity, "nz": -0.0, "s": "a\\u0000\\ud83d\\ude00", "b": true, "n": null, "l": [1, 2.5], "o": {}}', 'typed-json: pyDumps gives Python json.dumps text');
  const reprs = [[1e16, '1e+16'], [1e15, '1000000000000000.0'], [0.0001, '0.0001'], [0.00001, '1e-05'], [1 / 3, '0.3333333333333333'], [5e-324, '5e-324'], [123456789012345678, '1.2345678901234568e+17']];
  check(reprs.every(([x, s]) => TJ.pyFloatRepr(x) === s), 'typed-json: Python float repr', reprs.map(([x]) => TJ.pyFloatRepr(x)).join(' '));
  let rejected = 0;
  for (const bad of ['{', '[1,]', '01', '1.', '"\\x"', '{"a" 1}', 'nul', '1 2', '']) { try { TJ.parse(bad); } catch { rejected++; } }
  check(rejected === 9, 'typed-json: malformed input rejected');
  check(TJ.diff(TJ.parse('{"a":1,"b":2}'), TJ.parse('{"b":2,"a":1}'), { keyOrder: true }) !== null && TJ.diff(TJ.parse('{"a":1,"b":2}'), TJ.parse('{"b":2,"a":1}')) === null, 'typed-json: key order only with keyOrder');
}

// ------------------------------------------------------------------ oracle vs fixtures
if (fs.existsSync(FIXTURES)) {
  for (const d of fs.readdirSync(FIXTURES).sort()) {
    const p = path.join(FIXTURES, d);
    if (!fs.statSync(p).isDirectory()) continue;
    const got = summarize(await readLegacyStore(p));
    const exp = JSON.parse(fs.readFileSync(path.join(p, 'expected.json'), 'utf8'));
    const srt = (o) => JSON.stringify({ ...o, collections: [...o.collections].sort((a, b) => (a.name < b.name ? -1 : 1)) });
    check(srt(got) === srt(exp), `oracle reads ${d} as its expected.json says`, `${srt(got)}\n${srt(exp)}`);
  }
} else console.log(`note: no fixtures at ${FIXTURES}`);

// ------------------------------------------------------------------ make-store
const base = path.join(tmp, 'base');
const opts = ['--collections', '3', '--rows', '300', '--dim', '12', '--odd', '--duplicates', '4', '--invalid-metadata', '--invalid-records', '8', '--space', 'mixed', '--empty-collections', '1', '--seed', '5', '--batch', '50'];
{
  let r = node(['make-store.mjs', base, ...opts]);
  check(r.status === 0, 'make-store: writes a store', r.stderr);
  r = node(['make-store.mjs', path.join(tmp, 'base2'), ...opts]);
  const same = ['chroma-collections.parquet', 'chroma-embeddings.parquet'].every((f) => fs.readFileSync(path.join(base, f)).equals(fs.readFileSync(path.join(tmp, 'base2', f))));
  check(same, 'make-store: deterministic for a seed');
  const ref = await readLegacyStore(base);
  const flat = (s) => s.collections.flatMap((c) => s.records.get(c.uuid).map((r) => [c.name, r.id, r.uuid, r.embedding && Array.from(r.embedding, (x) => (Object.is(x, -0) ? '-0' : String(x))).join(','), r.embeddingNulls, r.document, r.metadataRaw]));
  const refFlat = JSON.stringify(flat(ref));
  const variants = {
    zstd: ['--compression', 'zstd'], gzip: ['--compression', 'gzip'], lz4: ['--compression', 'lz4'], brotli: ['--compression', 'brotli'], none: ['--compression', 'uncompressed'],
    rowgroups: ['--row-group-size', '2048'], v2: ['--parquet-version', 'v2'], nodict: ['--dictionary', 'off'],
    wasm: ['--writer', 'parquet-wasm', '--parquet-version', 'v2', '--page-size', '2048', '--row-group-size', '400'],
  };
  for (const [name, extra] of Object.entries(variants)) {
    const d = path.join(tmp, `var-${name}`);
    r = node(['make-store.mjs', d, ...opts, ...extra]);
    if (!check(r.status === 0, `make-store ${extra.join(' ')}: runs`, r.stderr)) continue;
    check(JSON.stringify(flat(await readLegacyStore(d))) === refFlat, `make-store ${extra.join(' ')}: same content through DuckDB`);
  }
  const info = await parquetInfo(path.join(tmp, 'var-wasm', 'chroma-embeddings.parquet'));
  const types = new Set(info.chunks.flatMap((c) => c.pages.map((p) => p.type)));
  check(types.has('DATA_PAGE_V2') && !types.has('DATA_PAGE') && info.num_row_groups > 1 && info.chunks.some((c) => c.pages.length > 3),
    'make-store --writer parquet-wasm --parquet-version v2: DATA_PAGE_V2, many row groups and pages', JSON.stringify([...types]));
  const codecs = (await parquetInfo(path.join(tmp, 'var-lz4', 'chroma-embeddings.parquet'))).chunks.map((c) => c.codec);
  check(codecs.every((c) => c === 'LZ4_RAW'), 'make-store --compression lz4: LZ4_RAW chunks', codecs.join(','));
  const c0 = ref.collections[0];
  const recs = ref.records.get(c0.uuid);
  const byId = (id) => recs.find((x) => x.id === id);
  check(byId('odd-nul').document === 'before\u0000after\u0000\u0000end' && byId('odd-null-doc').document === null && byId('odd-meta-null').metadataRaw === null && byId('odd-meta-empty').metadataRaw === '{}',
    'make-store --odd: NUL bytes, NULL document, NULL and {} metadata');
  const types2 = TJ.parse(byId('odd-meta-types').metadataRaw);
  check(TJ.get(types2, 'one_float').t === 'float' && TJ.get(TJ.parse(byId('odd-meta-ints').metadataRaw), 'two53_plus_1').v === 2n ** 53n + 1n, 'make-store --odd: 1.0 stays a float, 2^53+1 exact');
  check(byId('odd-meta-escapes').metadataRaw.includes('\\ud83d\\ude00') && !/[^\x20-\x7e]/.test(byId('odd-meta-escapes').metadataRaw), 'make-store --odd: metadata is ASCII with surrogate-pair escapes');
  const ids = recs.map((x) => x.id);
  check(ids.length - new Set(ids).size >= 2, 'make-store --duplicates: repeated ids in a collection');
  // embeddings of different records are not alike (a weak hash once made them nearly equal)
  const gen = recs.filter((x) => /^id\d+$/.test(x.id)).slice(0, 200);
  let closest = Infinity;
  for (let i = 0; i < gen.length; i++) for (let j = i + 1; j < gen.length; j++) {
    let s = 0;
    for (let k = 0; k < 12; k++) s += (gen[i].embedding[k] - gen[j].embedding[k]) ** 2;
    closest = Math.min(closest, s);
  }
  check(closest > 1e-3, 'make-store: generated vectors are distinct', `closest pair squared distance ${closest}`);
}

// ------------------------------------------------------------------ compare-export
{
  const refJsonl = path.join(tmp, 'ref.jsonl');
  fs.writeFileSync(refJsonl, node(['compare-export.mjs', '--write-reference', base]).stdout);
  let r = node(['compare-export.mjs', base, refJsonl]);
  check(r.status === 0 && /^compare-export: \d+ passed, 0 failed$/.test(lastLine(r)), 'compare-export: the reference export passes', r.stdout.slice(-500));
  const lines = fs.readFileSync(refJsonl, 'utf8').split('\n').filter(Boolean);
  const damage = {
    'float 1.0 written as 1': (ls) => { const i = ls.findIndex((l) => l.includes('"one_float": 1.0')); ls[i] = ls[i].replace('"one_float": 1.0', '"one_float": 1'); },
    'NUL byte lost': (ls) => { const i = ls.findIndex((l) => l.includes('before\\u0000after')); ls[i] = ls[i].replace('before\\u0000after', 'beforeafter'); },
    'big int rounded': (ls) => { const i = ls.findIndex((l) => l.includes('9007199254740993')); ls[i] = ls[i].replace('9007199254740993', '9007199254740992'); },
    'embedding rounded to float32': (ls) => {
      const i = ls.findIndex((l) => l.includes('"id":"id0000003"'));
      const m = ls[i].match(/"embedding":\[([^,\]]+)/);
      ls[i] = ls[i].replace(`"embedding":[${m[1]}`, `"embedding":[${Math.fround(Number(m[1])) === Number(m[1]) ? Number(m[1]) + 1e-9 : Math.fround(Number(m[1]))}`);
    },
    'metadata key order changed': (ls) => { const i = ls.findIndex((l) => l.includes('"metadata":{"source": ')); ls[i] = ls[i].replace(/"metadata":\{"source": ("[^"]*"), "chunk": (\d+)/, '"metadata":{"chunk": $2, "source": $1'); },
    'record missing': (ls) => { ls.splice(ls.findIndex((l) => l.includes('"id":"id0000100"')), 1); },
    'records swapped': (ls) => { const a = ls.findIndex((l) => l.includes('"id":"id0000010"')); const b = ls.findIndex((l) => l.includes('"id":"id0000011"')); [ls[a], ls[b]] = [ls[b], ls[a]]; },
    '-0.0 written as 0': (ls) => { const i = ls.findIndex((l) => l.includes('"id":"odd-emb-small"')); ls[i] = ls[i].replace('"embedding":[-0.0', '"embedding":[0'); },
    'NaN metadata written as null': (ls) => { const i = ls.findIndex((l) => l.includes('"nan": NaN')); ls[i] = ls[i].replace('"nan": NaN', '"nan": null'); },
  };
  for (const [what, fn] of Object.entries(damage)) {
    const ls = [...lines];
    fn(ls);
    const f = path.join(tmp, 'damaged.jsonl');
    fs.writeFileSync(f, ls.join('\n') + '\n');
    r = node(['compare-export.mjs', base, f]);
    check(r.status === 1 && /compare-export: \d+ passed, [1-9]\d* failed/.test(lastLine(r)), `compare-export: fails when ${what}`, r.stdout.slice(-400));
  }
  const grouped = [...lines].sort((a, b) => (JSON.parse(a.replace(/NaN|-?Infinity/g, '0')).collection < JSON.parse(b.replace(/NaN|-?Infinity/g, '0')).collection ? -1 : 1));
  fs.writeFileSync(path.join(tmp, 'grouped.jsonl'), grouped.join('\n') + '\n');
  r = node(['compare-export.mjs', base, path.join(tmp, 'grouped.jsonl')]);
  check(r.status === 0, 'compare-export: collections grouped instead of interleaved still pass', r.stdout.slice(-300));
}

// ------------------------------------------------------------------ policy rules
{
  const d = path.join(tmp, 'policy');
  fs.mkdirSync(d);
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  await con.run('create table collections (uuid VARCHAR, name VARCHAR, metadata VARCHAR)');
  await con.run('create table embeddings (collection_uuid VARCHAR, uuid VARCHAR, embedding DOUBLE[], document VARCHAR, id VARCHAR, metadata VARCHAR)');
  await con.run(`insert into collections values ('c1', 'pol', '{"hnsw:space": "ip", "bad": [1]}'), ('c2', 'my docs', 'null')`);
  const rows = [
    ['a', [1, 2, 3], 'a first', '{"k": 1}'], ['b', null, 'b first, no embedding', null], ['b', [4, 5, 6], 'b second', null],
    ['c', [1, 2], 'c wrong dim', null], ['a', [7, 8, 9], 'a second', '{"k": 2.0}'], [null, [1, 1, 1], 'no id', null],
    ['d', [1e39, 0, 0], 'beyond float32', null], ['e', [0.5, 0.5, 0.5], 'e', '{"x": null, "y": "ok"}'], ['f', [1, 0, 0], 'f', '{"only": NaN}'],
  ];
  for (const [id, e, doc, md] of rows) {
    await con.run(`insert into embeddings values ('c1', 'u', ${e ? `[${e.map((x) => `CAST('${x}' AS DOUBLE)`).join(',')}]::DOUBLE[]` : 'NULL'}, ${sqlString(doc)}, ${id === null ? 'NULL' : sqlString(id)}, ${md === null ? 'NULL' : sqlString(md)})`);
  }
  for (const t of ['collections', 'embeddings']) await con.run(`COPY (SELECT * FROM ${t}) TO ${sqlString(path.join(d, `chroma-${t}.parquet`))} (FORMAT PARQUET)`);
  const store = await readLegacyStore(d);
  const pol = (x) => computeExpected(store, { ...defaultPolicies(), ...x });
  let e = pol({});
  const c = e.collections[0];
  check(e.problems.length === 4, 'policies: default reports invalid metadata (collection and records), invalid records, invalid name', e.problems.join('\n'));
  check(c.dimension === 3 && c.space === 'ip', 'policies: majority dimension, hnsw:space');
  check(c.byId.get('a').document === 'a first' && !c.byId.has('b') && !c.byId.has('c') && !c.byId.has('d'), "policies: first copy wins among all copies ('b' first copy has no embedding: id lost)");
  e = pol({ duplicates: 'last', skipInvalidRecords: true, invalidMetadata: 'drop', rename: new Map([['my docs', 'my-docs']]) });
  const c2 = e.collections[0];
  check(e.problems.length === 0 && c2.byId.get('a').document === 'a second' && TJ.get(c2.byId.get('a').metadata, 'k').t === 'float' && c2.byId.get('b').document === 'b second', 'policies: --duplicates last', e.problems.join('\n'));
  check(TJ.pyDumps(c2.byId.get('e').metadata) === '{"y": "ok"}' && c2.byId.get('f').metadata === null && TJ.pyDumps(c2.metadata) === '{"hnsw:space": "ip"}', 'policies: --invalid-metadata drop (key removed; empty -> no metadata)');
  e = pol({ invalidMetadata: 'stringify', skipInvalidRecords: true, dedupScope: 'valid', rename: new Map([['my docs', 'my-docs']]) });
  const c3 = e.collections[0];
  check(TJ.pyDumps(c3.byId.get('e').metadata) === '{"x": "null", "y": "ok"}' && TJ.pyDumps(c3.byId.get('f').metadata) === '{"only": "NaN"}' && TJ.get(c3.metadata, 'bad').v === '[1]', 'policies: --invalid-metadata stringify (Python json.dumps text)');
  check(c3.byId.get('b')?.document === 'b second', "policies: --dedup-scope valid picks among writable copies");
  check(c3.skipped.map((s) => s.reason).join('|').includes('float32') && e.collections[1].name === 'my-docs', 'policies: value beyond float32 skipped; rename');
}

// ------------------------------------------------------------------ real Chroma: fill, check, tamper
if (!quick) {
  const out = path.join(tmp, 'filled');
  const pol = ['--skip-invalid-records', '--invalid-metadata', 'stringify', '--duplicates', 'last'];
  let r = node(['fill-chroma.mjs', '--store', base, '--dir', out, ...pol]);
  if (check(r.status === 0, 'fill-chroma: the real server wrote the store', r.stderr || r.stdout)) {
    r = node(['check-migrated.mjs', '--store', base, '--dir', out, ...pol]);
    check(r.status === 0 && /check-migrated: [1-9]\d* passed, 0 failed/.test(lastLine(r)), `check-migrated passes on Chroma's own directory (${lastLine(r)})`, r.stdout.slice(-1500));
    r = node(['check-migrated.mjs', '--store', base, '--dir', out, '--skip-invalid-records', '--invalid-metadata', 'stringify', '--no-writes']);
    check(r.status === 1 && /FAIL .*id "id\d+" document: expected .*got "DUPLICATE/.test(r.stdout), 'check-migrated fails with the other duplicate policy', r.stdout.slice(-800));
    const tampers = {
      'a document changed': `update embedding_metadata set string_value = 'tampered' where key = 'chroma:document' and id = (select min(id) from embeddings)`,
      'a float 1.0 stored as int 1': `update embedding_metadata set int_value = 1, float_value = NULL where key = 'one_float'`,
      'a metadata key removed': `delete from embedding_metadata where key = 'reviewed' and id = (select min(id) from embeddings)`,
      'collection metadata changed': `update collection_metadata set str_value = 'l2' where key = 'hnsw:space' and str_value = 'ip'`,
      'a record deleted': `delete from embedding_metadata where id = (select max(id) from embeddings); delete from embeddings where id = (select max(id) from embeddings)`,
    };
    for (const [what, sql] of Object.entries(tampers)) {
      const t = path.join(tmp, 'tampered');
      fs.rmSync(t, { recursive: true, force: true });
      fs.cpSync(out, t, { recursive: true });
      const s = spawnSync('sqlite3', [path.join(t, 'chroma.sqlite3'), sql], { encoding: 'utf8' });
      if (!check(s.status === 0, `sqlite3: ${what}`, s.stderr)) continue;
      r = node(['check-migrated.mjs', '--store', base, '--dir', t, ...pol, '--no-writes', '--max-report', '3']);
      check(r.status === 1 && /check-migrated: \d+ passed, [1-9]\d* failed/.test(lastLine(r)), `check-migrated fails when ${what}: ${(r.stdout.match(/^FAIL .*/m) || ['?'])[0].slice(0, 160)}`, r.stdout.slice(-800));
    }
  }
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`selftest: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
