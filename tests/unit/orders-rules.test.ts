// Pure order rules: the formal check of the Piano, the workflow, the PINs.
import { describe, expect, it } from 'vitest';
import { canDo, IllegalTransition, nextState } from '../../src/desk/orders.js';
import { hashPin, verifyPin } from '../../src/desk/pins.js';
import { loadFormSpec } from '../../src/pdf/form-spec.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  checkPiano, checkPianoAgainstDirectory, parseItalianDate, PIANO_CHECK_WARNINGS, pianoAdministrationKeys,
  type DirectoryAdministration, type PianoDirectoryFacts, type PianoInput,
} from '../../src/pdf/piano-check.js';
import { repoRoot } from '../e2e/workspace.js';

const spec = loadFormSpec();
const VALID: Record<string, string | boolean> = {
  amm_denominazione: 'Comune di Esempio', amm_codice_fiscale: '00488410010', amm_codice_ipa: 'c_e000', amm_indirizzo: 'Piazza del Comune 1',
  amm_cap: '00100', amm_comune: 'Roma', amm_provincia: 'RM', amm_pec: 'protocollo@pec.comune.esempio.it',
  ref_nome: 'Anna', ref_cognome: 'Rossi', ref_codice_fiscale: 'RSSMRA80A01H501U', ref_email: 'anna.rossi@comune.esempio.it', ref_telefono: '06 1234567',
  durata_mesi: '24', firm_nome: 'Anna', firm_cognome: 'Rossi', firm_codice_fiscale: 'RSSMRA80A01H501U', firm_qualifica: 'Dirigente', luogo: 'Roma', data: '15/04/2026',
  srv_IAAS_VM_sel: true, srv_IAAS_VM_qta: '10', srv_SAAS_PEC_sel: true, srv_SAAS_PEC_qta: '200',
};
const input = (over: Partial<PianoInput> = {}, fields: Record<string, string | boolean | null> = {}): PianoInput => ({
  fields: { ...VALID, ...fields },
  noFormFields: false,
  signature: { valid: true, problems: [], warnings: [], signerFiscalCodes: ['RSSMRA80A01H501U'] },
  arrival: { pecCertified: true, pecSender: 'protocollo@pec.comune.esempio.it' },
  readerProblems: [],
  readerWarnings: [],
  today: '2026-11-23',
  ...over,
});
const codes = (r: ReturnType<typeof checkPiano>) => r.problems.map((p) => (p.field ? `${p.code}:${p.field}` : p.code));

describe('formal check of the Piano (SPEC §6)', () => {
  it('a complete, signed Piano by PEC passes, with its services', () => {
    const r = checkPiano(spec, input());
    expect(r.problems).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.services).toEqual([{ code: 'IAAS_VM', quantity: 10 }, { code: 'SAAS_PEC', quantity: 200 }]);
  });
  it('every problem is reported at once', () => {
    const r = checkPiano(spec, input({ arrival: { pecCertified: false, pecSender: null } }, {
      amm_indirizzo: '', ref_codice_fiscale: 'RSSMRA80A01H501X', amm_codice_fiscale: '00488410011', amm_pec: 'non-un-indirizzo',
      amm_cap: '123', amm_provincia: 'XX', data: '31/02/2026', srv_IAAS_VM_qta: '0', srv_SAAS_PEC_qta: 'abc',
    }));
    expect(codes(r)).toEqual(expect.arrayContaining([
      'not-pec', 'missing-field:amm_indirizzo', 'invalid-fiscal-code:ref_codice_fiscale', 'invalid-fiscal-code:amm_codice_fiscale',
      'invalid-email:amm_pec', 'invalid-cap:amm_cap', 'invalid-province:amm_provincia', 'invalid-date:data',
      'invalid-quantity:srv_IAAS_VM_qta', 'invalid-quantity:srv_SAAS_PEC_qta',
    ]));
    expect(r.passed).toBe(false);
  });
  it('no service, a future date, a signer who is not the form\'s signatory', () => {
    const r = checkPiano(spec, input({ signature: { valid: true, problems: [], warnings: [], signerFiscalCodes: ['BNCMRA75C12F205Q'] } }, { srv_IAAS_VM_sel: false, srv_SAAS_PEC_sel: false, data: '01/01/2099' }));
    expect(codes(r)).toEqual(expect.arrayContaining(['no-service', 'future-date:data', 'signer-mismatch:firm_codice_fiscale']));
  });
  it('signature problems and no signature are problems; amm_pec differing from the PEC sender is a warning', () => {
    expect(codes(checkPiano(spec, input({ signature: null })))).toContain('no-signature');
    expect(codes(checkPiano(spec, input({ signature: { valid: false, problems: ['cert-expired'], warnings: [], signerFiscalCodes: [] } })))).toContain('cert-expired');
    const r = checkPiano(spec, input({}, { amm_pec: 'altra@pec.comune.esempio.it' }));
    expect(r.passed).toBe(true);
    expect(r.warnings).toContainEqual({ code: 'amm-pec-differs', field: 'amm_pec' });
  });
  it('a flattened form goes to manual review', () => {
    const r = checkPiano(spec, input({ noFormFields: true }, {}));
    expect(codes(r)).toContain('no-form-fields');
    expect(r.passed).toBe(false);
  });
  it('dates are real calendar days', () => {
    expect(parseItalianDate('29/02/2028')).toBe('2028-02-29');
    expect(parseItalianDate('29/02/2027')).toBeNull();
    expect(parseItalianDate('2026-04-15')).toBeNull();
  });
});

describe('formal check of the Piano against the directory (issue 9, warnings only)', () => {
  const ESEMPIO: DirectoryAdministration = {
    id: 'comune-esempio', name: 'Comune di Esempio', fiscalCode: '00488410010', ipaCode: 'c_e000', pec: ['protocollo@pec.comune.esempio.it'],
  };
  const ABACO: DirectoryAdministration = { id: 'c_a001', name: 'Comune di Àbaco', fiscalCode: '00234567899', ipaCode: 'c_a001', pec: ['protocollo@pec.comune.abaco.it'] };
  const facts = (byIpaCode: DirectoryAdministration | null, byFiscalCode: DirectoryAdministration | null): PianoDirectoryFacts => ({ byIpaCode, byFiscalCode });
  const SENDER = 'protocollo@pec.comune.esempio.it';
  const warn = (fields: Record<string, string | boolean | null>, sender: string | null, f: PianoDirectoryFacts) =>
    checkPianoAgainstDirectory({ ...VALID, ...fields }, sender, f).map((w) => (w.field ? `${w.code}:${w.field}` : w.code));

  it('nothing to say when the directory agrees, or knows neither code', () => {
    expect(warn({}, SENDER, facts(ESEMPIO, ESEMPIO))).toEqual([]);
    expect(warn({}, SENDER, facts(null, null))).toEqual([]);
    // the sender compared case-insensitively
    expect(warn({}, 'Protocollo@PEC.comune.esempio.it', facts(ESEMPIO, ESEMPIO))).toEqual([]);
  });
  it('the IPA code names an Administration with another fiscal code, which is another Administration\'s', () => {
    expect(warn({ amm_codice_fiscale: '00234567899' }, SENDER, facts(ESEMPIO, ABACO))).toEqual([
      'amm-fiscal-code-differs:amm_codice_fiscale', 'amm-ipa-code-differs:amm_codice_ipa',
    ]);
    // a fiscal code nobody has: only the first
    expect(warn({ amm_codice_fiscale: '00345678908' }, SENDER, facts(ESEMPIO, null))).toEqual(['amm-fiscal-code-differs:amm_codice_fiscale']);
    // the directory has no fiscal code for it: nothing to compare
    expect(warn({ amm_codice_fiscale: '00345678908' }, SENDER, facts({ ...ESEMPIO, fiscalCode: null }, null))).toEqual([]);
  });
  it('an IPA code the directory does not know, with the fiscal code of an Administration that has another IPA code', () => {
    expect(warn({ amm_codice_ipa: 'c_nuovo', amm_codice_fiscale: '00234567899' }, 'protocollo@pec.comune.abaco.it', facts(null, ABACO))).toEqual([
      'amm-ipa-code-differs:amm_codice_ipa',
    ]);
    // …or one without an IPA code: nothing contradicts the form
    expect(warn({ amm_codice_ipa: 'c_nuovo', amm_codice_fiscale: '00234567899' }, 'protocollo@pec.comune.abaco.it', facts(null, { ...ABACO, ipaCode: null }))).toEqual([]);
  });
  it('the PEC sender is none of the Administration\'s PEC addresses (only when the directory lists some, only by PEC)', () => {
    expect(warn({}, 'altra@pec.example.it', facts(ESEMPIO, ESEMPIO))).toEqual(['pec-sender-not-in-directory']);
    // the IPA code unknown: the Administration of the fiscal code is the one compared
    expect(warn({ amm_codice_ipa: 'ignoto' }, 'altra@pec.example.it', facts(null, ESEMPIO))).toEqual([
      'amm-ipa-code-differs:amm_codice_ipa', 'pec-sender-not-in-directory',
    ]);
    expect(warn({}, 'altra@pec.example.it', facts({ ...ESEMPIO, pec: [] }, null))).toEqual([]);
    expect(warn({}, null, facts(ESEMPIO, ESEMPIO))).toEqual([]);
  });
  it('a malformed fiscal code is the check\'s problem, not compared; the keys are normalised', () => {
    expect(warn({ amm_codice_fiscale: '00488410011' }, SENDER, facts(ESEMPIO, null))).toEqual([]);
    expect(pianoAdministrationKeys({ amm_codice_ipa: ' C_E000 ', amm_codice_fiscale: '004 884 10010' })).toEqual({ ipaCode: 'c_e000', fiscalCode: '00488410010' });
    expect(pianoAdministrationKeys({ amm_codice_ipa: '', amm_codice_fiscale: 'no' })).toEqual({ ipaCode: null, fiscalCode: null });
  });
  it('every warning of the check has its Italian sentence; a warning never fails the check', () => {
    const texts = parseYaml(readFileSync(path.join(repoRoot, 'config', 'templates', 'problems-it.yaml'), 'utf8')) as Record<string, string>;
    for (const code of PIANO_CHECK_WARNINGS) expect(texts[code], code).toMatch(/\S/);
    expect(PIANO_CHECK_WARNINGS).toEqual(['amm-pec-differs', 'amm-fiscal-code-differs', 'amm-ipa-code-differs', 'pec-sender-not-in-directory']);
    expect(checkPiano(spec, input()).passed).toBe(true);
  });
});

describe('order workflow (SPEC §2.1)', () => {
  it('walks from the Piano to activation', () => {
    let s = nextState('piano-received', 'piano-accepted');
    expect(s).toBe('progetto-in-preparation');
    s = nextState(s, 'send-progetto');
    s = nextState(s, 'progetto-delivered');
    s = nextState(s, 'contract-accepted');
    s = nextState(s, 'countersign');
    expect(nextState(s, 'activate')).toBe('active');
  });
  it('refuses illegal transitions with a clear message', () => {
    expect(() => nextState('piano-received', 'activate')).toThrow(IllegalTransition);
    expect(() => nextState('active', 'countersign')).toThrow(/cannot countersign an order that is active/);
    expect(canDo('piano-rejected', 'piano-resent')).toBe(true);
    expect(nextState('progetto-delivered', 'contract-rejected')).toBe('progetto-delivered');
  });
});

describe('PINs', () => {
  it('are stored only as salted scrypt hashes and verify in constant time', () => {
    const h1 = hashPin('123456');
    const h2 = hashPin('123456');
    expect(h1).not.toContain('123456');
    expect(h1).not.toBe(h2); // salted
    expect(h1.startsWith('scrypt$16384$8$1$')).toBe(true);
    expect(verifyPin('123456', h1)).toBe(true);
    expect(verifyPin('654321', h1)).toBe(false);
  });
});
