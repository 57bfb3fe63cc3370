// chroma-rest.mjs - raw REST API v2 calls to a Chroma 1.0 server, answers parsed with typed-json
// (the JS client parses with JSON.parse and so cannot tell 1.0 from 1 or keep ints beyond 2^53).

import * as TJ from './typed-json.mjs';
import { metadataJson } from './expected.mjs';

export class ChromaRest {
  constructor(url, tenant = 'default_tenant', database = 'default_database', timeoutMs = 120000) {
    this.url = url.replace(/\/+$/, '');
    this.tenant = tenant;
    this.database = database;
    this.timeoutMs = timeoutMs;
  }

  get base() {
    return `${this.url}/api/v2/tenants/${encodeURIComponent(this.tenant)}/databases/${encodeURIComponent(this.database)}`;
  }

  // -> {status, text, node (typed, or null when the body is not JSON)}
  async request(method, path, body) {
    const init = { method, signal: AbortSignal.timeout(this.timeoutMs), headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const r = await fetch(path.startsWith('http') ? path : `${this.base}${path}`, init);
    const text = await r.text();
    let node = null;
    try { node = text ? TJ.parse(text) : null; } catch { node = null; }
    return { status: r.status, text, node };
  }

  async ok(method, path, body) {
    const r = await this.request(method, path, body);
    if (r.status < 200 || r.status > 299) {
      throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
    }
    return r;
  }

  async listCollections() {
    const out = [];
    for (let offset = 0; ; offset += 100) {
      const r = await this.ok('GET', `/collections?limit=100&offset=${offset}`);
      const items = r.node.v;
      out.push(...items);
      if (items.length < 100) return out;
    }
  }

  // typed collection object, or null on 404
  async getCollection(name) {
    const r = await this.request('GET', `/collections/${encodeURIComponent(name)}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`GET collection ${name}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    return r.node;
  }

  // metadata: typed object or null; sent byte-exact (1.0 stays a float, big ints stay exact)
  async createCollection(name, metadata, configuration) {
    let body = `{"name":${JSON.stringify(name)}`;
    if (metadata) body += `,"metadata":${metadataJson(metadata)}`;
    if (configuration) body += `,"configuration":${JSON.stringify(configuration)}`;
    body += '}';
    return (await this.ok('POST', '/collections', body)).node;
  }

  // records: [{id, embedding32 (Float32Array or number[] of float32 values), document, metadata (typed|null)}]
  async add(collectionId, records) {
    const ids = records.map((r) => JSON.stringify(r.id)).join(',');
    const embs = records.map((r) => '[' + Array.from(r.embedding32, f32Text).join(',') + ']').join(',');
    const docs = records.map((r) => JSON.stringify(r.document)).join(',');
    const metas = records.map((r) => metadataJson(r.metadata)).join(',');
    const body = `{"ids":[${ids}],"embeddings":[${embs}],"documents":[${docs}],"metadatas":[${metas}]}`;
    return this.ok('POST', `/collections/${collectionId}/add`, body);
  }

  // POST .../get; returns the typed answer
  async get(collectionId, body) {
    return (await this.ok('POST', `/collections/${collectionId}/get`, body)).node;
  }

  async count(collectionId) {
    return Number((await this.ok('GET', `/collections/${collectionId}/count`)).node.v);
  }
}

// A float32 value as JSON text that parses back to exactly that value (as f64 and as f32).
export function f32Text(x) {
  if (Object.is(x, -0)) return '-0.0';
  return String(x);
}
