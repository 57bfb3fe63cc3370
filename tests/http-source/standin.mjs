// standin.mjs - a stand-in for the Chroma servers that cannot be installed here, as a SOURCE:
// chromadb 0.3.29 (ClickHouse backend), 0.4.24 (REST API v1) and 0.5.23 (v1 and v2 routes). It answers
// the read routes exactly as the exchanges recorded in ../shared/reference/chroma-0.3-rest-api.md and
// chroma-rest-api.md show: status codes, body shapes and key order, Python float text, and the quirks:
//   0.3.29  limit/offset paging skips and repeats rows (ClickHouse "ORDER BY collection_uuid LIMIT n
//           OFFSET m" on rows sharing that key; the recorded pages of rig_paging are reproduced exactly,
//           other collections get a deterministic scramble with the same effect); offset without limit
//           is a 500; get by ids returns every row with such an id (duplicates included), in storage
//           order, where "such an id" is what ClickHouse reads from the Python repr() 0.3.29 writes
//           into the query (ids-03.mjs: an id with a non-printable character other than tab/newline/
//           CR/ASCII controls is not found; one with ' but no " fails the whole get with a 500
//           Unknown identifier); "sort": COLUMN is ORDER BY COLUMN (uuid: the internal per-row uuid,
//           in ClickHouse's order; a total order, so limit/offset pages are stable with it);
//           include [] gives ids only; an unknown collection uuid gives 200 with empty lists
//   0.3.29, 0.4.24  a row holding NaN/Infinity (embedding or metadata) makes any get that includes that
//           field a 500 {"error":"ValueError('Out of range float values are not JSON compliant')"}
//   0.4.24, 0.5.23  metadata keys sorted; 0.5.23: a record stored without an embedding leaves the
//           embeddings list one shorter than ids
//   0.4.24  every /api/v2 route is 404; 0.5.23 serves v2 (tenants and databases in the path)
//
// usage: node tests/http-source/standin.mjs --version 0.3.29|0.4.24|0.5.23 (--rig | --store DIR)
//          [--nan COLL:ID]... [--no-embedding COLL:ID]... [--token T] [--log FILE] [--port P]
//          [--tenant T --database D]
//   --rig            the collections of the 0.3.29 recording (rig_cosine with a6 of dimension 2,
//                    rig_paging, rig_ip, rig_nometa, rig_edge with the NaN row e3)
//   --store DIR      a legacy store's collections and rows (DuckDB, file order = storage order; for
//                    0.4/0.5, which refuse a second copy of an id, only the first copy of each id)
//   --nan COLL:ID    adds row ID to collection COLL holding {"x": NaN, "y": Infinity} and a NaN in its
//                    embedding (what 0.3.29 and 0.4.24 store when sent that)
//   --no-embedding COLL:ID   adds row ID without an embedding (0.5.23)
//   --token T        Authorization: Bearer T needed for everything but heartbeat and version (401
//                    AuthorizationError on 0.3/0.4, 403 AuthError on 0.5)
//   --tenant/--database   where the collections are (0.4.24/0.5.23; default default_tenant/default_database)
//   --log FILE       appends "METHOD URL BODY" per request (never headers)
// Prints "http-source-standin: listening on http://127.0.0.1:PORT (version V)" when ready.

import fs from 'node:fs';
import http from 'node:http';
import * as TJ from '../node/lib/typed-json.mjs';
import { readLegacyStore } from '../node/lib/legacy-oracle.mjs';
import * as IDS from './ids-03.mjs';

const o = { version: null, rig: false, store: null, nan: [], noEmb: [], token: null, log: null, port: 0, tenant: 'default_tenant', database: 'default_database' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--version') o.version = v();
  else if (a === '--rig') o.rig = true;
  else if (a === '--store') o.store = v();
  else if (a === '--nan') o.nan.push(v());
  else if (a === '--no-embedding') o.noEmb.push(v());
  else if (a === '--token') o.token = v();
  else if (a === '--log') o.log = v();
  else if (a === '--port') o.port = Number(v());
  else if (a === '--tenant') o.tenant = v();
  else if (a === '--database') o.database = v();
  else { console.error(`standin: unknown argument ${a}`); process.exit(2); }
}
if (!['0.3.29', '0.4.24', '0.5.23'].includes(o.version) || (!o.rig && !o.store)) {
  console.error('usage: node tests/http-source/standin.mjs --version 0.3.29|0.4.24|0.5.23 (--rig | --store DIR) [options]');
  process.exit(2);
}
const V03 = o.version === '0.3.29', V04 = o.version === '0.4.24', V05 = o.version === '0.5.23';

// ---- data: collections {id, name, metaText|null, rows: [{id, emb: number[]|null, doc, metaText}]}

const collections = [];
function addCollection(name, id, metaText) {
  const c = { id, name, metaText, rows: [] };
  collections.push(c);
  return c;
}
let rowSeq = 0;
// uuid: the internal per-row uuid (legacy stores have it; made up for the others)
const row = (id, emb, doc = null, metaText = null, uuid = null) =>
  ({ id, emb, doc, metaText, uuid: uuid ?? `00000000-0000-4000-8000-${(++rowSeq).toString(16).padStart(12, '0')}` });

if (o.rig) {
  // The data of the 0.3.29 recording (the same uuids, ids, values and insertion order).
  const cos = addCollection('rig_cosine', '67b24618-6286-4867-9662-cb53da217609', '{"hnsw:space": "cosine", "owner": "rig", "n": 3, "ratio": 0.25}');
  cos.rows.push(
    row('a1', [-0.13, -0.02, 0.09, 0.2, 0.31, 0.42, -0.47, -0.36], 'first document', '{"s": "str", "i": 42, "f": 3.14, "b": true}'),
    row('a2', [1, 0, -2, 0.1, 1e-7, -0, 3.5, 123456.789], 'second: unicode é☃ "quoted"\ttab\nnewline', '{"s": "x\'y\\"z", "i": -7, "f": 1e-07, "b": false, "big": 9007199254740993}'),
    row('a3', [-0.39, -0.28, -0.17, -0.06, 0.05, 0.16, 0.27, 0.38], 'third document, no metadata', null),
    row('a4', [-0.02, 0.09, 0.2, 0.31, 0.42, -0.47, -0.36, -0.25], null, '{"kind": "no-document", "n": 4}'),
    row('a6', [0.1, 0.2], null, null));
  const pg = addCollection('rig_paging', 'b61e5289-2f8d-4d17-9168-6492775cbec6', '{"description": "seven records for paging", "version": 2}');
  const pv = [[0.2, 0.31, 0.42, -0.47, -0.36, -0.25, -0.14, -0.03], [-0.43, -0.32, -0.21, -0.1, 0.01, 0.12, 0.23, 0.34],
    [-0.06, 0.05, 0.16, 0.27, 0.38, 0.49, -0.4, -0.29], [0.31, 0.42, -0.47, -0.36, -0.25, -0.14, -0.03, 0.08],
    [-0.32, -0.21, -0.1, 0.01, 0.12, 0.23, 0.34, 0.45], [0.05, 0.16, 0.27, 0.38, 0.49, -0.4, -0.29, -0.18],
    [0.42, -0.47, -0.36, -0.25, -0.14, -0.03, 0.08, 0.19]];
  for (let k = 0; k < 7; k++) pg.rows.push(row(`p${k}`, pv[k], `paging doc ${k}`, `{"k": ${k}, "even": ${k % 2 === 0}, "name": "p${k}"}`));
  const ip = addCollection('rig_ip', 'e4265a75-906e-4638-88f9-e985679e0176', '{"hnsw:space": "ip"}');
  ip.rows.push(row('i1', [-0.1, 0.01, 0.12, 0.23, 0.34, 0.45, -0.44, -0.33], 'ip one', '{"x": 1}'),
    row('i2', [0.27, 0.38, 0.49, -0.4, -0.29, -0.18, -0.07, 0.04], 'ip two', '{"x": 2.5}'));
  addCollection('rig_nometa', 'eb230ee0-8c6b-472f-87e4-37d4bad2eb15', null);
  const edge = addCollection('rig_edge', '391872f4-3cb2-46f4-bd8b-bad82db7ca78', '{"note": "non-ASCII and NaN edge cases \\u00e9"}');
  edge.rows.push(row('clé-1 ☃', [-0.4, -0.29, -0.18, -0.07, 0.04, 0.15, 0.26, 0.37], 'non-ascii id', '{"name": "caf\\u00e9 \\u2603", "huge": 1e+300, "tiny": 5e-324, "neg": -0.5}'),
    row('e2', [-0.03, 0.08, 0.19, 0.3, 0.41, -0.48, -0.37, -0.26], 'plain', '{"x": 1}'),
    row('e3', [NaN, 0.45, -0.44, -0.33, -0.22, -0.11, 0, 0.11], null, '{"x": NaN, "y": Infinity}'));
} else {
  const store = await readLegacyStore(o.store);
  for (const c of store.collections) {
    const coll = addCollection(c.name, c.uuid, c.metadataRaw === 'null' ? null : c.metadataRaw);
    const seen = new Set();
    for (const r of store.records.get(c.uuid)) {
      if (!V03) { // 0.4+ ignore an add of an id they have: the first copy stays
        if (r.id === null || seen.has(r.id)) continue;
        seen.add(r.id);
      }
      coll.rows.push(row(r.id, r.embedding ? Array.from(r.embedding) : null, r.document, r.metadataRaw, r.uuid));
    }
  }
}
function byName(spec) {
  const k = spec.indexOf(':');
  const c = collections.find((x) => x.name === spec.slice(0, k));
  if (!c) { console.error(`standin: no collection ${spec.slice(0, k)}`); process.exit(2); }
  return [c, spec.slice(k + 1)];
}
for (const spec of o.nan) {
  const [c, id] = byName(spec);
  const dim = c.rows.find((r) => r.emb)?.emb.length ?? 3;
  const emb = Array.from({ length: dim }, (_, k) => (k === 0 ? NaN : 0.5));
  c.rows.push(row(id, emb, `nan row ${id}`, '{"x": NaN, "y": Infinity}'));
}
for (const spec of o.noEmb) {
  const [c, id] = byName(spec);
  c.rows.push(row(id, null, 'no embedding given', null));
}

// ---- answers

let nextSeq = 0;
const seq = new Map(); // collection id -> creation sequence (list order below)
for (const c of collections) seq.set(c.id, nextSeq++);

class NotJsonCompliant extends Error {}
const floatText = (x) => {
  if (!Number.isFinite(x)) throw new NotJsonCompliant();
  return TJ.pyFloatRepr(x);
};
// FastAPI's JSONResponse: json.dumps(ensure_ascii=False, allow_nan=False, separators=(",", ":")).
function compact(node, sortKeys) {
  switch (node.t) {
    case 'null': return 'null';
    case 'bool': return node.v ? 'true' : 'false';
    case 'int': return node.v.toString();
    case 'float': return floatText(node.v);
    case 'str': return JSON.stringify(node.v);
    case 'arr': return '[' + node.v.map((x) => compact(x, sortKeys)).join(',') + ']';
    case 'obj': {
      let ents = TJ.entries(node);
      if (sortKeys) ents = [...ents].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return '{' + ents.map(([k, v]) => JSON.stringify(k) + ':' + compact(v, sortKeys)).join(',') + '}';
    }
    default: throw new Error(`bad node ${node.t}`);
  }
}
function metaJson(text) {
  if (text === null) return 'null';
  const node = TJ.parse(text);
  if (!V03 && node.t === 'obj' && node.v.length === 0) return 'null';
  return compact(node, !V03);
}
const embJson = (e) => (e === null ? 'null' : '[' + e.map(floatText).join(',') + ']');

function collObj(c) {
  const meta = metaJson(c.metaText);
  if (V03) return `{"name":${JSON.stringify(c.name)},"id":"${c.id}","metadata":${meta}}`;
  if (V04) return `{"name":${JSON.stringify(c.name)},"id":"${c.id}","metadata":${meta},"tenant":${JSON.stringify(o.tenant)},"database":${JSON.stringify(o.database)}}`;
  return `{"id":"${c.id}","name":${JSON.stringify(c.name)},"configuration_json":{"hnsw_configuration":{"space":"l2","ef_construction":100,"ef_search":10,"num_threads":2,"M":16,"resize_factor":1.2,"batch_size":100,"sync_threshold":1000,"_type":"HNSWConfigurationInternal"},"_type":"CollectionConfigurationInternal"},"metadata":${meta},"dimension":null,"tenant":${JSON.stringify(o.tenant)},"database":${JSON.stringify(o.database)},"version":0,"log_position":0}`;
}

function send(res, status, text) {
  const h = { 'content-length': Buffer.byteLength(text), 'content-type': 'application/json' };
  if (V05) h['chroma-trace-id'] = '0';
  res.writeHead(status, { server: 'uvicorn', ...h });
  res.end(text);
}
const json = (res, status, v) => send(res, status, typeof v === 'string' ? v : JSON.stringify(v));

// The recorded 0.3.29 pages of rig_paging with limit 3 (ClickHouse returned these).
const RECORDED_PAGES = { '0': ['p0', 'p1', 'p2'], '3': ['p0', 'p2', 'p5'], '6': ['p6'], '9': [] };

function hash32(s) {
  let h = 2166136261;
  for (let k = 0; k < s.length; k++) { h ^= s.charCodeAt(k); h = Math.imul(h, 16777619) >>> 0; }
  return h;
}

// 0.3.29 on ClickHouse: LIMIT/OFFSET over rows that all share the sort key.
function clickhousePage(c, rows, limit, offset) {
  if (c.name === 'rig_paging' && limit === 3 && rows.length === 7 && String(offset) in RECORDED_PAGES) {
    const want = RECORDED_PAGES[String(offset)];
    return want.map((id) => rows.find((r) => r.id === id));
  }
  if (offset === 0) return rows.slice(0, limit);
  // Another read of the parts: a different order for each query, so pages overlap and leave gaps.
  const order = rows.map((r, k) => [hash32(`${offset}:${k}`), r]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
  return order.slice(offset, offset + limit);
}

function getAnswer(res, c, body) {
  const ids = TJ.get(body, 'ids'), inc = TJ.get(body, 'include');
  const limit = TJ.get(body, 'limit'), offset = TJ.get(body, 'offset');
  const include = inc && inc.t === 'arr' ? inc.v.map((x) => x.v) : ['metadatas', 'documents'];
  const allowed = V03 ? ['embeddings', 'documents', 'metadatas', 'distances'] : ['embeddings', 'documents', 'metadatas', 'distances', 'uris', 'data'];
  for (const x of include) {
    if (!allowed.includes(x)) return json(res, 422, { detail: [{ loc: ['body', 'include', 0], msg: 'value is not a valid enumeration member', type: 'type_error.enum' }] });
  }
  if (V03 && include.includes('distances')) {
    return json(res, 500, { error: "DatabaseError(':HTTPDriver for http://127.0.0.1:8123 returned response code 404)\\n Code: 47, e.displayText() = DB::Exception: Unknown identifier: distance, e.what() = DB::Exception\\n')" });
  }
  let rows = c ? c.rows : [];
  if (ids && ids.t === 'arr' && V03) {
    const inList = IDS.inListOf(ids.v.map((x) => x.v));
    if (inList.error !== undefined) return send(res, 500, IDS.unknownIdentifierError(inList.error));
    rows = rows.filter((r) => r.id !== null && inList.keys.has(IDS.storedKey(r.id)));
  } else if (ids && ids.t === 'arr') {
    const want = new Set(ids.v.map((x) => x.v));
    rows = rows.filter((r) => want.has(r.id)); // every row with such an id, storage order
  }
  const sort = TJ.get(body, 'sort');
  if (V03 && sort && sort.t === 'str') {
    const col = sort.v;
    if (col === 'uuid') rows = [...rows].sort((a, b) => IDS.uuidOrder(a.uuid, b.uuid));
    else if (col === 'id') rows = [...rows].sort((a, b) => (a.id === null) - (b.id === null) || Buffer.compare(Buffer.from(a.id ?? ''), Buffer.from(b.id ?? '')));
    else if (col !== 'collection_uuid') return send(res, 500, IDS.unknownIdentifierError(col));
  }
  if (V03) {
    if (offset && offset.t === 'int' && !(limit && limit.t === 'int')) {
      return json(res, 500, { error: `DatabaseError(':HTTPDriver for http://127.0.0.1:8123 returned response code 400)\\n Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position 115 (line 1, col 115): OFFSET ${offset.v}\\n FORMAT Native. Expected one of: AS, UNION ALL, Comma, Dot, Arrow, QuestionMark, token, OR, BETWEEN, IS, SETTINGS, FORMAT, INTO OUTF')` });
    }
    const off = offset && offset.t === 'int' ? Number(offset.v) : 0;
    if (limit && limit.t === 'int' && sort && sort.t === 'str' && sort.v !== 'collection_uuid') rows = rows.slice(off, off + Number(limit.v));
    else if (limit && limit.t === 'int') rows = clickhousePage(c, rows, Number(limit.v), off);
  } else {
    const off = offset && offset.t === 'int' ? Number(offset.v) : 0;
    rows = rows.slice(off);
    if (limit && limit.t === 'int') rows = rows.slice(0, Number(limit.v));
  }
  let embs, docs, metas;
  try {
    const has = (k) => include.includes(k);
    if (V05 && has('embeddings')) embs = '[' + rows.filter((r) => r.emb).map((r) => embJson(r.emb)).join(',') + ']';
    else embs = has('embeddings') ? '[' + rows.map((r) => embJson(r.emb)).join(',') + ']' : 'null';
    docs = has('documents') ? '[' + rows.map((r) => JSON.stringify(r.doc)).join(',') + ']' : 'null';
    metas = has('metadatas') ? '[' + rows.map((r) => metaJson(r.metaText)).join(',') + ']' : 'null';
  } catch (e) {
    if (e instanceof NotJsonCompliant) return json(res, 500, { error: "ValueError('Out of range float values are not JSON compliant')" });
    throw e;
  }
  const idsText = JSON.stringify(rows.map((r) => r.id));
  if (V03) {
    if (!c && rows.length === 0) return send(res, 200, '{"ids":[],"embeddings":null,"documents":[],"metadatas":[]}');
    return send(res, 200, `{"ids":${idsText},"embeddings":${embs},"documents":${docs},"metadatas":${metas}}`);
  }
  if (V04) return send(res, 200, `{"ids":${idsText},"embeddings":${embs},"metadatas":${metas},"documents":${docs},"uris":null,"data":null}`);
  const included = JSON.stringify(include.filter((x) => ['embeddings', 'documents', 'metadatas', 'uris'].includes(x)));
  return send(res, 200, `{"ids":${idsText},"embeddings":${embs},"documents":${docs},"uris":null,"data":null,"metadatas":${metas},"included":${included}}`);
}

function authorized(req) {
  if (!o.token) return true;
  const h = req.headers.authorization;
  return h === `Bearer ${o.token}` || (V04 && h === o.token);
}

function listCollections(res, url) {
  // no server lists in creation order: a fixed order by id
  let list = [...collections].sort((a, b) => (a.id < b.id ? -1 : 1));
  if (V03) list = collections; // 0.3.29 answered in insertion order (recorded)
  const lim = url.searchParams.get('limit'), off = url.searchParams.get('offset');
  if (!V03) {
    if (off !== null) list = list.slice(Number(off));
    if (lim !== null) list = list.slice(0, Number(lim));
  }
  return send(res, 200, '[' + list.map(collObj).join(',') + ']');
}

function placeOk(t, d) {
  return t === o.tenant && d === o.database;
}

async function handle(req, res, body) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (o.log) fs.appendFileSync(o.log, `${req.method} ${req.url} ${body.length > 2000 ? body.subarray(0, 2000).toString() + '...' : body.toString()}\n`);
  const v2 = p.startsWith('/api/v2');
  if (v2 && !V05) return json(res, 404, { detail: 'Not Found' });
  if (!v2 && !p.startsWith('/api/v1')) return json(res, 404, { detail: 'Not Found' });
  const api = v2 ? '/api/v2' : '/api/v1';
  const rest = p.slice(api.length);
  if (rest === '' || rest === '/' || rest === '/heartbeat') return send(res, 200, `{"nanosecond heartbeat":${BigInt(Date.now()) * 1000000n}}`);
  if (rest === '/version') return send(res, 200, JSON.stringify(o.version));
  if (!authorized(req)) return V05 ? json(res, 403, { error: 'AuthError', message: 'Forbidden' }) : json(res, 401, { error: 'AuthorizationError', message: 'Unauthorized' });
  let parsed = null;
  if (req.method === 'POST') {
    try { parsed = TJ.parse(body.length ? body.toString('utf8') : 'null'); } catch {
      return json(res, 422, { detail: [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }] });
    }
  }
  let m;
  let collPath = rest;
  if (v2) {
    if ((m = rest.match(/^\/tenants\/([^/]+)\/databases\/([^/]+)$/))) {
      const [t, d] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
      if (!placeOk(t, d)) return json(res, 404, { error: 'NotFoundError', message: `Database ${d} not found for tenant ${t}. Are you sure it exists?` });
      return json(res, 200, { id: '00000000-0000-0000-0000-000000000000', name: d, tenant: t });
    }
    if (rest.match(/^\/tenants\/([^/]+)\/databases$/)) return json(res, 405, { detail: 'Method Not Allowed' });
    if (!(m = rest.match(/^\/tenants\/([^/]+)\/databases\/([^/]+)(\/.*)$/))) return json(res, 404, { detail: 'Not Found' });
    if (!placeOk(decodeURIComponent(m[1]), decodeURIComponent(m[2]))) return json(res, 200, '[]');
    collPath = m[3];
    if (collPath === '/collections_count') return send(res, 200, String(collections.length));
  } else if (!V03) {
    if ((m = rest.match(/^\/databases\/([^/]+)$/))) {
      const d = decodeURIComponent(m[1]), t = url.searchParams.get('tenant') ?? 'default_tenant';
      if (!placeOk(t, d)) {
        return V04 ? json(res, 500, { error: `NotFoundError('Database ${d} not found for tenant ${t}')` })
          : json(res, 404, { error: 'NotFoundError', message: `Database ${d} not found for tenant ${t}. Are you sure it exists?` });
      }
      return json(res, 200, { id: '00000000-0000-0000-0000-000000000000', name: d, tenant: t });
    }
    if (rest === '/count_collections') {
      const t = url.searchParams.get('tenant') ?? 'default_tenant', d = url.searchParams.get('database') ?? 'default_database';
      return send(res, 200, String(placeOk(t, d) ? collections.length : 0));
    }
  }
  if (collPath === '/collections') {
    if (req.method !== 'GET') return json(res, 405, { detail: 'Method Not Allowed' });
    if (!v2 && !V03) {
      const t = url.searchParams.get('tenant') ?? 'default_tenant', d = url.searchParams.get('database') ?? 'default_database';
      if (!placeOk(t, d)) return send(res, 200, '[]');
    }
    return listCollections(res, url);
  }
  if ((m = collPath.match(/^\/collections\/([^/]+)\/(get|count)$/))) {
    const id = decodeURIComponent(m[1]);
    if (!/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(id)) return json(res, 400, { error: 'InvalidUUID', message: `Could not parse ${id} as a UUID` });
    const c = collections.find((x) => x.id === id.toLowerCase());
    if (m[2] === 'count') {
      if (req.method !== 'GET') return json(res, 405, { detail: 'Method Not Allowed' });
      if (!c && !V03) return json(res, 400, { error: 'InvalidCollection', message: `Collection ${id} does not exist.` });
      return send(res, 200, String(c ? c.rows.length : 0));
    }
    if (req.method !== 'POST') return json(res, 405, { detail: 'Method Not Allowed' });
    if (!c && !V03) return json(res, 400, { error: 'InvalidCollection', message: `Collection ${id} does not exist.` });
    return getAnswer(res, c, parsed);
  }
  if ((m = collPath.match(/^\/collections\/([^/]+)$/)) && req.method === 'GET') {
    const name = decodeURIComponent(m[1]);
    const c = collections.find((x) => x.name === name);
    if (!c) return V03 || V04 ? json(res, 500, { error: `ValueError('Collection ${name} does not exist')` }) : json(res, 400, { error: 'InvalidCollection', message: `Collection ${name} does not exist.` });
    return send(res, 200, collObj(c));
  }
  return json(res, 404, { detail: 'Not Found' });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    Promise.resolve(handle(req, res, Buffer.concat(chunks))).catch((e) => {
      if (!res.headersSent) json(res, 500, { error: `Exception('${String(e.message).replaceAll("'", '')}')` });
    });
  });
});
server.keepAliveTimeout = 5000;
server.listen(o.port, '127.0.0.1', () => {
  console.log(`http-source-standin: listening on http://127.0.0.1:${server.address().port} (version ${o.version})`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
