// ids-03.mjs - how chromadb 0.3.29 on ClickHouse 18.16 finds records by id, for the stand-in.
//
// 0.3.29 (chromadb/db/clickhouse.py, _create_where_clause) writes the ids into the SQL text as
// f" id IN {tuple(ids)}", i.e. with Python's repr() of each id, and ClickHouse then reads that text
// with its own rules:
//   - repr picks double quotes when the id holds ' but no "; ClickHouse reads "..." as an
//     identifier, so the whole query fails (Code 47 Unknown identifier, HTTP 404 from ClickHouse,
//     a 500 DatabaseError from chroma);
//   - repr escapes \ and the quote as \\ and \', tab/newline/CR as \t \n \r: ClickHouse undoes these;
//   - repr escapes other non-printable characters (str.isprintable: Unicode categories Cc, Cf, Cs,
//     Co, Cn, Zl, Zp, Zs other than the space) as \xNN (up to U+00FF), \uNNNN, \UNNNNNNNN.
//     ClickHouse reads \xNN as the single BYTE NN (right for U+0000-U+007F, whose UTF-8 is that byte;
//     wrong for U+0080-U+00FF, two bytes in UTF-8) and knows no \u or \U: "\u200b" becomes "u200b".
//     So such an id is looked for under other bytes and not found (or another id is found).
// ClickHouse's literal escapes (ReadHelpers parseComplexEscapeSequence): \xHH one byte, \N nothing,
// \a \b \e \f \n \r \t \v \0 the control character, any other \c the character c.
// Printable is judged by this Node's Unicode tables, which may be newer than the server's Python's
// (a character assigned since then is Cn, non-printable, there): the same for every assigned one.
//
// usage (self-check against python3's repr): node tests/http-source/ids-03.mjs --check

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const hex = (n, w) => n.toString(16).padStart(w, '0');

// Python's repr() of a str.
export function pyRepr(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
    else if (cp < 0x7f) out += ch;
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      out += cp <= 0xff ? '\\x' + hex(cp, 2) : cp <= 0xffff ? '\\u' + hex(cp, 4) : '\\U' + hex(cp, 8);
    } else out += ch;
  }
  return out + quote;
}

const SIMPLE = { a: 7, b: 8, e: 0x1b, f: 12, n: 10, r: 13, t: 9, v: 11, 0: 0 };

// The bytes ClickHouse makes of a quoted literal's inside (the text between the quotes).
export function clickhouseUnquote(inner) {
  const bytes = [];
  const chars = [...inner];
  for (let k = 0; k < chars.length; k++) {
    if (chars[k] !== '\\' || k + 1 >= chars.length) {
      bytes.push(...Buffer.from(chars[k], 'utf8'));
      continue;
    }
    const c = chars[++k];
    if (c === 'x') {
      bytes.push(parseInt(chars[k + 1] + chars[k + 2], 16));
      k += 2;
    } else if (c === 'N') {
      // \N: nothing
    } else if (c in SIMPLE) bytes.push(SIMPLE[c]);
    else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes);
}

// What the IN list of 0.3.29's query means to ClickHouse: {keys: Set of hex byte strings to
// match stored ids against} or {error: the identifier ClickHouse does not know}.
export function inListOf(ids) {
  const keys = new Set();
  for (const id of ids) {
    const r = pyRepr(id);
    if (r[0] === '"') return { error: clickhouseUnquote(r.slice(1, -1)).toString('utf8') };
    keys.add(clickhouseUnquote(r.slice(1, -1)).toString('hex'));
  }
  return { keys };
}
export const storedKey = (id) => Buffer.from(id, 'utf8').toString('hex');

// The 500 chroma 0.3.29 answers for ClickHouse's Unknown identifier (as recorded for "distance").
export function unknownIdentifierError(name) {
  const text = `:HTTPDriver for http://127.0.0.1:8123 returned response code 404)\n Code: 47, e.displayText() = DB::Exception: Unknown identifier: ${name}, e.what() = DB::Exception\n`;
  return JSON.stringify({ error: `DatabaseError(${pyRepr(text)})` });
}

// ClickHouse 18.16 sorts UUIDs by their low 64 bits first.
export function uuidOrder(a, b) {
  const h = (u) => u.replaceAll('-', '');
  const ka = h(a).slice(16) + h(a).slice(0, 16), kb = h(b).slice(16) + h(b).slice(0, 16);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

if (process.argv[2] === '--check') {
  const { execFileSync } = await import('node:child_process');
  const ids = ['plain', 'zw\u200bsp', 'a\x85b', 'nb\xa0sp', 'soft\xadhy', 'ls\u2028x', 'bom\ufeff', 'tab\tx\n\r',
    'c\x01d\x00', 'del\x7f', "it's", 'say "hi"', 'both \' and "', 'back\\slash', "it's \\ too", 'emoji 😀',
    'tag\u{e0001}', 'pua\u{f0000}', 'clé-1 ☃', 'ideo\u3000sp', '\u00e9\u0301'];
  const py = execFileSync('python3', ['-c', 'import json,sys\nfor s in json.load(sys.stdin): print(json.dumps(repr(s)))'],
    { input: JSON.stringify(ids) }).toString().trim().split('\n').map((l) => JSON.parse(l));
  let bad = 0;
  ids.forEach((s, k) => { if (pyRepr(s) !== py[k]) { bad++; console.log(`repr differs for ${JSON.stringify(s)}: ${pyRepr(s)} vs ${py[k]}`); } });
  console.log(`ids-03 --check: ${ids.length - bad} passed, ${bad} failed`);
  process.exit(bad ? 1 : 0);
}
