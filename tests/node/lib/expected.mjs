// expected.mjs - what a correct migration of a legacy store into Chroma >= 0.4 must contain, computed
// from DuckDB's reading of the store (lib/legacy-oracle.mjs), independently of the C code.
//
// computeExpected(store, policies) -> { collections: [ExpectedCollection], problems: [text], notes: [text] }
//   policies: {
//     duplicates: 'first' | 'last'                 which occurrence of a duplicated id (per collection) wins
//     invalidMetadata: 'fail' | 'drop' | 'stringify'
//         values Chroma cannot store (null, list, object, NaN, +-Infinity, ints outside i64, strings with a
//         lone surrogate): 'drop' removes the key, 'stringify' stores Python's json.dumps text of the value
//         as a string; keys it cannot hold ('chroma:' namespace, lone surrogate): 'drop' removes them,
//         'stringify' renames them (see renamedKey); record metadata that is no JSON object: 'drop' gives
//         none, 'stringify' keeps the text under 'legacy_metadata'; 'fail' (default) reports a problem
//         (the migration should have refused) and then expects 'drop'
//     rename: Map(old name -> new name)
//     skipInvalidRecords: boolean
//         records Chroma cannot take (NULL/empty id, NULL/empty embedding, NULL/NaN/infinite element,
//         value beyond float32 range, dimension other than the collection's) are dropped; without it
//         each is a problem (the migration should have refused) and is still left out
//     only: Set of collection names (legacy or new) to keep, or null for all
//     dimensionRule: 'majority' | 'first'
//         the collection's dimension: the most common length among the embeddings present (non-NULL,
//         non-empty, no NULL element; whatever the record's id or values), ties to the length seen first
//         in file order; or the first such embedding's length
//     dedupScope: 'all' | 'valid'
//         'all' (default): the duplicate policy picks one copy among every copy of the id (records with
//         a NULL or empty id have no id); if that copy cannot be written it is skipped and the id is not
//         migrated. 'valid': the policy picks among the copies that can be written.
//   }
// Order: dimension, then duplicates, then validity of the winners, then metadata policies.
// A record cannot be written when: its id is NULL or ''; its embedding is NULL, empty, has a NULL
// element, a NaN/infinite value, or a value whose float32 rounding (Math.fround) is infinite; its
// length is not the collection's dimension.
//
// ExpectedCollection: { legacyName, legacyUuid, name, nameProblem, metadata (typed obj | null), space,
//   dimension (number | null), records: [{id, embedding: Float64Array (legacy doubles),
//   embedding32: Float32Array, document, metadata (typed obj | null), row}], byId: Map(id -> record),
//   skipped: [{row, id, reason}], duplicatesDropped: number }

import * as TJ from './typed-json.mjs';

export const SPACES = ['l2', 'ip', 'cosine'];

// Python chromadb 0.4-0.6 rule (the intersection with Rust 1.0's): 3-63 chars of [a-zA-Z0-9._-],
// alphanumeric first and last, no '..', not an IPv4 address.
export function collectionNameProblem(name) {
  if (typeof name !== 'string') return 'name is NULL';
  if (name.length < 3 || name.length > 63) return `length ${name.length} (must be 3-63)`;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$/.test(name)) return 'characters outside [a-zA-Z0-9._-] or not alphanumeric at both ends';
  if (name.includes('..')) return "contains '..'";
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'is an IPv4 address';
  return null;
}

// A lone UTF-16 surrogate: JSON text such as "\udcff" that no UTF-8 encoder can write.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const LEGACY_METADATA_KEY = 'legacy_metadata';

// Why Chroma >= 0.4 cannot hold a metadata key (null if it can): not UTF-8 text, or in the 'chroma:'
// namespace (Chroma 1.x leaves such keys out of every answer; 0.4-0.6 refuse 'chroma:document').
export function metadataKeyProblem(k) {
  if (LONE_SURROGATE.test(k)) return 'key with a lone surrogate';
  if (k.startsWith('chroma:')) return "key in the reserved 'chroma:' namespace";
  return null;
}

function metadataValueProblem(v) {
  if (v.t === 'str' && LONE_SURROGATE.test(v.v)) return 'string with a lone surrogate';
  return TJ.chromaMetadataValueProblem(v);
}

// Stringify's new name for a key: '_' + a reserved key, a key that is not text as its json.dumps text
// without the quotes; then '_' in front while the name is taken by any key of the metadata as it
// stands at that moment (earlier entries already renamed, later ones not yet).
function renamedKey(k, current) {
  let name = k.startsWith('chroma:') && !LONE_SURROGATE.test(k) ? '_' + k : TJ.pyString(k).slice(1, -1);
  while (current.some(([key]) => key === name)) name = '_' + name;
  return name;
}

// Apply the invalid-metadata policy to a typed object. Returns {node: typed obj | null, bad: [key: reason]}.
export function cleanMetadata(node, policy) {
  if (node === null || node.t === 'null') return { node: null, bad: [] };
  if (node.t !== 'obj') return { node: null, bad: [`(whole metadata): ${TJ.describe(node, 60)} is not an object`] };
  const cur = TJ.entries(node).map(([k, v]) => [k, v]);
  const bad = [];
  for (let i = 0; i < cur.length;) {
    const [k, v] = cur[i];
    const kp = metadataKeyProblem(k), vp = metadataValueProblem(v);
    if (!kp && !vp) { i++; continue; }
    bad.push(`${k}: ${kp || vp}`);
    if (policy !== 'stringify') { cur.splice(i, 1); continue; }
    const nk = kp ? renamedKey(k, cur) : k;
    cur[i] = [nk, vp ? { t: 'str', v: TJ.pyDumps(v) } : v];
    i++;
  }
  return { node: cur.length ? { t: 'obj', v: cur } : null, bad };
}

// A record's metadata text: JSON that is no object (or no JSON at all) is dropped, or kept whole under
// LEGACY_METADATA_KEY by stringify. Returns {node, bad}.
function recordMetadata(raw, policy) {
  let node;
  try { node = TJ.parse(raw); } catch { node = undefined; }
  if (node !== undefined && (node.t === 'obj' || node.t === 'null')) return cleanMetadata(node, policy);
  const bad = [`(whole metadata): ${JSON.stringify(raw.slice(0, 60))} is no JSON object`];
  if (policy !== 'stringify') return { node: null, bad };
  return { node: { t: 'obj', v: [[LEGACY_METADATA_KEY, { t: 'str', v: raw }]] }, bad };
}

function recordProblem(rec) {
  if (rec.id === null) return 'id is NULL';
  if (rec.id === '') return 'id is the empty string';
  const e = rec.embedding;
  if (e === null) return 'embedding is NULL';
  if (e.length === 0) return 'embedding is empty';
  if (rec.embeddingNulls > 0) return `embedding has ${rec.embeddingNulls} NULL element(s)`;
  for (let k = 0; k < e.length; k++) {
    if (!Number.isFinite(e[k])) return `embedding[${k}] is ${e[k]}`;
    if (!Number.isFinite(Math.fround(e[k]))) return `embedding[${k}] = ${e[k]} is beyond the float32 range`;
  }
  return null;
}

export function computeExpected(store, policies = {}) {
  const p = {
    duplicates: 'first', invalidMetadata: 'fail', rename: new Map(), skipInvalidRecords: false, only: null,
    dimensionRule: 'majority', dedupScope: 'all', ...policies,
  };
  const problems = [];
  const notes = [];
  const collections = [];
  const usedNames = new Map();
  for (const c of store.collections) {
    const name = p.rename.has(c.name) ? p.rename.get(c.name) : c.name;
    if (p.only && !p.only.has(c.name) && !p.only.has(name)) continue;
    const ec = {
      legacyName: c.name, legacyUuid: c.uuid, name, nameProblem: collectionNameProblem(name),
      metadata: null, space: 'l2', dimension: null, records: [], byId: new Map(), skipped: [], duplicatesDropped: 0,
    };
    if (ec.nameProblem) problems.push(`collection ${JSON.stringify(name)}: name invalid for Chroma >= 0.4: ${ec.nameProblem}${p.rename.has(c.name) ? '' : ' (no --rename given)'}`);
    if (usedNames.has(name)) problems.push(`collection ${JSON.stringify(name)}: two legacy collections get this name`);
    usedNames.set(name, c.uuid);

    // collection metadata: 'null' / NULL / '{}' mean none
    if (c.metadataRaw !== null) {
      let node;
      try { node = TJ.parse(c.metadataRaw); } catch (e) { problems.push(`collection ${JSON.stringify(name)}: metadata does not parse: ${e.message}`); }
      if (node) {
        const { node: clean, bad } = cleanMetadata(node, p.invalidMetadata === 'stringify' ? 'stringify' : 'drop');
        if (bad.length && p.invalidMetadata === 'fail') problems.push(`collection ${JSON.stringify(name)}: collection metadata values Chroma cannot store: ${bad.join(', ')} (no --invalid-metadata policy given)`);
        ec.metadata = clean;
        const sp = clean && TJ.get(clean, 'hnsw:space');
        if (sp && sp.t === 'str' && SPACES.includes(sp.v)) ec.space = sp.v;
        else if (sp) problems.push(`collection ${JSON.stringify(name)}: hnsw:space ${TJ.describe(sp)} is not one of ${SPACES.join('/')}`);
      }
    }

    const recs = store.records.get(c.uuid) || [];
    // 1. dimension: votes from every embedding present (non-NULL, non-empty, no NULL element)
    const present = recs.filter((r) => r.embedding !== null && r.embedding.length > 0 && r.embeddingNulls === 0);
    if (present.length) {
      if (p.dimensionRule === 'first') ec.dimension = present[0].embedding.length;
      else {
        const votes = new Map();
        for (const r of present) votes.set(r.embedding.length, (votes.get(r.embedding.length) || 0) + 1);
        let best = null;
        for (const [d, n] of votes) if (best === null || n > votes.get(best)) best = d; // Map keeps first-seen order
        ec.dimension = best;
      }
    }
    const problemOf = (r) => {
      const why = recordProblem(r);
      if (why) return why;
      if (r.embedding.length !== ec.dimension) return `dimension ${r.embedding.length}, the collection's is ${ec.dimension}`;
      return null;
    };
    // 2. duplicates: which copy of each id is the one to write ('all': among every copy, so an invalid
    //    winner is skipped and the id is lost; 'valid': among the copies that can be written)
    const candidates = [];
    for (const r of recs) {
      const why = problemOf(r);
      if (why && (p.dedupScope === 'valid' || r.id === null || r.id === '')) ec.skipped.push({ row: r.row, id: r.id, reason: why });
      else candidates.push(r);
    }
    const winner = new Map();
    for (const r of candidates) {
      if (!winner.has(r.id) || p.duplicates === 'last') winner.set(r.id, r);
    }
    ec.duplicatesDropped = candidates.length - winner.size;
    // 3. the winners that cannot be written are skipped
    for (const [id, r] of [...winner]) {
      const why = problemOf(r);
      if (why) { ec.skipped.push({ row: r.row, id: r.id, reason: why }); winner.delete(id); }
    }
    ec.skipped.sort((a, b) => a.row - b.row);
    if (ec.skipped.length && !p.skipInvalidRecords) {
      problems.push(`collection ${JSON.stringify(name)}: ${ec.skipped.length} record(s) Chroma cannot take and --skip-invalid-records was not given (first: row ${ec.skipped[0].row}, id ${JSON.stringify(ec.skipped[0].id)}: ${ec.skipped[0].reason})`);
    }
    // 4. content of the winners (in file order of the winning occurrence)
    const badMeta = [];
    for (const r of [...winner.values()].sort((a, b) => a.row - b.row)) {
      let metadata = null;
      if (r.metadataRaw !== null) {
        const { node: clean, bad } = recordMetadata(r.metadataRaw, p.invalidMetadata === 'stringify' ? 'stringify' : 'drop');
        if (bad.length) badMeta.push(`id ${JSON.stringify(r.id)}: ${bad.join(', ')}`);
        metadata = clean;
      }
      const rec = {
        id: r.id, row: r.row, embedding: r.embedding, embedding32: Float32Array.from(r.embedding),
        document: r.document, metadata,
      };
      ec.records.push(rec);
      ec.byId.set(r.id, rec);
    }
    if (badMeta.length) {
      const text = `collection ${JSON.stringify(name)}: ${badMeta.length} record(s) with metadata values Chroma cannot store (first: ${badMeta[0]})`;
      if (p.invalidMetadata === 'fail') problems.push(text + ' and no --invalid-metadata policy was given');
      else notes.push(text + ` -> ${p.invalidMetadata}`);
    }
    if (ec.duplicatesDropped) notes.push(`collection ${JSON.stringify(name)}: ${ec.duplicatesDropped} duplicate-id row(s) dropped (${p.duplicates} occurrence wins)`);
    if (ec.skipped.length && p.skipInvalidRecords) notes.push(`collection ${JSON.stringify(name)}: ${ec.skipped.length} invalid record(s) skipped`);
    collections.push(ec);
  }
  if (p.only) {
    for (const n of p.only) {
      if (!collections.some((c) => c.name === n || c.legacyName === n)) problems.push(`--collection ${JSON.stringify(n)}: no such collection in the store`);
    }
  }
  for (const [old] of p.rename) {
    if (!store.collections.some((c) => c.name === old)) problems.push(`--rename ${JSON.stringify(old)}: no such collection in the store`);
  }
  if (store.orphans.length) notes.push(`${store.orphans.length} store row(s) belong to no collection (not migrated)`);
  return { collections, problems, notes };
}

// Chroma's view of a metadata value is typed; compare two typed metadata objects as maps.
// Floats: bit-exact, except that -0.0 and 0.0 are equal (Chroma's SQLite store drops the sign of zero).
export function metadataDiff(expected, got) {
  const norm = (n) => {
    if (n === null || n === undefined || n.t === 'null') return null;
    return n;
  };
  const e = norm(expected), g = norm(got);
  if (e === null || g === null) {
    if (e === g) return null;
    return `expected ${e === null ? 'null' : TJ.pyDumps(e).slice(0, 200)}, got ${g === null ? 'null' : TJ.pyDumps(g).slice(0, 200)}`;
  }
  if (g.t !== 'obj') return `expected an object, got ${TJ.describe(g)}`;
  const em = new Map(TJ.entries(e)), gm = new Map(TJ.entries(g));
  for (const [k, v] of em) {
    if (!gm.has(k)) return `key ${JSON.stringify(k)}: expected ${TJ.describe(v)}, got (absent)`;
    const w = gm.get(k);
    const same = v.t === w.t && (v.t === 'float' ? (v.v === 0 && w.v === 0) || Object.is(v.v, w.v) : v.v === w.v);
    if (!same) return `key ${JSON.stringify(k)}: expected ${TJ.describe(v)}, got ${TJ.describe(w)}`;
  }
  for (const [k, w] of gm) if (!em.has(k)) return `key ${JSON.stringify(k)}: expected (absent), got ${TJ.describe(w)}`;
  return null;
}

// Serialise a typed metadata object as JSON for a Chroma request (no NaN/Infinity: policies removed them).
export function metadataJson(node) {
  if (node === null) return 'null';
  return TJ.pyDumps(node);
}
