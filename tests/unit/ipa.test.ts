// The IndicePA dump (issue 9): the pure parser (encodings, delimiters, columns, row problems)
// and the import rules on an in-memory database (matching, what is never touched, idempotence).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  administrationIdFromIpaCode, decodeIpaBytes, describeIpaFinding, IPA_TEXTS, IpaDumpError, parseIpaDump, parseIpaText, type IpaCode,
} from '../../src/directory/ipa.js';
import { migrate, type Db } from '../../src/store/db.js';
import { importIpaRows, pianoDirectoryFacts } from '../../src/store/directory-ipa.js';
// @ts-expect-error plain JavaScript fixture generator
import { buildIpaCsv, EXPECTED } from '../../fixtures/ipa/generate.mjs';
import { repoRoot } from '../e2e/workspace.js';

const fixture = (name: string) => readFileSync(path.join(repoRoot, 'fixtures', 'ipa', 'out', name));
const HEADER = 'Codice_IPA,Denominazione_ente,Codice_fiscale_ente,Mail1,Tipo_Mail1,Mail2,Tipo_Mail2';
const parseLines = (...lines: string[]) => parseIpaText(lines.join('\n'));
const brief = (list: Array<{ line: number; code: string; column?: string }>) => list.map(({ line, code, column }) => ({ line, code, column }));

describe('IndicePA dump: parsing (pure)', () => {
  it('reads the UTF-8 fixture with BOM: names, fiscal codes, only the PEC mails, every skipped line with its column', () => {
    const d = parseIpaDump(fixture('enti.csv'));
    expect(d).toMatchObject({ encoding: 'utf-8', bom: true, delimiter: ',', records: EXPECTED.records });
    const byIpa = Object.fromEntries(d.rows.map((r) => [r.ipaCode, r]));
    expect(Object.keys(byIpa)).toEqual(['c_e000', 'c_a001', 'r_esempio', 'istsc_esic81000x', 'asl_esempio', 'gps_rossi', 'ue_esempio']);
    expect(byIpa.c_a001).toEqual({ line: 3, ipaCode: 'c_a001', name: 'Comune di Àbaco', fiscalCode: '00234567899', pec: ['protocollo@pec.comune.abaco.it'] });
    // quoted, with a comma and doubled quotes; PEC typed "pec" and "PEC"; the ordinary mail left out
    expect(byIpa.r_esempio).toMatchObject({ line: 4, name: EXPECTED.names.r_esempio, pec: EXPECTED.pec.r_esempio });
    // the record after the two-line address starts on line 6
    expect(byIpa.istsc_esic81000x!.line).toBe(6);
    expect(byIpa.asl_esempio!.pec).toEqual([]);
    expect(byIpa.gps_rossi!.fiscalCode).toBe('RSSMRA80A01H501U');
    expect(byIpa.c_e000!.pec).toEqual(['protocollo@pec.comune.esempio.it', 'anagrafe@pec.comune.esempio.it']);
    expect(brief(d.skipped)).toEqual(EXPECTED.skipped);
    expect(d.skipped[0]).toMatchObject({ value: '00123456789' });
    expect(brief(d.warnings)).toEqual(EXPECTED.warnings);
    expect(d.warnings[0]).toMatchObject({ value: 'mario.rossi@pec' });
  });

  it('the Latin-1 variant (";", CRLF, columns in reverse order) reads the same rows', () => {
    const latin = parseIpaDump(fixture('enti-latin1.csv'));
    expect(latin).toMatchObject({ encoding: 'windows-1252', bom: false, delimiter: ';' });
    const utf8 = parseIpaDump(fixture('enti.csv'));
    expect(latin.rows).toEqual(utf8.rows);
    expect(latin.skipped).toEqual(utf8.skipped);
    expect(latin.warnings).toEqual(utf8.warnings);
  });

  it('decodes Windows-1252 beyond Latin-1, UTF-8 without BOM and UTF-16 with BOM', () => {
    expect(decodeIpaBytes(Buffer.from([0x92, 0x80, 0xe0]))).toEqual({ text: '’€à', encoding: 'windows-1252', bom: false });
    expect(decodeIpaBytes(Buffer.from('Città', 'utf8'))).toEqual({ text: 'Città', encoding: 'utf-8', bom: false });
    expect(decodeIpaBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Città', 'utf16le')]))).toMatchObject({ text: 'Città', encoding: 'utf-16le' });
    const cp1252 = Buffer.concat([Buffer.from(`${HEADER}\nc_x1,Comunit`, 'latin1'), Buffer.from([0xe0, 0x20, 0x64, 0x65, 0x6c, 0x6c, 0x92]), Buffer.from('Alto,00234567899,,,,\n', 'latin1')]);
    expect(parseIpaDump(cp1252).rows[0]!.name).toBe('Comunità dell’Alto');
  });

  it('finds the delimiter from the header: tab and ";"; header names in any case and order, extra columns ignored', () => {
    const tab = parseIpaText('Extra\tMAIL1\tcodice_ipa\tTIPO_MAIL1\tDenominazione_Ente\tCodice_Fiscale_Ente\nx, y\tA@PEC.IT\tC_Z9\tPec\tComune di Zeta\t00234567899\n');
    expect(tab.delimiter).toBe('\t');
    expect(tab.rows).toEqual([{ line: 2, ipaCode: 'c_z9', name: 'Comune di Zeta', fiscalCode: '00234567899', pec: ['a@pec.it'] }]);
    const semi = parseLines('Codice_IPA;Denominazione_ente;Codice_fiscale_ente;Mail1;Tipo_Mail1', 'c_z9;Comune di Zeta, frazione;00234567899;p@pec.it;pec');
    expect(semi).toMatchObject({ delimiter: ';', rows: [{ name: 'Comune di Zeta, frazione', pec: ['p@pec.it'] }] });
  });

  it('reads the older "amministrazioni" dumps (cod_amm, des_amm, Cf, mail1/tipo_mail1)', () => {
    const d = parseLines('cod_amm\tdes_amm\tCf\tmail1\ttipo_mail1\tmail2\ttipo_mail2', 'c_z9\tComune di Zeta\t00234567899\tz@comune.it\taltro\tprotocollo@pec.zeta.it\tpec');
    expect(d.rows).toEqual([{ line: 2, ipaCode: 'c_z9', name: 'Comune di Zeta', fiscalCode: '00234567899', pec: ['protocollo@pec.zeta.it'] }]);
  });

  it('a row with a different number of fields, an IPA code with spaces, no fiscal code; empty lines', () => {
    const d = parseLines(HEADER, 'c_z1,Comune Uno,00234567899,a@pec.it,Pec,b@x.it', '', 'c z2,Comune Due,,,,,', 'c_z3,Comune Tre,,,,,', ',,,,,,');
    expect(brief(d.skipped)).toEqual([
      { line: 2, code: 'wrong-column-count', column: undefined },
      { line: 4, code: 'invalid-ipa-code', column: 'Codice_IPA' },
    ]);
    expect(d.skipped[0]!.value).toBe('6 invece di 7');
    expect(d.rows).toEqual([{ line: 5, ipaCode: 'c_z3', name: 'Comune Tre', fiscalCode: null, pec: [] }]);
    expect(d.records).toBe(3);
  });

  it('a file that is no dump is one clear error with its line', () => {
    const err = (text: string) => {
      try {
        parseIpaText(text);
      } catch (e) {
        expect(e).toBeInstanceOf(IpaDumpError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err('Nome,Cognome\nAnna,Rossi\n')).toMatch(/^line 1: no Codice_IPA column in the header/);
    expect(err('Codice_IPA,Denominazione_ente\nc_z1,Zeta\n')).toMatch(/^line 1: no Codice_fiscale_ente column/);
    expect(err('Codice_IPA,Denominazione_ente,Codice_fiscale_ente,codice_ipa\n')).toMatch(/^line 1: column codice_ipa appears more than once/);
    expect(err('\n\n')).toMatch(/^line 1: empty header line/);
    expect(err(`${HEADER}\nc_z1,Zeta,,,,,\nc_z2,"Zeta, senza fine,,,,,\nc_z3,Tre,,,,,\n`)).toBe('line 3: a quoted field opened on this line is never closed');
  });

  it('every code has its Italian sentence, with the value and the other Administration filled in', () => {
    const codes = Object.keys(IPA_TEXTS) as IpaCode[];
    expect(codes.sort()).toEqual([
      'duplicate-ipa-code', 'fiscal-code-elsewhere', 'invalid-fiscal-code', 'invalid-ipa-code', 'invalid-pec-address', 'missing-ipa-code',
      'missing-name', 'pec-address-moved', 'pec-address-shared', 'wrong-column-count',
    ]);
    expect(describeIpaFinding({ line: 3, code: 'pec-address-moved', value: 'p@pec.it', other: 'c_z1' })).toBe(
      "L'indirizzo PEC «p@pec.it» era associato in rubrica a un'altra Amministrazione (c_z1): ora è associato a questa.",
    );
    for (const code of codes) expect(describeIpaFinding({ line: 1, code, value: 'v', other: 'o' })).not.toMatch(/\{\w+\}/);
  });

  it('ids of new Administrations are the IPA code, lower-case, as the Piano intake makes them', () => {
    expect(administrationIdFromIpaCode('C_E000')).toBe('c_e000');
    expect(administrationIdFromIpaCode('_x.y-')).toBe('x.y');
    expect(administrationIdFromIpaCode('___')).toBe('amministrazione');
  });
});

function directoryDb(): Db {
  const db = new Database(':memory:');
  migrate(db, new Date('2026-01-01T00:00:00Z'));
  const at = '2026-01-01T00:00:00Z';
  db.prepare("INSERT INTO administrations (id, name, fiscal_code, ipa_code, support_contract, updated_at) VALUES ('comune-esempio', 'Comune di Esempio', '00123456782', 'c_e000', 1, ?)").run(at);
  db.prepare("INSERT INTO administrations (id, name, fiscal_code, ipa_code, support_contract, updated_at) VALUES ('senza-ipa', 'Ente senza IPA', '00234567899', NULL, 0, ?)").run(at);
  db.prepare("INSERT INTO administrations (id, name, fiscal_code, ipa_code, support_contract, updated_at) VALUES ('c_z1', 'Altro ente con id c_z1', NULL, 'altro', 0, ?)").run(at);
  db.prepare("INSERT INTO administration_domains (domain, administration_id) VALUES ('comune.esempio.it', 'comune-esempio')").run();
  db.prepare("INSERT INTO administration_pecs (address, administration_id) VALUES ('protocollo@pec.comune.esempio.it', 'comune-esempio'), ('vecchia@pec.esempio.it', 'c_z1')").run();
  db.prepare("INSERT INTO people (administration_id, name, email, pec, role) VALUES ('comune-esempio', 'Anna Rossi', 'anna.rossi@comune.esempio.it', 'anna.rossi@pec.comune.esempio.it', 'technical-referent')").run();
  return db;
}

describe('IndicePA dump: import rules', () => {
  const rows = () =>
    parseLines(
      HEADER,
      'C_E000,Comune di Esempio (IPA),00123456782,protocollo@pec.comune.esempio.it,Pec,anagrafe@pec.comune.esempio.it,Pec',
      'c_nuovo,Ente nuovo,00234567899,,,,', // the fiscal code of senza-ipa, which has no IPA code: that one
      'c_z1,Comune Zeta,00345678908,vecchia@pec.esempio.it,Pec,,', // id c_z1 is taken (IPA altro); the PEC moves
      'c_z2,Comune Zeta Due,00345678908,,,,', // the same fiscal code as c_z1's new one
    ).rows;

  it('matches by IPA code, else by fiscal code; a new id from the IPA code; never touches referents, domains, contract', () => {
    const db = directoryDb();
    const r = importIpaRows(db, rows(), '2026-05-01T00:00:00Z');
    expect(r).toMatchObject({ created: 2, updated: 2, unchanged: 0 });
    expect(r.changes).toEqual([
      { line: 2, id: 'comune-esempio', ipaCode: 'c_e000', action: 'updated', fields: ['name', 'pec'], pecAdded: ['anagrafe@pec.comune.esempio.it'] },
      { line: 3, id: 'senza-ipa', ipaCode: 'c_nuovo', action: 'updated', fields: ['name', 'ipaCode'], pecAdded: [] },
      { line: 4, id: 'c_z1-2', ipaCode: 'c_z1', action: 'created', fields: ['name', 'ipaCode', 'fiscalCode', 'pec'], pecAdded: ['vecchia@pec.esempio.it'] },
      { line: 5, id: 'c_z2', ipaCode: 'c_z2', action: 'created', fields: ['name', 'ipaCode', 'fiscalCode'], pecAdded: [] },
    ]);
    expect(r.warnings).toEqual([
      { line: 4, code: 'pec-address-moved', value: 'vecchia@pec.esempio.it', other: 'c_z1' },
      { line: 5, code: 'fiscal-code-elsewhere', value: '00345678908', other: 'c_z1-2' },
    ]);
    expect(db.prepare("SELECT name, fiscal_code, ipa_code, support_contract FROM administrations WHERE id = 'comune-esempio'").get()).toEqual({
      name: 'Comune di Esempio (IPA)', fiscal_code: '00123456782', ipa_code: 'c_e000', support_contract: 1,
    });
    expect(db.prepare("SELECT count(*) FROM people WHERE administration_id = 'comune-esempio'").pluck().get()).toBe(1);
    expect(db.prepare("SELECT domain FROM administration_domains WHERE administration_id = 'comune-esempio'").pluck().all()).toEqual(['comune.esempio.it']);
    expect(db.prepare("SELECT address FROM administration_pecs WHERE administration_id = 'comune-esempio' ORDER BY 1").pluck().all()).toEqual([
      'anagrafe@pec.comune.esempio.it', 'protocollo@pec.comune.esempio.it',
    ]);
    expect(db.prepare("SELECT updated_at FROM administrations WHERE id = 'c_z1'").pluck().get()).toBe('2026-01-01T00:00:00Z');
    // The same dump again changes nothing.
    const again = importIpaRows(db, rows(), '2026-05-02T00:00:00Z');
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 4, changes: [] });
    expect(db.prepare("SELECT count(*) FROM administrations WHERE updated_at = '2026-05-02T00:00:00Z'").pluck().get()).toBe(0);
  });

  it('tells the Piano check what the directory knows of an IPA code and a fiscal code', () => {
    const db = directoryDb();
    const both = pianoDirectoryFacts(db, { ipaCode: 'C_E000', fiscalCode: '00123456782' });
    expect(both.byIpaCode).toEqual({
      id: 'comune-esempio', name: 'Comune di Esempio', fiscalCode: '00123456782', ipaCode: 'c_e000',
      pec: ['anna.rossi@pec.comune.esempio.it', 'protocollo@pec.comune.esempio.it'],
    });
    expect(both.byFiscalCode?.id).toBe('comune-esempio');
    const other = pianoDirectoryFacts(db, { ipaCode: 'c_e000', fiscalCode: '00234567899' });
    expect(other.byFiscalCode).toMatchObject({ id: 'senza-ipa', ipaCode: null, pec: [] });
    expect(pianoDirectoryFacts(db, { ipaCode: 'ignoto', fiscalCode: null })).toEqual({ byIpaCode: null, byFiscalCode: null });
  });
});
