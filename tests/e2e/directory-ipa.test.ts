// `pecdesk directory import-ipa` through the real CLI (issue 9): the IndicePA fixtures into the
// directory of fixtures/directory.yaml, re-import, the Latin-1 variant, a large dump, a file
// that is no dump; and the Piano's formal check warning when the form disagrees with it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { buildLargeDump, EXPECTED } from '../../fixtures/ipa/generate.mjs';
// @ts-expect-error plain JavaScript fixture generator
import { buildPianoForm, pianoPec, signPianoCades, VALID_VALUES } from '../../fixtures/piano/generate.mjs';
import { directoryFile, repoRoot, Workspace } from './workspace.js';

vi.setConfig({ testTimeout: 120_000 });

const ipa = (name: string) => path.join(repoRoot, 'fixtures', 'ipa', 'out', name);
const brief = (list: Array<{ line: number; code: string; column?: string }>) => list.map(({ line, code, column }) => ({ line, code, column }));

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace((c) => {
    c.trust = { pecProviders: path.join(repoRoot, 'fixtures', 'pec', 'out', 'trust'), signatures: path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust') };
  });
  expect(ws.cli(['directory', 'import', directoryFile]).status).toBe(0);
});
afterEach(() => ws.cleanup());

const show = () => Object.fromEntries(ws.cli(['directory', 'show', '--json']).json.administrations.map((a: any) => [a.id, a]));

describe('pecdesk directory import-ipa', () => {
  it('creates and updates Administrations (names, PEC only), leaves referents and contract alone; again → unchanged; the Latin-1 file reads the same', () => {
    const before = show()['comune-esempio'];
    const r = ws.cli(['directory', 'import-ipa', ipa('enti.csv'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ encoding: 'utf-8', bom: true, delimiter: ',', records: 12, created: 6, updated: 1, unchanged: 0, skipped: 5 });
    expect(brief(r.json.skippedLines)).toEqual(EXPECTED.skipped);
    expect(r.json.skippedLines[0].message).toBe('Codice fiscale non valido («00123456789»): la riga non è stata importata.');
    expect(brief(r.json.warnings)).toEqual(EXPECTED.warnings);
    expect(r.json.updates).toEqual([{ line: 2, id: 'comune-esempio', ipaCode: 'c_e000', fields: ['pec'], pecAdded: ['anagrafe@pec.comune.esempio.it'] }]);

    const after = show();
    expect(Object.keys(after).sort()).toEqual([...EXPECTED.created, 'comune-esempio', 'universita-demo'].sort());
    for (const [id, name] of Object.entries(EXPECTED.names)) expect(after[id], id).toMatchObject({ name, pec: (EXPECTED.pec as any)[id] });
    expect(after.gps_rossi.fiscalCode).toBe('RSSMRA80A01H501U');
    expect(after.c_a001).toMatchObject({ ipaCode: 'c_a001', fiscalCode: '00234567899', contract: { support: false }, referents: [], domains: [] });
    const { pec: _pecBefore, ...untouchedBefore } = before;
    const { pec: _pecAfter, ...untouchedAfter } = after['comune-esempio'];
    expect(untouchedAfter).toEqual(untouchedBefore); // referents, delegates, contract, domains, name, codes
    expect(after['universita-demo']).toEqual(show()['universita-demo']);

    const again = ws.cli(['directory', 'import-ipa', ipa('enti.csv'), '--json']);
    expect(again.json).toMatchObject({ created: 0, updated: 0, unchanged: 7, skipped: 5, updates: [] });
    const latin = ws.cli(['directory', 'import-ipa', ipa('enti-latin1.csv'), '--json']);
    expect(latin.status, latin.stderr).toBe(0);
    expect(latin.json).toMatchObject({ encoding: 'windows-1252', delimiter: ';', created: 0, updated: 0, unchanged: 7, skipped: 5 });
    expect(show()).toEqual(after);
  });

  it('prints counts, skipped lines and warnings for a person', () => {
    const r = ws.cli(['directory', 'import-ipa', ipa('enti-latin1.csv')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^.*enti-latin1\.csv \(windows-1252, delimiter ";"\): 12 record\(s\): 6 created, 1 updated, 0 unchanged, 5 skipped, in \d+\.\d\d s\n/);
    expect(r.stdout).toContain('line 9: Codice_IPA: missing-ipa-code — Codice IPA mancante: la riga non è stata importata.');
    expect(r.stdout).toContain("line 13: Mail1: pec-address-shared — L'indirizzo PEC «protocollo@pec.comune.abaco.it» è indicato anche da una riga precedente");
  });

  it('a file that is no IndicePA dump, or cannot be read: one line naming file and line, exit 2, nothing written', () => {
    const f = ws.path('rubrica.csv');
    writeFileSync(f, 'Nome;Cognome;Email\nAnna;Rossi;anna@example.it\n');
    const r = ws.cli(['directory', 'import-ipa', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^pecdesk: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line 1: no Codice_IPA column in the header`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const missing = ws.cli(['directory', 'import-ipa', ws.path('nope.csv')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('nope.csv: cannot read: ENOENT');
    expect(ws.count('SELECT count(*) FROM administrations')).toBe(2);
  });

  it('imports a 3,000-row dump in one transaction (speed is measured by npm run bench, not here); the same dump again is all unchanged', () => {
    const f = ws.path('enti-3000.csv');
    writeFileSync(f, buildLargeDump(3_000));
    const r = ws.cli(['directory', 'import-ipa', f, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ records: 3_000, created: 3_000, updated: 0, skipped: 0 });
    // one PEC each, a second one every tenth row
    expect(ws.count("SELECT count(*) FROM administration_pecs WHERE administration_id GLOB 'ente_[0-9]*'")).toBe(3_000 + 300);
    const again = ws.cli(['directory', 'import-ipa', f, '--json']);
    expect(again.json).toMatchObject({ created: 0, updated: 0, unchanged: 3_000 });
  });
});

describe('Piano formal check against the directory', () => {
  it('warns when the IPA code, the fiscal code and the PEC sender disagree with it; the Piano is still accepted', async () => {
    expect(ws.cli(['directory', 'import-ipa', ipa('enti.csv')]).status).toBe(0);
    // IPA code of Comune di Esempio, fiscal code of Comune di Àbaco, sent from Àbaco's PEC box.
    const form = await buildPianoForm({ ...VALID_VALUES, amm_codice_ipa: 'c_e000', amm_codice_fiscale: '00234567899' });
    const f = ws.path('piano.eml');
    writeFileSync(f, await pianoPec({ piano: signPianoCades(form), filename: 'piano.pdf.p7m', sender: 'protocollo@pec.comune.abaco.it', senderName: 'Comune di Àbaco' }));
    const r = ws.cli(['ingest', f, '--mailbox', 'pec', '--now', '2026-04-20T10:00:00+02:00', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const result = r.json.results[0];
    expect(result.order.state).toBe('progetto-in-preparation');
    const o = ws.cli(['orders', 'show', result.order.ref, '--json']).json;
    expect(o.piano.warnings).toEqual(expect.arrayContaining([
      { code: 'amm-fiscal-code-differs', field: 'amm_codice_fiscale' },
      { code: 'amm-ipa-code-differs', field: 'amm_codice_ipa' },
      { code: 'pec-sender-not-in-directory' },
    ]));
    const body = ws.query<{ body_text: string }>("SELECT body_text FROM outbox WHERE template = 'piano-accepted'")[0]!.body_text;
    expect(body).toContain("Il codice fiscale indicato nel campo «Codice fiscale dell'Amministrazione» è diverso da quello che la rubrica registra");
    expect(body).toContain('La casella PEC da cui è pervenuto il documento non è tra gli indirizzi PEC che la rubrica registra');
  });
});
