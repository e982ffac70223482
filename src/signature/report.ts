// The verify report (SPEC §8.2 `verify`): keys are a contract — add, never rename.
import { createHash } from 'node:crypto';
import type { ProblemCode, SignerVerification, WarningCode } from './cms.js';
import type { RevisionSet } from '../pdf/cos.js';
import type { Coverage, ModificationLevel } from './modifications.js';
import type { TimestampReport } from './timestamp.js';
import type { CertInfo } from './x509.js';

export interface SignatureReport {
  signer: { commonName: string | null; givenName: string | null; surname: string | null; fiscalCode: string | null; organization: string | null };
  signingTime: string | null;
  valid: boolean;
  problems: ProblemCode[];
  warnings: WarningCode[];
  /** Operator-readable reasons behind the codes. */
  details: string[];
  /** CAdES: 1 for the outer envelope, 2 for a p7m inside it…; PAdES: the signature's order in the file. */
  layer: number;
  /** The signer certificate's CRL distribution points. */
  crlDistributionPoints: string[];
  /** PAdES: the signature field and whether its byte range covers the whole current file. */
  field?: string | null;
  coversWholeDocument?: boolean;
  /** PAdES: how much of the file the signature covers (entire-file, entire-revision, partial). */
  coverage?: Coverage;
  /** PAdES: the most a later update changed (none, lta-updates, form-filling, annotations, other). */
  modificationLevel?: ModificationLevel;
  /** The baseline level reached (ETSI EN 319 122 / 319 142), null when the signature is not valid. */
  level: SignatureLevel | null;
  /** Signature timestamps and, for PAdES, the document timestamps covering this signature. */
  timestamps: TimestampReport[];
}

/** B-B: a valid signature; B-T: with a trusted timestamp; B-LT: with the revocation data in the document; B-LTA: that data timestamped too. pdf-basic: an adbe.pkcs7 PDF signature (not a PAdES baseline). */
export type SignatureLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | 'pdf-basic';

export function baselineLevel(r: { valid: boolean; timestamped: boolean; embeddedRevocation: boolean; archived: boolean; pdfBasic: boolean }): SignatureLevel | null {
  if (!r.valid) return null;
  if (r.pdfBasic) return 'pdf-basic';
  if (!r.timestamped) return 'B-B';
  if (!r.embeddedRevocation) return 'B-T';
  return r.archived ? 'B-LTA' : 'B-LT';
}

export interface VerifyReport {
  file: string;
  format: 'cades' | 'pades' | 'none';
  valid: boolean;
  validationTime: string;
  signatures: SignatureReport[];
  problems: ProblemCode[];
  warnings: WarningCode[];
  content: { mediaType: string; sha256: string } | null;
}

export function mediaTypeOf(bytes: Buffer): string {
  if (bytes.subarray(0, 1024).includes('%PDF-')) return 'application/pdf';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'application/zip';
  if (bytes[0] === 0x3c && /^<\?xml/.test(bytes.toString('latin1', 0, 5))) return 'application/xml';
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD') && !/[\x00-\x08\x0e-\x1f]/.test(text)) return 'text/plain';
  return 'application/octet-stream';
}

/** The certification path behind each signature report (not part of the JSON): what online revocation asks about. */
export const signerChains = new WeakMap<SignatureReport, CertInfo[]>();

/**
 * What a report's signatures sign (not part of the JSON): the innermost CAdES content, or the
 * PAdES signed revision with the file's revisions as verification parsed them — so the form is
 * read from it without parsing the signature or the file again.
 */
export const signedDocuments = new WeakMap<VerifyReport, { bytes: Buffer; revisions?: RevisionSet }>();

export function signatureReport(v: SignerVerification, layer: number): SignatureReport {
  const id = v.certificate?.subject;
  const report: SignatureReport = {
    signer: {
      commonName: id?.commonName ?? null,
      givenName: id?.givenName ?? null,
      surname: id?.surname ?? null,
      fiscalCode: id?.fiscalCode ?? null,
      organization: id?.organization ?? null,
    },
    signingTime: v.signingTime?.toISOString() ?? null,
    valid: v.valid,
    problems: v.problems,
    warnings: v.warnings,
    details: v.details,
    crlDistributionPoints: v.certificate?.crlDistributionPoints ?? [],
    layer,
    level: baselineLevel({ valid: v.valid, timestamped: v.timestamps.some((t) => t.valid), embeddedRevocation: v.embeddedRevocation, archived: false, pdfBasic: false }),
    timestamps: v.timestamps,
  };
  signerChains.set(report, v.chain);
  return report;
}

export function summarize(file: string, format: VerifyReport['format'], at: Date, signatures: SignatureReport[], fileProblems: ProblemCode[], content: Buffer | null): VerifyReport {
  const problems = [...new Set([...fileProblems, ...signatures.flatMap((s) => s.problems)])];
  const warnings = [...new Set(signatures.flatMap((s) => s.warnings))];
  return {
    file,
    format,
    valid: signatures.length > 0 && problems.length === 0,
    validationTime: at.toISOString(),
    signatures,
    problems,
    warnings,
    content: content ? { mediaType: mediaTypeOf(content), sha256: createHash('sha256').update(content).digest('hex') } : null,
  };
}

