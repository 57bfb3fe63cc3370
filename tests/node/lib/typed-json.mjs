// typed-json.mjs - a JSON parser that keeps what JSON.parse throws away.
//
// parse(text) returns a typed tree:
//   {t:'null', v:null}
//   {t:'bool', v:true|false}
//   {t:'int',  v:BigInt, raw:'123'}          any literal without '.', 'e', 'E' (exact, any size)
//   {t:'float',v:Number, raw:'1.0'}          literal with '.', 'e' or 'E', and the tokens
//                                            NaN, Infinity, -Infinity (Python json.dumps emits them);
//                                            -0.0 stays -0 (check with Object.is)
//   {t:'str',  v:string}                     \u escapes decoded, lone surrogates kept as they are
//   {t:'arr',  v:[node, ...]}
//   {t:'obj',  v:[[key, node], ...]}         entries in source order (duplicates kept; see get())
// Every node also has `start`/`end`: its span in the source text.
//
// Helpers: get(obj, key) (last duplicate wins, as in Python), keys(obj), equal(a, b, {keyOrder}),
// diff(a, b, {keyOrder}) -> first difference as text or null, describe(node) -> short text,
// pyDumps(node) -> the text Python's json.dumps (default arguments) would write for that value,
// pyFloatRepr(x) -> Python repr() of a float, toPlain(node) -> plain JS values (ints as Number
// when safe, else BigInt), fromPlain(value) -> typed node (Numbers: integral -> int, else float).

export class TypedJsonError extends Error {}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

export function parse(text) {
  if (typeof text !== 'string') throw new TypedJsonError('typed-json: input must be a string');
  let i = 0;
  const n = text.length;
  const fail = (msg) => {
    throw new TypedJsonError(`typed-json: ${msg} at offset ${i} near ${JSON.stringify(text.slice(Math.max(0, i - 10), i + 10))}`);
  };
  const ws = () => { while (i < n && WS.has(text.charCodeAt(i))) i++; };
  const lit = (word) => {
    if (text.startsWith(word, i)) { i += word.length; return true; }
    return false;
  };

  function value(depth) {
    if (depth > 10000) fail('nesting too deep');
    ws();
    if (i >= n) fail('unexpected end of input');
    const start = i;
    const c = text[i];
    let node;
    if (c === '{') {
      i++;
      const entries = [];
      ws();
      if (text[i] === '}') { i++; }
      else {
        for (;;) {
          ws();
          if (text[i] !== '"') fail('expected a string key');
          const k = string();
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          entries.push([k, value(depth + 1)]);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === '}') { i++; break; }
          fail("expected ',' or '}'");
        }
      }
      node = { t: 'obj', v: entries };
    } else if (c === '[') {
      i++;
      const items = [];
      ws();
      if (text[i] === ']') { i++; }
      else {
        for (;;) {
          items.push(value(depth + 1));
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === ']') { i++; break; }
          fail("expected ',' or ']'");
        }
      }
      node = { t: 'arr', v: items };
    } else if (c === '"') {
      node = { t: 'str', v: string() };
    } else if (lit('true')) node = { t: 'bool', v: true };
    else if (lit('false')) node = { t: 'bool', v: false };
    else if (lit('null')) node = { t: 'null', v: null };
    else if (lit('NaN')) node = { t: 'float', v: NaN, raw: 'NaN' };
    else if (lit('Infinity')) node = { t: 'float', v: Infinity, raw: 'Infinity' };
    else if (lit('-Infinity')) node = { t: 'float', v: -Infinity, raw: '-Infinity' };
    else node = number();
    node.start = start;
    node.end = i;
    return node;
  }

  function number() {
    const start = i;
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (text[i] >= '1' && text[i] <= '9') { while (text[i] >= '0' && text[i] <= '9') i++; }
    else fail('unexpected character');
    let isFloat = false;
    if (text[i] === '.') {
      isFloat = true; i++;
      if (!(text[i] >= '0' && text[i] <= '9')) fail('digit expected after .');
      while (text[i] >= '0' && text[i] <= '9') i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      isFloat = true; i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!(text[i] >= '0' && text[i] <= '9')) fail('digit expected in exponent');
      while (text[i] >= '0' && text[i] <= '9') i++;
    }
    const raw = text.slice(start, i);
    if (isFloat) return { t: 'float', v: Number(raw), raw };
    return { t: 'int', v: BigInt(raw), raw };
  }

  function string() {
    i++; // opening quote
    let out = '';
    let runStart = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const ch = text.charCodeAt(i);
      if (ch === 0x22) { out += text.slice(runStart, i); i++; return out; }
      if (ch === 0x5c) {
        out += text.slice(runStart, i);
        i++;
        const e = text[i];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = text.slice(i + 1, i + 5);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default: fail('bad escape');
        }
        i++;
        runStart = i;
        continue;
      }
      // Strict JSON forbids raw control characters; Python's json.loads(strict=True) too.
      // Servers never send them raw, but accept them: the point is typing, not validation.
      i++;
    }
  }

  const root = value(0);
  ws();
  if (i !== n) fail('trailing characters');
  return root;
}

// ---------------------------------------------------------------- helpers

export function get(obj, key) {
  if (!obj || obj.t !== 'obj') return undefined;
  let found;
  for (const [k, v] of obj.v) if (k === key) found = v;
  return found;
}

export function keys(obj) {
  return obj.v.map(([k]) => k);
}

// Entries with Python's json.loads semantics: the last duplicate key wins, at the first key's place.
export function entries(obj) {
  const m = new Map();
  for (const [k, v] of obj.v) m.set(k, v);
  return [...m.entries()];
}

export function describe(node, max = 120) {
  if (node === undefined) return '(absent)';
  let s;
  switch (node.t) {
    case 'null': s = 'null'; break;
    case 'bool': s = `bool ${node.v}`; break;
    case 'int': s = `int ${node.v.toString()}`; break;
    case 'float': s = `float ${floatText(node.v)}`; break;
    case 'str': s = `str ${JSON.stringify(node.v)}`; break;
    default: s = `${node.t} ${pyDumps(node)}`;
  }
  return s.length > max ? s.slice(0, max) + `...(${s.length} chars)` : s;
}

function floatText(x) {
  if (Object.is(x, -0)) return '-0.0';
  return pyFloatRepr(x);
}

function sameFloat(a, b) {
  return Object.is(a, b); // NaN == NaN, -0 != 0
}

// Returns null when equal, else a text naming the first difference (with a path).
export function diff(a, b, opts = {}, path = '') {
  const where = path || '(root)';
  if (a === undefined || b === undefined) {
    if (a === b) return null;
    return `${where}: ${describe(a)} vs ${describe(b)}`;
  }
  if (a.t !== b.t) return `${where}: ${describe(a)} vs ${describe(b)}`;
  switch (a.t) {
    case 'null': return null;
    case 'bool':
    case 'int':
    case 'str':
      return a.v === b.v ? null : `${where}: ${describe(a)} vs ${describe(b)}`;
    case 'float':
      return sameFloat(a.v, b.v) ? null : `${where}: ${describe(a)} vs ${describe(b)}`;
    case 'arr': {
      if (a.v.length !== b.v.length) return `${where}: array length ${a.v.length} vs ${b.v.length}`;
      for (let k = 0; k < a.v.length; k++) {
        const d = diff(a.v[k], b.v[k], opts, `${path}[${k}]`);
        if (d) return d;
      }
      return null;
    }
    case 'obj': {
      const ea = entries(a), eb = entries(b);
      const ka = ea.map((e) => e[0]), kb = eb.map((e) => e[0]);
      const mb = new Map(eb);
      for (const [k, v] of ea) {
        if (!mb.has(k)) return `${path}.${k}: ${describe(v)} vs (absent)`;
        const d = diff(v, mb.get(k), opts, `${path}.${k}`);
        if (d) return d;
      }
      const ma = new Map(ea);
      for (const [k, v] of eb) if (!ma.has(k)) return `${path}.${k}: (absent) vs ${describe(v)}`;
      if (opts.keyOrder && ka.join('\u0000') !== kb.join('\u0000')) {
        return `${where}: key order ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
      }
      return null;
    }
    default: return `${where}: unknown node type ${a.t}`;
  }
}

export function equal(a, b, opts = {}) {
  return diff(a, b, opts) === null;
}

// Python repr() of a float (the form json.dumps uses): shortest round-trip digits,
// fixed notation for decimal exponents -4..15, else d.ddde+XX; integral values keep '.0'.
export function pyFloatRepr(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const exp = parseInt(expText, 10);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    let s;
    if (exp >= 0) {
      if (digits.length <= exp + 1) s = digits + '0'.repeat(exp + 1 - digits.length) + '.0';
      else s = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
    } else {
      s = '0.' + '0'.repeat(-exp - 1) + digits;
    }
    return sign + s;
  }
  const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const e = Math.abs(exp) < 10 ? '0' + Math.abs(exp) : String(Math.abs(exp));
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

// Python json.dumps string form (ensure_ascii=True): everything outside ' '..'~' escaped,
// astral characters as surrogate pairs (which is how JS strings hold them anyway).
export function pyString(s) {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c <= 0x7e) out += s[k];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

// json.dumps(value) as Python writes it with default arguments: ", " and ": " separators.
export function pyDumps(node) {
  switch (node.t) {
    case 'null': return 'null';
    case 'bool': return node.v ? 'true' : 'false';
    case 'int': return node.v.toString();
    case 'float': return pyFloatRepr(node.v);
    case 'str': return pyString(node.v);
    case 'arr': return '[' + node.v.map(pyDumps).join(', ') + ']';
    case 'obj': return '{' + entries(node).map(([k, v]) => pyString(k) + ': ' + pyDumps(v)).join(', ') + '}';
    default: throw new TypedJsonError(`pyDumps: unknown node type ${node.t}`);
  }
}

export function toPlain(node) {
  switch (node.t) {
    case 'null': case 'bool': case 'float': case 'str': return node.v;
    case 'int': {
      const n = Number(node.v);
      return Number.isSafeInteger(n) ? n : node.v;
    }
    case 'arr': return node.v.map(toPlain);
    case 'obj': {
      const o = {};
      for (const [k, v] of entries(node)) o[k] = toPlain(v);
      return o;
    }
    default: throw new TypedJsonError(`toPlain: unknown node type ${node.t}`);
  }
}

// Plain JS value -> typed node. Numbers that are integers become 'int' (JS cannot tell 1 from 1.0);
// use {__float: x} to force a float, BigInt for big ints.
export function fromPlain(x) {
  if (x === null) return { t: 'null', v: null };
  if (typeof x === 'boolean') return { t: 'bool', v: x };
  if (typeof x === 'bigint') return { t: 'int', v: x };
  if (typeof x === 'number') {
    if (Number.isInteger(x) && !Object.is(x, -0)) return { t: 'int', v: BigInt(x) };
    return { t: 'float', v: x };
  }
  if (typeof x === 'string') return { t: 'str', v: x };
  if (Array.isArray(x)) return { t: 'arr', v: x.map(fromPlain) };
  if (typeof x === 'object' && '__float' in x) return { t: 'float', v: x.__float };
  if (typeof x === 'object') return { t: 'obj', v: Object.entries(x).map(([k, v]) => [k, fromPlain(v)]) };
  throw new TypedJsonError(`fromPlain: cannot type ${typeof x}`);
}

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;

// Is this metadata value storable by Chroma >= 0.4 (str, bool, i64 int, finite float)?
// Returns null if fine, else a reason.
export function chromaMetadataValueProblem(node) {
  switch (node.t) {
    case 'str': case 'bool': return null;
    case 'int': return node.v < I64_MIN || node.v > I64_MAX ? 'int outside the i64 range' : null;
    case 'float': return Number.isFinite(node.v) ? null : `float ${pyFloatRepr(node.v)}`;
    case 'null': return 'null value';
    case 'arr': return 'list value';
    case 'obj': return 'object value';
    default: return `unknown type ${node.t}`;
  }
}
