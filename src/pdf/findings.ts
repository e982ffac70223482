// Every code a Piano or contract check can report (SPEC §6, §7): a closed list, each with its
// Italian sentence in config/templates/problems-it.yaml (a test fails when one lacks it).
import type { ProblemCode, WarningCode } from '../signature/cms.js';
import { PDF_LIMIT_CODES } from './limits.js';
import { PIANO_CHECK_WARNINGS } from './piano-check.js';

const SIGNATURE_CODES = [
  'no-signature', 'malformed', 'digest-mismatch', 'bad-signature', 'signing-certificate-mismatch', 'untrusted-chain',
  'cert-expired', 'cert-not-yet-valid', 'cert-revoked', 'no-non-repudiation', 'byte-range-invalid', 'modified-after-signing', 'broken-algorithm',
  'revocation-unknown', 'not-qualified', 'weak-algorithm', 'no-signing-certificate-attribute', 'timestamp-invalid',
] as const satisfies ReadonlyArray<ProblemCode | WarningCode>;

export const FINDING_CODES = [
  ...SIGNATURE_CODES,
  'not-pec', 'no-form-fields', 'missing-field', 'invalid-fiscal-code', 'invalid-email', 'invalid-cap', 'invalid-province',
  'invalid-phone', 'invalid-date', 'future-date', 'invalid-choice', 'invalid-quantity', 'no-service', 'signer-mismatch',
  'readers-disagree', 'appearance-mismatch', 'need-appearances', 'progetto-mismatch', 'progetto-missing', 'contract-missing',
  ...PDF_LIMIT_CODES,
  ...PIANO_CHECK_WARNINGS,
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

// Every signature code must be a finding code too (compile-time check).
type MissingSignatureCode = Exclude<ProblemCode | WarningCode, FindingCode>;
const everySignatureCodeListed: MissingSignatureCode extends never ? true : MissingSignatureCode = true;
void everySignatureCodeListed;
