// Extracting and checking a Piano dei Fabbisogni (SPEC §6, §8.2 `extract`): a PDF form, or a
// .p7m around one. For a PAdES file the values come from the signed revision only (the file
// cut where the signature's byte range ends), never from later updates.
import { findSignatures, isPdf, signedRevisionOf } from '../signature/pades.js';
import { signedDocuments } from '../signature/report.js';
import type { TrustStore } from '../signature/trust.js';
import { cadesContent, verifyDocument, type VerifyReport } from '../signature/verify.js';
import { PdfReadError, readAcroForm } from './acroform.js';
import type { Revision, RevisionSet } from './cos.js';
import { loadFormSpec, type FormSpec } from './form-spec.js';
import { DEFAULT_PDF_LIMITS, pdfLimitBreach, pdfObjectsBreach, pdfSizeBreach, type PdfLimits } from './limits.js';
import { checkPiano, type Finding } from './piano-check.js';

export interface ExtractResult {
  form: string;
  fields: Record<string, string | boolean | null>;
  services: Array<{ code: string; quantity: number | null }>;
  signature: VerifyReport | null;
  passed: boolean;
  problems: Finding[];
  warnings: Finding[];
  /** The PDF the values were read from (for evidence), as a SHA-256 in the signature report. */
}

export interface ExtractOptions {
  trust: TrustStore;
  /** Validation time of the signature (SPEC §7: --at, the PEC certified time, else now). */
  at: Date;
  /** How it arrived; null for a file given directly. */
  arrival: { pecCertified: boolean; pecSender: string | null } | null;
  /** Today's date in the desk's zone, YYYY-MM-DD (the form's date may not be later). */
  today: string;
  spec?: FormSpec;
  /** Size, pages and objects above which the PDF is not read (config `limits`; default DEFAULT_PDF_LIMITS). */
  limits?: PdfLimits;
}

export async function extractPiano(file: string, bytes: Buffer, opts: ExtractOptions): Promise<ExtractResult> {
  const spec = opts.spec ?? loadFormSpec();
  const limits = opts.limits ?? DEFAULT_PDF_LIMITS;
  const readerProblems: Finding[] = [];
  const readerWarnings: Finding[] = [];
  // Too big, or too many objects, to be worth even verifying its signature (which parses a PDF
  // too): refused as it arrived.
  const early = pdfSizeBreach(bytes.length, limits) ?? pdfObjectsBreach(bytes, limits);
  if (early) return { form: spec.form, fields: {}, services: [], signature: null, passed: false, problems: [early], warnings: [] };
  let signature: VerifyReport | null = verifyDocument(file, bytes, opts.trust, opts.at);
  // The document verification has already taken out of the file (not parsed again).
  const signed = signedDocuments.get(signature);
  let pdf: Buffer | null = null;
  if (signature.format === 'cades') pdf = signed?.bytes ?? cadesContent(bytes);
  else if (signature.format === 'pades') pdf = signed?.bytes ?? signedRevisionOf(bytes, findSignatures(bytes));
  else {
    signature = null;
    pdf = isPdf(bytes) ? bytes : null;
  }
  const empty = { form: spec.form, fields: {}, services: [], signature, passed: false, warnings: [] as Finding[] };
  const signatureProblems = (signature?.problems ?? []).map((code): Finding => ({ code }));
  if (!pdf || !isPdf(pdf)) return { ...empty, problems: [...signatureProblems, { code: 'malformed' }] };
  // The document to read (a CAdES content may be base64 inside): objects and pages before either reader parses it.
  const over = pdfLimitBreach(pdf, limits, signed?.revisions && revisionEndingAt(signed.revisions, pdf.length));
  if (over) return { ...empty, problems: [...signatureProblems, over] };
  let read;
  try {
    read = await readAcroForm(pdf);
  } catch (e) {
    if (e instanceof PdfReadError) return { ...empty, problems: [...signatureProblems, { code: 'malformed' }] };
    throw e;
  }
  const fields: Record<string, string | boolean | null> = {};
  for (const [name, v] of Object.entries(read.fields)) fields[name] = v.value;
  for (const field of read.appearanceMismatches) readerWarnings.push({ code: 'appearance-mismatch', field });
  if (read.needAppearances && signature) readerWarnings.push({ code: 'need-appearances' });
  // Two readers disagreeing on what a signed form says: the signer may have seen something else.
  for (const d of read.disagreements) (signature ? readerProblems : readerWarnings).push({ code: 'readers-disagree', field: d.field });
  const check = checkPiano(spec, {
    fields,
    noFormFields: read.noFormFields,
    signature: signature
      ? {
          valid: signature.valid,
          problems: signature.problems,
          warnings: signature.warnings,
          signerFiscalCodes: signature.signatures.map((s) => s.signer.fiscalCode).filter((x): x is string => Boolean(x)),
        }
      : null,
    arrival: opts.arrival,
    readerProblems,
    readerWarnings,
    today: opts.today,
  });
  return { form: spec.form, fields: check.fields, services: check.services, signature, passed: check.passed, problems: dedupe(check.problems), warnings: dedupe(check.warnings) };
}

function dedupe(list: Finding[]): Finding[] {
  const seen = new Set<string>();
  return list.filter((f) => {
    const k = `${f.code}|${f.field ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The revision of `revisions` ending at `end`, as its last one (undefined: none ends there, read it afresh). */
function revisionEndingAt(revisions: RevisionSet, end: number): Revision | null | undefined {
  if (!revisions.ends.some((e) => e.end === end)) return undefined;
  try {
    return revisions.at(end, true);
  } catch {
    return null;
  }
}
