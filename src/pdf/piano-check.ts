// The formal check of a Piano dei Fabbisogni (SPEC §6): every rule runs, every problem is
// reported, none stops the others. Pure: the fields read from the form, what the signature
// verification said, how it arrived, and a clock.
import { isValidNumericFiscalCode, isValidPersonalFiscalCode } from '../desk/fiscal-code.js';
import type { ProblemCode, WarningCode } from '../signature/cms.js';
import type { FindingCode } from './findings.js';
import type { FormSpec } from './form-spec.js';
import type { PdfLimitExceeded } from './limits.js';
import { serviceFieldName } from './form-spec.js';

export interface Finding {
  code: FindingCode;
  field?: string;
  /** pdf-too-large, pdf-too-many-pages, pdf-too-many-objects: the limit and the file's figure. */
  limit?: PdfLimitExceeded;
}

/**
 * The warnings the formal check itself gives (the signature's and the PDF readers' come with
 * their own codes). Warnings never reject a Piano. Italian texts: config/templates/problems-it.yaml.
 */
export const PIANO_CHECK_WARNINGS = ['amm-pec-differs', 'amm-fiscal-code-differs', 'amm-ipa-code-differs', 'pec-sender-not-in-directory'] as const;
export type PianoCheckWarning = (typeof PIANO_CHECK_WARNINGS)[number];

/** One Administration as the directory has it. */
export interface DirectoryAdministration {
  id: string;
  name: string;
  fiscalCode: string | null;
  ipaCode: string | null;
  /** Its PEC addresses: its PEC boxes and its referents' PEC boxes. */
  pec: string[];
}

/** What the directory says about the Administration a Piano names (looked up by the caller). */
export interface PianoDirectoryFacts {
  /** The Administration with the form's `amm_codice_ipa`. */
  byIpaCode: DirectoryAdministration | null;
  /** An Administration with the form's `amm_codice_fiscale` (the same one when it has both). */
  byFiscalCode: DirectoryAdministration | null;
}

export interface PianoInput {
  /** Field values as read (text as string, checkboxes as boolean). */
  fields: Record<string, string | boolean | null>;
  /** No AcroForm fields at all (a flattened form): manual review. */
  noFormFields: boolean;
  /** Problem/warning codes of the signature verification (SPEC §7), or null when unsigned. */
  signature: { valid: boolean; problems: ProblemCode[]; warnings: WarningCode[]; signerFiscalCodes: string[] } | null;
  /** How it arrived: null when the file was given directly (no channel to judge). */
  arrival: { pecCertified: boolean; pecSender: string | null } | null;
  /** Other findings of the readers (appearance mismatch, readers disagreeing). */
  readerProblems: Finding[];
  readerWarnings: Finding[];
  /** The local calendar day "today" (YYYY-MM-DD) in the desk's time zone. */
  today: string;
}

export interface PianoCheck {
  fields: Record<string, string | boolean | null>;
  services: Array<{ code: string; quantity: number | null }>;
  passed: boolean;
  problems: Finding[];
  warnings: Finding[];
}

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
// Italian province codes (sigle automobilistiche) in force.
const PROVINCES = new Set(
  ('AG AL AN AO AP AQ AR AT AV BA BG BI BL BN BO BR BS BT BZ CA CB CE CH CL CN CO CR CS CT CZ EN FC FE FG FI FM FR GE GO GR IM IS ' +
    'KR LC LE LI LO LT LU MB MC ME MI MN MO MS MT NA NO NU OR PA PC PD PE PG PI PN PO PR PT PU PV PZ RA RC RE RG RI RM RN RO SA ' +
    'SI SO SP SR SS SU SV TA TE TN TO TP TR TS TV UD VA VB VC VE VI VR VT VV').split(' '),
);

function text(v: string | boolean | null | undefined): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** dd/mm/yyyy → YYYY-MM-DD when it is a real calendar day. */
export function parseItalianDate(s: string): string | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s.trim());
  if (!m) return null;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function checkPiano(spec: FormSpec, input: PianoInput): PianoCheck {
  const problems: Finding[] = [];
  const warnings: Finding[] = [...input.readerWarnings];
  const add = (code: FindingCode, field?: string) => problems.push(field ? { code, field } : { code });
  const f = input.fields;

  if (input.arrival && !input.arrival.pecCertified) add('not-pec');
  if (!input.signature) add('no-signature');
  else for (const p of input.signature.problems) add(p);
  if (input.signature) for (const w of input.signature.warnings) warnings.push({ code: w });
  problems.push(...input.readerProblems);

  if (input.noFormFields) {
    add('no-form-fields');
    return { fields: f, services: [], passed: false, problems, warnings };
  }

  for (const field of spec.fields) {
    const v = text(f[field.name]);
    if (!v) {
      if (field.required) add('missing-field', field.name);
      continue;
    }
    switch (field.type) {
      case 'fiscal-code-numeric':
        if (!isValidNumericFiscalCode(v)) add('invalid-fiscal-code', field.name);
        break;
      case 'fiscal-code-personal':
        if (!isValidPersonalFiscalCode(v)) add('invalid-fiscal-code', field.name);
        break;
      case 'email':
      case 'pec':
        if (!EMAIL.test(v)) add('invalid-email', field.name);
        break;
      case 'cap':
        if (!/^\d{5}$/.test(v)) add('invalid-cap', field.name);
        break;
      case 'province':
        if (!PROVINCES.has(v.toUpperCase())) add('invalid-province', field.name);
        break;
      case 'phone':
        if (!/^\+?[\d\s./-]{6,20}$/.test(v)) add('invalid-phone', field.name);
        break;
      case 'date': {
        const iso = parseItalianDate(v);
        if (!iso) add('invalid-date', field.name);
        else if (iso > input.today) add('future-date', field.name);
        break;
      }
      case 'integer':
        if (!/^\d+$/.test(v)) add('invalid-quantity', field.name);
        break;
      case 'choice':
        if (field.options && !field.options.includes(v)) add('invalid-choice', field.name);
        break;
      default:
        break;
    }
  }

  const services: PianoCheck['services'] = [];
  for (const s of spec.services) {
    const sel = f[serviceFieldName(spec, 'selected', s.code)];
    const selected = sel === true || (typeof sel === 'string' && !['', 'off', 'no', 'false'].includes(sel.trim().toLowerCase()));
    if (!selected) continue;
    const qField = serviceFieldName(spec, 'quantity', s.code);
    const q = text(f[qField]);
    const quantity = /^\d+$/.test(q) ? Number(q) : null;
    if (quantity === null || quantity <= 0) add('invalid-quantity', qField);
    services.push({ code: s.code, quantity });
  }
  if (services.length === 0) add('no-service');

  // The signer must be the person the form names as signing (SPEC §6).
  const firmCf = text(f.firm_codice_fiscale).toUpperCase();
  if (input.signature && input.signature.signerFiscalCodes.length > 0 && firmCf && !input.signature.signerFiscalCodes.includes(firmCf)) {
    add('signer-mismatch', 'firm_codice_fiscale');
  }
  const ammPec = text(f.amm_pec).toLowerCase();
  if (input.arrival?.pecSender && ammPec && ammPec !== input.arrival.pecSender.toLowerCase()) warnings.push(warning('amm-pec-differs', 'amm_pec'));

  return { fields: f, services, passed: problems.length === 0, problems, warnings };
}

function warning(code: PianoCheckWarning, field?: string): Finding {
  return field ? { code, field } : { code };
}

/** The keys a Piano names its Administration by, as the directory keeps them (null when unusable). */
export function pianoAdministrationKeys(fields: PianoInput['fields']): { ipaCode: string | null; fiscalCode: string | null } {
  const ipaCode = text(fields.amm_codice_ipa).toLowerCase();
  const cf = text(fields.amm_codice_fiscale).replace(/\s/g, '').toUpperCase();
  const valid = isValidNumericFiscalCode(cf) || isValidPersonalFiscalCode(cf);
  return { ipaCode: ipaCode || null, fiscalCode: valid ? cf : null };
}

/**
 * The form's Administration against the directory (warnings only): the IPA code names an
 * Administration with another fiscal code; the fiscal code is another Administration's than the
 * IPA code's; the PEC sender is none of the Administration's PEC addresses. A malformed fiscal
 * code is already a problem of the check and is not compared.
 */
export function checkPianoAgainstDirectory(fields: PianoInput['fields'], pecSender: string | null, facts: PianoDirectoryFacts): Finding[] {
  const out: Finding[] = [];
  const { ipaCode, fiscalCode } = pianoAdministrationKeys(fields);
  const { byIpaCode: byIpa, byFiscalCode: byCf } = facts;
  if (byIpa && fiscalCode && byIpa.fiscalCode && byIpa.fiscalCode !== fiscalCode) out.push(warning('amm-fiscal-code-differs', 'amm_codice_fiscale'));
  if (byCf && ipaCode) {
    // Another Administration than the IPA code's, or (IPA code unknown) one with another IPA code.
    const other = byIpa ? byCf.id !== byIpa.id : byCf.ipaCode !== null && byCf.ipaCode.toLowerCase() !== ipaCode;
    if (other) out.push(warning('amm-ipa-code-differs', 'amm_codice_ipa'));
  }
  const admin = byIpa ?? byCf;
  if (pecSender && admin && admin.pec.length > 0 && !admin.pec.includes(pecSender.trim().toLowerCase())) {
    out.push(warning('pec-sender-not-in-directory'));
  }
  return out;
}
