// AcroForm field values read by two independent PDF parsers (pdf-lib and pdf.js) and compared
// (SPEC §6, SIGNATURES.md "Extracting form values safely").
//
// pdf-lib is used only at the object level: its form API has the traps listed in SIGNATURES.md
// (getFields() misses widgets not listed in /AcroForm /Fields, isChecked() looks at the first
// widget only, getText() throws on rich text, getForm() deletes XFA in memory), so this module
// walks the field tree and the pages' widget annotations itself. pdf-lib also cannot decrypt:
// with `ignoreEncryption` its strings and streams stay encrypted, so the standard security
// handler (RC4 and AES, empty user password) is implemented here. pdf.js reads the file through
// its own xref-based parser; disagreements between the two are reported, never resolved
// silently. Neither library ever writes anything.

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import {
  PDFArray,
  PDFBool,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFInvalidObject,
  PDFName,
  PDFNull,
  PDFNumber,
  PDFObjectParser,
  PDFObjectStreamParser,
  PDFRawStream,
  PDFRef,
  PDFString,
  ParseSpeeds,
} from 'pdf-lib';
import type { PDFContext, PDFObject } from 'pdf-lib';
import { dictEntries, literalString, objectsIn, refsIn, skipValue } from './syntax.js';
import type { PdfObject } from './syntax.js';

// ---------------------------------------------------------------------------------------------
// Public types

export type FieldKind = 'text' | 'checkbox' | 'radio' | 'choice' | 'signature' | 'button' | 'unknown';

export interface FieldValue {
  /** Fully qualified name (parent.child joined with '.'). */
  name: string;
  kind: FieldKind;
  /**
   * text → string; checkbox → true/false; radio/choice → the selected export value or option;
   * null when empty (signature and push-button fields: always null).
   */
  value: string | boolean | null;
  /** checkbox/radio: the on-state name of the selected widget (null when none is selected). */
  exportValue?: string | null;
  /**
   * text fields (pdf-lib reader only): the text shown by the widget's normal appearance stream;
   * '' when the appearance shows no text, null when there is no appearance or it can't be read.
   */
  appearanceText?: string | null;
}

export interface AcroFormRead {
  reader: 'pdf-lib' | 'pdfjs';
  fields: Record<string, FieldValue>;
  encrypted: boolean;
  /** /AcroForm /NeedAppearances true (pdf.js reader: best effort from the raw file syntax). */
  needAppearances: boolean;
}

export class PdfReadError extends Error {
  constructor(
    readonly code: 'malformed' | 'encrypted-unreadable',
    message: string,
  ) {
    super(message);
    this.name = 'PdfReadError';
  }
}

export interface FormReadResult {
  /** The values to use: pdf-lib's, else pdf.js's (per field). */
  fields: Record<string, FieldValue>;
  /** Which readers could read the file. */
  readers: Array<'pdf-lib' | 'pdfjs'>;
  /**
   * Fields whose normalised values differ between the readers. A field only one reader found is
   * listed too, with the other side `undefined`.
   */
  disagreements: Array<{ field: string; pdfLib: unknown; pdfjs: unknown }>;
  /** Text fields whose /V differs from the text their appearance shows. */
  appearanceMismatches: string[];
  /** No AcroForm fields at all (e.g. a flattened form). */
  noFormFields: boolean;
  encrypted: boolean;
  needAppearances: boolean;
}

/** Inputs above this size are rejected as malformed without being parsed. */
export const MAX_PDF_BYTES = 50 * 1024 * 1024;

const MAX_DEPTH = 64; // field tree, /Parent chains, page tree
const MAX_FIELDS = 20_000;
const MAX_PAGES = 5_000;
const MAX_INFLATE = 16 * 1024 * 1024; // one decoded stream
const MAX_CONTENT_OPS = 200_000; // one appearance stream
const PDFJS_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Entry point: both readers, compared

export async function readAcroForm(pdf: Uint8Array): Promise<FormReadResult> {
  precheck(pdf);
  const [lib, js] = await Promise.allSettled([readWithPdfLib(pdf), readWithPdfjs(pdf)]);
  const a = lib.status === 'fulfilled' ? lib.value : null;
  const b = js.status === 'fulfilled' ? js.value : null;
  if (!a && !b) {
    const errs = [lib, js].map((r) => (r.status === 'rejected' ? asReadError(r.reason, 'malformed') : null));
    if (errs.some((e) => e?.code === 'encrypted-unreadable')) {
      throw new PdfReadError('encrypted-unreadable', `the PDF is encrypted and cannot be opened without a password (${errs.map((e) => e?.message).join('; ')})`);
    }
    throw new PdfReadError('malformed', `neither PDF reader can open the file (${errs.map((e) => e?.message).join('; ')})`);
  }

  const fields: Record<string, FieldValue> = {};
  const disagreements: FormReadResult['disagreements'] = [];
  if (a) Object.assign(fields, a.fields);
  if (b) for (const [name, fv] of Object.entries(b.fields)) if (!(name in fields)) fields[name] = fv;

  if (a && b) {
    const names = new Set([...Object.keys(a.fields), ...Object.keys(b.fields)]);
    for (const name of [...names].sort()) {
      const x = a.fields[name];
      const y = b.fields[name];
      if (!x || !y) {
        disagreements.push({ field: name, pdfLib: x ? x.value : undefined, pdfjs: y ? y.value : undefined });
      } else if (!sameValue(x, y)) {
        disagreements.push({ field: name, pdfLib: x.value, pdfjs: y.value });
      }
    }
  }

  const appearanceMismatches: string[] = [];
  if (a) {
    for (const fv of Object.values(a.fields)) {
      if (fv.kind !== 'text' || fv.appearanceText === null || fv.appearanceText === undefined) continue;
      if (squash(typeof fv.value === 'string' ? fv.value : '') !== squash(fv.appearanceText)) appearanceMismatches.push(fv.name);
    }
    appearanceMismatches.sort();
  }

  return {
    fields,
    readers: [...(a ? (['pdf-lib'] as const) : []), ...(b ? (['pdfjs'] as const) : [])],
    disagreements,
    appearanceMismatches,
    noFormFields: Object.keys(fields).length === 0,
    encrypted: Boolean(a?.encrypted || b?.encrypted),
    needAppearances: a ? a.needAppearances : Boolean(b?.needAppearances),
  };
}

function normalised(fv: FieldValue): string | boolean | null {
  switch (fv.kind) {
    case 'signature':
    case 'button':
      return null;
    case 'checkbox':
      return fv.value === true;
    default: {
      if (typeof fv.value === 'boolean') return fv.value;
      const s = (fv.value ?? '').normalize('NFC').trim();
      return s;
    }
  }
}

function sameValue(x: FieldValue, y: FieldValue): boolean {
  if (normalised(x) === normalised(y)) return true;
  // A radio group whose /Opt one reader could not map: the same on-state name is agreement.
  if (x.kind === 'radio' && y.kind === 'radio' && x.exportValue && x.exportValue === y.exportValue) {
    return x.value === x.exportValue || y.value === y.exportValue;
  }
  return false;
}

/** Text as compared with its appearance: NFC, no whitespace at all (wrapping, comb fields). */
function squash(s: string): string {
  return s.normalize('NFC').replace(/\s+/g, '');
}

function asReadError(e: unknown, code: PdfReadError['code']): PdfReadError {
  if (e instanceof PdfReadError) return e;
  return new PdfReadError(code, errorMessage(e));
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!.slice(0, 300);
  return String(e).slice(0, 300);
}

/** Cheap checks shared by both readers: size cap, a PDF header, an end-of-file marker. */
function precheck(pdf: Uint8Array): void {
  if (!(pdf instanceof Uint8Array)) throw new PdfReadError('malformed', 'input is not binary data');
  if (pdf.length === 0) throw new PdfReadError('malformed', 'empty file');
  if (pdf.length > MAX_PDF_BYTES) {
    throw new PdfReadError('malformed', `file too large to read as a form (${pdf.length} bytes, limit ${MAX_PDF_BYTES})`);
  }
  const head = Buffer.from(pdf.buffer, pdf.byteOffset, Math.min(1024, pdf.length)).toString('latin1');
  if (!head.includes('%PDF-')) throw new PdfReadError('malformed', 'not a PDF: no "%PDF-" header in the first 1024 bytes');
  const tailLen = Math.min(2048, pdf.length);
  const tail = Buffer.from(pdf.buffer, pdf.byteOffset + pdf.length - tailLen, tailLen).toString('latin1');
  if (!tail.includes('%%EOF')) throw new PdfReadError('malformed', 'truncated PDF: no "%%EOF" marker at the end of the file');
}

// ---------------------------------------------------------------------------------------------
// Text strings

const PDFDOC_DIFF: Record<number, number> = {
  0x18: 0x02d8, 0x19: 0x02c7, 0x1a: 0x02c6, 0x1b: 0x02d9, 0x1c: 0x02dd, 0x1d: 0x02db, 0x1e: 0x02da, 0x1f: 0x02dc,
  0x80: 0x2022, 0x81: 0x2020, 0x82: 0x2021, 0x83: 0x2026, 0x84: 0x2014, 0x85: 0x2013, 0x86: 0x0192, 0x87: 0x2044,
  0x88: 0x2039, 0x89: 0x203a, 0x8a: 0x2212, 0x8b: 0x2030, 0x8c: 0x201e, 0x8d: 0x201c, 0x8e: 0x201d, 0x8f: 0x2018,
  0x90: 0x2019, 0x91: 0x201a, 0x92: 0x2122, 0x93: 0xfb01, 0x94: 0xfb02, 0x95: 0x0141, 0x96: 0x0152, 0x97: 0x0160,
  0x98: 0x0178, 0x99: 0x017d, 0x9a: 0x0131, 0x9b: 0x0142, 0x9c: 0x0153, 0x9d: 0x0161, 0x9e: 0x017e, 0xa0: 0x20ac,
};
const PDFDOC: string[] = Array.from({ length: 256 }, (_, i) => String.fromCharCode(PDFDOC_DIFF[i] ?? i));

function utf16be(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  b.swap16();
  return b.toString('utf16le');
}

/** A PDF text string: UTF-16BE with BOM, UTF-8 with BOM (PDF 2.0), else PDFDocEncoding. */
export function decodePdfText(bytes: Uint8Array): string {
  let s: string;
  if (bytes[0] === 0xfe && bytes[1] === 0xff) s = utf16be(bytes.subarray(2));
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) s = Buffer.from(bytes.subarray(2)).toString('utf16le');
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) s = Buffer.from(bytes.subarray(3)).toString('utf8');
  else {
    const parts: string[] = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) parts[i] = PDFDOC[bytes[i]!]!;
    s = parts.join('');
  }
  return s.replace(/\u001b[^\u001b]*\u001b/g, ''); // language escape sequences
}

function hexBytes(hex: string): Uint8Array {
  const h = hex.replace(/[^0-9a-fA-F]/g, ''); // pdf-lib keeps whitespace inside hex strings
  return Buffer.from(h.length % 2 ? `${h}0` : h, 'hex');
}

/** The bytes of a literal string's raw text (between the parentheses, one char per byte). */
function literalBytes(raw: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x0d) {
      // An unescaped end-of-line in a string is a single \n.
      if (raw.charCodeAt(i + 1) === 0x0a) i++;
      out.push(0x0a);
      continue;
    }
    if (c !== 0x5c) {
      out.push(c & 0xff);
      continue;
    }
    const n = raw[++i];
    if (n === undefined) break;
    const esc: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12, '(': 40, ')': 41, '\\': 92 };
    if (esc[n] !== undefined) out.push(esc[n]!);
    else if (n >= '0' && n <= '7') {
      let oct = n;
      while (oct.length < 3 && raw[i + 1]! >= '0' && raw[i + 1]! <= '7') oct += raw[++i];
      out.push(parseInt(oct, 8) & 0xff);
    } else if (n === '\r') {
      if (raw[i + 1] === '\n') i++;
    } else if (n !== '\n') out.push(n.charCodeAt(0) & 0xff);
  }
  return Uint8Array.from(out);
}

function stringBytes(obj: PDFObject | undefined): Uint8Array | null {
  if (obj instanceof PDFHexString) return hexBytes(obj.asString());
  if (obj instanceof PDFString) return literalBytes(obj.asString());
  return null;
}

function nameText(obj: PDFObject | undefined): string | null {
  if (!(obj instanceof PDFName)) return null;
  const raw = obj.decodeText(); // #xx resolved, one char per byte
  if (/^[\x00-\x7f]*$/.test(raw)) return raw;
  const bytes = Buffer.from(raw, 'latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return raw;
  }
}

// ---------------------------------------------------------------------------------------------
// pdf-lib object helpers

function look(ctx: PDFContext, obj: PDFObject | undefined): PDFObject | undefined {
  const v = obj instanceof PDFRef ? ctx.lookup(obj) : obj;
  return v === PDFNull ? undefined : v;
}
function entry(d: PDFDict, key: string): PDFObject | undefined {
  return look(d.context, d.get(PDFName.of(key)));
}
function dictAt(d: PDFDict, key: string): PDFDict | undefined {
  const v = entry(d, key);
  return v instanceof PDFDict ? v : undefined;
}
function arrayAt(d: PDFDict, key: string): PDFArray | undefined {
  const v = entry(d, key);
  return v instanceof PDFArray ? v : undefined;
}
function nameAt(d: PDFDict, key: string): string | null {
  return nameText(entry(d, key));
}
function numberAt(d: PDFDict, key: string): number | undefined {
  const v = entry(d, key);
  return v instanceof PDFNumber ? v.asNumber() : undefined;
}
function textAt(d: PDFDict, key: string): string | null {
  const b = stringBytes(entry(d, key));
  return b ? decodePdfText(b) : null;
}
function arrayItems(ctx: PDFContext, arr: PDFArray | undefined): Array<PDFObject | undefined> {
  if (!arr) return [];
  const out: Array<PDFObject | undefined> = [];
  for (let i = 0; i < arr.size(); i++) out.push(look(ctx, arr.get(i)));
  return out;
}
function dictItems(ctx: PDFContext, arr: PDFArray | undefined): PDFDict[] {
  return arrayItems(ctx, arr).filter((x): x is PDFDict => x instanceof PDFDict);
}

/** The dictionary's value of `key`, or the nearest /Parent's (inheritable field attributes). */
function inherited(d: PDFDict, key: string): PDFObject | undefined {
  let cur: PDFDict | undefined = d;
  for (let depth = 0; cur && depth < MAX_DEPTH; depth++) {
    const v = entry(cur, key);
    if (v !== undefined) return v;
    cur = dictAt(cur, 'Parent');
  }
  return undefined;
}

function hasKey(d: PDFDict, key: string): boolean {
  return d.has(PDFName.of(key));
}

function isWidget(d: PDFDict): boolean {
  return nameAt(d, 'Subtype') === 'Widget';
}

// ---------------------------------------------------------------------------------------------
// Standard security handler (decryption for the pdf-lib reader)

type Cfm = 'none' | 'rc4' | 'aes128' | 'aes256';

interface Crypt {
  string(data: Uint8Array, ref: PDFRef): Uint8Array;
  stream(data: Uint8Array, ref: PDFRef): Uint8Array;
}

const PASSWORD_PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = new Uint8Array(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

function digest(alg: string, ...parts: Uint8Array[]): Buffer {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
}

function aesDecrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length < 32) return new Uint8Array(0); // IV + at least one block
  const iv = data.subarray(0, 16);
  const body = data.subarray(16, 16 + Math.floor((data.length - 16) / 16) * 16);
  const alg = key.length === 32 ? 'aes-256-cbc' : 'aes-128-cbc';
  try {
    const d = createDecipheriv(alg, key, iv);
    return Buffer.concat([d.update(body), d.final()]);
  } catch {
    const d = createDecipheriv(alg, key, iv);
    d.setAutoPadding(false);
    return Buffer.concat([d.update(body), d.final()]);
  }
}

function aesNoIv(key: Uint8Array, data: Uint8Array, encrypt: boolean): Buffer {
  const iv = Buffer.alloc(16);
  const alg = key.length === 32 ? 'aes-256-cbc' : 'aes-128-cbc';
  const c = encrypt ? createCipheriv(alg, key, iv) : createDecipheriv(alg, key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** ISO 32000-2 algorithm 2.B (R6 password hash); the loop follows pdf.js. */
function hash2B(password: Uint8Array, salt: Uint8Array, udata: Uint8Array): Buffer {
  let k = digest('sha256', password, salt, udata);
  let e: Buffer = Buffer.alloc(0);
  let i = 0;
  while (i < 64 || e[e.length - 1]! > i - 32) {
    const k1 = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([password, k, udata])));
    const c = createCipheriv('aes-128-cbc', k.subarray(0, 16), k.subarray(16, 32));
    c.setAutoPadding(false);
    e = Buffer.concat([c.update(k1), c.final()]);
    let sum = 0;
    for (let j = 0; j < 16; j++) sum += e[j]!;
    k = digest(['sha256', 'sha384', 'sha512'][sum % 3]!, e);
    i++;
  }
  return k.subarray(0, 32);
}

function unreadable(message: string): PdfReadError {
  return new PdfReadError('encrypted-unreadable', message);
}

function setupCrypt(enc: PDFDict, id0: Uint8Array): Crypt {
  const filter = nameAt(enc, 'Filter');
  if (filter !== 'Standard') throw unreadable(`unsupported security handler /${filter ?? '?'}`);
  const v = numberAt(enc, 'V') ?? 0;
  const r = numberAt(enc, 'R') ?? 0;
  const o = stringBytes(entry(enc, 'O')) ?? new Uint8Array(0);
  const u = stringBytes(entry(enc, 'U')) ?? new Uint8Array(0);
  const p = numberAt(enc, 'P') ?? 0;
  const encMeta = entry(enc, 'EncryptMetadata');
  const encryptMetadata = !(encMeta instanceof PDFBool) || encMeta.asBoolean();
  const lengthBits = numberAt(enc, 'Length') ?? 40;

  let strF: Cfm;
  let stmF: Cfm;
  let n: number; // file key length in bytes
  if (v === 1 || v === 2) {
    strF = stmF = 'rc4';
    n = v === 1 ? 5 : Math.max(5, Math.min(16, Math.floor(lengthBits / 8)));
  } else if (v === 4 || v === 5) {
    const cf = dictAt(enc, 'CF');
    let cfLen: number | undefined;
    const cfmOf = (filterName: string | null): Cfm => {
      if (!filterName || filterName === 'Identity') return 'none';
      const f = cf ? dictAt(cf, filterName) : undefined;
      if (!f) throw unreadable(`crypt filter /${filterName} is not defined`);
      const len = numberAt(f, 'Length');
      if (len !== undefined) cfLen = len;
      const cfm = nameAt(f, 'CFM') ?? 'None';
      if (cfm === 'None') return 'none';
      if (cfm === 'V2') return 'rc4';
      if (cfm === 'AESV2') return 'aes128';
      if (cfm === 'AESV3') return 'aes256';
      throw unreadable(`unsupported crypt filter method /${cfm}`);
    };
    strF = cfmOf(nameAt(enc, 'StrF'));
    stmF = cfmOf(nameAt(enc, 'StmF'));
    if (v === 5) n = 32;
    else if (strF === 'aes128' || stmF === 'aes128') n = 16;
    else {
      const len = cfLen ?? lengthBits;
      n = Math.max(5, Math.min(16, len <= 16 ? len : Math.floor(len / 8))); // bytes or bits, both seen
    }
  } else {
    throw unreadable(`unsupported encryption (V ${v})`);
  }

  let fileKey: Uint8Array | null = null;
  if (r >= 2 && r <= 4) {
    const computeKey = (paddedPassword: Uint8Array): Buffer => {
      const pLe = Buffer.alloc(4);
      pLe.writeInt32LE(p | 0);
      const extra = r >= 4 && !encryptMetadata ? Buffer.from([0xff, 0xff, 0xff, 0xff]) : Buffer.alloc(0);
      let h = digest('md5', paddedPassword, o.subarray(0, 32), pLe, id0, extra);
      if (r >= 3) for (let i = 0; i < 50; i++) h = digest('md5', h.subarray(0, n));
      return h.subarray(0, n);
    };
    const userOk = (key: Uint8Array): boolean => {
      if (r === 2) return Buffer.from(rc4(key, PASSWORD_PAD)).equals(Buffer.from(u.subarray(0, 32)));
      let x: Uint8Array = rc4(key, digest('md5', PASSWORD_PAD, id0));
      for (let i = 1; i <= 19; i++) x = rc4(key.map((b) => b ^ i), x);
      return Buffer.from(x).equals(Buffer.from(u.subarray(0, 16)));
    };
    const pad = (pw: Uint8Array): Buffer => Buffer.concat([pw, PASSWORD_PAD]).subarray(0, 32);
    const k1 = computeKey(pad(new Uint8Array(0)));
    if (userOk(k1)) fileKey = k1;
    else {
      // An empty owner password: recover the user password from /O (algorithm 7).
      let ok = digest('md5', PASSWORD_PAD);
      if (r >= 3) for (let i = 0; i < 50; i++) ok = digest('md5', ok);
      const ownerKey = ok.subarray(0, n);
      let userPw: Uint8Array = o.subarray(0, 32);
      if (r === 2) userPw = rc4(ownerKey, userPw);
      else for (let i = 19; i >= 0; i--) userPw = rc4(ownerKey.map((b) => b ^ i), userPw);
      const k2 = computeKey(userPw);
      if (userOk(k2)) fileKey = k2;
    }
  } else if (r === 5 || r === 6) {
    const ue = stringBytes(entry(enc, 'UE')) ?? new Uint8Array(0);
    const oe = stringBytes(entry(enc, 'OE')) ?? new Uint8Array(0);
    const empty = new Uint8Array(0);
    const hash = (salt: Uint8Array, udata: Uint8Array): Buffer =>
      r === 5 ? digest('sha256', empty, salt, udata) : hash2B(empty, salt, udata);
    if (u.length >= 48 && ue.length >= 32 && hash(u.subarray(32, 40), empty).equals(Buffer.from(u.subarray(0, 32)))) {
      fileKey = aesNoIv(hash(u.subarray(40, 48), empty), ue.subarray(0, 32), false);
    } else if (o.length >= 48 && oe.length >= 32 && u.length >= 48 && hash(o.subarray(32, 40), u.subarray(0, 48)).equals(Buffer.from(o.subarray(0, 32)))) {
      fileKey = aesNoIv(hash(o.subarray(40, 48), u.subarray(0, 48)), oe.subarray(0, 32), false);
    }
  } else {
    throw unreadable(`unsupported standard security handler revision ${r}`);
  }
  if (!fileKey) throw unreadable('the PDF is encrypted with a user password');

  const key = fileKey;
  const objectKey = (ref: PDFRef, cfm: Cfm): Uint8Array => {
    if (cfm === 'aes256') return key;
    const nums = Buffer.from([
      ref.objectNumber & 0xff, (ref.objectNumber >> 8) & 0xff, (ref.objectNumber >> 16) & 0xff,
      ref.generationNumber & 0xff, (ref.generationNumber >> 8) & 0xff,
    ]);
    const salt = cfm === 'aes128' ? Buffer.from('sAlT', 'latin1') : Buffer.alloc(0);
    return digest('md5', key, nums, salt).subarray(0, Math.min(key.length + 5, 16));
  };
  const run = (cfm: Cfm, data: Uint8Array, ref: PDFRef): Uint8Array => {
    if (cfm === 'none') return data;
    const k = objectKey(ref, cfm);
    return cfm === 'rc4' ? rc4(k, data) : aesDecrypt(k, data);
  };
  return {
    string: (data, ref) => run(strF, data, ref),
    stream: (data, ref) => run(stmF, data, ref),
  };
}

function rawStreamBytes(obj: PDFInvalidObject): Uint8Array {
  const buf = new Uint8Array(obj.sizeInBytes());
  obj.copyBytesInto(buf, 0);
  return buf;
}

/**
 * Decrypt, in pdf-lib's in-memory objects, every string (lazily: streams are decrypted when
 * read), and recover the object streams pdf-lib could not parse because they were encrypted.
 */
async function applyDecryption(ctx: PDFContext, crypt: Crypt, encDict: PDFDict): Promise<void> {
  const decryptIn = (container: PDFDict | PDFArray, ref: PDFRef, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (container instanceof PDFDict) {
      const type = nameAt(container, 'Type');
      const isSig = type === 'Sig' || type === 'DocTimeStamp' || hasKey(container, 'ByteRange');
      for (const [k, v] of container.entries()) {
        if (isSig && k.decodeText() === 'Contents') continue; // signature /Contents is never encrypted
        if (v instanceof PDFString || v instanceof PDFHexString) {
          container.set(k, PDFHexString.of(Buffer.from(crypt.string(stringBytes(v)!, ref)).toString('hex')));
        } else if (v instanceof PDFDict || v instanceof PDFArray) decryptIn(v, ref, depth + 1);
      }
    } else {
      for (let i = 0; i < container.size(); i++) {
        const v = container.get(i);
        if (v instanceof PDFString || v instanceof PDFHexString) {
          container.set(i, PDFHexString.of(Buffer.from(crypt.string(stringBytes(v)!, ref)).toString('hex')));
        } else if (v instanceof PDFDict || v instanceof PDFArray) decryptIn(v, ref, depth + 1);
      }
    }
  };
  const plain = ctx.enumerateIndirectObjects();
  for (const [ref, obj] of plain) {
    if (obj === encDict) continue;
    if (obj instanceof PDFDict || obj instanceof PDFArray) decryptIn(obj, ref, 0);
    else if (obj instanceof PDFRawStream) decryptIn(obj.dict, ref, 0);
  }

  // Object streams: pdf-lib tried to inflate them still encrypted and kept them as invalid
  // objects. Decrypt and parse them; objects stored plainly in the file keep precedence.
  for (const [ref, obj] of plain) {
    if (!(obj instanceof PDFInvalidObject)) continue;
    let stream: PDFObject;
    try {
      stream = PDFObjectParser.forBytes(rawStreamBytes(obj), ctx).parseObject();
    } catch {
      continue;
    }
    if (!(stream instanceof PDFRawStream) || nameAt(stream.dict, 'Type') !== 'ObjStm') continue;
    try {
      const decrypted = PDFRawStream.of(stream.dict, crypt.stream(stream.contents, ref));
      await PDFObjectStreamParser.forStream(decrypted).parseIntoContext();
    } catch {
      continue;
    }
    for (const [r, o] of plain) if (ctx.lookup(r) !== o) ctx.assign(r, o);
  }
}

// ---------------------------------------------------------------------------------------------
// Streams and appearance text

interface StreamReader {
  ctx: PDFContext;
  crypt: Crypt | null;
  refs: Map<PDFObject, PDFRef> | null;
}

function streamData(sr: StreamReader, stream: PDFObject | undefined): Uint8Array | null {
  if (!(stream instanceof PDFRawStream)) return null;
  const dict = stream.dict;
  const f = entry(dict, 'Filter');
  const filters = (f instanceof PDFArray ? arrayItems(sr.ctx, f) : [f]).map((x) => nameText(x)).filter((x): x is string => Boolean(x));
  let data: Uint8Array = stream.contents;
  if (sr.crypt && !filters.includes('Crypt') && nameAt(dict, 'Type') !== 'XRef') {
    if (!sr.refs) sr.refs = new Map(sr.ctx.enumerateIndirectObjects().map(([r, o]) => [o, r] as [PDFObject, PDFRef]));
    const ref = sr.refs.get(stream);
    if (!ref) return null;
    data = sr.crypt.stream(data, ref);
  }
  const parms = entry(dict, 'DecodeParms');
  for (const name of filters) {
    if (name === 'FlateDecode' || name === 'Fl') {
      const pd = parms instanceof PDFDict ? parms : undefined;
      if (pd && (numberAt(pd, 'Predictor') ?? 1) > 1) return null;
      try {
        data = inflateSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: MAX_INFLATE });
      } catch {
        return null;
      }
    } else if (name === 'ASCIIHexDecode' || name === 'AHx') {
      const s = Buffer.from(data).toString('latin1');
      data = hexBytes(s.slice(0, s.indexOf('>') >= 0 ? s.indexOf('>') : s.length));
    } else if (name !== 'Crypt') return null;
  }
  return data;
}

type Tok =
  | { t: 'num'; v: number }
  | { t: 'str'; v: Uint8Array }
  | { t: 'name'; v: string }
  | { t: 'arr'; v: Tok[] }
  | { t: 'other' };

const DELIM = new Set(['(', ')', '<', '>', '[', ']', '{', '}', '/', '%']);
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\f' || c === '\0';

/** Tokenise a content stream and call `onOp` for each operator with its operands. */
function scanContent(s: string, onOp: (op: string, operands: Tok[]) => void): boolean {
  const stack: Tok[][] = [[]];
  let ops = 0;
  let i = 0;
  const push = (t: Tok): void => void stack[stack.length - 1]!.push(t);
  while (i < s.length) {
    const c = s[i]!;
    if (isSpace(c)) {
      i++;
    } else if (c === '%') {
      while (i < s.length && s[i] !== '\n' && s[i] !== '\r') i++;
    } else if (c === '(') {
      let depth = 0;
      const start = i;
      for (; i < s.length; i++) {
        if (s[i] === '\\') i++;
        else if (s[i] === '(') depth++;
        else if (s[i] === ')' && --depth === 0) break;
      }
      push({ t: 'str', v: literalBytes(s.slice(start + 1, i)) });
      i++;
    } else if (c === '<' && s[i + 1] === '<') {
      // An inline dictionary (marked-content properties): skip it whole.
      const end = skipValue(s, i);
      push({ t: 'other' });
      i = Math.max(end, i + 2);
    } else if (c === '<') {
      const end = s.indexOf('>', i);
      push({ t: 'str', v: hexBytes(s.slice(i + 1, end < 0 ? s.length : end)) });
      i = end < 0 ? s.length : end + 1;
    } else if (c === '[') {
      stack.push([]);
      i++;
    } else if (c === ']') {
      const arr = stack.length > 1 ? stack.pop()! : [];
      push({ t: 'arr', v: arr });
      i++;
    } else if (c === '/') {
      let j = i + 1;
      while (j < s.length && !isSpace(s[j]) && !DELIM.has(s[j]!)) j++;
      push({ t: 'name', v: s.slice(i + 1, j).replace(/#([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) });
      i = j;
    } else if (DELIM.has(c)) {
      i++; // stray delimiter
    } else {
      let j = i;
      while (j < s.length && !isSpace(s[j]) && !DELIM.has(s[j]!)) j++;
      const word = s.slice(i, j);
      i = j;
      if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) {
        push({ t: 'num', v: Number(word) });
        continue;
      }
      if (word === 'true' || word === 'false' || word === 'null') {
        push({ t: 'other' });
        continue;
      }
      if (++ops > MAX_CONTENT_OPS) return false;
      if (word === 'BI') {
        // Inline image: skip its data up to "EI".
        const m = /[\s\0]EI(?=[\s\0]|$)/g;
        m.lastIndex = i;
        const found = m.exec(s);
        i = found ? found.index + found[0].length : s.length;
        stack.length = 1;
        stack[0] = [];
        continue;
      }
      const operands = stack.length === 1 ? stack[0]! : [];
      onOp(word, operands);
      stack.length = 1;
      stack[0] = [];
    }
  }
  return true;
}

// Single-byte encodings for simple fonts.
const CP1252_HIGH: Record<number, number> = {
  0x80: 0x20ac, 0x82: 0x201a, 0x83: 0x0192, 0x84: 0x201e, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021, 0x88: 0x02c6,
  0x89: 0x2030, 0x8a: 0x0160, 0x8b: 0x2039, 0x8c: 0x0152, 0x8e: 0x017d, 0x91: 0x2018, 0x92: 0x2019, 0x93: 0x201c,
  0x94: 0x201d, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02dc, 0x99: 0x2122, 0x9a: 0x0161, 0x9b: 0x203a,
  0x9c: 0x0153, 0x9e: 0x017e, 0x9f: 0x0178,
};
const WIN_ANSI: Array<string | null> = Array.from({ length: 256 }, (_, i) =>
  i >= 0x80 && i < 0xa0 ? (CP1252_HIGH[i] ? String.fromCharCode(CP1252_HIGH[i]!) : null) : String.fromCharCode(i),
);
const MAC_ROMAN: Array<string | null> = (() => {
  try {
    const d = new TextDecoder('macintosh');
    return Array.from({ length: 256 }, (_, i) => d.decode(Uint8Array.of(i)));
  } catch {
    return WIN_ANSI;
  }
})();

const ASCII_GLYPHS =
  'space exclam quotedbl numbersign dollar percent ampersand quotesingle parenleft parenright asterisk plus comma hyphen period slash zero one two three four five six seven eight nine colon semicolon less equal greater question at A B C D E F G H I J K L M N O P Q R S T U V W X Y Z bracketleft backslash bracketright asciicircum underscore grave a b c d e f g h i j k l m n o p q r s t u v w x y z braceleft bar braceright asciitilde';
const LATIN1_GLYPHS =
  'nbspace exclamdown cent sterling currency yen brokenbar section dieresis copyright ordfeminine guillemotleft logicalnot sfthyphen registered macron degree plusminus twosuperior threesuperior acute mu paragraph periodcentered cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters questiondown Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla Egrave Eacute Ecircumflex Edieresis Igrave Iacute Icircumflex Idieresis Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply Oslash Ugrave Uacute Ucircumflex Udieresis Yacute Thorn germandbls agrave aacute acircumflex atilde adieresis aring ae ccedilla egrave eacute ecircumflex edieresis igrave iacute icircumflex idieresis eth ntilde ograve oacute ocircumflex otilde odieresis divide oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis';
const GLYPHS: Map<string, string> = (() => {
  const m = new Map<string, string>();
  ASCII_GLYPHS.split(' ').forEach((g, i) => m.set(g, String.fromCharCode(0x20 + i)));
  LATIN1_GLYPHS.split(' ').forEach((g, i) => m.set(g, String.fromCharCode(0xa0 + i)));
  const extra: Record<string, number> = {
    Euro: 0x20ac, quotesinglbase: 0x201a, florin: 0x0192, quotedblbase: 0x201e, ellipsis: 0x2026, dagger: 0x2020,
    daggerdbl: 0x2021, circumflex: 0x02c6, perthousand: 0x2030, Scaron: 0x0160, guilsinglleft: 0x2039, OE: 0x0152,
    Zcaron: 0x017d, quoteleft: 0x2018, quoteright: 0x2019, quotedblleft: 0x201c, quotedblright: 0x201d,
    bullet: 0x2022, endash: 0x2013, emdash: 0x2014, tilde: 0x02dc, trademark: 0x2122, scaron: 0x0161,
    guilsinglright: 0x203a, oe: 0x0153, zcaron: 0x017e, Ydieresis: 0x0178, dotlessi: 0x0131, fi: 0xfb01,
    fl: 0xfb02, minus: 0x2212, Lslash: 0x0141, lslash: 0x0142, space: 0x20, nonbreakingspace: 0xa0,
  };
  for (const [g, cp] of Object.entries(extra)) m.set(g, String.fromCharCode(cp));
  return m;
})();

function glyphChar(name: string): string | null {
  const known = GLYPHS.get(name);
  if (known !== undefined) return known;
  let m = /^uni([0-9A-Fa-f]{4})+$/.exec(name);
  if (m) return utf16be(Buffer.from(name.slice(3), 'hex'));
  m = /^u([0-9A-Fa-f]{4,6})$/.exec(name);
  if (m) return String.fromCodePoint(parseInt(m[1]!, 16));
  const base = name.split('.')[0]!; // "a.sc", "one.oldstyle"
  return base !== name ? glyphChar(base) : null;
}

type Decoder = (bytes: Uint8Array) => string | null;

interface CMap {
  ranges: Array<{ len: number; lo: number; hi: number }>;
  chars: Map<string, string>;
  bfranges: Array<{ len: number; lo: number; hi: number; dst: Uint8Array | Uint8Array[] }>;
}

function parseToUnicode(text: string): CMap {
  const cmap: CMap = { ranges: [], chars: new Map(), bfranges: [] };
  const num = (hex: string): number => parseInt(hex || '0', 16);
  const section = (name: string): string[] =>
    [...text.matchAll(new RegExp(`begin${name}([\\s\\S]*?)end${name}`, 'g'))].map((m) => m[1]!);
  for (const body of section('codespacerange')) {
    for (const m of body.matchAll(/<([0-9A-Fa-f\s]*)>\s*<([0-9A-Fa-f\s]*)>/g)) {
      const lo = m[1]!.replace(/\s/g, '');
      cmap.ranges.push({ len: Math.max(1, lo.length / 2), lo: num(lo), hi: num(m[2]!.replace(/\s/g, '')) });
    }
  }
  for (const body of section('bfchar')) {
    for (const m of body.matchAll(/<([0-9A-Fa-f\s]*)>\s*<([0-9A-Fa-f\s]*)>/g)) {
      const src = m[1]!.replace(/\s/g, '');
      cmap.chars.set(`${src.length / 2}:${num(src)}`, utf16be(hexBytes(m[2]!)));
    }
  }
  for (const body of section('bfrange')) {
    for (const m of body.matchAll(/<([0-9A-Fa-f\s]*)>\s*<([0-9A-Fa-f\s]*)>\s*(<[0-9A-Fa-f\s]*>|\[[^\]]*\])/g)) {
      const lo = m[1]!.replace(/\s/g, '');
      const dst = m[3]!.startsWith('[')
        ? [...m[3]!.matchAll(/<([0-9A-Fa-f\s]*)>/g)].map((x) => hexBytes(x[1]!))
        : hexBytes(m[3]!.slice(1, -1));
      cmap.bfranges.push({ len: Math.max(1, lo.length / 2), lo: num(lo), hi: num(m[2]!.replace(/\s/g, '')), dst });
    }
  }
  return cmap;
}

function cmapDecoder(cmap: CMap, defaultLen: number): Decoder {
  return (bytes) => {
    let out = '';
    for (let i = 0; i < bytes.length; ) {
      let len = 0;
      let code = 0;
      for (let l = 1; l <= 4 && i + l <= bytes.length; l++) {
        const c = Number.parseInt(Buffer.from(bytes.subarray(i, i + l)).toString('hex'), 16);
        if (cmap.ranges.some((r) => r.len === l && c >= r.lo && c <= r.hi)) {
          len = l;
          code = c;
          break;
        }
      }
      if (!len) {
        len = Math.min(cmap.ranges.length ? Math.min(...cmap.ranges.map((r) => r.len)) : defaultLen, bytes.length - i);
        code = Number.parseInt(Buffer.from(bytes.subarray(i, i + len)).toString('hex'), 16);
      }
      i += len;
      const ch = cmap.chars.get(`${len}:${code}`);
      if (ch !== undefined) {
        out += ch;
        continue;
      }
      const r = cmap.bfranges.find((x) => x.len === len && code >= x.lo && code <= x.hi);
      if (!r) return null; // a code the font can't map to text: unreadable, not a guess
      if (Array.isArray(r.dst)) {
        const d = r.dst[code - r.lo];
        if (!d) return null;
        out += utf16be(d);
      } else {
        const d = Buffer.from(r.dst);
        if (d.length >= 2) d.writeUInt16BE((d.readUInt16BE(d.length - 2) + code - r.lo) & 0xffff, d.length - 2);
        else if (d.length === 1) d[0] = (d[0]! + code - r.lo) & 0xff;
        out += utf16be(d);
      }
    }
    return out;
  };
}

function fontDecoder(sr: StreamReader, font: PDFDict): Decoder | null {
  const subtype = nameAt(font, 'Subtype');
  const tu = entry(font, 'ToUnicode');
  if (tu instanceof PDFRawStream) {
    const data = streamData(sr, tu);
    if (!data) return null;
    return cmapDecoder(parseToUnicode(Buffer.from(data).toString('latin1')), subtype === 'Type0' ? 2 : 1);
  }
  if (subtype === 'Type0') return null; // CID codes without a ToUnicode map: not text we can read
  const enc = entry(font, 'Encoding');
  const baseFont = nameAt(font, 'BaseFont') ?? '';
  let baseName = nameText(enc);
  let diffs: PDFArray | undefined;
  if (enc instanceof PDFDict) {
    baseName = nameAt(enc, 'BaseEncoding');
    diffs = arrayAt(enc, 'Differences');
  }
  if (!baseName && !diffs && /Symbol|Dingbats/i.test(baseFont)) return null;
  let table: Array<string | null>;
  if (baseName === 'MacRomanEncoding') table = [...MAC_ROMAN];
  else if (baseName === 'PDFDocEncoding') table = [...PDFDOC];
  else table = [...WIN_ANSI]; // WinAnsi; StandardEncoding and none: the same for letters and digits
  if (diffs) {
    let code = 0;
    for (const item of arrayItems(sr.ctx, diffs)) {
      if (item instanceof PDFNumber) code = item.asNumber();
      else if (item instanceof PDFName && code >= 0 && code < 256) table[code++] = glyphChar(item.decodeText());
    }
  }
  return (bytes) => {
    let out = '';
    for (const b of bytes) {
      const ch = table[b];
      if (ch === null || ch === undefined) return null;
      out += ch;
    }
    return out;
  };
}

/** The text a form XObject shows (Tj/TJ/'/" operands), or null when it can't be decoded. */
function appearanceText(sr: StreamReader, stream: PDFRawStream, fallbackFonts: PDFDict | undefined, depth = 0): string | null {
  const data = streamData(sr, stream);
  if (!data) return null;
  const resources = dictAt(stream.dict, 'Resources');
  const fonts = (resources && dictAt(resources, 'Font')) ?? fallbackFonts;
  const decoders = new Map<string, Decoder | null>();
  let decoder: Decoder | null | undefined;
  let unreadableText = false;
  const lines: string[] = [];
  let cur = '';
  let lineY: number | undefined;
  const newline = (): void => {
    if (cur.trim()) lines.push(cur.trim());
    cur = '';
  };
  const show = (bytes: Uint8Array): void => {
    if (bytes.length === 0) return;
    const s = decoder ? decoder(bytes) : null;
    if (s === null) unreadableText = true;
    else cur += s;
  };
  const ok = scanContent(Buffer.from(data).toString('latin1'), (op, args) => {
    const last = args[args.length - 1];
    switch (op) {
      case 'BT':
        newline();
        lineY = 0;
        break;
      case 'Tf': {
        const name = args[args.length - 2];
        if (name?.t !== 'name') break;
        if (!decoders.has(name.v)) {
          const fd = fonts ? dictAt(fonts, name.v) : undefined;
          decoders.set(name.v, fd ? fontDecoder(sr, fd) : null);
        }
        decoder = decoders.get(name.v);
        break;
      }
      case 'Td':
      case 'TD': {
        const ty = args[1];
        if (ty?.t === 'num' && Math.abs(ty.v) > 0.01) newline();
        if (ty?.t === 'num' && lineY !== undefined) lineY += ty.v;
        break;
      }
      case 'Tm': {
        const f = args[5];
        if (f?.t === 'num') {
          if (lineY !== undefined && Math.abs(f.v - lineY) > 0.5) newline();
          lineY = f.v;
        }
        break;
      }
      case 'T*':
        newline();
        break;
      case "'":
      case '"':
        newline();
        if (last?.t === 'str') show(last.v);
        break;
      case 'Tj':
        if (last?.t === 'str') show(last.v);
        break;
      case 'TJ':
        if (last?.t === 'arr') {
          for (const item of last.v) {
            if (item.t === 'str') show(item.v);
            else if (item.t === 'num' && item.v < -250 && !cur.endsWith(' ')) cur += ' ';
          }
        }
        break;
      case 'Do': {
        if (depth >= 3 || last?.t !== 'name' || !resources) break;
        const xobjects = dictAt(resources, 'XObject');
        const x = xobjects ? entry(xobjects, last.v) : undefined;
        if (x instanceof PDFRawStream && nameAt(x.dict, 'Subtype') === 'Form') {
          const inner = appearanceText(sr, x, fonts, depth + 1);
          if (inner === null) unreadableText = true;
          else if (inner) {
            newline();
            cur = inner;
            newline();
          }
        }
        break;
      }
    }
  });
  newline();
  if (!ok || unreadableText) return null;
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Reader 1: pdf-lib (object level)

interface RawField {
  node: PDFDict;
  widgets: PDFDict[];
}

export async function readWithPdfLib(pdf: Uint8Array): Promise<AcroFormRead> {
  precheck(pdf);
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(pdf, {
      ignoreEncryption: true,
      updateMetadata: false,
      throwOnInvalidObject: false,
      parseSpeed: ParseSpeeds.Fast,
    });
  } catch (e) {
    throw new PdfReadError('malformed', `pdf-lib cannot parse the file: ${errorMessage(e)}`);
  }
  const ctx = doc.context;
  try {
    const encRaw = ctx.trailerInfo.Encrypt;
    const encDict = encRaw === undefined ? undefined : look(ctx, encRaw);
    const encrypted = encRaw !== undefined && encRaw !== PDFNull;
    let crypt: Crypt | null = null;
    if (encrypted) {
      if (!(encDict instanceof PDFDict)) throw unreadable('the /Encrypt dictionary is missing or damaged');
      const ids = look(ctx, ctx.trailerInfo.ID);
      const id0 = ids instanceof PDFArray ? stringBytes(look(ctx, ids.get(0))) : null;
      crypt = setupCrypt(encDict, id0 ?? new Uint8Array(0));
      await applyDecryption(ctx, crypt, encDict);
    }
    const catalog = look(ctx, ctx.trailerInfo.Root);
    if (!(catalog instanceof PDFDict)) throw new PdfReadError('malformed', 'pdf-lib finds no document catalog in the file');
    const acroForm = dictAt(catalog, 'AcroForm');
    const needAppearances = (() => {
      const v = acroForm ? entry(acroForm, 'NeedAppearances') : undefined;
      return v instanceof PDFBool && v.asBoolean();
    })();

    const raw = collectFields(ctx, catalog, acroForm);
    const sr: StreamReader = { ctx, crypt, refs: null };
    const drFonts = (() => {
      const dr = acroForm ? dictAt(acroForm, 'DR') : undefined;
      return dr ? dictAt(dr, 'Font') : undefined;
    })();
    const fields: Record<string, FieldValue> = {};
    for (const f of raw) {
      const name = fullName(f.node);
      if (!name || name in fields) continue;
      fields[name] = fieldValue(sr, f, name, drFonts);
    }
    return { reader: 'pdf-lib', fields, encrypted, needAppearances };
  } catch (e) {
    if (e instanceof PdfReadError) throw e;
    throw new PdfReadError('malformed', `pdf-lib cannot read the form: ${errorMessage(e)}`);
  }
}

function fullName(node: PDFDict): string {
  const parts: string[] = [];
  let cur: PDFDict | undefined = node;
  for (let depth = 0; cur && depth < MAX_DEPTH; depth++) {
    const t = textAt(cur, 'T');
    if (t !== null) parts.unshift(t);
    cur = dictAt(cur, 'Parent');
  }
  return parts.join('.');
}

/** The terminal field a widget (or field) belongs to: itself if it has /T, else an ancestor. */
function ownerField(d: PDFDict): PDFDict | undefined {
  let cur: PDFDict | undefined = d;
  for (let depth = 0; cur && depth < MAX_DEPTH; depth++) {
    if (hasKey(cur, 'T')) return cur;
    cur = dictAt(cur, 'Parent');
  }
  return undefined;
}

/**
 * Terminal fields from /AcroForm /Fields, plus every widget annotation on the pages whose field
 * is not reachable from there (pdf-lib's getFields() misses those).
 */
function collectFields(ctx: PDFContext, catalog: PDFDict, acroForm: PDFDict | undefined): RawField[] {
  const fields = new Map<PDFDict, RawField>();
  const ensure = (node: PDFDict): RawField => {
    let f = fields.get(node);
    if (!f) {
      if (fields.size >= MAX_FIELDS) throw new PdfReadError('malformed', `more than ${MAX_FIELDS} form fields`);
      const widgets = isWidget(node) ? [node] : [];
      for (const k of dictItems(ctx, arrayAt(node, 'Kids'))) if (!hasKey(k, 'T')) widgets.push(k);
      f = { node, widgets };
      fields.set(node, f);
    }
    return f;
  };
  const addWidget = (owner: PDFDict, w: PDFDict): void => {
    const f = ensure(owner);
    if (!f.widgets.includes(w)) f.widgets.push(w);
  };

  const visited = new Set<PDFDict>();
  const visit = (node: PDFDict, depth: number): void => {
    if (visited.has(node) || depth > MAX_DEPTH) return;
    visited.add(node);
    const kids = dictItems(ctx, arrayAt(node, 'Kids'));
    const subFields = kids.filter((k) => hasKey(k, 'T') || (hasKey(k, 'Kids') && !isWidget(k)));
    for (const k of subFields) visit(k, depth + 1);
    if (hasKey(node, 'T')) {
      if (subFields.length < kids.length || subFields.length === 0 || isWidget(node)) ensure(node);
    } else {
      const owner = ownerField(node);
      if (owner) for (const k of kids.filter((x) => !subFields.includes(x))) addWidget(owner, k);
      if (owner && isWidget(node)) addWidget(owner, node);
    }
  };
  for (const root of acroForm ? dictItems(ctx, arrayAt(acroForm, 'Fields')) : []) visit(root, 0);

  for (const page of pages(ctx, catalog)) {
    for (const annot of dictItems(ctx, arrayAt(page, 'Annots'))) {
      if (!isWidget(annot)) continue;
      const owner = ownerField(annot);
      if (owner) addWidget(owner, annot);
    }
  }
  return [...fields.values()];
}

function pages(ctx: PDFContext, catalog: PDFDict): PDFDict[] {
  const out: PDFDict[] = [];
  const seen = new Set<PDFDict>();
  const walk = (node: PDFDict | undefined, depth: number): void => {
    if (!node || seen.has(node) || depth > MAX_DEPTH || out.length >= MAX_PAGES) return;
    seen.add(node);
    const kids = arrayAt(node, 'Kids');
    if (kids && nameAt(node, 'Type') !== 'Page') for (const k of dictItems(ctx, kids)) walk(k, depth + 1);
    else out.push(node);
  };
  walk(dictAt(catalog, 'Pages'), 0);
  return out;
}

function fieldKind(node: PDFDict): FieldKind {
  const ft = nameText(inherited(node, 'FT'));
  const ffObj = inherited(node, 'Ff');
  const ff = ffObj instanceof PDFNumber ? ffObj.asNumber() : 0;
  switch (ft) {
    case 'Tx':
      return 'text';
    case 'Ch':
      return 'choice';
    case 'Sig':
      return 'signature';
    case 'Btn':
      if (ff & (1 << 16)) return 'button';
      return ff & (1 << 15) ? 'radio' : 'checkbox';
    default:
      return 'unknown';
  }
}

/** The widget's on-state: the first /AP /N (or /D) key other than /Off. */
function onState(w: PDFDict): string | null {
  const ap = dictAt(w, 'AP');
  for (const key of ['N', 'D']) {
    const states = ap ? entry(ap, key) : undefined;
    if (!(states instanceof PDFDict)) continue;
    for (const k of states.keys()) {
      const name = nameText(k);
      if (name && name !== 'Off') return name;
    }
  }
  return null;
}

/** A /V or /AS value read as a state name (a name, or a string some producers write). */
function stateName(obj: PDFObject | undefined): string | null {
  if (obj instanceof PDFName) return nameText(obj);
  const b = stringBytes(obj);
  return b ? decodePdfText(b) : null;
}

function fieldValue(sr: StreamReader, f: RawField, name: string, drFonts: PDFDict | undefined): FieldValue {
  const { node, widgets } = f;
  const kind = fieldKind(node);
  let v = inherited(node, 'V');
  if (v === undefined) v = widgets.map((w) => entry(w, 'V')).find((x) => x !== undefined);

  if (kind === 'checkbox' || kind === 'radio') {
    const vName = stateName(v);
    const selectedWidget = widgets.find((w) => {
      const as = nameText(entry(w, 'AS'));
      return as !== null && as !== 'Off';
    });
    const asOn = selectedWidget ? nameText(entry(selectedWidget, 'AS')) : null;
    if (kind === 'checkbox') {
      const checked = (vName !== null && vName !== 'Off') || asOn !== null;
      return { name, kind, value: checked, exportValue: asOn ?? (checked ? vName : null) };
    }
    const selected = vName !== null && vName !== 'Off' ? vName : asOn;
    let value: string | null = selected;
    const opt = inherited(node, 'Opt');
    if (selected !== null && opt instanceof PDFArray) {
      const options = arrayItems(sr.ctx, opt).map((o) => {
        const b = stringBytes(o instanceof PDFArray ? look(sr.ctx, o.get(0)) : o);
        return b ? decodePdfText(b) : null;
      });
      const kids = arrayItems(sr.ctx, arrayAt(node, 'Kids'));
      const idx = kids.findIndex((k) => k instanceof PDFDict && onState(k) === selected);
      if (idx >= 0 && idx < options.length && options[idx] != null) value = options[idx]!;
      else if (/^\d+$/.test(selected) && Number(selected) < options.length && options[Number(selected)] != null) {
        value = options[Number(selected)]!;
      }
    }
    return { name, kind, value, exportValue: selected };
  }

  if (kind === 'signature' || kind === 'button') return { name, kind, value: null };

  let value: string | null = null;
  if (v instanceof PDFArray) v = look(sr.ctx, v.get(0));
  const bytes = stringBytes(v);
  if (bytes) value = decodePdfText(bytes);
  else if (v instanceof PDFRawStream) {
    const data = streamData(sr, v); // a text stream (allowed for /V)
    value = data ? decodePdfText(data) : null;
  } else if (v instanceof PDFName) value = nameText(v);
  if (value === '') value = null;
  if (kind !== 'text') return { name, kind, value };

  // The text the widget shows. Password fields show bullets; formatted fields (a /AA /F
  // script) legitimately show something other than /V: neither is compared.
  const ffObj = inherited(node, 'Ff');
  const ff = ffObj instanceof PDFNumber ? ffObj.asNumber() : 0;
  const formatted = [node, ...widgets].some((d) => {
    const aa = dictAt(d, 'AA');
    return aa !== undefined && hasKey(aa, 'F');
  });
  let shown: string | null = null;
  if (!(ff & (1 << 13)) && !formatted) {
    for (const w of widgets) {
      const ap = dictAt(w, 'AP');
      const n = ap ? entry(ap, 'N') : undefined;
      if (!(n instanceof PDFRawStream)) continue;
      const text = appearanceText(sr, n, drFonts);
      if (text === null) continue;
      if (shown === null) shown = text;
      if (squash(text) !== squash(value ?? '')) {
        shown = text; // report the widget that disagrees
        break;
      }
    }
  }
  return { name, kind, value, appearanceText: shown };
}

// ---------------------------------------------------------------------------------------------
// Reader 2: pdf.js (legacy build, no worker thread)

type PdfjsModule = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjsModule: Promise<PdfjsModule> | null = null;
function loadPdfjs(): Promise<PdfjsModule> {
  pdfjsModule ??= withNativeBuiltins(async () => {
    process.on('unhandledRejection', dropStrayPdfjsRejection);
    const mod = await import('pdfjs-dist/legacy/build/pdf.mjs');
    // The fake worker pdf.js would import on first use, loaded now so its polyfills are undone too.
    const worker: unknown = await import(PDFJS_WORKER);
    (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker ??= worker;
    return mod;
  });
  return pdfjsModule;
}
const PDFJS_WORKER: string = 'pdfjs-dist/legacy/build/pdf.worker.mjs'; // no type declarations

/**
 * pdf.js's "worker" runs in this thread, and on a broken page tree it leaves a rejected promise
 * nobody awaits (Catalog.getPageDict fetches every kid of the top /Pages node ahead and awaits
 * only those it walks): an unhandled rejection, which would stop the process — the daemon, in
 * the middle of a message (fixtures/fuzz/regressions/extract-9eefc9302bd8.pdf). A rejection
 * raised in pdf.js's own code is dropped; any other keeps Node's default (thrown), unless
 * another listener handles it.
 */
function dropStrayPdfjsRejection(reason: unknown): void {
  if (reason instanceof Error && /[\\/]pdfjs-dist[\\/]/.test(reason.stack ?? '')) return;
  if (process.listenerCount('unhandledRejection') > 1) return;
  throw reason;
}

/**
 * The legacy build's core-js replaces built-ins for the whole process (Array.prototype.push,
 * JSON.parse, JSON.stringify, Function.prototype.toString) with slower JavaScript: after the
 * first Piano every JSON.stringify of the daemon was several times slower, and pdf.js's own
 * lexer pushes one character at a time. Node's natives are put back; what it adds (methods
 * Node 20 lacks, which pdf.js needs) stays.
 */
async function withNativeBuiltins<T>(load: () => Promise<T>): Promise<T> {
  const owners: object[] = [Object, Object.prototype, Array, Array.prototype, Function.prototype, JSON, Promise, Promise.prototype,
    Map.prototype, Set.prototype, WeakMap.prototype, String.prototype, Number, Math, Reflect, RegExp.prototype, ArrayBuffer.prototype,
    Uint8Array, Uint8Array.prototype, Object.getPrototypeOf(Uint8Array.prototype) as object];
  const saved = owners.map((o) => new Map(Reflect.ownKeys(o).map((k) => [k, Reflect.getOwnPropertyDescriptor(o, k)!])));
  try {
    return await load();
  } finally {
    owners.forEach((o, i) => {
      for (const [k, d] of saved[i]!) {
        const now = Reflect.getOwnPropertyDescriptor(o, k);
        if (!now || !Object.is(now.value, d.value) || now.get !== d.get || now.set !== d.set) Reflect.defineProperty(o, k, d);
      }
    });
  }
}

interface PdfjsField {
  id?: string;
  name?: string;
  type?: string;
  value?: unknown;
  exportValues?: unknown;
  kidIds?: string[];
}

interface PdfjsAnnotation {
  annotationType?: number;
  id?: string;
  fieldName?: string;
  fieldType?: string;
  fieldValue?: unknown;
  exportValue?: unknown;
  buttonValue?: unknown;
  checkBox?: boolean;
  radioButton?: boolean;
  pushButton?: boolean;
  combo?: boolean;
}

export async function readWithPdfjs(pdf: Uint8Array): Promise<AcroFormRead> {
  precheck(pdf);
  const pdfjs = await loadPdfjs();
  const task = pdfjs.getDocument({
    data: new Uint8Array(pdf), // a copy: pdf.js may take ownership of the buffer
    password: '',
    isEvalSupported: false,
    useWorkerFetch: false,
    disableFontFace: true,
    useSystemFonts: false,
    isOffscreenCanvasSupported: false,
    stopAtErrors: false,
    enableXfa: false,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
    // No standard-font data or CMaps: nothing read here depends on glyphs (values come from
    // /V), and pdf.js would read and parse font files per document only for the text layer of
    // each widget, which is discarded (most of its time on a filled form).
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PdfReadError('malformed', `pdf.js did not finish reading within ${PDFJS_TIMEOUT_MS / 1000} s`)), PDFJS_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([readPdfjsDocument(task.promise, pdf), timeout]);
  } catch (e) {
    if (e instanceof PdfReadError) throw e;
    const name = e instanceof Error ? e.name : '';
    if (name === 'PasswordException') throw unreadable('pdf.js: the PDF is encrypted with a user password');
    throw new PdfReadError('malformed', `pdf.js cannot read the file: ${errorMessage(e)}`);
  } finally {
    clearTimeout(timer);
    await task.destroy().catch(() => undefined);
  }
}

async function readPdfjsDocument(docPromise: Promise<import('pdfjs-dist/legacy/build/pdf.mjs').PDFDocumentProxy>, pdf: Uint8Array): Promise<AcroFormRead> {
  const doc = await docPromise;
  const meta = await doc.getMetadata().catch(() => null);
  const info = (meta?.info ?? {}) as { EncryptFilterName?: unknown };
  const encrypted = info.EncryptFilterName !== null && info.EncryptFilterName !== undefined;

  const groups = new Map<string, PdfjsField[]>();
  const objs = ((await doc.getFieldObjects()) ?? {}) as Record<string, PdfjsField[]>;
  for (const [name, entries] of Object.entries(objs)) if (Array.isArray(entries)) groups.set(name, entries);

  // Widgets not reachable from /AcroForm /Fields: getFieldObjects() misses them too.
  const pageCount = Math.min(doc.numPages, MAX_PAGES);
  const orphans = new Map<string, PdfjsField[]>();
  for (let i = 1; i <= pageCount; i++) {
    const page = await doc.getPage(i);
    const annots = (await page.getAnnotations({ intent: 'display' })) as PdfjsAnnotation[];
    for (const a of annots) {
      if (a.annotationType !== 20 || !a.fieldName || groups.has(a.fieldName)) continue;
      const type =
        a.fieldType === 'Tx' ? 'text'
        : a.fieldType === 'Ch' ? (a.combo ? 'combobox' : 'listbox')
        : a.fieldType === 'Sig' ? 'signature'
        : a.fieldType === 'Btn' ? (a.checkBox ? 'checkbox' : a.radioButton ? 'radiobutton' : 'button')
        : 'unknown';
      const list = orphans.get(a.fieldName) ?? [];
      list.push({
        id: a.id,
        name: a.fieldName,
        type,
        value: Array.isArray(a.fieldValue) && type !== 'listbox' && type !== 'combobox' ? a.fieldValue[0] : a.fieldValue,
        exportValues: a.checkBox ? a.exportValue : a.radioButton ? a.buttonValue : undefined,
      });
      orphans.set(a.fieldName, list);
    }
    page.cleanup();
  }
  for (const [name, list] of orphans) groups.set(name, list);

  let raw: RawFile | null = null;
  const rawFile = (): RawFile => (raw ??= new RawFile(pdf, encrypted));
  const fields: Record<string, FieldValue> = {};
  for (const [name, entries] of groups) {
    const fv = pdfjsFieldValue(name, entries, rawFile);
    if (fv) fields[name] = fv;
  }
  return { reader: 'pdfjs', fields, encrypted, needAppearances: rawFile().needAppearances() };
}

function pdfjsKind(type: string | undefined): FieldKind {
  switch (type) {
    case 'text':
      return 'text';
    case 'checkbox':
      return 'checkbox';
    case 'radiobutton':
      return 'radio';
    case 'combobox':
    case 'listbox':
      return 'choice';
    case 'signature':
      return 'signature';
    case 'button':
      return 'button';
    default:
      return 'unknown';
  }
}

function firstString(v: unknown): string | null {
  if (Array.isArray(v)) return firstString(v[0]);
  return typeof v === 'string' ? v : null;
}

function pdfjsFieldValue(name: string, entries: PdfjsField[], rawFile: () => RawFile): FieldValue | null {
  const parent = entries.find((e) => !e.type && Array.isArray(e.kidIds));
  let widgets = entries.filter((e) => e.type);
  if (widgets.length === 0) return null; // a non-terminal field
  if (parent?.kidIds) {
    const order = parent.kidIds;
    widgets = [...widgets].sort((x, y) => order.indexOf(x.id ?? '') - order.indexOf(y.id ?? ''));
  }
  const kind = pdfjsKind(widgets[0]!.type);
  switch (kind) {
    case 'checkbox': {
      const on = widgets.find((w) => {
        const v = firstString(w.value);
        return v !== null && v !== 'Off' && (typeof w.exportValues !== 'string' || v === w.exportValues);
      });
      const exportValue = on ? firstString(on.value) : null;
      return { name, kind, value: Boolean(on), exportValue };
    }
    case 'radio': {
      const values = widgets.map((w) => firstString(w.value)).filter((v): v is string => v !== null && v !== 'Off');
      const selected = values[0] ?? null;
      let value = selected;
      if (selected !== null) {
        const w = widgets.find((x) => x.exportValues === selected);
        const mapped = rawFile().radioExport(w?.id ?? widgets[0]!.id, selected, w !== undefined);
        if (mapped !== null) value = mapped;
      }
      return { name, kind, value, exportValue: selected };
    }
    case 'text':
    case 'choice':
    case 'unknown': {
      const v = firstString(widgets.map((w) => w.value).find((x) => x !== undefined && x !== null));
      return { name, kind, value: v === '' ? null : v };
    }
    default:
      return { name, kind, value: null };
  }
}

/** The objects of an unencrypted /Type /ObjStm (FlateDecode or unfiltered), best effort. */
function objectStream(text: string, o: PdfObject): PdfObject[] {
  const e = dictEntries(o.body);
  if (e.get('Type') !== '/ObjStm') return [];
  const filter = e.get('Filter') ?? '';
  if (filter && !/^\[?\s*\/(FlateDecode|Fl)\s*\]?$/.test(filter)) return [];
  if (e.has('DecodeParms')) return [];
  const n = Number(e.get('N'));
  const first = Number(e.get('First'));
  const kw = /stream\r?\n/g;
  kw.lastIndex = o.start;
  const m = kw.exec(text);
  if (!m || m.index > o.end) return [];
  const start = m.index + m[0].length;
  const length = /^\d+$/.test(e.get('Length') ?? '') ? Number(e.get('Length')) : -1;
  const stop = length >= 0 && start + length <= o.end ? start + length : text.lastIndexOf('endstream', o.end);
  if (stop < start || !Number.isInteger(n) || !Number.isInteger(first)) return [];
  let data: string;
  try {
    const raw = Buffer.from(text.slice(start, stop), 'latin1');
    data = (filter ? inflateSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: MAX_INFLATE }) : raw).toString('latin1');
  } catch {
    return [];
  }
  const header = data.slice(0, first).trim().split(/\s+/).map(Number);
  const out: PdfObject[] = [];
  for (let i = 0; i + 1 < header.length && i / 2 < n; i += 2) {
    const num = header[i]!;
    const from = first + header[i + 1]!;
    const to = i + 3 < header.length ? first + header[i + 3]! : data.length;
    if (!Number.isInteger(num) || !(from >= first && to >= from)) break;
    out.push({ num, gen: 0, start: -1, end: -1, body: data.slice(from, to).trim(), isStream: false });
  }
  return out;
}

/**
 * What the pdf.js API does not expose (/Opt of radio groups, /NeedAppearances), read from the
 * file's plain (uncompressed) object syntax: best effort, the latest definition of an object wins.
 */
class RawFile {
  private readonly objects = new Map<string, PdfObject>();
  constructor(
    pdf: Uint8Array,
    /** Strings in the raw syntax are still encrypted: /Opt can't be read there. */
    private readonly encrypted: boolean,
  ) {
    const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.length).toString('latin1');
    for (const o of objectsIn(text)) {
      this.objects.set(`${o.num} ${o.gen}`, o);
      // Only an /ObjStm holds objects: the other streams' dictionaries are not parsed for nothing.
      if (o.isStream && !encrypted && o.body.includes('/ObjStm')) for (const inner of objectStream(text, o)) this.objects.set(`${inner.num} 0`, inner);
    }
  }

  private entries(ref: string): Map<string, string> | null {
    const o = this.objects.get(ref);
    return o && !o.isStream ? dictEntries(o.body) : null;
  }

  private value(raw: string | undefined): string | undefined {
    const refs = raw ? refsIn(raw) : [];
    if (raw && refs.length === 1 && /^\d+\s+\d+\s+R$/.test(raw.trim())) return this.objects.get(refs[0]!)?.body;
    return raw;
  }

  needAppearances(): boolean {
    let result = false;
    for (const o of this.objects.values()) {
      // A /Type /Catalog has that text in its body: the others are not parsed (most of the file).
      const e = o.isStream || !o.body.includes('/Catalog') ? null : dictEntries(o.body);
      if (!e || e.get('Type') !== '/Catalog') continue;
      const af = this.value(e.get('AcroForm'));
      result = af ? dictEntries(af).get('NeedAppearances') === 'true' : false;
    }
    return result;
  }

  /** A radio group's export value for the selected on-state, through /Opt; null if unknown. */
  radioExport(widgetId: string | undefined, selected: string, widgetMatched: boolean): string | null {
    const m = /^(\d+)R(\d*)$/.exec(widgetId ?? '');
    if (!m || this.encrypted) return null;
    const widgetRef = `${m[1]} ${m[2] || 0}`;
    let ref: string | undefined = widgetRef;
    let kids: string[] | null = null;
    let opt: string | undefined;
    for (let depth = 0; ref && depth < MAX_DEPTH && opt === undefined; depth++) {
      const e = this.entries(ref);
      if (!e) return null;
      if (!kids && e.has('Kids')) kids = refsIn(this.value(e.get('Kids')) ?? '');
      opt = e.has('Opt') ? this.value(e.get('Opt')) : undefined;
      ref = refsIn(e.get('Parent') ?? '')[0];
    }
    if (!opt || !opt.trim().startsWith('[')) return null;
    const options: Array<string | null> = [];
    const s = opt.trim();
    for (let i = 1; i < s.length; ) {
      while (i < s.length && /\s/.test(s[i]!)) i++;
      if (i >= s.length || s[i] === ']') break;
      const end = skipValue(s, i);
      if (end <= i) break;
      let item = s.slice(i, end).trim();
      if (item.startsWith('[')) item = item.slice(1, skipValue(item, 1)).trim(); // [export display]
      options.push(literalString(item));
      i = end;
    }
    const idx = widgetMatched && kids ? kids.indexOf(widgetRef) : -1;
    if (idx >= 0 && idx < options.length && options[idx] != null) return options[idx]!;
    if (/^\d+$/.test(selected) && Number(selected) < options.length) return options[Number(selected)] ?? null;
    return null;
  }
}
