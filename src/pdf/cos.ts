// The PDF object layer read as PDF readers read it (ISO 32000-1 §7.2–7.5): one tokenizer that
// follows the grammar (NUL and comments are whitespace, names with #xx escapes, balanced
// literal strings, indirect stream lengths), cross-reference tables and streams, hybrid
// files, object streams, and every revision through its own /Prev chain. Signature
// validation compares revisions on this model, so a header a regex would misread — "4 0
// %comment\nobj", "4 0\0obj" — means here what it means to a viewer.
import { inflateSync } from 'node:zlib';

export class PdfSyntaxError extends Error {
  constructor(message: string, readonly offset: number | null = null) {
    super(offset === null ? message : `${message} (byte ${offset})`);
  }
}

export class PdfName {
  constructor(readonly name: string) {}
}
export class PdfString {
  /** start/end: file offsets of the opening delimiter and just past the closing one. */
  constructor(readonly bytes: Buffer, readonly hex: boolean, readonly start: number, readonly end: number) {}
  text(): string {
    // UTF-16BE with BOM, else PDFDocEncoding (latin1 is close enough for names and dates).
    if (this.bytes[0] === 0xfe && this.bytes[1] === 0xff) return this.bytes.subarray(2).swap16().toString('utf16le');
    return this.bytes.toString('latin1');
  }
}
export class PdfRef {
  constructor(readonly num: number, readonly gen: number) {}
  get key(): string {
    return `${this.num} ${this.gen}`;
  }
}
export class PdfDict {
  /** Keys written more than once: readers disagree on which value counts. */
  duplicateKeys: string[] = [];
  constructor(readonly map: Map<string, PdfValue>) {}
  get(key: string): PdfValue | undefined {
    return this.map.get(key);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  name(key: string): string | null {
    const v = this.map.get(key);
    return v instanceof PdfName ? v.name : null;
  }
}
export class PdfStream {
  /** raw: the stream's bytes as stored (still encoded). */
  constructor(readonly dict: PdfDict, readonly raw: Buffer, readonly dataStart: number) {}
}
export type PdfValue = null | boolean | number | PdfName | PdfString | PdfRef | PdfDict | PdfStream | PdfValue[];

// ---------------------------------------------------------------------------------------
// Tokenizer

const WS = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WS[c] = 1;
const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;
const isRegular = (c: number) => !WS[c] && !DELIM[c];

type Token =
  | { kind: 'num'; value: number; int: boolean; start: number; end: number }
  | { kind: 'kw'; value: string; start: number; end: number }
  | { kind: 'name'; value: string; start: number; end: number }
  | { kind: 'str'; value: PdfString; start: number; end: number }
  | { kind: 'punct'; value: '<<' | '>>' | '[' | ']' | '{' | '}'; start: number; end: number }
  | { kind: 'eof'; start: number; end: number };

const MAX_DEPTH = 100;

export class Lexer {
  constructor(readonly buf: Buffer, public pos = 0, readonly limit = buf.length) {}

  skipWhitespace(): void {
    const b = this.buf;
    while (this.pos < this.limit) {
      const c = b[this.pos]!;
      if (WS[c]) this.pos++;
      else if (c === 0x25) {
        // A comment runs to the end of the line and counts as one whitespace.
        while (this.pos < this.limit && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      } else break;
    }
  }

  next(): Token {
    this.skipWhitespace();
    const b = this.buf;
    const start = this.pos;
    if (start >= this.limit) return { kind: 'eof', start, end: start };
    const c = b[start]!;
    if (c === 0x2f) {
      // Name: regular characters, #xx escapes.
      let i = start + 1;
      const bytes: number[] = [];
      while (i < this.limit && isRegular(b[i]!)) {
        if (b[i] === 0x23 && i + 2 < this.limit && /^[0-9A-Fa-f]{2}$/.test(b.toString('latin1', i + 1, i + 3))) {
          bytes.push(parseInt(b.toString('latin1', i + 1, i + 3), 16));
          i += 3;
        } else bytes.push(b[i++]!);
      }
      this.pos = i;
      return { kind: 'name', value: Buffer.from(bytes).toString('latin1'), start, end: i };
    }
    if (c === 0x28) return this.literalString(start);
    if (c === 0x3c) {
      if (b[start + 1] === 0x3c) {
        this.pos = start + 2;
        return { kind: 'punct', value: '<<', start, end: this.pos };
      }
      return this.hexString(start);
    }
    if (c === 0x3e) {
      if (b[start + 1] === 0x3e) {
        this.pos = start + 2;
        return { kind: 'punct', value: '>>', start, end: this.pos };
      }
      throw new PdfSyntaxError('unexpected ">"', start);
    }
    if (c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d) {
      this.pos = start + 1;
      return { kind: 'punct', value: String.fromCharCode(c) as '[' | ']' | '{' | '}', start, end: this.pos };
    }
    if (c === 0x29) throw new PdfSyntaxError('unexpected ")"', start);
    let i = start;
    while (i < this.limit && isRegular(b[i]!)) i++;
    this.pos = i;
    const word = b.toString('latin1', start, i);
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) return { kind: 'num', value: Number(word), int: /^[+-]?\d+$/.test(word), start, end: i };
    return { kind: 'kw', value: word, start, end: i };
  }

  private literalString(start: number): Token {
    const b = this.buf;
    const out: number[] = [];
    let depth = 1;
    let i = start + 1;
    while (i < this.limit) {
      const c = b[i]!;
      if (c === 0x5c) {
        const n = b[i + 1];
        if (n === undefined) break;
        const simple: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c, 0x28: 0x28, 0x29: 0x29, 0x5c: 0x5c };
        if (simple[n] !== undefined) {
          out.push(simple[n]!);
          i += 2;
        } else if (n >= 0x30 && n <= 0x37) {
          let j = i + 1;
          let v = 0;
          while (j < i + 4 && b[j]! >= 0x30 && b[j]! <= 0x37) v = v * 8 + (b[j++]! - 0x30);
          out.push(v & 0xff);
          i = j;
        } else if (n === 0x0d) i += b[i + 2] === 0x0a ? 3 : 2; // line continuation
        else if (n === 0x0a) i += 2;
        else {
          out.push(n);
          i += 2;
        }
        continue;
      }
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) {
        this.pos = i + 1;
        return { kind: 'str', value: new PdfString(Buffer.from(out), false, start, i + 1), start, end: i + 1 };
      }
      out.push(c);
      i++;
    }
    throw new PdfSyntaxError('unterminated string', start);
  }

  private hexString(start: number): Token {
    const b = this.buf;
    const end = b.indexOf(0x3e, start + 1);
    if (end < 0 || end >= this.limit) throw new PdfSyntaxError('unterminated hex string', start);
    let hex = b.toString('latin1', start + 1, end).replace(/[\x00\t\n\f\r ]/g, '');
    if (!/^[0-9A-Fa-f]*$/.test(hex)) throw new PdfSyntaxError('a hex string with a character that is not hex', start);
    if (hex.length % 2) hex += '0';
    this.pos = end + 1;
    return { kind: 'str', value: new PdfString(Buffer.from(hex, 'hex'), true, start, end + 1), start, end: end + 1 };
  }
}

/** One value at the lexer's position (references resolved later). */
export function parseValue(lx: Lexer, depth = 0): PdfValue {
  if (depth > MAX_DEPTH) throw new PdfSyntaxError('objects nested too deeply', lx.pos);
  const t = lx.next();
  switch (t.kind) {
    case 'num': {
      if (t.int && t.value >= 0) {
        // "N G R": look ahead without consuming when it is not a reference.
        const save = lx.pos;
        const g = lx.next();
        if (g.kind === 'num' && g.int && g.value >= 0) {
          const r = lx.next();
          if (r.kind === 'kw' && r.value === 'R') return new PdfRef(t.value, g.value);
        }
        lx.pos = save;
      }
      return t.value;
    }
    case 'name':
      return new PdfName(t.value);
    case 'str':
      return t.value;
    case 'kw':
      if (t.value === 'true') return true;
      if (t.value === 'false') return false;
      if (t.value === 'null') return null;
      throw new PdfSyntaxError(`unexpected keyword "${t.value.slice(0, 20)}"`, t.start);
    case 'punct':
      if (t.value === '[') {
        const arr: PdfValue[] = [];
        for (;;) {
          lx.skipWhitespace();
          if (lx.buf[lx.pos] === 0x5d) {
            lx.pos++;
            return arr;
          }
          if (lx.pos >= lx.limit) throw new PdfSyntaxError('unterminated array', t.start);
          arr.push(parseValue(lx, depth + 1));
        }
      }
      if (t.value === '<<') {
        const map = new Map<string, PdfValue>();
        const dup: string[] = [];
        for (;;) {
          const k = lx.next();
          if (k.kind === 'punct' && k.value === '>>') {
            const d = new PdfDict(map);
            d.duplicateKeys = dup;
            return d;
          }
          if (k.kind !== 'name') throw new PdfSyntaxError('a dictionary key that is not a name', k.start);
          // A repeated key: pdf.js keeps the last value, so do we — and say so (see hasDuplicateKeys).
          const v = parseValue(lx, depth + 1);
          if (map.has(k.value)) dup.push(k.value);
          map.set(k.value, v);
        }
      }
      throw new PdfSyntaxError(`unexpected "${t.value}"`, t.start);
    case 'eof':
      throw new PdfSyntaxError('unexpected end of file', t.start);
  }
}

export interface IndirectObject {
  num: number;
  gen: number;
  value: PdfValue;
  /** Offset of "N G obj". */
  start: number;
  end: number;
}

/**
 * The indirect object at `offset`: "N G obj value [stream…endstream] endobj". `length`
 * resolves an indirect /Length in the revision being read.
 */
export function parseIndirectObject(buf: Buffer, offset: number, length: (ref: PdfRef) => PdfValue): IndirectObject {
  const lx = new Lexer(buf, offset);
  const n = lx.next();
  const g = lx.next();
  const o = lx.next();
  if (n.kind !== 'num' || !n.int || g.kind !== 'num' || !g.int || o.kind !== 'kw' || o.value !== 'obj') {
    throw new PdfSyntaxError('no "N G obj" where the cross-reference points', offset);
  }
  let value = parseValue(lx);
  const save = lx.pos;
  const k = lx.next();
  if (k.kind === 'kw' && k.value === 'stream') {
    if (!(value instanceof PdfDict)) throw new PdfSyntaxError('a stream without a dictionary', offset);
    let p = k.end;
    if (buf[p] === 0x0d) p++;
    if (buf[p] === 0x0a) p++;
    let len = value.get('Length');
    if (len instanceof PdfRef) len = length(len);
    let dataEnd = typeof len === 'number' && Number.isInteger(len) && len >= 0 ? p + len : -1;
    // A wrong /Length: readers fall back to the "endstream" keyword, so do we.
    if (dataEnd < 0 || dataEnd > buf.length || !/^[\x00\t\n\f\r ]*endstream/.test(buf.toString('latin1', dataEnd, dataEnd + 30))) {
      const es = buf.indexOf('endstream', p, 'latin1');
      if (es < 0) throw new PdfSyntaxError('a stream without "endstream"', offset);
      dataEnd = es;
      while (dataEnd > p && (buf[dataEnd - 1] === 0x0a || buf[dataEnd - 1] === 0x0d)) dataEnd--;
    }
    value = new PdfStream(value, buf.subarray(p, dataEnd), p);
    lx.pos = buf.indexOf('endstream', dataEnd, 'latin1') + 'endstream'.length;
    const e = lx.next();
    if (!(e.kind === 'kw' && e.value === 'endobj')) lx.pos = e.start;
  } else if (!(k.kind === 'kw' && k.value === 'endobj')) lx.pos = save;
  return { num: n.value, gen: g.value, value, start: offset, end: lx.pos };
}

// ---------------------------------------------------------------------------------------
// Streams

const MAX_DECODED = 64 * 1024 * 1024;

/** Decoded bytes of a stream: FlateDecode (with PNG/TIFF predictors) — what xref and object streams use. */
export function decodeStream(s: PdfStream): Buffer {
  const filters = asArray(s.dict.get('Filter')).map((f) => (f instanceof PdfName ? f.name : '?'));
  const parms = asArray(s.dict.get('DecodeParms'));
  let data = s.raw;
  filters.forEach((f, i) => {
    if (f !== 'FlateDecode' && f !== 'Fl') throw new PdfSyntaxError(`stream filter /${f} is not supported here`, s.dataStart);
    try {
      data = inflateSync(data, { maxOutputLength: MAX_DECODED, finishFlush: 2 /* Z_SYNC_FLUSH: tolerate a missing end */ });
    } catch (e) {
      throw new PdfSyntaxError(`cannot inflate stream: ${(e as Error).message}`, s.dataStart);
    }
    const p = parms[i];
    if (p instanceof PdfDict) data = unpredict(data, p, s.dataStart);
  });
  return data;
}

function asArray(v: PdfValue | undefined): PdfValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function unpredict(data: Buffer, p: PdfDict, at: number): Buffer {
  const predictor = (p.get('Predictor') as number) ?? 1;
  if (predictor === 1) return data;
  const columns = typeof p.get('Columns') === 'number' ? (p.get('Columns') as number) : 1;
  const colors = typeof p.get('Colors') === 'number' ? (p.get('Colors') as number) : 1;
  const bpc = typeof p.get('BitsPerComponent') === 'number' ? (p.get('BitsPerComponent') as number) : 8;
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((columns * colors * bpc) / 8);
  if (predictor === 2) {
    if (bpc !== 8) throw new PdfSyntaxError('TIFF predictor with other than 8 bits per component', at);
    const out = Buffer.from(data);
    for (let r = 0; r + rowLen <= out.length; r += rowLen) for (let i = bpp; i < rowLen; i++) out[r + i] = (out[r + i]! + out[r + i - bpp]!) & 0xff;
    return out;
  }
  if (predictor < 10) throw new PdfSyntaxError(`predictor ${predictor} is not supported`, at);
  const rows = Math.floor(data.length / (rowLen + 1));
  const out = Buffer.alloc(rows * rowLen);
  let prev = Buffer.alloc(rowLen);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLen + 1)]!;
    const row = data.subarray(r * (rowLen + 1) + 1, (r + 1) * (rowLen + 1));
    const cur = out.subarray(r * rowLen, (r + 1) * rowLen);
    for (let i = 0; i < rowLen; i++) {
      const left = i >= bpp ? cur[i - bpp]! : 0;
      const up = prev[i]!;
      const ul = i >= bpp ? prev[i - bpp]! : 0;
      let v = row[i]!;
      if (type === 1) v += left;
      else if (type === 2) v += up;
      else if (type === 3) v += (left + up) >> 1;
      else if (type === 4) {
        const pa = Math.abs(up - ul);
        const pb = Math.abs(left - ul);
        const pc = Math.abs(left + up - 2 * ul);
        v += pa <= pb && pa <= pc ? left : pb <= pc ? up : ul;
      } else if (type !== 0) throw new PdfSyntaxError(`PNG predictor row type ${type}`, at);
      cur[i] = v & 0xff;
    }
    prev = cur;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Cross-reference sections and revisions

export type XrefEntry =
  | { type: 'free' }
  | { type: 'offset'; offset: number; gen: number }
  | { type: 'compressed'; stream: number; index: number };

export interface XrefSection {
  offset: number;
  kind: 'table' | 'stream';
  entries: Map<number, XrefEntry>;
  trailer: PdfDict;
}

/** Do two cross-reference entries locate the same object bytes? */
export const sameEntry = (a: XrefEntry | undefined, b: XrefEntry | undefined) =>
  a === b ||
  (a !== undefined && b !== undefined && a.type === b.type &&
    (a.type === 'free' || (a.type === 'offset' && b.type === 'offset' && a.offset === b.offset && a.gen === b.gen) ||
      (a.type === 'compressed' && b.type === 'compressed' && a.stream === b.stream && a.index === b.index)));

function readXrefTable(buf: Buffer, offset: number): XrefSection {
  const lx = new Lexer(buf, offset);
  lx.next(); // "xref"
  const entries = new Map<number, XrefEntry>();
  for (;;) {
    const t = lx.next();
    if (t.kind === 'kw' && t.value === 'trailer') break;
    const c = lx.next();
    if (t.kind !== 'num' || c.kind !== 'num' || !t.int || !c.int) throw new PdfSyntaxError('a malformed cross-reference subsection', t.start);
    for (let i = 0; i < c.value; i++) {
      const off = lx.next();
      const gen = lx.next();
      const kind = lx.next();
      if (off.kind !== 'num' || gen.kind !== 'num' || kind.kind !== 'kw' || (kind.value !== 'n' && kind.value !== 'f')) {
        throw new PdfSyntaxError('a malformed cross-reference entry', off.start);
      }
      const num = t.value + i;
      if (entries.has(num)) continue;
      // Object 0 is the head of the free list; an "n" entry at offset 0 is no object.
      entries.set(num, kind.value === 'n' && off.value > 0 ? { type: 'offset', offset: off.value, gen: gen.value } : { type: 'free' });
    }
  }
  const trailer = parseValue(lx);
  if (!(trailer instanceof PdfDict)) throw new PdfSyntaxError('the trailer is not a dictionary', lx.pos);
  return { offset, kind: 'table', entries, trailer };
}

function readXrefStream(buf: Buffer, offset: number): XrefSection {
  const obj = parseIndirectObject(buf, offset, () => null);
  const s = obj.value;
  if (!(s instanceof PdfStream) || s.dict.name('Type') !== 'XRef') throw new PdfSyntaxError('the cross-reference offset points at no xref table or stream', offset);
  const w = s.dict.get('W');
  if (!Array.isArray(w) || w.length !== 3 || !w.every((x) => typeof x === 'number' && x >= 0 && x <= 8)) throw new PdfSyntaxError('xref stream /W is not three small integers', offset);
  const [w0, w1, w2] = w as [number, number, number];
  const size = s.dict.get('Size');
  const index = s.dict.get('Index');
  const ranges: number[] = Array.isArray(index) ? (index as number[]) : [0, typeof size === 'number' ? size : 0];
  const data = decodeStream(s);
  const rowLen = w0 + w1 + w2;
  const field = (p: number, n: number, dflt: number) => {
    if (n === 0) return dflt;
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + data[p + i]!;
    return v;
  };
  const entries = new Map<number, XrefEntry>();
  let p = 0;
  for (let r = 0; r + 1 < ranges.length; r += 2) {
    const first = ranges[r]!;
    const count = ranges[r + 1]!;
    if (!Number.isInteger(first) || !Number.isInteger(count) || count < 0) throw new PdfSyntaxError('xref stream /Index is not integers', offset);
    for (let i = 0; i < count; i++, p += rowLen) {
      if (p + rowLen > data.length) throw new PdfSyntaxError('xref stream shorter than its /Index says', offset);
      const type = field(p, w0, 1);
      const a = field(p + w0, w1, 0);
      const b = field(p + w0 + w1, w2, 0);
      const num = first + i;
      if (entries.has(num)) continue;
      if (type === 1 && a > 0) entries.set(num, { type: 'offset', offset: a, gen: b });
      else if (type === 2) entries.set(num, { type: 'compressed', stream: a, index: b });
      else entries.set(num, { type: 'free' });
    }
  }
  return { offset, kind: 'stream', entries, trailer: s.dict };
}

export function readXrefSection(buf: Buffer, offset: number): XrefSection {
  if (!Number.isInteger(offset) || offset < 0 || offset >= buf.length) throw new PdfSyntaxError(`startxref ${offset} points outside the file`);
  const lx = new Lexer(buf, offset);
  const t = lx.next();
  return t.kind === 'kw' && t.value === 'xref' ? readXrefTable(buf, t.start) : readXrefStream(buf, offset);
}

/** A revision: the document as a reader sees it when the file ends at `end`. */
export class Revision {
  readonly entries = new Map<number, XrefEntry>();
  readonly trailer: PdfDict;
  readonly sections: XrefSection[] = [];
  private readonly cache = new Map<number, PdfValue>();
  /** Where each object read from an offset ends (offset → just past "endobj"). */
  private readonly extents = new Map<number, number>();
  private readonly objStms = new Map<number, { data: Buffer; offsets: Map<number, number>; first: number }>();

  /**
   * recover: when an entry does not point at its object, look the object up by its header as
   * a reader rebuilding the xref would — for the signed revision only (what the signer saw);
   * in an update after a signature a wrong entry is itself the finding.
   */
  constructor(readonly buf: Buffer, readonly end: number, readonly startxref: number, readonly recover = false) {
    const seen = new Set<number>();
    let offset: number | null = startxref;
    while (offset !== null) {
      if (seen.has(offset) || seen.size > 10000) throw new PdfSyntaxError('the /Prev chain of cross-reference sections loops');
      seen.add(offset);
      if (offset >= end) throw new PdfSyntaxError(`a cross-reference section at ${offset} lies beyond the revision's end ${end}`);
      const sec = readXrefSection(buf, offset);
      this.sections.push(sec);
      // Hybrid file: the xref stream named by /XRefStm belongs to the same section, after the table.
      const xrefStm = sec.trailer.get('XRefStm');
      const parts = [sec];
      if (sec.kind === 'table' && typeof xrefStm === 'number') parts.push(readXrefStream(buf, xrefStm));
      for (const part of parts) for (const [num, e] of part.entries) if (!this.entries.has(num)) this.entries.set(num, e);
      const prev = sec.trailer.get('Prev');
      offset = typeof prev === 'number' ? prev : null;
    }
    this.trailer = this.sections[0]!.trailer;
  }

  /** The value of object `num` in this revision (null when free or absent, as readers take it). */
  get(num: number): PdfValue {
    if (this.cache.has(num)) return this.cache.get(num)!;
    this.cache.set(num, null); // a self-referencing /Length resolves to null, not a loop
    const v = this.load(num);
    this.cache.set(num, v);
    return v;
  }

  /** Follow a reference (any depth of ref → ref). */
  resolve(v: PdfValue | undefined): PdfValue {
    let x = v ?? null;
    for (let i = 0; x instanceof PdfRef && i < 32; i++) x = this.get(x.num);
    return x instanceof PdfRef ? null : x;
  }

  dict(v: PdfValue | undefined): PdfDict | null {
    const x = this.resolve(v);
    return x instanceof PdfDict ? x : x instanceof PdfStream ? x.dict : null;
  }

  private load(num: number): PdfValue {
    const e = this.entries.get(num);
    if (!e || e.type === 'free') return null;
    if (e.type === 'offset') {
      if (e.offset >= this.end) throw new PdfSyntaxError(`object ${num} is said to lie at ${e.offset}, beyond its revision`);
      let o: IndirectObject | null = null;
      try {
        o = parseIndirectObject(this.buf, e.offset, (r) => this.get(r.num));
      } catch (err) {
        if (!this.recover) throw err;
      }
      if (!o || o.num !== num || o.gen !== e.gen) {
        const found = this.recover ? this.findByHeader(num, e.gen) : null;
        if (found) return found.value;
        if (!o) throw new PdfSyntaxError(`no object ${num} where the cross-reference points`, e.offset);
        throw new PdfSyntaxError(`the cross-reference entry of object ${num} ${e.gen} points at object ${o.num} ${o.gen}`, e.offset);
      }
      this.extents.set(e.offset, o.end);
      return o.value;
    }
    const stm = this.objectStream(e.stream);
    const at = stm.offsets.get(num);
    if (at === undefined) throw new PdfSyntaxError(`object ${num} is not in object stream ${e.stream}`);
    return parseValue(new Lexer(stm.data, stm.first + at));
  }

  private findByHeader(num: number, gen: number): IndirectObject | null {
    const text = this.buf.toString('latin1', 0, this.end);
    const re = new RegExp(`(?<![0-9])${num}[\\x00\\t\\n\\f\\r ]+${gen}[\\x00\\t\\n\\f\\r ]+obj\\b`, 'g');
    let last: number | null = null;
    for (let m = re.exec(text); m; m = re.exec(text)) last = m.index;
    if (last === null) return null;
    try {
      return parseIndirectObject(this.buf, last, (r) => this.get(r.num));
    } catch {
      return null;
    }
  }

  private objectStream(num: number) {
    let stm = this.objStms.get(num);
    if (stm) return stm;
    const s = this.get(num);
    if (!(s instanceof PdfStream) || s.dict.name('Type') !== 'ObjStm') throw new PdfSyntaxError(`object ${num} is not an object stream`);
    const data = decodeStream(s);
    const n = s.dict.get('N');
    const first = s.dict.get('First');
    if (typeof n !== 'number' || typeof first !== 'number') throw new PdfSyntaxError(`object stream ${num} lacks /N or /First`);
    const lx = new Lexer(data, 0, Math.min(first, data.length));
    const offsets = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const a = lx.next();
      const b = lx.next();
      if (a.kind !== 'num' || b.kind !== 'num') throw new PdfSyntaxError(`object stream ${num}: a malformed header`);
      if (!offsets.has(a.value)) offsets.set(a.value, b.value);
    }
    stm = { data, offsets, first };
    this.objStms.set(num, stm);
    return stm;
  }

  /** Just past the indirect object at `offset` (-1 when there is none): parsed once, by get() or here. */
  endOfObjectAt(offset: number): number {
    const known = this.extents.get(offset);
    if (known !== undefined) return known;
    try {
      const end = parseIndirectObject(this.buf, offset, (r) => this.get(r.num)).end;
      this.extents.set(offset, end);
      return end;
    } catch {
      return -1;
    }
  }

  /** Every object number this revision defines (not free). */
  objectNumbers(): number[] {
    return [...this.entries].filter(([, e]) => e.type !== 'free').map(([n]) => n);
  }
}

/** The ends of every revision: just past each "startxref N %%EOF" (and its end-of-line). */
export function revisionEnds(buf: Buffer): { end: number; startxref: number }[] {
  // /startxref[ws]+(\d+)[ws]*%%EOF(\r\n|\r|\n)?/g matched on the bytes where the keyword is:
  // making a string of the whole file for the regex took most of the time.
  const out: { end: number; startxref: number }[] = [];
  for (let p = buf.indexOf(STARTXREF); p >= 0; p = buf.indexOf(STARTXREF, p)) {
    let i = p + STARTXREF.length;
    const ws0 = i;
    while (i < buf.length && WS[buf[i]!]) i++;
    const digits = i;
    while (i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
    const digitsEnd = i;
    while (i < buf.length && WS[buf[i]!]) i++;
    if (digits > ws0 && digitsEnd > digits && buf.subarray(i, i + 5).equals(EOF_MARK)) {
      i += 5;
      if (buf[i] === 0x0d) i += buf[i + 1] === 0x0a ? 2 : 1;
      else if (buf[i] === 0x0a) i++;
      out.push({ end: i, startxref: Number(buf.toString('latin1', digits, digitsEnd)) });
      p = i;
    } else p++;
  }
  return out;
}
const STARTXREF = Buffer.from('startxref');
const EOF_MARK = Buffer.from('%%EOF');

/**
 * The revisions of one file, each read once: the signatures of a document review the same later
 * revisions, and each Revision keeps the objects it has parsed.
 */
export class RevisionSet {
  readonly ends: { end: number; startxref: number }[];
  private readonly read = new Map<string, Revision>();
  constructor(readonly buf: Buffer) {
    this.ends = revisionEnds(buf);
  }

  /** The revision ending at `end` (recover: see Revision); throws PdfSyntaxError when unreadable. */
  at(end: number, recover: boolean): Revision {
    const key = `${end}:${recover}`;
    let rev = this.read.get(key);
    if (!rev) {
      const e = this.ends.find((x) => x.end === end);
      if (!e) throw new PdfSyntaxError(`no revision ends at byte ${end} (no "startxref … %%EOF" there)`);
      rev = new Revision(this.buf, e.end, e.startxref, recover);
      this.read.set(key, rev);
    }
    return rev;
  }

  /** The current document (recovering, as a viewer would), null when unreadable. */
  last(): Revision | null {
    const e = this.ends[this.ends.length - 1];
    if (!e) return null;
    try {
      return this.at(e.end, true);
    } catch {
      return null;
    }
  }
}

/** Structural equality of two values: references by number, strings by bytes, streams by dictionary and bytes. */
export function sameValue(a: PdfValue | undefined, b: PdfValue | undefined, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof PdfName) return b instanceof PdfName && a.name === b.name;
  if (a instanceof PdfString) return b instanceof PdfString && a.bytes.equals(b.bytes);
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i], depth + 1));
  if (a instanceof PdfStream) return b instanceof PdfStream && a.raw.equals(b.raw) && sameValue(a.dict, b.dict, depth + 1);
  if (a instanceof PdfDict) {
    if (!(b instanceof PdfDict) || a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) if (!b.map.has(k) || !sameValue(v, b.map.get(k), depth + 1)) return false;
    return true;
  }
  return false;
}

/** Object numbers referenced anywhere inside a value (not following them). */
export function refsOf(v: PdfValue | undefined, out: number[] = [], depth = 0): number[] {
  if (v === undefined || v === null || typeof v !== 'object' || depth > MAX_DEPTH) return out;
  if (v instanceof PdfRef) out.push(v.num);
  else if (Array.isArray(v)) for (const x of v) refsOf(x, out, depth + 1);
  else if (v instanceof PdfDict) for (const x of v.map.values()) refsOf(x, out, depth + 1);
  else if (v instanceof PdfStream) refsOf(v.dict, out, depth + 1);
  return out;
}

/** A dictionary inside `v` with a key written twice (readers differ on which value counts). */
export function duplicateKeyIn(v: PdfValue | undefined, depth = 0): string | null {
  if (v === undefined || v === null || typeof v !== 'object' || depth > MAX_DEPTH) return null;
  if (Array.isArray(v)) {
    for (const x of v) {
      const d = duplicateKeyIn(x, depth + 1);
      if (d) return d;
    }
    return null;
  }
  const dict = v instanceof PdfStream ? v.dict : v instanceof PdfDict ? v : null;
  if (!dict) return null;
  if (dict.duplicateKeys.length) return dict.duplicateKeys[0]!;
  for (const x of dict.map.values()) {
    const d = duplicateKeyIn(x, depth + 1);
    if (d) return d;
  }
  return null;
}
