// v1-standin.mjs - a stand-in for a Chroma server that speaks only the v1 REST API (chromadb 0.4.x),
// answering exactly as the exchanges recorded from a real chromadb 0.4.24 server in
// ../shared/reference/chroma-rest-api.md (status codes, bodies, quirks), so the v1 code paths of the
// HTTP target can be tested here, where no 0.4 server can be installed.
//
// usage: node tests/http/v1-standin.mjs [--port P] [--version 0.4.24] [--max-batch 41666]
//          [--token T [--auth-header authorization|x-chroma-token]] [--fail-every N] [--drop-every N]
//          [--log FILE]
//   --version V     what /api/v1/version answers; before 0.4.15 there are no tenants or databases
//                   (their routes are 404) and tenant/database query parameters are ignored
//   --token T       token auth as 0.4.24 does it: everything but /api/v1, heartbeat and version needs the
//                   token (Authorization: "Bearer T" or the bare token; or X-Chroma-Token), else 401
//                   {"error":"AuthorizationError","message":"Unauthorized"}
//   --fail-every N  every Nth request to a record route (add/upsert/get/count) answers 503 first
//   --drop-every N  every Nth request to a record route gets its connection closed without an answer
//   --log FILE      appends "METHOD URL" per request (never headers)
// Prints "v1-standin: listening on http://127.0.0.1:PORT" when ready. GET /__dump returns the whole state
// (metadata as Python json.dumps text, to keep int/float types) for tests/http/check-standin.mjs.

import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import * as TJ from '../node/lib/typed-json.mjs';

const o = { port: 0, version: '0.4.24', maxBatch: 41666, token: null, authHeader: 'authorization', failEvery: 0, dropEvery: 0, log: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--port') o.port = Number(v());
  else if (a === '--version') o.version = v();
  else if (a === '--max-batch') o.maxBatch = Number(v());
  else if (a === '--token') o.token = v();
  else if (a === '--auth-header') o.authHeader = v().toLowerCase();
  else if (a === '--fail-every') o.failEvery = Number(v());
  else if (a === '--drop-every') o.dropEvery = Number(v());
  else if (a === '--log') o.log = v();
  else { console.error(`v1-standin: unknown argument ${a}`); process.exit(2); }
}
const [maj, min, pat] = o.version.split('.').map(Number);
const hasTenants = maj > 0 || min > 4 || (min === 4 && pat >= 15);

const tenants = new Map([['default_tenant', new Map([['default_database', '00000000-0000-0000-0000-000000000000']])]]);
const collections = new Map(); // id -> {id, name, metadata (typed|null), tenant, database, dim, records: Map}
let recordRequests = 0;

const NAME_RULE = 'Expected collection name that (1) contains 3-63 characters, (2) starts and ends with an alphanumeric character, (3) otherwise contains only alphanumeric characters, underscores or hyphens (-), (4) contains no two consecutive periods (..) and (5) is not a valid IPv4 address, got ';
function nameOk(n) {
  return typeof n === 'string' && n.length >= 3 && n.length <= 63 && /^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$/.test(n)
    && !n.includes('..') && !/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(n);
}
const pyRepr = (s) => `'${String(s).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

function send(res, status, bodyText) {
  res.writeHead(status, { server: 'uvicorn', 'content-length': Buffer.byteLength(bodyText), 'content-type': 'application/json' });
  res.end(bodyText);
}
const json = (res, status, value) => send(res, status, typeof value === 'string' ? value : JSON.stringify(value));
const notFound = (res) => json(res, 404, { detail: 'Not Found' });
const pyError = (res, text) => json(res, 500, { error: text });

function collObj(c) {
  return `{"name":${JSON.stringify(c.name)},"id":"${c.id}","metadata":${c.metadata ? sortedDumps(c.metadata) : 'null'},"tenant":${JSON.stringify(c.tenant)},"database":${JSON.stringify(c.database)}}`;
}
// 0.4.24 answers metadata with sorted keys, compact separators (FastAPI's JSON encoder).
function sortedDumps(node) {
  const ents = TJ.entries(node).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return '{' + ents.map(([k, v]) => JSON.stringify(k) + ':' + compact(v)).join(',') + '}';
}
function compact(v) {
  if (v.t === 'obj') return sortedDumps(v);
  if (v.t === 'arr') return '[' + v.v.map(compact).join(',') + ']';
  return TJ.pyDumps(v);
}

function metadataProblem(m) {
  if (!m || m.t === 'null') return null;
  if (m.t !== 'obj') return `Expected metadata to be a dict, got ${TJ.pyDumps(m)}`;
  if (m.v.length === 0) return 'Expected metadata to be a non-empty dict, got {}';
  for (const [, v] of TJ.entries(m)) {
    if (!['str', 'int', 'float', 'bool'].includes(v.t)) {
      return `Expected metadata value to be a str, int, float or bool, got ${TJ.pyDumps(v)} which is a <class '${v.t === 'obj' ? 'dict' : v.t === 'arr' ? 'list' : 'NoneType'}'>`;
    }
  }
  return null;
}

function tenantDb(url) {
  if (!hasTenants) return ['default_tenant', 'default_database'];
  return [url.searchParams.get('tenant') ?? 'default_tenant', url.searchParams.get('database') ?? 'default_database'];
}

function authorized(req) {
  if (!o.token) return true;
  const h = req.headers[o.authHeader === 'authorization' ? 'authorization' : 'x-chroma-token'];
  if (typeof h !== 'string') return false;
  if (o.authHeader === 'authorization') return h === o.token || h === `Bearer ${o.token}`;
  return h === o.token;
}

function mergeMeta(old, neu) {
  if (!neu || neu.t === 'null') return old;
  if (!old) return neu;
  const m = new Map(TJ.entries(old));
  for (const [k, v] of TJ.entries(neu)) m.set(k, v);
  return { t: 'obj', v: [...m.entries()] };
}

function recordOp(res, c, op, body) {
  const ids = TJ.get(body, 'ids');
  if (!ids || ids.t !== 'arr') return json(res, 422, { detail: [{ loc: ['body', 'ids'], msg: 'value is not a valid list', type: 'type_error.list' }] });
  const embs = TJ.get(body, 'embeddings'), docs = TJ.get(body, 'documents'), metas = TJ.get(body, 'metadatas');
  const n = ids.v.length;
  if (n > o.maxBatch) return pyError(res, `ValueError('Batch size ${n} exceeds maximum batch size ${o.maxBatch}')`);
  const col = (arr, k) => (arr && arr.t === 'arr' ? arr.v[k] : undefined);
  for (const arr of [embs, docs, metas]) if (arr && arr.t === 'arr' && arr.v.length < n) return pyError(res, "IndexError('list index out of range')");
  const rows = [];
  for (let k = 0; k < n; k++) {
    const e = col(embs, k);
    if (e && e.t === 'str') return pyError(res, 'TypeError("cannot use a str to initialize an array with typecode \'f\'")');
    const vec = e && e.t === 'arr' ? e.v.map((x) => Number(x.v)) : null;
    if (vec && c.dim !== null && vec.length !== c.dim) return json(res, 500, { detail: `Embedding dimension ${vec.length} does not match collection dimensionality ${c.dim}` });
    const d = col(docs, k), m = col(metas, k);
    rows.push({ id: ids.v[k].t === 'str' ? ids.v[k].v : TJ.pyDumps(ids.v[k]), embedding: vec, document: d && d.t === 'str' ? d.v : null, metadata: m && m.t === 'obj' ? m : null });
  }
  for (const r of rows) {
    if (r.embedding && c.dim === null) c.dim = r.embedding.length;
    const old = c.records.get(r.id);
    if (op === 'add') {
      if (old) continue; // an existing id is silently ignored
      c.records.set(r.id, r);
    } else if (old) {
      old.embedding = r.embedding ?? old.embedding;
      old.document = r.document ?? old.document;
      old.metadata = mergeMeta(old.metadata, r.metadata);
    } else {
      c.records.set(r.id, r);
    }
  }
  return op === 'add' ? send(res, 201, 'true') : send(res, 200, 'null');
}

function recordGet(res, c, body) {
  const ids = TJ.get(body, 'ids');
  const inc = TJ.get(body, 'include');
  const include = inc && inc.t === 'arr' ? inc.v.map((x) => x.v) : ['metadatas', 'documents'];
  for (const x of include) if (!['documents', 'embeddings', 'metadatas', 'distances', 'uris', 'data'].includes(x)) return json(res, 422, { detail: [{ loc: ['body', 'include', 0], msg: `unexpected value; permitted: 'documents'` }] });
  let recs = [...c.records.values()];
  if (ids && ids.t === 'arr') {
    const want = new Set(ids.v.map((x) => x.v));
    recs = recs.filter((r) => want.has(r.id));
  }
  const off = TJ.get(body, 'offset'), lim = TJ.get(body, 'limit');
  if (off && off.t === 'int') recs = recs.slice(Number(off.v));
  if (lim && lim.t === 'int') recs = recs.slice(0, Number(lim.v));
  const part = (k, f) => (include.includes(k) ? '[' + recs.map(f).join(',') + ']' : 'null');
  const text = `{"ids":${JSON.stringify(recs.map((r) => r.id))},"embeddings":${part('embeddings', (r) => (r.embedding ? '[' + r.embedding.map((x) => TJ.pyFloatRepr(x)).join(',') + ']' : 'null'))},`
    + `"metadatas":${part('metadatas', (r) => (r.metadata ? sortedDumps(r.metadata) : 'null'))},"documents":${part('documents', (r) => JSON.stringify(r.document))},"uris":${include.includes('uris') ? JSON.stringify(recs.map(() => null)) : 'null'},"data":null}`;
  return send(res, 200, text);
}

async function handle(req, res, body) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (o.log) fs.appendFileSync(o.log, `${req.method} ${req.url}\n`);
  if (p === '/__dump') {
    const out = [...collections.values()].map((c) => ({
      id: c.id, name: c.name, tenant: c.tenant, database: c.database, dimension: c.dim,
      metadata: c.metadata ? TJ.pyDumps(c.metadata) : null,
      records: [...c.records.values()].map((r) => ({ id: r.id, embedding: r.embedding, document: r.document, metadata: r.metadata ? TJ.pyDumps(r.metadata) : null })),
    }));
    return json(res, 200, { collections: out });
  }
  if (!p.startsWith('/api/v1')) return notFound(res);
  if (p === '/api/v1' || p === '/api/v1/' || p === '/api/v1/heartbeat' || p === '/api/v1/heartbeat/') {
    return send(res, 200, `{"nanosecond heartbeat":${BigInt(Date.now()) * 1000000n}}`);
  }
  if (p === '/api/v1/version') return json(res, 200, JSON.stringify(o.version));
  if (!authorized(req)) return json(res, 401, { error: 'AuthorizationError', message: 'Unauthorized' });
  if (p === '/api/v1/pre-flight-checks') return json(res, 200, { max_batch_size: o.maxBatch });

  let parsed = null;
  if (req.method === 'POST' || req.method === 'PUT') {
    try { parsed = TJ.parse(body.length ? body.toString('utf8') : 'null'); } catch (e) {
      return json(res, 422, { detail: [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }] });
    }
  }
  let m;
  if (hasTenants && p === '/api/v1/tenants' && req.method === 'POST') {
    const name = TJ.get(parsed, 'name')?.v;
    if (tenants.has(name)) return pyError(res, `UniqueConstraintError('Tenant ${name} already exists')`);
    tenants.set(name, new Map());
    return send(res, 200, 'null');
  }
  if (hasTenants && (m = p.match(/^\/api\/v1\/tenants\/([^/]+)$/)) && req.method === 'GET') {
    const t = decodeURIComponent(m[1]);
    if (!tenants.has(t)) return pyError(res, `NotFoundError('Tenant ${t} not found')`);
    return json(res, 200, { name: t });
  }
  if (hasTenants && p === '/api/v1/databases') {
    if (req.method !== 'POST') return json(res, 405, { detail: 'Method Not Allowed' });
    const t = url.searchParams.get('tenant') ?? 'default_tenant';
    const name = TJ.get(parsed, 'name')?.v;
    if (!tenants.has(t)) return pyError(res, `NotFoundError('Tenant ${t} not found')`);
    if (tenants.get(t).has(name)) return pyError(res, `UniqueConstraintError('Database ${name} already exists for tenant ${t}')`);
    tenants.get(t).set(name, crypto.randomUUID());
    return send(res, 200, 'null');
  }
  if (hasTenants && (m = p.match(/^\/api\/v1\/databases\/([^/]+)$/)) && req.method === 'GET') {
    const d = decodeURIComponent(m[1]), t = url.searchParams.get('tenant') ?? 'default_tenant';
    const id = tenants.get(t)?.get(d);
    if (!id) return pyError(res, `NotFoundError('Database ${d} not found for tenant ${t}')`);
    return json(res, 200, { id, name: d, tenant: t });
  }
  if (p === '/api/v1/collections') {
    const [t, d] = tenantDb(url);
    if (req.method === 'GET') return send(res, 200, '[' + [...collections.values()].filter((c) => c.tenant === t && c.database === d).map(collObj).join(',') + ']');
    if (req.method !== 'POST') return json(res, 405, { detail: 'Method Not Allowed' });
    const name = TJ.get(parsed, 'name')?.v;
    const meta = TJ.get(parsed, 'metadata') ?? null;
    const goc = TJ.get(parsed, 'get_or_create')?.v === true;
    if (!nameOk(name)) return pyError(res, `ValueError(${pyRepr(NAME_RULE + name)})`);
    const mp = metadataProblem(meta);
    if (mp) return pyError(res, `ValueError(${mp.includes("'") ? JSON.stringify(mp) : pyRepr(mp)})`);
    if (!tenants.get(t)?.has(d)) return pyError(res, `UniqueConstraintError('Collection ${crypto.randomUUID()} already exists')`);
    const existing = [...collections.values()].find((c) => c.name === name && c.tenant === t && c.database === d);
    if (existing) {
      if (!goc) return pyError(res, `UniqueConstraintError('Collection ${name} already exists')`);
      if (meta && meta.t === 'obj') existing.metadata = meta; // 0.4.24 replaces the stored metadata
      return send(res, 200, collObj(existing));
    }
    const c = { id: crypto.randomUUID(), name, metadata: meta && meta.t === 'obj' ? meta : null, tenant: t, database: d, dim: null, records: new Map() };
    collections.set(c.id, c);
    return send(res, 200, collObj(c));
  }
  if (p === '/api/v1/count_collections') {
    const [t, d] = tenantDb(url);
    return send(res, 200, String([...collections.values()].filter((c) => c.tenant === t && c.database === d).length));
  }
  if ((m = p.match(/^\/api\/v1\/collections\/([^/]+)\/(add|upsert|get|count|update|delete|query)$/))) {
    recordRequests++;
    if (o.dropEvery && recordRequests % o.dropEvery === 0) { req.socket.destroy(); return undefined; }
    if (o.failEvery && recordRequests % o.failEvery === 0) return send(res, 503, 'Service Unavailable');
    const id = decodeURIComponent(m[1]), op = m[2];
    if (!/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(id)) return json(res, 400, { error: 'InvalidUUID', message: `Could not parse ${id} as a UUID` });
    const c = collections.get(id.toLowerCase());
    if (!c) {
      if (op === 'get' || op === 'count') return undefined; // 0.4.24 never answers these (StopIteration in a worker)
      return json(res, 400, { error: 'InvalidCollection', message: `Collection ${id} does not exist.` });
    }
    if (op === 'count') return req.method === 'GET' ? send(res, 200, String(c.records.size)) : json(res, 405, { detail: 'Method Not Allowed' });
    if (req.method !== 'POST') return json(res, 405, { detail: 'Method Not Allowed' });
    if (op === 'add' || op === 'upsert') return recordOp(res, c, op, parsed);
    if (op === 'get') return recordGet(res, c, parsed);
    return json(res, 501, { error: 'NotImplemented', message: `the stand-in does not implement ${op}` });
  }
  if ((m = p.match(/^\/api\/v1\/collections\/([^/]+)$/))) {
    const [t, d] = tenantDb(url);
    const name = decodeURIComponent(m[1]);
    const c = [...collections.values()].find((x) => x.name === name && x.tenant === t && x.database === d);
    if (req.method === 'GET') {
      if (!c) return pyError(res, `ValueError('Collection ${name} does not exist.')`);
      return send(res, 200, collObj(c));
    }
    if (req.method === 'DELETE') {
      if (!c) return pyError(res, `ValueError('Collection ${name} does not exist.')`);
      collections.delete(c.id);
      return send(res, 200, 'null');
    }
    return json(res, 405, { detail: 'Method Not Allowed' });
  }
  return notFound(res);
}

const server = http.createServer((req, res) => {
  if (req.httpVersion === '1.0') return json(res, 400, { error: 'InvalidHTTPVersion', message: 'HTTP version 1.0 is not supported' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    Promise.resolve(handle(req, res, Buffer.concat(chunks))).catch((e) => {
      if (!res.headersSent) pyError(res, `Exception(${pyRepr(e.message)})`);
    });
  });
});
server.keepAliveTimeout = 5000;
server.listen(o.port, '127.0.0.1', () => {
  console.log(`v1-standin: listening on http://127.0.0.1:${server.address().port} (version ${o.version}${hasTenants ? '' : ', no tenants'})`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
