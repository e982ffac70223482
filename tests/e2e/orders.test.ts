// The Piano dei Fabbisogni and the order workflow through the real CLI: extraction of every
// fixture variant, intake by PEC, and one order walked from the Piano PEC to `active`.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { buildPecReceipt } from '../../fixtures/pec/generate.mjs';
// @ts-expect-error plain JavaScript fixture generator
import { buildPianoForm, pianoPec, signPianoCades, VALID_VALUES } from '../../fixtures/piano/generate.mjs';
import { repoRoot, Workspace } from './workspace.js';

vi.setConfig({ testTimeout: 120_000 });

const out = path.join(repoRoot, 'fixtures', 'piano', 'out');
const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).files as Array<{
  file: string; kind: string; fields: Record<string, unknown> | null; services: Array<{ code: string; quantity: number }> | null;
  expect: { passed: boolean; problems: Array<{ code: string; field?: string }>; warnings: Array<{ code: string; field?: string }> } | null;
}>;
const DESK_PEC = 'pec@pec.cloudpa-desk.example.it';
const APRIL = '2026-04-20T10:00:00+02:00';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace((c) => {
    c.trust = { pecProviders: path.join(repoRoot, 'fixtures', 'pec', 'out', 'trust'), signatures: path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust') };
  });
});
afterEach(() => ws.cleanup());

const key = (f: { code: string; field?: string }) => (f.field ? `${f.code}:${f.field}` : f.code);

describe('pecdesk extract on every Piano fixture', () => {
  const files = manifest.filter((m) => ['form', 'cades', 'pades'].includes(m.kind) && m.file.match(/^(forms|signed)\//));
  it.each(files.map((m) => [m.file, m] as const))('%s', (_f, m) => {
    const r = ws.cli(['extract', path.join(out, m.file), '--at', '2026-04-20T08:00:00Z', '--json']);
    expect(r.status, r.stderr).toBe(m.expect!.passed ? 0 : 1);
    expect(r.json.form).toBe('piano-fabbisogni');
    expect(r.json.passed).toBe(m.expect!.passed);
    let expected = m.expect!.problems.map(key);
    // /V differing from what the page shows is the warning appearance-mismatch (the rule).
    if (m.file.endsWith('piano-appearance-mismatch.pdf')) {
      expected = expected.filter((k) => !k.startsWith('readers-disagree'));
      expect(r.json.warnings.map(key)).toContain('appearance-mismatch:amm_denominazione');
    }
    expect(r.json.problems.map(key).sort()).toEqual(expected.sort());
    if (m.fields && !m.file.includes('flattened')) {
      for (const [name, value] of Object.entries(m.fields)) {
        if (name.endsWith('_sel') || value === '' || value === null || value === false) continue;
        expect(r.json.fields[name], name).toEqual(value);
      }
    }
    if (m.services && m.expect!.passed) expect(r.json.services).toEqual(m.services);
  });

  it('a PAdES Piano modified after signing: values from the signed revision, and the signature says modified', () => {
    const r = ws.cli(['extract', path.join(out, 'signed', 'piano-valid-pades-then-modified.pdf'), '--at', '2026-04-20T08:00:00Z', '--json']).json;
    expect(r.fields.srv_IAAS_VM_qta).toBe('10'); // the update says 9999
    expect(r.signature.problems).toContain('modified-after-signing');
  });

  it('broken input is malformed, not a crash', () => {
    const f = ws.path('broken.pdf');
    writeFileSync(f, '%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R');
    const r = ws.cli(['extract', f, '--json']);
    expect(r.status).toBe(1);
    expect(r.json.problems.map((p: any) => p.code)).toContain('malformed');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a PDF over a configured limit is refused naming it, and by PEC its order is refused with the reason in Italian', async () => {
    const small = new Workspace((c) => {
      c.trust = { pecProviders: path.join(repoRoot, 'fixtures', 'pec', 'out', 'trust'), signatures: path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust') };
      c.limits = { maxPdfPages: 1 };
    });
    try {
      const piano = signPianoCades(await buildPianoForm()); // valid, signed, two pages
      const f = small.path('piano.pdf.p7m');
      writeFileSync(f, piano);
      const r = small.cli(['extract', f, '--at', '2026-04-20T08:00:00Z', '--json']);
      expect(r.status, r.stderr).toBe(1);
      expect(r.json).toMatchObject({ passed: false, fields: {}, signature: { valid: true } });
      expect(r.json.problems).toEqual([{ code: 'pdf-too-many-pages', limit: { setting: 'limits.maxPdfPages', max: 1, found: 2 } }]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // The same Piano by PEC: an order refused with that reason, the message kept.
      const eml = small.path('piano.eml');
      writeFileSync(eml, await pianoPec({ piano, filename: 'piano.pdf.p7m' }));
      const i = small.cli(['ingest', eml, '--mailbox', 'pec', '--now', APRIL, '--json']);
      expect(i.status, i.stderr).toBe(0);
      expect(i.json.results[0]).toMatchObject({ order: { state: 'piano-rejected', problems: ['pdf-too-many-pages'] }, reply: { template: 'piano-rejected' } });
      const body = small.query<{ body_text: string }>("SELECT body_text FROM outbox WHERE template = 'piano-rejected'")[0]!.body_text;
      expect(body).toContain('troppe pagine per l\'esame automatico del modulo (2 pagine; il limite è 1 pagina)');
    } finally {
      small.cleanup();
    }
  });
});

describe('Piano intake', () => {
  const ingest = (file: string, mailbox = 'pec') => {
    const r = ws.cli(['ingest', file, '--mailbox', mailbox, '--now', APRIL, '--json']);
    expect(r.status, r.stderr).toBe(0);
    return r.json.results[0];
  };

  it('a valid Piano by PEC opens an order PF-YYYY-NNNN and is answered piano-accepted with its services', () => {
    const r = ingest(path.join(out, 'messages', 'pec-piano-valid.eml'));
    expect(r).toMatchObject({
      classification: 'pec', sender: { verification: 'pec-certified' },
      ticket: { kind: 'order', category: 'piano-fabbisogni' },
      order: { ref: 'PF-2026-0001', state: 'progetto-in-preparation', problems: [] },
      reply: { template: 'piano-accepted', to: 'protocollo@pec.comune.esempio.it' },
    });
    const o = ws.cli(['orders', 'show', 'PF-2026-0001', '--json']).json;
    expect(o).toMatchObject({ state: 'progetto-in-preparation', administration: 'comune-esempio' });
    expect(o.piano.services).toEqual([{ code: 'IAAS_VM', quantity: 10 }, { code: 'SAAS_MAIL', quantity: 150 }, { code: 'SAAS_PEC', quantity: 200 }]);
    expect(o.events.map((e: any) => e.type)).toEqual(['piano-received', 'piano-accepted']);
    expect(o.documents[0]).toMatchObject({ kind: 'piano' });
    const body = ws.query<{ body_text: string }>("SELECT body_text FROM outbox WHERE template = 'piano-accepted'")[0]!.body_text;
    expect(body).toContain('PF-2026-0001');
    expect(body).toContain('posta elettronica certificata: 200');
  });

  it('a Piano sent by ordinary e-mail yields not-pec', () => {
    const r = ingest(path.join(out, 'messages', 'email-piano-valid.eml'), 'support');
    expect(r).toMatchObject({ classification: 'email', order: { state: 'piano-rejected', problems: ['not-pec'] }, reply: { template: 'piano-rejected' } });
    const body = ws.query<{ body_text: string }>("SELECT body_text FROM outbox WHERE template = 'piano-rejected'")[0]!.body_text;
    expect(body).toContain('non è pervenuto tramite PEC');
  });

  it("a Piano whose signer's codice fiscale is not firm_codice_fiscale yields signer-mismatch, explained in Italian", () => {
    const r = ingest(path.join(out, 'messages', 'pec-piano-signer-mismatch.eml'));
    expect(r.order).toMatchObject({ state: 'piano-rejected', problems: ['signer-mismatch'] });
    const body = ws.query<{ body_text: string }>("SELECT body_text FROM outbox WHERE template = 'piano-rejected'")[0]!.body_text;
    expect(body).toContain('Il codice fiscale del firmatario digitale non corrisponde');
  });

  it('missing fields are each named; amm_pec differing from the PEC sender is only a warning', () => {
    const r = ingest(path.join(out, 'messages', 'pec-piano-missing-fields.eml'));
    expect(r.order.problems).toEqual(['missing-field', 'missing-field', 'missing-field']);
    const body = ws.query<{ body_text: string }>("SELECT body_text FROM outbox WHERE template = 'piano-rejected'")[0]!.body_text;
    expect(body).toContain('«Indirizzo»');
    const ok = ingest(path.join(out, 'messages', 'pec-piano-amm-pec-differs.eml'));
    expect(ok.order.state).toBe('progetto-in-preparation');
    const o = ws.cli(['orders', 'show', ok.order.ref, '--json']).json;
    expect(o.piano.warnings).toContainEqual({ code: 'amm-pec-differs', field: 'amm_pec' });
  });

  it('a Piano from an Administration not in the directory creates it from the form', async () => {
    const form = await buildPianoForm({
      ...VALID_VALUES, amm_denominazione: 'Comune di Nuovaterra', amm_codice_fiscale: '80000000002', amm_codice_ipa: 'c_n999',
      amm_pec: 'protocollo@pec.comune.nuovaterra.it',
    });
    const pec = await pianoPec({ piano: signPianoCades(form), filename: 'piano.pdf.p7m', sender: 'protocollo@pec.comune.nuovaterra.it', senderName: 'Comune di Nuovaterra' });
    const f = ws.path('nuovo.eml');
    writeFileSync(f, pec);
    const r = ingest(f);
    expect(r.order.state).toBe('progetto-in-preparation');
    const o = ws.cli(['orders', 'show', r.order.ref, '--json']).json;
    expect(o).toMatchObject({ administration: 'c_n999', administrationName: 'Comune di Nuovaterra' });
    const dir = ws.cli(['directory', 'show', '--json']).json.administrations;
    expect(dir.find((a: any) => a.id === 'c_n999')).toMatchObject({ fiscalCode: '80000000002', pec: ['protocollo@pec.comune.nuovaterra.it'] });
  });

  it('a corrected Piano re-sent after a rejection resumes the same order', () => {
    const first = ingest(path.join(out, 'messages', 'pec-piano-missing-fields.eml'));
    const again = ingest(path.join(out, 'messages', 'pec-piano-resend.eml'));
    expect(again.order).toMatchObject({ ref: first.order.ref, state: 'progetto-in-preparation' });
    expect(ws.count('SELECT count(*) FROM orders')).toBe(1);
  });
});

describe('one order from the Piano PEC to active', () => {
  it('walks every step through the CLI; each PEC reply is in the outbox with its template and attachments', async () => {
    const ingest = (file: string) => {
      const r = ws.cli(['ingest', file, '--mailbox', 'pec', '--now', APRIL, '--json']);
      expect(r.status, r.stderr).toBe(0);
      return r.json.results[0];
    };
    // 1. Piano
    expect(ingest(path.join(out, 'messages', 'pec-piano-valid.eml')).order.ref).toBe('PF-2026-0001');
    // An illegal step is refused clearly.
    const early = ws.cli(['orders', 'activate', 'PF-2026-0001']);
    expect(early.status).toBe(2);
    expect(early.stderr).toContain('cannot activate an order that is progetto-in-preparation');
    // 2. Progetto by PEC, with its hash recorded
    const sp = ws.cli(['orders', 'send-progetto', 'PF-2026-0001', path.join(out, 'contract', 'progetto.pdf'), '--json']);
    expect(sp.status, sp.stderr).toBe(0);
    expect(sp.json.order.state).toBe('progetto-sent');
    expect(ws.cli(['run', '--once']).status).toBe(0);
    const progettoEntry = ws.cli(['outbox', 'list', '--json']).json.entries.find((e: any) => e.template === 'progetto-delivery');
    expect(progettoEntry).toMatchObject({ channel: 'pec', status: 'sent', to: 'protocollo@pec.comune.esempio.it' });
    const mail = await simpleParser(readFileSync(progettoEntry.sentTo));
    expect(mail.attachments.map((a) => a.filename)).toEqual(['progetto.pdf']);
    expect(mail.attachments[0]!.content.equals(readFileSync(path.join(out, 'contract', 'progetto.pdf')))).toBe(true);
    // …delivered when its avvenuta-consegna arrives
    const receipt = await buildPecReceipt({
      tipo: 'avvenuta-consegna', msgid: progettoEntry.messageId, sender: DESK_PEC,
      recipients: [{ address: progettoEntry.to, tipo: 'certificato' }], consegna: progettoEntry.to, subject: progettoEntry.subject,
      identificativo: 'opec21010.20260420110000.00001.1.1.1@pec.testprovider.it', time: new Date('2026-04-20T09:00:00Z'),
    });
    const rf = ws.path('consegna.eml');
    writeFileSync(rf, receipt);
    expect(ingest(rf).classification).toBe('pec-receipt');
    expect(ws.cli(['orders', 'show', 'PF-2026-0001', '--json']).json.state).toBe('progetto-delivered');
    // 3. A contract whose Progetto differs is answered with the problem; the right one is accepted
    const wrong = ingest(path.join(out, 'contract', 'contract-pec-PF-2026-0001-different-progetto.eml'));
    expect(wrong.order).toMatchObject({ state: 'progetto-delivered', problems: ['progetto-mismatch'] });
    expect(wrong.reply.template).toBe('contract-rejected');
    const right = ingest(path.join(out, 'contract', 'contract-pec-PF-2026-0001.eml'));
    expect(right.order).toMatchObject({ ref: 'PF-2026-0001', state: 'contract-received', problems: [] });
    expect(right.reply.template).toBe('contract-received');
    // 4. Countersign: the PEC carries the PINs; nothing keeps them in clear
    const cs = ws.cli(['orders', 'countersign', 'PF-2026-0001', path.join(out, 'contract', 'contratto-countersigned.pdf.p7m.p7m'), '--json']);
    expect(cs.status, cs.stderr).toBe(0);
    expect(cs.json.order.state).toBe('provisioning');
    expect(cs.json.outbox).toMatchObject({ template: 'countersigned', status: 'sent' });
    const sent = await simpleParser(readFileSync(cs.json.outbox.sentTo));
    expect(sent.attachments.map((a) => a.filename)).toEqual(['contratto-countersigned.pdf.p7m.p7m']);
    const referentPin = /PIN del Referente Tecnico: (\d{6})/.exec(sent.text ?? '')![1]!;
    const genericPin = /PIN per utenza generica:\s+(\d{6})/.exec(sent.text ?? '')![1]!;
    expect(sent.text).toContain('https://portale.cloudpa-desk.example.it');
    const stored = ws.query<{ body_text: string }>("SELECT body_text FROM outbox WHERE template = 'countersigned'")[0]!.body_text;
    expect(stored).not.toContain(referentPin);
    const pinRows = ws.query<{ hash: string }>('SELECT hash FROM pins');
    expect(pinRows).toHaveLength(2);
    for (const p of pinRows) expect(p.hash).toMatch(/^scrypt\$/);
    expect(ws.cli(['pin', 'verify', 'comune-esempio', referentPin, '--json']).json).toEqual({ administration: 'comune-esempio', valid: true, kind: 'referent' });
    expect(ws.cli(['pin', 'verify', 'comune-esempio', genericPin, '--json']).json.kind).toBe('generic');
    expect(ws.cli(['pin', 'verify', 'comune-esempio', '000000']).status).toBe(1);
    // 5. Activation
    const act = ws.cli(['orders', 'activate', 'PF-2026-0001', '--json']);
    expect(act.status, act.stderr).toBe(0);
    expect(act.json.order.state).toBe('active');
    const o = ws.cli(['orders', 'show', 'PF-2026-0001', '--json']).json;
    expect(o.events.map((e: any) => e.type)).toEqual([
      'piano-received', 'piano-accepted', 'send-progetto', 'progetto-delivered', 'contract-rejected', 'contract-accepted', 'countersign', 'activate',
    ]);
    expect(o.documents.map((d: any) => d.kind)).toEqual(expect.arrayContaining(['piano', 'progetto', 'contract', 'contract-progetto', 'countersigned']));
    const templates = ws.cli(['outbox', 'list', '--json']).json.entries.map((e: any) => [e.template, e.channel]);
    expect(templates).toEqual([
      ['piano-accepted', 'pec'], ['progetto-delivery', 'pec'], ['contract-rejected', 'pec'], ['contract-received', 'pec'], ['countersigned', 'pec'], ['activation', 'pec'],
    ]);
    expect(readdirSync(ws.path('outbox')).length).toBeGreaterThanOrEqual(3);
  });
});
