// Limits on a PDF read as a form (config `limits.maxPdfBytes`, `maxPdfPages`, `maxPdfObjects`):
// measured on the raw bytes and the cross-reference before either reader parses the file, so a
// PDF over them costs next to nothing and is refused with a finding that names the limit.
import { RevisionSet, type Revision } from './cos.js';

export interface PdfLimits {
  maxPdfBytes: number;
  maxPdfPages: number;
  maxPdfObjects: number;
}

/**
 * Far above any real Piano (a form of a few pages, well under 1 MB, a few hundred objects; with
 * bulky annexes a few MB and pages): 30 MiB, 2,000 pages (bench/extract.mjs's 5 MB stress
 * Piano has about 1,200) and 200,000 objects bound the readers' time and memory.
 */
export const DEFAULT_PDF_LIMITS: PdfLimits = { maxPdfBytes: 30 * 1024 * 1024, maxPdfPages: 2000, maxPdfObjects: 200_000 };

export const PDF_LIMIT_CODES = ['pdf-too-large', 'pdf-too-many-pages', 'pdf-too-many-objects'] as const;
export type PdfLimitCode = (typeof PDF_LIMIT_CODES)[number];

/** Which limit a file exceeds: the configuration key, its value, and the file's figure. */
export interface PdfLimitExceeded {
  setting: `limits.${keyof PdfLimits}`;
  max: number;
  /** Objects: counting stops just past the limit, so a lower bound. */
  found: number;
}

export interface PdfLimitBreach {
  code: PdfLimitCode;
  limit: PdfLimitExceeded;
}

const breach = (code: PdfLimitCode, key: keyof PdfLimits, max: number, found: number): PdfLimitBreach => ({
  code,
  limit: { setting: `limits.${key}`, max, found },
});

/** The size check alone: for the file as it arrived, before its signature is even parsed. */
export function pdfSizeBreach(size: number, limits: PdfLimits): PdfLimitBreach | null {
  return size > limits.maxPdfBytes ? breach('pdf-too-large', 'maxPdfBytes', limits.maxPdfBytes, size) : null;
}

const isWs = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const DELIMITER = new Set([...'()<>[]{}/%'].map((c) => c.charCodeAt(0)));
const isRegular = (c: number | undefined) => c !== undefined && !isWs(c) && !DELIMITER.has(c);
const OBJ = Buffer.from('obj');
const SIZE = Buffer.from('/Size');
const OBJSTM = Buffer.from('/ObjStm');

/** Is the "obj" at p the keyword of a header "N G obj" (not "endobj", not inside a word)? */
function isObjHeader(b: Buffer, p: number): boolean {
  if (isRegular(b[p + 3])) return false;
  let i = p - 1;
  if (!isWs(b[i])) return false;
  while (i >= 0 && isWs(b[i])) i--;
  if (!isDigit(b[i])) return false;
  while (i >= 0 && isDigit(b[i])) i--;
  if (!isWs(b[i])) return false;
  while (i >= 0 && isWs(b[i])) i--;
  return isDigit(b[i]);
}

/** The unsigned integer written at p (after whitespace), or null. */
function integerAt(b: Buffer, p: number): number | null {
  while (p < b.length && isWs(b[p])) p++;
  let n = 0;
  let digits = 0;
  for (; p < b.length && isDigit(b[p]) && digits < 16; p++, digits++) n = n * 10 + (b[p]! - 0x30);
  return digits ? n : null;
}

/**
 * How many objects a reader may have to parse: the objects written in the file ("N G obj"
 * headers, every revision) plus those each object stream says it holds (/N — the readers parse
 * that many), or the largest /Size a trailer or cross-reference stream declares (less object 0),
 * whichever is more. Buffer.indexOf passes, no tokenising; with `cap`, it stops once past it.
 */
export function countPdfObjects(pdf: Buffer, cap = Infinity): number {
  const headers: number[] = [];
  for (let p = pdf.indexOf(OBJ); p >= 0 && headers.length <= cap; p = pdf.indexOf(OBJ, p + 3)) if (isObjHeader(pdf, p)) headers.push(p);
  let packed = 0;
  // Each object stream's /N, read once from its dictionary: the nearest header before an
  // "/ObjStm" (within 1 KiB) up to "stream" or the next header. Linear however often the
  // keyword is repeated.
  let h = -1;
  let done = -1;
  for (let p = pdf.indexOf(OBJSTM); p >= 0 && headers.length + packed <= cap; p = pdf.indexOf(OBJSTM, p + OBJSTM.length)) {
    while (h + 1 < headers.length && headers[h + 1]! < p) h++;
    if (h < 0 || h === done || p - headers[h]! > 1024) continue;
    done = h;
    const end = Math.min(h + 1 < headers.length ? headers[h + 1]! : pdf.length, headers[h]! + 2048);
    const dict = pdf.toString('latin1', headers[h]!, end);
    const n = /\/N[\s\0]+(\d{1,15})(?!\d)(?![\s\0]+\d+[\s\0]+R)/.exec(dict.slice(0, dict.includes('stream') ? dict.indexOf('stream') : dict.length));
    if (n) packed += Number(n[1]);
  }
  let declared = 0;
  for (let p = pdf.indexOf(SIZE); p >= 0 && declared <= cap; p = pdf.indexOf(SIZE, p + SIZE.length)) {
    if (isRegular(pdf[p + SIZE.length])) continue; // "/SizeX"
    declared = Math.max(declared, (integerAt(pdf, p + SIZE.length) ?? 1) - 1); // /Size counts object 0, the free-list head
  }
  return Math.max(headers.length + packed, declared);
}

/**
 * The page count: the page tree's /Count in the last revision (what the readers start from; a
 * /Count that lies low only makes them read less, and every page is an object, so the object
 * limit still bounds them). When the cross-reference cannot be read: the page dictionaries
 * written plainly in the file. `rev`: the last revision when the caller has parsed it already.
 */
export function countPdfPages(pdf: Buffer, rev?: Revision | null): number {
  const last = rev === undefined ? new RevisionSet(pdf).last() : rev;
  if (last) {
    try {
      const pages = last.dict(last.dict(last.trailer.get('Root'))?.get('Pages'));
      const count = last.resolve(pages?.get('Count'));
      if (typeof count === 'number' && Number.isInteger(count) && count >= 0) return count;
    } catch {
      /* unreadable page tree: counted below */
    }
  }
  const text = pdf.toString('latin1');
  const re = /\/Type[\s\0]*\/Page(?![A-Za-z0-9#])/g;
  let pages = 0;
  while (re.exec(text)) pages++;
  return pages;
}

/** The object check alone: a raw scan, meaningful on any bytes (a DER .p7m shows its PDF's headers). */
export function pdfObjectsBreach(bytes: Buffer, limits: PdfLimits): PdfLimitBreach | null {
  const objects = countPdfObjects(bytes, limits.maxPdfObjects);
  return objects > limits.maxPdfObjects ? breach('pdf-too-many-objects', 'maxPdfObjects', limits.maxPdfObjects, objects) : null;
}

/**
 * The first limit the PDF exceeds, else null: size, then objects, then pages (the page count
 * parses the cross-reference, which the object count has bounded by then).
 */
export function pdfLimitBreach(pdf: Buffer, limits: PdfLimits, rev?: Revision | null): PdfLimitBreach | null {
  const early = pdfSizeBreach(pdf.length, limits) ?? pdfObjectsBreach(pdf, limits);
  if (early) return early;
  const pages = countPdfPages(pdf, rev);
  return pages > limits.maxPdfPages ? breach('pdf-too-many-pages', 'maxPdfPages', limits.maxPdfPages, pages) : null;
}
