// PEC through the real CLI: generated envelopes, receipts and anomalies from a test provider
// (fixtures/pec/generate.mjs), and ordinary e-mail with trusted, untrusted and forged
// Authentication-Results.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { buildPecEnvelope, buildPecReceipt, FIXTURE } from '../../fixtures/pec/generate.mjs';
import { repoRoot, Workspace } from './workspace.js';

// The first use of the generator derives its RSA keys in pure JavaScript (several seconds).
vi.setConfig({ testTimeout: 60_000 });

const out = path.join(repoRoot, 'fixtures', 'pec', 'out');
const NOW = '2026-11-25T10:00:00+01:00';
const DESK_PEC = 'pec@pec.cloudpa-desk.example.it';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace((c) => {
    c.trust = { pecProviders: path.join(out, 'trust'), authservIds: ['mx.cloudpa-desk.example.it'] };
  });
});
afterEach(() => ws.cleanup());

function ingest(file: string, mailbox = 'pec', now = NOW) {
  const r = ws.cli(['ingest', file, '--mailbox', mailbox, '--json', '--now', now]);
  expect(r.status, r.stderr).toBe(0);
  return r.json.results[0];
}
const fixture = (name: string) => path.join(out, name);
function write(name: string, bytes: Buffer): string {
  const p = ws.path(name);
  writeFileSync(p, bytes);
  return p;
}

describe('every generated PEC kind gets the SPEC §8.2 classification and sender level', () => {
  const cases: Array<[string, string, string, string]> = [
    ['envelope-valid.eml', 'pec', 'pec-certified', 'pec'],
    ['envelope-valid-sha1.eml', 'pec', 'pec-certified', 'pec'],
    ['envelope-with-attachment.eml', 'pec', 'pec-certified', 'pec'],
    ['envelope-expired-provider.eml', 'pec', 'pec-certified', 'pec'],
    ['envelope-altered-inner.eml', 'pec', 'unverified', 'pec'],
    ['envelope-altered-daticert.eml', 'pec', 'unverified', 'pec'],
    ['envelope-untrusted-provider.eml', 'pec', 'unverified', 'pec'],
    ['envelope-no-signature.eml', 'pec', 'unverified', 'pec'],
    ['envelope-forged-headers.eml', 'pec', 'unverified', 'pec'],
    ['receipt-accettazione.eml', 'pec-receipt', 'pec-certified', 'pec'],
    ['receipt-non-accettazione.eml', 'pec-receipt', 'pec-certified', 'pec'],
    ['receipt-presa-in-carico.eml', 'pec-receipt', 'pec-certified', 'pec'],
    ['receipt-avvenuta-consegna.eml', 'pec-receipt', 'pec-certified', 'pec'],
    ['receipt-errore-consegna.eml', 'pec-receipt', 'pec-certified', 'pec'],
    ['receipt-preavviso-errore-consegna.eml', 'pec-receipt', 'pec-certified', 'pec'],
    ['receipt-rilevazione-virus.eml', 'pec-receipt', 'pec-certified', 'pec'],
    ['anomaly.eml', 'pec-anomaly', 'unverified', 'pec'],
    ['email-dmarc-trusted.eml', 'email', 'dmarc-pass', 'support'],
    ['email-dmarc-untrusted.eml', 'email', 'unverified', 'support'],
    ['email-dmarc-forged-below.eml', 'email', 'unverified', 'support'],
    ['email-no-auth-results.eml', 'email', 'unverified', 'support'],
  ];
  it.each(cases)('%s → %s, %s', (file, classification, verification, mailbox) => {
    const r = ingest(fixture(file), mailbox);
    expect(r.classification).toBe(classification);
    expect(r.sender.verification).toBe(verification);
    if (classification === 'pec-receipt' || classification === 'pec-anomaly') {
      expect(r.ticket).toBeNull();
      expect(r.reply).toBeNull();
    } else {
      expect(r.ticket).not.toBeNull();
      const t = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
      expect(t.senderVerification).toBe(verification);
      expect(t.senderVerificationNote).toBeTruthy();
    }
  });

  it('a receipt of each type is listed with its type', () => {
    const tipi = ['accettazione', 'non-accettazione', 'presa-in-carico', 'avvenuta-consegna', 'errore-consegna', 'preavviso-errore-consegna', 'rilevazione-virus'];
    const r = ws.cli(['ingest', ...tipi.map((t) => fixture(`receipt-${t}.eml`)), fixture('anomaly.eml'), '--mailbox', 'pec', '--json', '--now', NOW]);
    expect(r.status).toBe(0);
    const notices = ws.cli(['pec', 'list', '--json']).json.notices;
    expect(notices.filter((n: any) => n.kind === 'receipt').map((n: any) => n.tipo)).toEqual(tipi);
    expect(notices.find((n: any) => n.kind === 'anomaly')).toBeTruthy();
    // None refers to anything this desk sent: all uncorrelated, none applied.
    expect(ws.cli(['pec', 'list', '--uncorrelated', '--json']).json.notices).toHaveLength(8);
    expect(ws.cli(['pec', 'list']).stdout).toContain('uncorrelated');
  });
});

describe('PEC envelopes', () => {
  it('a certified envelope: the request is postacert.eml, the sender the signed mittente, the time the certified one', () => {
    const r = ingest(fixture('envelope-with-attachment.eml'));
    expect(r.sender.address).toBe('protocollo@pec.comune.esempio.it');
    const t = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
    expect(t).toMatchObject({ channel: 'pec', administration: 'comune-esempio', receivedAt: '2026-11-23T10:02:00.000Z' });
    const ev = t.events[0].detail;
    expect(ev.attachments.map((a: any) => a.filename)).toContain('richiesta.pdf');
    expect(ev.pec).toMatchObject({ kind: 'posta-certificata', certified: true, problems: [] });
    expect(ev.pec.daticert.identificativo).toBeTruthy();
  });

  it('is answered through the PEC mailbox, and its Message-ID is recorded for the receipts', () => {
    const r = ingest(fixture('envelope-valid.eml'));
    expect(r.reply).toEqual({ template: 'acknowledgement', to: 'anna.rossi@pec.comune.esempio.it' });
    const e = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    expect(e).toMatchObject({ channel: 'pec', from: DESK_PEC, to: 'anna.rossi@pec.comune.esempio.it' });
    expect(e.messageId).toMatch(/^<[^@]+@pec\.cloudpa-desk\.example\.it>$/);
    expect(ws.cli(['run', '--once']).status).toBe(0);
    const written = ws.cli(['outbox', 'list', '--json']).json.entries[0].sentTo;
    expect(readFileSync(written, 'utf8')).toMatch(/^X-TipoRicevuta: completa/im);
  });

  it('an envelope altered after the provider signed it is never pec-certified, and the ticket says why', () => {
    for (const f of ['envelope-altered-inner.eml', 'envelope-altered-daticert.eml']) {
      const r = ingest(fixture(f));
      expect(r.sender.verification).toBe('unverified');
      const t = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
      expect(t.senderVerificationNote).toContain('the content was altered');
    }
    const u = ingest(fixture('envelope-untrusted-provider.eml'));
    expect(ws.cli(['tickets', 'show', u.ticket.ref, '--json']).json.senderVerificationNote).toContain('no chain');
  });

  it('the provider certificate expired since: still certified, judged at the envelope signing time', () => {
    const r = ingest(fixture('envelope-expired-provider.eml'));
    expect(r.sender.verification).toBe('pec-certified');
    expect(ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json.receivedAt).toBe('2021-11-23T09:00:00.000Z');
  });

  it('a PEC reply citing our reply threads onto the ticket; the rewritten id and identificativo are recorded', async () => {
    const first = ingest(fixture('envelope-valid.eml'));
    const ours = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    const followUp = await buildPecEnvelope({
      sender: 'protocollo@pec.comune.esempio.it',
      recipients: [DESK_PEC],
      subject: 'Re: sollecito',
      innerText: 'Vi sollecitiamo la risposta.',
      innerMessageId: '<follow-1@pec.comune.esempio.it>',
      identificativo: 'opec21010.20261125080000.00001.1.1.1@pec.testprovider.it',
      time: new Date('2026-11-25T08:00:00Z'),
      inReplyTo: ours.messageId,
    });
    const r = ingest(write('follow.eml', followUp));
    expect(r).toMatchObject({ classification: 'pec', ticket: { ref: first.ticket.ref }, reply: null });
  });
});

describe('receipts move the delivery state of our PEC replies', () => {
  async function sentReply() {
    ingest(fixture('envelope-valid.eml'));
    expect(ws.cli(['run', '--once']).status).toBe(0);
    return ws.cli(['outbox', 'list', '--json']).json.entries[0];
  }
  const receipt = (tipo: string, e: any, extra: Record<string, unknown> = {}) =>
    buildPecReceipt({
      tipo,
      msgid: e.messageId,
      sender: DESK_PEC,
      recipients: [{ address: e.to, tipo: 'certificato' }],
      consegna: tipo === 'accettazione' || tipo === 'non-accettazione' ? undefined : e.to,
      subject: e.subject,
      identificativo: 'opec21010.20261125090000.00077.1.1.1@pec.testprovider.it',
      time: new Date('2026-11-25T08:30:00Z'),
      ...extra,
    });

  it('accettazione then avvenuta-consegna: delivered', async () => {
    const e = await sentReply();
    expect(e.delivery).toBeNull();
    const a = ingest(write('acc.eml', await receipt('accettazione', e)));
    expect(a).toMatchObject({ classification: 'pec-receipt', ticket: { ref: e.ticket } });
    expect(ws.cli(['outbox', 'list', '--json']).json.entries[0].delivery).toMatchObject({ state: 'accepted', recipients: [{ address: e.to, state: 'accepted' }] });
    ingest(write('cons.eml', await receipt('avvenuta-consegna', e)));
    const after = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    expect(after.delivery).toMatchObject({ state: 'delivered', recipients: [{ address: e.to, state: 'delivered' }] });
    expect(after.pecIdentificativo).toBe('opec21010.20261125090000.00077.1.1.1@pec.testprovider.it');
    // A late warning never downgrades a final state.
    ingest(write('late.eml', await receipt('preavviso-errore-consegna', e, { time: new Date('2026-11-25T20:30:00Z'), messageId: '<late@x>' })));
    expect(ws.cli(['outbox', 'list', '--json']).json.entries[0].delivery.state).toBe('delivered');
    const events = ws.cli(['tickets', 'show', e.ticket, '--json']).json.events.map((x: any) => x.type);
    expect(events.filter((x: string) => x === 'pec-receipt')).toHaveLength(3);
    const notices = ws.cli(['pec', 'list', '--json']).json.notices;
    expect(notices.map((n: any) => [n.tipo, n.outboxId, n.applied])).toEqual([
      ['accettazione', e.id, true],
      ['avvenuta-consegna', e.id, true],
      ['preavviso-errore-consegna', e.id, true],
    ]);
  });

  it('a send a crash interrupted is uncertain: e-mail is re-sent at once with the same Message-ID; PEC waits for an accettazione (which settles it), else is re-sent after the wait', async () => {
    expect(ws.cli(['ingest', fixture('envelope-valid.eml'), fixture('envelope-with-attachment.eml'), '--mailbox', 'pec', '--now', NOW]).status).toBe(0);
    ingest(path.join(repoRoot, 'fixtures', 'mail', 'samples', '01-casella-bloccata.eml'), 'support');
    const [pec1, pec2, mail] = ws.cli(['outbox', 'list', '--json']).json.entries;
    expect([pec1.channel, pec2.channel, mail.channel]).toEqual(['pec', 'pec', 'email']);
    // The crash: every entry taken for sending (committed), the process gone before the outcome.
    const db = new Database(path.join(ws.config.dataDir, 'pecdesk.sqlite'));
    db.prepare(`UPDATE outbox SET sending_since = '2026-11-25T09:10:00Z'`).run();
    db.close();
    const outboxFiles = () => readdirSync(ws.path('outbox')).filter((f) => f.endsWith('.eml'));
    expect(ws.cli(['run', '--once']).status).toBe(0);
    let [p1, p2, m] = ws.cli(['outbox', 'list', '--json']).json.entries;
    expect(m).toMatchObject({ status: 'sent', messageId: mail.messageId, uncertain: { since: expect.any(String), resendAfter: null } });
    for (const p of [p1, p2]) {
      // Held back: a re-send would be another certified delivery.
      expect(p).toMatchObject({ status: 'queued', uncertain: { since: expect.any(String) } });
      expect((Date.parse(p.uncertain.resendAfter) - Date.parse(p.uncertain.since)) / 60_000).toBe(60);
    }
    expect(outboxFiles()).toHaveLength(1);
    // Within the wait, the provider's accettazione for the first shows it went: settled, never re-sent.
    ingest(write('acc.eml', await receipt('accettazione', pec1)));
    // After the wait, the second (no accettazione) is re-sent, with its own Message-ID still.
    expect(ws.cli(['run', '--once', '--now', new Date(Date.now() + 61 * 60_000).toISOString()]).status).toBe(0);
    [p1, p2] = ws.cli(['outbox', 'list', '--json']).json.entries;
    expect(p1).toMatchObject({ status: 'sent', sentTo: 'pec-accettazione', delivery: { state: 'accepted' } });
    expect(p2).toMatchObject({ status: 'sent', messageId: pec2.messageId, uncertain: { since: expect.any(String) } });
    expect(outboxFiles()).toHaveLength(2);
  });

  it('errore-consegna: failed, with the provider reason', async () => {
    const e = await sentReply();
    ingest(write('acc.eml', await receipt('accettazione', e)));
    ingest(write('err.eml', await receipt('errore-consegna', e, { errore: 'no-dest', erroreEsteso: '5.1.1 - Casella inesistente' })));
    const d = ws.cli(['outbox', 'list', '--json']).json.entries[0].delivery;
    expect(d.state).toBe('failed');
    expect(d.recipients[0]).toMatchObject({ address: e.to, state: 'failed', detail: '5.1.1 - Casella inesistente' });
  });

  it('a later receipt without msgid is matched by the identificativo of the accettazione', async () => {
    const e = await sentReply();
    ingest(write('acc.eml', await receipt('accettazione', e)));
    ingest(write('cons.eml', await receipt('avvenuta-consegna', e, { msgid: '<unknown@elsewhere>' })));
    expect(ws.cli(['outbox', 'list', '--json']).json.entries[0].delivery.state).toBe('delivered');
  });

  it('a receipt whose signature does not verify changes nothing, and is listed', async () => {
    const e = await sentReply();
    ingest(write('evil.eml', await receipt('avvenuta-consegna', e, { signer: 'evil' })));
    ingest(write('tampered.eml', await receipt('avvenuta-consegna', e, { tamper: 'daticert', messageId: '<t@x>' })));
    expect(ws.cli(['outbox', 'list', '--json']).json.entries[0].delivery).toBeNull();
    const notices = ws.cli(['pec', 'list', '--json']).json.notices;
    expect(notices.map((n: any) => [n.certified, n.applied])).toEqual([[false, false], [false, false]]);
  });
});

describe('sender verification of ordinary e-mail (SPEC §3)', () => {
  it('dmarc-pass only from the topmost header of a trusted authserv-id', () => {
    expect(ingest(fixture('email-dmarc-trusted.eml'), 'support').sender.verification).toBe('dmarc-pass');
    // The same file on a desk that does not trust that MX.
    const other = new Workspace((c) => (c.trust = { authservIds: ['mx.altro.example'] }));
    try {
      const r = other.cli(['ingest', fixture('email-dmarc-trusted.eml'), '--json', '--now', NOW]).json.results[0];
      expect(r.sender.verification).toBe('unverified');
    } finally {
      other.cleanup();
    }
  });

  it('a verified user of the administration may follow up on a colleague\'s ticket; an unverified one may not', async () => {
    const first = ingest(path.join(repoRoot, 'fixtures', 'mail', 'samples', '01-casella-bloccata.eml'), 'support'); // anna.rossi
    const mk = (auth: string | null, id: string) =>
      Buffer.from(
        [
          ...(auth ? [`Authentication-Results: ${auth}`] : []),
          'Received: from mx.comune.esempio.it by mx.cloudpa-desk.example.it; Tue, 24 Nov 2026 10:00:00 +0100',
          'From: Giulia Neri <giulia.neri@comune.esempio.it>',
          'To: helpdesk@cloudpa-desk.example.it',
          `Subject: Re: Casella di posta bloccata [${first.ticket.ref}]`,
          `Message-ID: <${id}@comune.esempio.it>`,
          'Date: Tue, 24 Nov 2026 10:00:00 +0100',
          '',
          'Aggiungo un dettaglio.',
          '',
        ].join('\r\n'),
      );
    const verified = ingest(write('v.eml', mk('mx.cloudpa-desk.example.it; dkim=pass header.d=comune.esempio.it; dmarc=pass header.from=comune.esempio.it', 'v1')), 'support');
    expect(verified).toMatchObject({ sender: { verification: 'dmarc-pass' }, ticket: { ref: first.ticket.ref } });
    const unverified = ingest(write('u.eml', mk(null, 'u1')), 'support');
    expect(unverified.ticket.ref).not.toBe(first.ticket.ref);
  });
});
