// Extracting and checking a Piano dei Fabbisogni (SPEC §6, §8.2 `extract`): a PDF form, or a
// .p7m around one. For a PAdES file the values come from the signed revision only (the file
// cut where the signature's byte range ends), never from later updates.
import { findSignatures, isPdf } from '../signature/pades.js';
import type { TrustStore } from '../signature/trust.js';
import { cadesContent, verifyDocument, type VerifyReport } from '../signature/verify.js';
import { PdfReadError, readAcroForm } from './acroform.js';
import { loadFormSpec, type FormSpec } from './form-spec.js';
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
}

/** The bytes of the revision a PAdES signature signs (the last one, if several). */
function signedRevision(pdf: Buffer): Buffer {
  const ends = findSignatures(pdf)
    .filter((s) => s.subFilter !== 'ETSI.RFC3161' && s.revisionEnd !== null)
    .map((s) => s.revisionEnd!);
  return ends.length ? pdf.subarray(0, Math.max(...ends)) : pdf;
}

export async function extractPiano(file: string, bytes: Buffer, opts: ExtractOptions): Promise<ExtractResult> {
  const spec = opts.spec ?? loadFormSpec();
  const readerProblems: Finding[] = [];
  const readerWarnings: Finding[] = [];
  let signature: VerifyReport | null = verifyDocument(file, bytes, opts.trust, opts.at);
  let pdf: Buffer | null = null;
  if (signature.format === 'cades') pdf = cadesContent(bytes);
  else if (signature.format === 'pades') pdf = signedRevision(bytes);
  else {
    signature = null;
    pdf = isPdf(bytes) ? bytes : null;
  }
  const empty = { form: spec.form, fields: {}, services: [], signature, passed: false, warnings: [] as Finding[] };
  if (!pdf || !isPdf(pdf)) {
    return { ...empty, problems: [...(signature?.problems ?? []).map((code) => ({ code })), { code: 'malformed' }] };
  }
  let read;
  try {
    read = await readAcroForm(pdf);
  } catch (e) {
    if (e instanceof PdfReadError) return { ...empty, problems: [...(signature?.problems ?? []).map((code) => ({ code })), { code: 'malformed' }] };
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
