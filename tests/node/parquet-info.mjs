// parquet-info.mjs - what a Parquet file is made of, page by page (to confirm which features a test
// file exercises: codecs, DATA_PAGE vs DATA_PAGE_V2, encodings, dictionary pages, row groups, pages per chunk).
//
// usage: node tests/node/parquet-info.mjs FILE.parquet [--pages]
//
// Column chunk locations come from DuckDB's parquet_metadata(); page headers are decoded here (Thrift
// compact protocol) by walking each chunk from its first page.

import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from './lib/legacy-oracle.mjs';

const PAGE_TYPES = ['DATA_PAGE', 'INDEX_PAGE', 'DICTIONARY_PAGE', 'DATA_PAGE_V2'];
const ENCODINGS = ['PLAIN', 'GROUP_VAR_INT', 'PLAIN_DICTIONARY', 'RLE', 'BIT_PACKED', 'DELTA_BINARY_PACKED',
  'DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY', 'RLE_DICTIONARY', 'BYTE_STREAM_SPLIT'];

// Minimal Thrift compact protocol reader: structs become {fieldId: value}.
class Compact {
  constructor(buf, pos) { this.buf = buf; this.pos = pos; }
  byte() {
    if (this.pos >= this.buf.length) throw new Error('thrift: out of data');
    return this.buf[this.pos++];
  }
  varint() {
    let shift = 0n, v = 0n;
    for (;;) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 70n) throw new Error('thrift: varint too long');
    }
  }
  zigzag() { const v = this.varint(); return Number((v >> 1n) ^ -(v & 1n)); }
  value(type) {
    switch (type) {
      case 1: return true;
      case 2: return false;
      case 3: return (this.byte() << 24) >> 24;
      case 4: case 5: case 6: return this.zigzag();
      case 7: { const d = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8); this.pos += 8; return d.getFloat64(0, true); }
      case 8: { const n = Number(this.varint()); const s = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return s; }
      case 9: case 10: {
        const h = this.byte();
        let n = h >> 4;
        const et = h & 15;
        if (n === 15) n = Number(this.varint());
        const out = [];
        for (let k = 0; k < n; k++) out.push(et === 1 || et === 2 ? this.byte() === 1 : this.value(et));
        return out;
      }
      case 11: {
        const n = Number(this.varint());
        if (n === 0) return new Map();
        const kv = this.byte();
        const m = new Map();
        for (let k = 0; k < n; k++) m.set(this.value(kv >> 4), this.value(kv & 15));
        return m;
      }
      case 12: return this.struct();
      default: throw new Error(`thrift: unknown type ${type}`);
    }
  }
  struct() {
    const out = {};
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const delta = h >> 4, type = h & 15;
      const id = delta ? last + delta : this.zigzag();
      last = id;
      out[id] = this.value(type);
    }
  }
}

export function readPageHeader(buf, pos) {
  const r = new Compact(buf, pos);
  const h = r.struct();
  const out = {
    headerLen: r.pos - pos,
    type: PAGE_TYPES[h[1]] ?? h[1],
    uncompressed: h[2],
    compressed: h[3],
  };
  if (h[5]) Object.assign(out, { numValues: h[5][1], encoding: ENCODINGS[h[5][2]] ?? h[5][2] });
  if (h[7]) Object.assign(out, { numValues: h[7][1], encoding: ENCODINGS[h[7][2]] ?? h[7][2] });
  if (h[8]) Object.assign(out, { numValues: h[8][1], numNulls: h[8][2], numRows: h[8][3], encoding: ENCODINGS[h[8][4]] ?? h[8][4], isCompressed: h[8][7] !== false });
  return out;
}

export async function parquetInfo(file) {
  const buf = fs.readFileSync(file);
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  const rows = (await con.runAndReadAll(`select row_group_id, row_group_num_rows, column_id, path_in_schema, compression,
      encodings, dictionary_page_offset, data_page_offset, total_compressed_size
      from parquet_metadata(${sqlString(file)}) order by row_group_id, column_id`)).getRowObjects();
  const schemaRoot = (await con.runAndReadAll(`select name from parquet_schema(${sqlString(file)}) limit 1`)).getRows()[0]?.[0];
  const created = (await con.runAndReadAll(`select created_by, num_rows, num_row_groups, format_version from parquet_file_metadata(${sqlString(file)})`)).getRowObjects()[0];
  const chunks = rows.map((r) => {
    const start = Number(r.dictionary_page_offset ?? r.data_page_offset);
    const first = r.dictionary_page_offset !== null && Number(r.dictionary_page_offset) > 0 && Number(r.dictionary_page_offset) < Number(r.data_page_offset)
      ? Number(r.dictionary_page_offset) : Number(r.data_page_offset);
    const end = first + Number(r.total_compressed_size);
    const pages = [];
    let pos = first;
    while (pos < end && pos < buf.length) {
      const ph = readPageHeader(buf, pos);
      pages.push(ph);
      pos += ph.headerLen + ph.compressed;
    }
    return { rowGroup: Number(r.row_group_id), rows: Number(r.row_group_num_rows), column: r.path_in_schema, codec: r.compression, footerEncodings: r.encodings, start, pages };
  });
  return { file, created_by: created?.created_by, num_rows: Number(created?.num_rows), num_row_groups: Number(created?.num_row_groups), format_version: created?.format_version, schemaRoot, chunks };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) { console.error('usage: node tests/node/parquet-info.mjs FILE.parquet [--pages]'); process.exit(2); }
  const showPages = process.argv.includes('--pages');
  const info = await parquetInfo(file);
  console.log(`${file}: created_by ${JSON.stringify(info.created_by)}, format_version ${info.format_version}, root ${JSON.stringify(info.schemaRoot)}, ${info.num_rows} rows in ${info.num_row_groups} row groups`);
  const summary = new Map();
  for (const c of info.chunks) {
    const key = c.column;
    const s = summary.get(key) ?? { codecs: new Set(), pageTypes: new Map(), encodings: new Set(), chunks: 0, maxPages: 0 };
    s.codecs.add(c.codec);
    s.chunks++;
    s.maxPages = Math.max(s.maxPages, c.pages.length);
    for (const p of c.pages) {
      s.pageTypes.set(p.type, (s.pageTypes.get(p.type) ?? 0) + 1);
      if (p.encoding !== undefined) s.encodings.add(`${p.type === 'DICTIONARY_PAGE' ? 'dict:' : ''}${p.encoding}`);
    }
    summary.set(key, s);
    if (showPages) {
      console.log(`  rg ${c.rowGroup} ${c.column} ${c.codec} @${c.start}: ` + c.pages.map((p) => `${p.type}/${p.encoding}/${p.numValues}v/${p.compressed}B`).join(' '));
    }
  }
  for (const [col, s] of summary) {
    console.log(`  ${col}: codec ${[...s.codecs].join(',')}; ${s.chunks} chunks, up to ${s.maxPages} pages per chunk; pages ${[...s.pageTypes].map(([t, n]) => `${t} x${n}`).join(', ')}; encodings ${[...s.encodings].join(', ')}`);
  }
}
