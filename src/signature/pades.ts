// PAdES: signatures inside a PDF (SPEC §7, SIGNATURES.md "PAdES and the attacks").
// Every check is made on the raw bytes: /ByteRange must be exactly four integers starting at
// 0 whose gap is exactly the /Contents hex string (else USF/SWA); the CMS digest covers the
// two ranges; whatever was appended after a signature is classified, and only validation
// data (DSS/VRI), document timestamps and further signatures are allowed (else ISA, shadow
// and certification attacks). Form values are to be read from the signed revision only.
import { dictEntries, literalString, nameValue, objectsIn, pdfDate, refsIn, type PdfObject } from '../pdf/syntax.js';
import { CmsError, parseSignedData, verifySignedData, type ProblemCode } from './cms.js';
import { readTlv } from './der.js';
import type { TrustStore } from './trust.js';
import { signatureReport, summarize, type SignatureReport, type VerifyReport } from './report.js';

export function isPdf(bytes: Buffer): boolean {
  return bytes.subarray(0, 1024).includes('%PDF-');
}

export interface PdfSignature {
  object: PdfObject;
  subFilter: string | null;
  byteRange: number[] | null;
  /** Why the byte range cannot be trusted, if it cannot. */
  byteRangeProblem: string | null;
  /** Offsets of the /Contents hex string: its '<' and just past its '>'. */
  contents: { start: number; end: number; der: Buffer } | null;
  signingTime: Date | null;
  fieldName: string | null;
  /** End of the revision this signature signs (c + d of its byte range). */
  revisionEnd: number | null;
}

const SIG_SUBFILTERS = /^(adbe\.pkcs7\.detached|ETSI\.CAdES\.detached|adbe\.pkcs7\.sha1)$/;
const TIMESTAMP_SUBFILTER = 'ETSI.RFC3161';

function isSignatureDict(entries: Map<string, string>): boolean {
  const type = nameValue(entries.get('Type'));
  const sub = nameValue(entries.get('SubFilter'));
  return type === 'Sig' || type === 'DocTimeStamp' || (sub !== null && (SIG_SUBFILTERS.test(sub) || sub === TIMESTAMP_SUBFILTER)) || entries.has('ByteRange');
}

/** The DER of a /Contents value: hex, padded with zeros after the CMS by the signer. */
function contentsDer(hex: string): Buffer {
  const bytes = Buffer.from(hex.replace(/\s+/g, ''), 'hex');
  if (bytes.length === 0) return bytes;
  try {
    return bytes.subarray(0, readTlv(bytes, 0).end);
  } catch {
    return bytes;
  }
}

export function findSignatures(pdf: Buffer): PdfSignature[] {
  const text = pdf.toString('latin1');
  const objects = objectsIn(text);
  const sigs: PdfSignature[] = [];
  for (const o of objects) {
    const e = dictEntries(o.body);
    if (!isSignatureDict(e)) continue;
    // /Contents position in the file: the first top-level /Contents of this dictionary.
    let contents: PdfSignature['contents'] = null;
    const bodyAt = text.indexOf(o.body, o.start);
    const cm = /\/Contents\s*<([0-9A-Fa-f\s]*)>/.exec(o.body);
    if (cm && bodyAt >= 0) {
      const lt = bodyAt + cm.index + cm[0].indexOf('<');
      const gt = bodyAt + cm.index + cm[0].length;
      contents = { start: lt, end: gt, der: contentsDer(cm[1]!) };
    }
    let byteRange: number[] | null = null;
    let byteRangeProblem: string | null = null;
    const br = e.get('ByteRange');
    if (br === undefined) byteRangeProblem = 'no /ByteRange';
    else {
      const m = /^\[\s*([^\]]*)\]$/.exec(br);
      const parts = m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
      if (!m || parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) byteRangeProblem = `/ByteRange ${br} is not four non-negative integers`;
      else byteRange = parts.map(Number);
    }
    if (byteRange) {
      const [a, b, c, d] = byteRange as [number, number, number, number];
      if (a !== 0) byteRangeProblem = '/ByteRange does not start at 0';
      else if (c < b || c + d > pdf.length) byteRangeProblem = '/ByteRange points outside the file';
      else if (!contents || contents.start !== b || contents.end !== c) {
        byteRangeProblem = 'the /ByteRange gap is not exactly the /Contents of this signature (signature wrapping)';
      }
    }
    if (!contents || contents.der.length === 0) byteRangeProblem ??= 'empty or missing /Contents';
    const field = objects.find((f) => {
      const fe = dictEntries(f.body);
      return nameValue(fe.get('FT')) === 'Sig' && refsIn(fe.get('V') ?? '').includes(`${o.num} ${o.gen}`);
    });
    sigs.push({
      object: o,
      subFilter: nameValue(e.get('SubFilter')),
      byteRange,
      byteRangeProblem,
      contents,
      signingTime: pdfDate(literalString(e.get('M'))),
      fieldName: field ? literalString(dictEntries(field.body).get('T')) : null,
      revisionEnd: byteRange && !byteRangeProblem ? byteRange[2]! + byteRange[3]! : null,
    });
  }
  return sigs;
}

/** Does the signed revision end here, at a "%%EOF" (allowing its end-of-line)? */
function endsAtEof(text: string, end: number): boolean {
  return /%%EOF[\r\n]{0,2}$/.test(text.slice(Math.max(0, end - 8), end));
}

// New objects an update may add: what signatures, timestamps and validation data consist of.
// Anything else becomes visible only through a changed existing object, which is checked.
const ALLOWED_NEW_TYPES = new Set(['Sig', 'DocTimeStamp', 'DSS', 'VRI', 'XObject', 'Font', 'FontDescriptor', 'Encoding']);
const ANNOTATION_SUBTYPES = new Set([
  'Text', 'Link', 'FreeText', 'Line', 'Square', 'Circle', 'Polygon', 'PolyLine', 'Highlight', 'Underline', 'Squiggly',
  'StrikeOut', 'Stamp', 'Caret', 'Ink', 'Popup', 'FileAttachment', 'Sound', 'Movie', 'Screen', 'PrinterMark', 'TrapNet',
  'Watermark', '3D', 'Redact', 'RichMedia',
]);

/**
 * Whatever was appended after `revEnd`: null when it only adds validation data, document
 * timestamps or further signatures; else the reason it counts as a modification.
 */
export function classifyUpdates(pdf: Buffer, revEnd: number): string | null {
  const text = pdf.toString('latin1');
  const tail = text.slice(revEnd);
  if (tail.trim() === '') return null;
  if (!/%%EOF/.test(tail)) return 'bytes after the signed revision that are not an incremental update';
  const before = new Map<number, PdfObject>();
  for (const o of objectsIn(text, 0, revEnd)) before.set(o.num, o);
  const added = objectsIn(text, revEnd);
  const addedNums = new Set(added.filter((o) => !before.has(o.num)).map((o) => o.num));
  const isSigField = (num: number) => {
    const o = added.find((x) => x.num === num);
    if (!o) return false;
    const e = dictEntries(o.body);
    return nameValue(e.get('FT')) === 'Sig' || (nameValue(e.get('Subtype')) === 'Widget' && nameValue(e.get('FT')) === 'Sig');
  };
  // Entries of an xref table in the update must point into the update itself: an entry
  // pointing back into the signed bytes swaps in an object prepared before signing (shadow).
  for (const sec of tail.matchAll(/\bxref\s+([\s\S]*?)\btrailer\b/g)) {
    const lines = sec[1]!.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
    let objNum = 0;
    for (const line of lines) {
      const head = /^(\d+)\s+(\d+)$/.exec(line);
      if (head) {
        objNum = Number(head[1]);
        continue;
      }
      const entry = /^(\d{10})\s+(\d{5})\s+([nf])$/.exec(line);
      if (!entry) continue;
      const num = objNum++;
      if (entry[3] === 'n' && Number(entry[1]) < revEnd) return `the update re-points object ${num} to bytes inside the signed revision`;
      if (entry[3] === 'f' && before.has(num)) return `the update deletes object ${num}`;
    }
  }
  if (/\/Type\s*\/XRef\b/.test(tail)) return 'the update uses a cross-reference stream, which pecdesk does not analyse';
  // A new trailer may not point the document at another catalog, info or encryption
  // dictionary: that swaps what is shown without touching a signed byte.
  const signedTrailer = lastTrailer(text.slice(0, revEnd));
  for (const t of tail.matchAll(/\btrailer\s*(<<[\s\S]*?>>)\s*startxref/g)) {
    const e = dictEntries(t[1]!);
    for (const k of ['Root', 'Info', 'Encrypt']) {
      if ((e.get(k) ?? null) !== (signedTrailer.get(k) ?? null)) return `the update changes the trailer's /${k}`;
    }
  }
  for (const o of added) {
    const e = dictEntries(o.body);
    const type = nameValue(e.get('Type'));
    const subtype = nameValue(e.get('Subtype'));
    const prev = before.get(o.num);
    if (!prev) {
      if (subtype === 'Widget' || e.has('FT')) {
        if (!isSigField(o.num)) return 'the update adds a form field';
        continue;
      }
      if (type === 'Annot' || (subtype && ANNOTATION_SUBTYPES.has(subtype))) return `the update adds a ${subtype ?? 'new'} annotation`;
      if (type && !ALLOWED_NEW_TYPES.has(type)) return `the update adds a /${type} object`;
      continue;
    }
    const why = allowedRedefinition(prev, o, addedNums, isSigField);
    if (why) return why;
  }
  return null;
}

function lastTrailer(text: string): Map<string, string> {
  const all = [...text.matchAll(/\btrailer\s*(<<[\s\S]*?>>)\s*startxref/g)];
  return all.length ? dictEntries(all[all.length - 1]![1]!) : new Map();
}

/** An object of the signed revision redefined by a later update: only harmless changes pass. */
function allowedRedefinition(prev: PdfObject, next: PdfObject, addedNums: Set<number>, isSigField: (n: number) => boolean): string | null {
  const a = dictEntries(prev.body);
  const b = dictEntries(next.body);
  const type = nameValue(b.get('Type')) ?? nameValue(a.get('Type'));
  const keys = new Set([...a.keys(), ...b.keys()]);
  const onlyNewSigRefs = (oldV: string | undefined, newV: string | undefined) => {
    const o = refsIn(oldV ?? '');
    const n = refsIn(newV ?? '');
    return o.every((r) => n.includes(r)) && n.filter((r) => !o.includes(r)).every((r) => {
      const num = Number(r.split(' ')[0]);
      return addedNums.has(num) && isSigField(num);
    });
  };
  for (const k of keys) {
    if (a.get(k) === b.get(k)) continue;
    if (type === 'Catalog' && (k === 'DSS' || k === 'Perms')) continue;
    if (type === 'Catalog' && k === 'AcroForm' && !a.has(k)) continue;
    if (type === 'Page' && k === 'Annots' && onlyNewSigRefs(a.get(k), b.get(k))) continue;
    if ((a.has('Fields') || b.has('Fields')) && k === 'Fields' && onlyNewSigRefs(a.get(k), b.get(k))) continue;
    if ((a.has('Fields') || b.has('Fields')) && (k === 'SigFlags' || k === 'DR' || k === 'DA')) continue;
    return `the update changes /${k} of object ${next.num}${type ? ` (/${type})` : ''}`;
  }
  // Streams (page contents, appearances, images) are what is shown: any redefinition changes it.
  if (prev.isStream || next.isStream) return `the update replaces the content of object ${next.num}`;
  return null;
}

export function verifyPdf(file: string, pdf: Buffer, trust: TrustStore, at: Date): VerifyReport {
  const text = pdf.toString('latin1');
  const sigs = findSignatures(pdf).filter((s) => s.subFilter !== TIMESTAMP_SUBFILTER);
  if (sigs.length === 0) return summarize(file, 'none', at, [], ['no-signature'], pdf);
  const reports: SignatureReport[] = [];
  const lastEnd = Math.max(...sigs.map((s) => s.revisionEnd ?? 0));
  sigs.forEach((s, i) => {
    const problems: ProblemCode[] = [];
    const details: string[] = [];
    const fail = (p: ProblemCode, d: string) => {
      if (!problems.includes(p)) problems.push(p);
      details.push(d);
    };
    let base: SignatureReport | null = null;
    if (s.byteRangeProblem || !s.byteRange || !s.contents) {
      fail('byte-range-invalid', s.byteRangeProblem ?? 'no usable /ByteRange');
    } else {
      const [, b, c, d] = s.byteRange as [number, number, number, number];
      const revEnd = c + d;
      if (revEnd !== pdf.length && !endsAtEof(text, revEnd)) {
        fail('byte-range-invalid', 'the signed range does not end at the end of a revision (%%EOF)');
      } else {
        const why = classifyUpdates(pdf, revEnd);
        if (why) {
          if (/not an incremental update/.test(why) && revEnd === lastEnd) fail('byte-range-invalid', why);
          else fail('modified-after-signing', why);
        }
      }
      try {
        const sd = parseSignedData(s.contents.der);
        const signed = Buffer.concat([pdf.subarray(0, b), pdf.subarray(c, c + d)]);
        // adbe.pkcs7.detached predates the ESS binding requirement (PAdES part 2): a warning there.
        const essRequired = !/^adbe\.pkcs7\./.test(s.subFilter ?? '');
        const v = verifySignedData(sd, { detachedContent: signed, trust, document: true, essRequired, validationTime: () => at })[0];
        if (!v) fail('malformed', 'the signature has no signer');
        else base = signatureReport(v, i + 1);
        if (sd.signers.length > 1) fail('malformed', 'a PAdES signature must have exactly one signer');
      } catch (e) {
        fail('malformed', e instanceof CmsError ? e.message : `unreadable signature: ${(e as Error).message}`);
      }
    }
    const r: SignatureReport = base ?? {
      signer: { commonName: null, givenName: null, surname: null, fiscalCode: null, organization: null },
      signingTime: null, valid: false, problems: [], warnings: [], details: [], crlDistributionPoints: [], layer: i + 1,
    };
    r.problems = [...new Set([...r.problems, ...problems])];
    r.details = [...r.details, ...details];
    r.valid = r.problems.length === 0;
    // PAdES baseline: the signing time is the dictionary's /M (the CMS carries none).
    r.signingTime ??= s.signingTime?.toISOString() ?? null;
    r.field = s.fieldName;
    r.coversWholeDocument = s.revisionEnd === pdf.length || (s.revisionEnd !== null && text.slice(s.revisionEnd).trim() === '');
    reports.push(r);
  });
  return summarize(file, 'pades', at, reports, [], pdf);
}
