// PAdES: signatures inside a PDF (SPEC §7, SIGNATURES.md "PAdES and the attacks").
// Every check is made on the raw bytes: /ByteRange must be exactly four integers starting at
// 0 whose gap is exactly the /Contents hex string (else USF/SWA); the CMS digest covers the
// two ranges; the revisions appended after a signature are compared object by object with
// the signed one (modifications.ts: only validation data, document timestamps, further
// signatures and what the certification's DocMDP permits pass — else ISA, shadow and
// certification attacks). Form values are to be read from the signed revision only.
import { decodeStream, PdfRef, PdfStream, PdfString, RevisionSet, type PdfValue, type Revision } from '../pdf/cos.js';
import { dictEntries, literalString, nameValue, objectsIn, pdfDate, refsIn } from '../pdf/syntax.js';
import { CmsError, parseSignedData, verifySignedData, type EmbeddedValidationData, type ProblemCode } from './cms.js';
import { parseOcspResponse, type OcspInfo } from './ocsp.js';
import { parseCrl, type CrlInfo } from './revocation.js';
import { verifyTimestampToken, type TimestampReport } from './timestamp.js';
import { certInfo, type CertInfo } from './x509.js';
import { readTlv } from './der.js';
import type { TrustStore } from './trust.js';
import { docMdpOf, reviewModifications, type Coverage, type ModificationLevel, type ModificationPolicy } from './modifications.js';
import { baselineLevel, signatureReport, signedDocuments, summarize, type SignatureReport, type VerifyReport } from './report.js';
import { problemLog } from './problem-log.js';

export function isPdf(bytes: Buffer): boolean {
  return bytes.subarray(0, 1024).includes('%PDF-');
}

export interface PdfSignature {
  /** Object number of the signature dictionary (null when found by text only). */
  num: number | null;
  subFilter: string | null;
  /** /Type: Sig, or DocTimeStamp for a document timestamp. */
  type: string | null;
  byteRange: number[] | null;
  /** Why the byte range cannot be trusted, if it cannot. */
  byteRangeProblem: string | null;
  /** Offsets of the /Contents hex string: its '<' and just past its '>'. */
  contents: { start: number; end: number; der: Buffer } | null;
  signingTime: Date | null;
  fieldName: string | null;
  /** End of the revision this signature signs (c + d of its byte range). */
  revisionEnd: number | null;
  /** DocMDP /P when this is a certification signature. */
  docMdp: 1 | 2 | 3 | null;
}

const SIG_SUBFILTERS = /^(adbe\.pkcs7\.detached|ETSI\.CAdES\.detached|adbe\.pkcs7\.sha1)$/;
const TIMESTAMP_SUBFILTER = 'ETSI.RFC3161';

function isSignatureDict(entries: Map<string, string>): boolean {
  const type = nameValue(entries.get('Type'));
  const sub = nameValue(entries.get('SubFilter'));
  return type === 'Sig' || type === 'DocTimeStamp' || (sub !== null && (SIG_SUBFILTERS.test(sub) || sub === TIMESTAMP_SUBFILTER)) || entries.has('ByteRange');
}

/** The DER of a /Contents value: hex, padded with zeros after the CMS by the signer. */
function contentsDer(bytes: Buffer): Buffer {
  if (bytes.length === 0) return bytes;
  try {
    return bytes.subarray(0, readTlv(bytes, 0).end);
  } catch {
    return bytes;
  }
}

/** The byte range's own checks: four integers from 0 whose gap is exactly this /Contents. */
function byteRangeCheck(pdf: Buffer, byteRange: number[] | null, contents: PdfSignature['contents'], raw: string | null): string | null {
  if (raw === null) return 'no /ByteRange';
  if (!byteRange) return `/ByteRange ${raw} is not four non-negative integers`;
  const [a, b, c, d] = byteRange as [number, number, number, number];
  if (a !== 0) return '/ByteRange does not start at 0';
  if (c < b || c + d > pdf.length) return '/ByteRange points outside the file';
  if (!contents || contents.start !== b || contents.end !== c) return 'the /ByteRange gap is not exactly the /Contents of this signature (signature wrapping)';
  if (contents.der.length === 0) return 'empty or missing /Contents';
  return null;
}

/**
 * The signatures of the current document, as viewers find them: the signature fields of the
 * last revision's /AcroForm with a value. Null when that revision cannot be read (then the
 * text scan below stands in, and any later update is unanalysable anyway).
 */
function signaturesByFields(pdf: Buffer, rev: Revision | null): PdfSignature[] | null {
  if (!rev) return null;
  try {
    const catalog = rev.dict(rev.trailer.get('Root'));
    if (!catalog) return null;
    const certification = rev.dict(catalog.get('Perms'))?.get('DocMDP');
    const fields = rev.resolve(rev.dict(catalog.get('AcroForm'))?.get('Fields'));
    const sigs: PdfSignature[] = [];
    const seen = new Set<number>();
    const values = new Set<number>();
    const walk = (ref: PdfValue, prefix: string, inheritedFt: string | null, depth: number) => {
      const d = rev.dict(ref);
      if (!d || depth > 32 || (ref instanceof PdfRef && seen.has(ref.num))) return;
      if (ref instanceof PdfRef) seen.add(ref.num);
      const t = d.get('T');
      const name = t instanceof PdfString ? (prefix ? `${prefix}.${t.text()}` : t.text()) : prefix;
      const ft = d.name('FT') ?? inheritedFt;
      const kids = rev.resolve(d.get('Kids'));
      if (Array.isArray(kids)) for (const k of kids) walk(k, name, ft, depth + 1);
      const v = d.get('V');
      // One report per signature value, however many fields point at it.
      if (ft !== 'Sig' || !(v instanceof PdfRef) || values.has(v.num)) return;
      values.add(v.num);
      const entry = rev.entries.get(v.num);
      const sd = rev.dict(v);
      if (!sd) return;
      const contentsValue = sd.get('Contents');
      // The /Contents offsets only mean something for a dictionary stored as it stands in the file.
      const contents = contentsValue instanceof PdfString && entry?.type === 'offset'
        ? { start: contentsValue.start, end: contentsValue.end, der: contentsDer(contentsValue.bytes) }
        : null;
      const br = sd.get('ByteRange');
      const brValue = Array.isArray(br) && br.length === 4 && br.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0) ? (br as number[]) : null;
      const brRaw = br === undefined ? null : Array.isArray(br) ? `[${br.map((x) => (typeof x === 'number' ? x : '?')).join(' ')}]` : '(not an array)';
      const byteRangeProblem = byteRangeCheck(pdf, brValue, contents, brRaw);
      const m = sd.get('M');
      sigs.push({
        num: v.num,
        subFilter: sd.name('SubFilter'),
        type: sd.name('Type'),
        byteRange: brValue,
        byteRangeProblem,
        contents,
        signingTime: m instanceof PdfString ? pdfDate(m.text()) : null,
        fieldName: name || null,
        revisionEnd: brValue && !byteRangeProblem ? brValue[2]! + brValue[3]! : null,
        docMdp: certification instanceof PdfRef && certification.num === v.num ? docMdpOf(rev, sd) ?? 2 : null,
      });
    };
    if (Array.isArray(fields)) for (const f of fields) walk(f, '', null, 0);
    return sigs.sort((a, b) => (a.revisionEnd ?? Infinity) - (b.revisionEnd ?? Infinity));
  } catch {
    return null;
  }
}

/** Signature dictionaries found by scanning the text: for files whose cross-reference cannot be read. */
function signaturesByText(pdf: Buffer): PdfSignature[] {
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
      contents = { start: lt, end: gt, der: contentsDer(Buffer.from(cm[1]!.replace(/\s+/g, ''), 'hex')) };
    }
    const br = e.get('ByteRange');
    const m = br === undefined ? null : /^\[\s*([^\]]*)\]$/.exec(br);
    const parts = m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
    const byteRange = parts.length === 4 && parts.every((p) => /^\d+$/.test(p)) ? parts.map(Number) : null;
    const byteRangeProblem = byteRangeCheck(pdf, byteRange, contents, br ?? null);
    const field = objects.find((f) => {
      const fe = dictEntries(f.body);
      return nameValue(fe.get('FT')) === 'Sig' && refsIn(fe.get('V') ?? '').includes(`${o.num} ${o.gen}`);
    });
    sigs.push({
      num: null,
      subFilter: nameValue(e.get('SubFilter')),
      type: nameValue(e.get('Type')),
      byteRange,
      byteRangeProblem,
      contents,
      signingTime: pdfDate(literalString(e.get('M'))),
      fieldName: field ? literalString(dictEntries(field.body).get('T')) : null,
      revisionEnd: byteRange && !byteRangeProblem ? byteRange[2]! + byteRange[3]! : null,
      docMdp: null,
    });
  }
  return sigs;
}

export function findSignatures(pdf: Buffer, rev: Revision | null = new RevisionSet(pdf).last()): PdfSignature[] {
  return signaturesByFields(pdf, rev) ?? signaturesByText(pdf);
}

/** The bytes of the revision the signatures sign (the last one, if several; document timestamps aside). */
export function signedRevisionOf(pdf: Buffer, sigs: PdfSignature[]): Buffer {
  const ends = sigs.filter((s) => s.subFilter !== TIMESTAMP_SUBFILTER && s.revisionEnd !== null).map((s) => s.revisionEnd!);
  return ends.length ? pdf.subarray(0, Math.max(...ends)) : pdf;
}

/**
 * The document security store of the current revision: certificates and CRLs for long-term
 * validation, and where it was last written (what a later document timestamp must cover).
 */
function dssOf(rev: Revision | null): { data: EmbeddedValidationData; offset: number } | null {
  if (!rev) return null;
  try {
    const catalog = rev.dict(rev.trailer.get('Root'));
    const dssRef = catalog?.get('DSS');
    const dss = rev.dict(dssRef);
    if (!dss) return null;
    const streams = (key: string) => {
      const list = rev.resolve(dss.get(key));
      return (Array.isArray(list) ? list : []).flatMap((v) => {
        const st = rev.resolve(v);
        if (!(st instanceof PdfStream)) return [];
        try {
          return [decodeStream(st)];
        } catch {
          return [];
        }
      });
    };
    const certs: CertInfo[] = [];
    for (const der of streams('Certs')) {
      try {
        certs.push(certInfo(der));
      } catch {
        /* an unreadable entry helps nobody; the path decides */
      }
    }
    const crls: CrlInfo[] = [];
    for (const der of streams('CRLs')) {
      try {
        crls.push(parseCrl(der, 'PDF DSS'));
      } catch {
        /* idem */
      }
    }
    const ocsps: OcspInfo[] = [];
    for (const der of streams('OCSPs')) {
      try {
        ocsps.push(parseOcspResponse(der, 'PDF DSS'));
      } catch {
        /* idem */
      }
    }
    // Where the DSS (or, inline, the catalog holding it) was written in the file.
    const holder = dssRef instanceof PdfRef ? dssRef.num : num(rev.trailer.get('Root'));
    const e = holder === null ? undefined : rev.entries.get(holder);
    const offset = e?.type === 'offset' ? e.offset : e?.type === 'compressed' ? (rev.entries.get(e.stream) as { offset?: number } | undefined)?.offset ?? rev.end : rev.end;
    return { data: { certs, crls, ocsps }, offset };
  } catch {
    return null;
  }
}

const num = (v: PdfValue | undefined) => (v instanceof PdfRef ? v.num : null);

interface DocumentTimestamp {
  revisionEnd: number;
  report: TimestampReport;
  genTime: Date | null;
}

/**
 * Document timestamps, newest first: the newest is judged at the validation time, each older
 * one at the time of the newer trusted timestamp that covers it (its proof of existence).
 */
function documentTimestamps(pdf: Buffer, sigs: PdfSignature[], trust: TrustStore, at: Date): DocumentTimestamp[] {
  const out: DocumentTimestamp[] = [];
  let judgeAt = at;
  for (const s of [...sigs].filter((x) => isTimestamp(x)).sort((a, b) => (b.revisionEnd ?? 0) - (a.revisionEnd ?? 0))) {
    if (!s.byteRange || s.byteRangeProblem || !s.contents || s.revisionEnd === null) continue;
    const [, b, c, d] = s.byteRange as [number, number, number, number];
    const stamped = Buffer.concat([pdf.subarray(0, b), pdf.subarray(c, c + d)]);
    const r = verifyTimestampToken(s.contents.der, stamped, 'document', trust.timestamping ?? trust, judgeAt);
    const { genTime, ...report } = r;
    out.push({ revisionEnd: s.revisionEnd, report, genTime });
    if (r.valid && genTime && genTime.getTime() < judgeAt.getTime()) judgeAt = genTime;
  }
  return out;
}

/** Does the signed revision end here, at a "%%EOF" (allowing its end-of-line)? */
function endsAtEof(text: string, end: number): boolean {
  return /%%EOF[\r\n]{0,2}$/.test(text.slice(Math.max(0, end - 8), end));
}

const isTimestamp = (s: PdfSignature) => s.subFilter === TIMESTAMP_SUBFILTER || s.type === 'DocTimeStamp';

export function verifyPdf(file: string, pdf: Buffer, trust: TrustStore, at: Date): VerifyReport {
  const text = pdf.toString('latin1');
  const revisions = new RevisionSet(pdf);
  const rev = revisions.last();
  const all = findSignatures(pdf, rev);
  const sigs = all.filter((s) => !isTimestamp(s));
  if (sigs.length === 0) return summarize(file, 'none', at, [], ['no-signature'], pdf);
  const reports: SignatureReport[] = [];
  // Bytes after the last "%%EOF" that are not whitespace belong to no revision.
  const ends = revisions.ends;
  const lastRevisionEnd = ends.length ? ends[ends.length - 1]!.end : 0;
  const strayTail = text.slice(lastRevisionEnd).trim() !== '';
  // A certification signature's DocMDP governs every later change, if it is the first signature.
  const first = [...all].sort((a, b) => (a.revisionEnd ?? Infinity) - (b.revisionEnd ?? Infinity))[0];
  const policy: ModificationPolicy = { docMdp: first?.docMdp ?? null };
  const docTimestamps = documentTimestamps(pdf, all, trust, at);
  const dss = dssOf(rev);
  sigs.forEach((s, i) => {
    const { problems, details, add: fail } = problemLog<ProblemCode>();
    let base: SignatureReport | null = null;
    let embeddedRevocation = false;
    let coverage: Coverage = 'partial';
    // Document timestamps over this signature's revision: proof it existed at their time.
    const covering = docTimestamps.filter((t) => s.revisionEnd !== null && t.revisionEnd > s.revisionEnd);
    const proofs = covering.flatMap((t) => (t.report.valid && t.genTime ? [t.genTime] : []));
    let modificationLevel: ModificationLevel = 'other';
    if (s.byteRangeProblem || !s.byteRange || !s.contents) {
      fail('byte-range-invalid', s.byteRangeProblem ?? 'no usable /ByteRange');
    } else {
      const [, b, c, d] = s.byteRange as [number, number, number, number];
      const revEnd = c + d;
      if (revEnd === pdf.length || text.slice(revEnd).trim() === '') coverage = 'entire-file';
      else if (endsAtEof(text, revEnd)) coverage = 'entire-revision';
      if (coverage === 'partial') {
        fail('byte-range-invalid', 'the signed range does not end at the end of a revision (%%EOF)');
      } else if (coverage === 'entire-revision') {
        const review = reviewModifications(pdf, revEnd, policy, revisions);
        modificationLevel = review.level;
        if (review.reasons.length) fail('modified-after-signing', review.reasons.slice(0, 8).join('; '));
        if (strayTail) {
          modificationLevel = 'other';
          fail('modified-after-signing', 'bytes after the last revision that are not an incremental update');
        }
      } else modificationLevel = 'none';
      try {
        const sd = parseSignedData(s.contents.der);
        const signed = Buffer.concat([pdf.subarray(0, b), pdf.subarray(c, c + d)]);
        // adbe.pkcs7.detached predates the ESS binding requirement (PAdES part 2): a warning there.
        const essRequired = !/^adbe\.pkcs7\./.test(s.subFilter ?? '');
        const v = verifySignedData(sd, {
          detachedContent: signed, trust, document: true, essRequired, validationTime: () => at,
          proofOfExistence: proofs.length ? new Date(Math.min(...proofs.map((p) => p.getTime()))) : null, embedded: dss?.data,
        })[0];
        if (!v) fail('malformed', 'the signature has no signer');
        else {
          base = signatureReport(v, i + 1);
          embeddedRevocation = v.embeddedRevocation;
        }
        if (sd.signers.length > 1) fail('malformed', 'a PAdES signature must have exactly one signer');
      } catch (e) {
        fail('malformed', e instanceof CmsError ? e.message : `unreadable signature: ${(e as Error).message}`);
      }
    }
    const r: SignatureReport = base ?? {
      signer: { commonName: null, givenName: null, surname: null, fiscalCode: null, organization: null },
      signingTime: null, valid: false, problems: [], warnings: [], details: [], crlDistributionPoints: [], layer: i + 1, level: null, timestamps: [],
    };
    r.problems = [...new Set([...r.problems, ...problems])];
    r.details = [...r.details, ...details];
    r.valid = r.problems.length === 0;
    // PAdES baseline: the signing time is the dictionary's /M (the CMS carries none).
    r.signingTime ??= s.signingTime?.toISOString() ?? null;
    r.field = s.fieldName;
    r.coversWholeDocument = coverage === 'entire-file';
    r.coverage = coverage;
    r.modificationLevel = modificationLevel;
    r.timestamps = [...r.timestamps, ...covering.map((t) => t.report)];
    const validTimestamps = r.timestamps.filter((t) => t.valid);
    r.level = baselineLevel({
      valid: r.valid,
      timestamped: validTimestamps.length > 0,
      embeddedRevocation,
      archived: dss !== null && covering.some((t) => t.report.valid && t.revisionEnd > dss.offset),
      pdfBasic: /^adbe\.pkcs7\./.test(s.subFilter ?? ''),
    });
    for (const t of covering) if (!t.report.valid) {
      if (!r.warnings.includes('timestamp-invalid')) r.warnings.push('timestamp-invalid');
      r.details.push(...t.report.details.map((d) => `document timestamp: ${d}`));
    }
    reports.push(r);
  });
  const report = summarize(file, 'pades', at, reports, [], pdf);
  signedDocuments.set(report, { bytes: signedRevisionOf(pdf, all), revisions });
  return report;
}
