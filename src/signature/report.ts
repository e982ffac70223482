// The verify report (SPEC §8.2 `verify`): keys are a contract — add, never rename.
import { createHash } from 'node:crypto';
import type { ProblemCode, SignerVerification, WarningCode } from './cms.js';
import type { Coverage, ModificationLevel } from './modifications.js';

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

export function signatureReport(v: SignerVerification, layer: number): SignatureReport {
  const id = v.certificate?.subject;
  return {
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
  };
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

