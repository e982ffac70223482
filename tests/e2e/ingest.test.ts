// `pecdesk ingest` end to end: the real CLI, a real SQLite file, real fixture messages.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { email, samples, Workspace } from './workspace.js';

const NOW = '2026-11-23T15:00:00+01:00'; // Monday, inside service hours
let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.cleanup());

function ingestFile(file: string, extra: string[] = []) {
  const r = ws.cli(['ingest', file, '--json', '--now', NOW, ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return r.json.results[0];
}

function write(name: string, bytes: Buffer): string {
  const p = ws.path(name);
  writeFileSync(p, bytes);
  return p;
}

describe('ingest of ordinary e-mail', () => {
  it('opens a ticket with the SPEC §8.2 result shape and queues an Italian acknowledgement', () => {
    const r = ingestFile(path.join(samples, '01-casella-bloccata.eml'));
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['file', 'messageId', 'classification', 'sender', 'ticket', 'order', 'reply']));
    expect(r).toMatchObject({
      messageId: '<demo-001@comune.esempio.it>',
      classification: 'email',
      sender: { address: 'anna.rossi@comune.esempio.it', verification: 'unverified' },
      ticket: { ref: 'HD-2026-000001', kind: 'support', category: 'support', priority: 'P3', authorized: true, authorizationReason: 'support-open', onCall: false },
      order: null,
      reply: { template: 'acknowledgement', to: 'anna.rossi@comune.esempio.it' },
    });
    // "È un problema urgente" on one mailbox: P3, close of the working day after Monday 23 Nov → Tuesday 24 Nov 17:00 Rome.
    expect(r.ticket.takeChargeDueAt).toBe('2026-11-24T16:00:00.000Z');

    const t = ws.cli(['tickets', 'show', 'HD-2026-000001', '--json']).json;
    expect(t).toMatchObject({
      ref: 'HD-2026-000001', kind: 'support', status: 'new', priority: 'P3', administration: 'comune-esempio',
      requester: 'anna.rossi@comune.esempio.it', authorized: true, receivedAt: '2026-11-23T08:15:02.000Z',
    });
    expect(t.events.map((e: any) => e.type)).toEqual(['received', 'classified', 'reply-queued']);
    expect(t.events[0].detail.text).toContain('perché');

    const out = ws.cli(['outbox', 'list', '--json']).json.entries;
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      template: 'acknowledgement', channel: 'email', to: 'anna.rossi@comune.esempio.it', status: 'queued',
      subject: 'Re: Casella di posta bloccata [HD-2026-000001]', inReplyTo: '<demo-001@comune.esempio.it>', delivery: null, attempts: 0,
    });
  });

  it('the same file twice gives one ticket and `duplicate` the second time', () => {
    const f = path.join(samples, '02-reset-password.eml');
    const first = ingestFile(f);
    const second = ingestFile(f);
    expect(first.classification).toBe('email');
    expect(second.classification).toBe('duplicate');
    expect(second.duplicateOf.ticketRef).toBe(first.ticket.ref);
    expect(second.reply).toBeNull();
    expect(ws.count('SELECT count(*) FROM tickets')).toBe(1);
    expect(ws.count('SELECT count(*) FROM outbox')).toBe(1);
  });

  it('a re-delivery of the same Message-ID from the same sender is a duplicate; from another sender it is not', () => {
    const a = write('a.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Prova', messageId: '<same@x.it>' }));
    const b = write('b.eml', Buffer.concat([Buffer.from('Received: from relay2 by mx; Mon, 23 Nov 2026 10:05:00 +0100\r\n'), email({ from: 'anna.rossi@comune.esempio.it', subject: 'Prova', messageId: '<same@x.it>' })]));
    const c = write('c.eml', email({ from: 'mario@altro.example', subject: 'Prova', messageId: '<same@x.it>' }));
    expect(ingestFile(a).classification).toBe('email');
    expect(ingestFile(b).classification).toBe('duplicate');
    expect(ingestFile(c).classification).toBe('email');
    expect(ws.count('SELECT count(*) FROM tickets')).toBe(2);
    expect(ws.count('SELECT count(*) FROM messages')).toBe(3); // every arrival is recorded
    // The same Message-ID and sender with another subject and body is a new message, noted as a reuse.
    const d = write('d.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Altra richiesta', body: 'Tutt\'altro argomento.', messageId: '<same@x.it>' }));
    const reused = ingestFile(d);
    expect(reused).toMatchObject({ classification: 'email', messageIdReuseOf: { ticketRef: 'HD-2026-000001' } });
    expect(reused.ticket.ref).toBe('HD-2026-000003');
    const events = ws.cli(['tickets', 'show', reused.ticket.ref, '--json']).json.events.map((e: any) => e.type);
    expect(events).toContain('message-id-reused');
    // Delivered again as it was: a duplicate of the reuse, not a third ticket.
    expect(ingestFile(write('d2.eml', Buffer.concat([Buffer.from('Received: from relay3 by mx; Mon, 23 Nov 2026 10:09:00 +0100\r\n'), readFileSync(d)]))).classification).toBe('duplicate');
  });

  it('a 55,000-character subject is not echoed back: the reply caps it, in the subject and in the text', () => {
    const huge = `Richiesta ${'molto lunga '.repeat(5000)}`;
    const r = ingestFile(write('huge.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: huge, messageId: '<huge@x.it>' })));
    expect(r.reply).not.toBeNull();
    const [e] = ws.query<{ subject: string; body_text: string }>('SELECT subject, body_text FROM outbox');
    expect([...e!.subject].length).toBeLessThanOrEqual(250);
    expect(e!.body_text.length).toBeLessThan(4000);
    expect(e!.subject).toMatch(/^Re: Richiesta molto lunga .*… \[HD-2026-000001\]$/);
  });

  it('classifies auto-replies and bounces without opening tickets or replying', () => {
    const auto = ingestFile(path.join(samples, '07-fuori-sede.eml'));
    const bounce = ingestFile(path.join(samples, '08-mancata-consegna.eml'));
    expect(auto).toMatchObject({ classification: 'auto-reply', reply: null, ticket: null });
    expect(bounce).toMatchObject({ classification: 'bounce', reply: null, ticket: null });
    expect(ws.count('SELECT count(*) FROM tickets')).toBe(0);
  });

  it('a bounce of one of our replies marks that recipient failed and tells the ticket', () => {
    const req = ingestFile(path.join(samples, '01-casella-bloccata.eml'));
    const ours = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    const dsn = write(
      'dsn.eml',
      Buffer.from(
        [
          'Received: from mx by mx; Mon, 23 Nov 2026 10:30:00 +0100',
          'From: MAILER-DAEMON@mx.comune.esempio.it',
          'To: helpdesk@cloudpa-desk.example.it',
          'Return-Path: <>',
          'Subject: Undelivered Mail Returned to Sender',
          'Message-ID: <dsn-1@mx.comune.esempio.it>',
          'MIME-Version: 1.0',
          'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
          '',
          '--B',
          'Content-Type: text/plain',
          '',
          'Delivery failed.',
          '--B',
          'Content-Type: message/delivery-status',
          '',
          'Final-Recipient: rfc822; anna.rossi@comune.esempio.it',
          'Action: failed',
          'Status: 5.2.2',
          '',
          '--B',
          'Content-Type: text/rfc822-headers',
          '',
          `Message-ID: ${ours.messageId}`,
          'Subject: x',
          '',
          '--B--',
          '',
        ].join('\r\n'),
      ),
    );
    expect(ingestFile(dsn)).toMatchObject({ classification: 'bounce', ticket: { ref: req.ticket.ref } });
    const entry = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    expect(entry.delivery).toMatchObject({ state: 'failed', recipients: [{ address: 'anna.rossi@comune.esempio.it', state: 'failed' }] });
    const events = ws.cli(['tickets', 'show', req.ticket.ref, '--json']).json.events.map((e: any) => e.type);
    expect(events).toContain('reply-bounced');
  });

  it('answers out of service hours with the out-of-hours notice', () => {
    const r = ingestFile(path.join(samples, '04-fuori-orario.eml'));
    expect(r.reply).toEqual({ template: 'out-of-hours', to: 'marco.verdi@unidemo.it' });
    // "Servizio di posta irraggiungibile" is P1+, but the university has no support contract:
    // lowered to P3, due at the close of the working day after Saturday 21 Nov: Monday 23 Nov 17:00.
    expect(r.ticket).toMatchObject({ priority: 'P3', takeChargeDueAt: '2026-11-23T16:00:00.000Z' });
    const body = ws.query<{ body_text: string }>('SELECT body_text FROM outbox')[0]!.body_text;
    expect(body).toContain('fuori dall\'orario di servizio');
    expect(body).toContain('lunedì 23 novembre 2026, ore 08:00');
    expect(body).toContain('La classe di priorità P1+ è riservata alle Amministrazioni con contratto di assistenza');
    expect(body).toContain('HD-2026-000001');
  });
});

describe('threading (SPEC §5)', () => {
  it('a follow-up from the requester joins the ticket by In-Reply-To and by the reference in the subject', () => {
    ingestFile(path.join(samples, '01-casella-bloccata.eml'));
    const follow = ingestFile(path.join(samples, '06-risposta-ticket.eml'));
    expect(follow).toMatchObject({ classification: 'email', ticket: { ref: 'HD-2026-000001' }, reply: null });
    const bySubject = write('s.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Ancora [HD-2026-000001]', messageId: '<s1@x.it>' }));
    expect(ingestFile(bySubject).ticket.ref).toBe('HD-2026-000001');
    const types = ws.cli(['tickets', 'show', 'HD-2026-000001', '--json']).json.events.map((e: any) => e.type);
    expect(types.filter((t: string) => t === 'follow-up')).toHaveLength(2);
    expect(ws.count('SELECT count(*) FROM tickets')).toBe(1);
  });

  it('a reply to our acknowledgement threads on the Message-ID the desk sent', () => {
    ingestFile(path.join(samples, '01-casella-bloccata.eml'));
    const ack = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    const m = write('r.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Re: grazie', messageId: '<r1@x.it>', headers: { 'In-Reply-To': ack.messageId } }));
    expect(ingestFile(m).ticket.ref).toBe('HD-2026-000001');
  });

  it('a referent or a valid delegate of the same administration may join; a stranger quoting the number opens a new ticket', () => {
    ingestFile(path.join(samples, '01-casella-bloccata.eml')); // anna.rossi, comune-esempio
    const delegate = write('d.eml', email({ from: 'luca.bianchi@comune.esempio.it', subject: 'Re: [HD-2026-000001]', messageId: '<d1@x.it>' }));
    expect(ingestFile(delegate).ticket.ref).toBe('HD-2026-000001');

    const stranger = write('x.eml', email({ from: 'intruso@altro.example', subject: 'Re: [HD-2026-000001] chiudete', messageId: '<x1@x.it>' }));
    const r = ingestFile(stranger);
    expect(r.ticket.ref).toBe('HD-2026-000002');
    const ev = ws.cli(['tickets', 'show', 'HD-2026-000002', '--json']).json.events;
    expect(ev.find((e: any) => e.type === 'thread-refused').detail.quotedTicket).toBe('HD-2026-000001');

    // Same domain but an unverified ordinary user: quoting the number grants nothing either.
    const colleague = write('c.eml', email({ from: 'giulia.neri@comune.esempio.it', subject: 'Re: [HD-2026-000001]', messageId: '<c1@x.it>' }));
    expect(ingestFile(colleague).ticket.ref).toBe('HD-2026-000003');
  });

  it('an expired delegation does not let the delegate join', () => {
    ingestFile(path.join(samples, '01-casella-bloccata.eml'));
    const late = write('late.eml', email({ from: 'luca.bianchi@comune.esempio.it', subject: 'Re: [HD-2026-000001]', messageId: '<l1@x.it>', date: 'Fri, 1 Jan 2027 10:00:00 +0100' }));
    const r = ws.cli(['ingest', late, '--json', '--now', '2027-01-04T10:00:00+01:00']).json.results[0];
    expect(r.ticket.ref).toBe('HD-2027-000001');
  });
});

describe('never auto-reply (SPEC §5)', () => {
  const cases: Array<[string, Record<string, string>, string?]> = [
    ['Auto-Submitted: auto-generated', { 'Auto-Submitted': 'auto-generated' }],
    ['Precedence: bulk', { Precedence: 'bulk' }],
    ['Precedence: junk', { Precedence: 'junk' }],
    ['Precedence: list', { Precedence: 'list' }],
    ['List-Id', { 'List-Id': '<lista.example.it>' }],
    ['List-Unsubscribe', { 'List-Unsubscribe': '<mailto:u@example.it>' }],
    ['X-Autoreply', { 'X-Autoreply': 'yes' }],
    ['X-Autorespond', { 'X-Autorespond': 'yes' }],
    ['null return path', { 'Return-Path': '<>' }],
    ['noreply sender', {}, 'noreply@servizi.example.it'],
    ['postmaster sender', {}, 'postmaster@comune.esempio.it'],
    ['MAILER-DAEMON sender', {}, 'MAILER-DAEMON@comune.esempio.it'],
    ["the desk's own address", {}, 'helpdesk@cloudpa-desk.example.it'],
  ];
  it.each(cases)('%s: registered, no reply, the reason on the ticket', (_name, headers, from) => {
    const f = write('m.eml', email({ from: from ?? 'utente@comune.esempio.it', subject: 'Segnalazione', messageId: '<nr@x.it>', headers }));
    const r = ingestFile(f);
    expect(r.reply).toBeNull();
    expect(ws.count('SELECT count(*) FROM outbox')).toBe(0);
    if (r.ticket) {
      const ev = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json.events;
      expect(ev.some((e: any) => e.type === 'reply-suppressed')).toBe(true);
    }
  });

  it('Auto-Submitted: no is an ordinary message', () => {
    const f = write('m.eml', email({ from: 'utente@comune.esempio.it', subject: 'Segnalazione', messageId: '<no@x.it>', headers: { 'Auto-Submitted': 'no' } }));
    expect(ingestFile(f).reply).not.toBeNull();
  });

  it('at most N automatic replies per sender per hour', () => {
    const files = Array.from({ length: 7 }, (_, i) =>
      write(`m${i}.eml`, email({ from: 'molto.attivo@comune.esempio.it', subject: `Richiesta ${i}`, messageId: `<lim${i}@x.it>` })),
    );
    const r = ws.cli(['ingest', ...files, '--json', '--now', NOW]).json.results;
    expect(r.map((x: any) => x.reply !== null)).toEqual([true, true, true, true, true, false, false]);
    expect(r.every((x: any) => x.ticket !== null)).toBe(true);
    // An hour and more later the sender is answered again.
    const later = write('later.eml', email({ from: 'molto.attivo@comune.esempio.it', subject: 'Dopo', messageId: '<later@x.it>' }));
    expect(ws.cli(['ingest', later, '--json', '--now', '2026-11-23T16:30:00+01:00']).json.results[0].reply).not.toBeNull();
  });
});

describe('malformed input never fails ingest nor loses the message', () => {
  const dir = path.join(path.dirname(samples), 'malformed');
  const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();

  it('every malformed fixture: exit 0, recorded, raw bytes kept, a clear outcome', () => {
    const r = ws.cli(['ingest', ...files.map((f) => path.join(dir, f)), '--json', '--now', NOW]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const results = r.json.results;
    expect(results).toHaveLength(files.length);
    expect(ws.count('SELECT count(*) FROM messages')).toBe(files.length);
    expect(ws.count("SELECT count(*) FROM messages WHERE status = 'received'")).toBe(0);
    const by = Object.fromEntries(results.map((x: any) => [path.basename(x.file), x]));
    expect(by['empty.eml']).toMatchObject({ classification: 'quarantined', quarantine: { reason: expect.stringContaining('empty') } });
    expect(by['no-from.eml']).toMatchObject({ classification: 'quarantined', quarantine: { reason: expect.stringContaining('no-sender') } });
    for (const f of files.filter((x) => !['empty.eml', 'no-from.eml'].includes(x))) {
      expect(by[f].classification, f).toBe('email');
      expect(by[f].ticket, f).not.toBeNull();
    }
    // The 8-bit garbage From still yields its address.
    expect(by['header-8bit-garbage.eml'].sender.address).toBe('sender@comune.esempio.it');
    const q = ws.cli(['quarantine', 'list', '--json']).json.entries;
    expect(q.map((e: any) => path.basename(e.file)).sort()).toEqual(['empty.eml', 'no-from.eml']);
  });

  const ticketOf = (file: string) => {
    const r = ingestFile(path.join(dir, file));
    return ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
  };

  it('decodes RFC 2047 subjects mixing charsets and encodings', () => {
    expect(ticketOf('rfc2047-subject.eml').subject).toBe('Città di Forlì – richiesta è urgente €');
  });

  it('decodes ISO-8859-1 and windows-1252 bodies', () => {
    expect(ticketOf('latin1-body.eml').events[0].detail.text).toContain('La casella è piena, non riesco più a inviare');
    expect(ticketOf('windows-1252-body.eml').events[0].detail.text).toContain('Il costo “previsto” è di 100 €');
  });

  it('keeps the body of a multipart whose boundary never appears', () => {
    expect(ticketOf('broken-boundary.eml').events[0].detail.text.length).toBeGreaterThan(20);
  });

  it('reads 100 nested multiparts down to the text', () => {
    expect(ticketOf('nested-100.eml').events[0].detail.text).toContain('profondo');
  });

  it('refuses absurd nesting without parsing it, into quarantine', () => {
    let body = 'fondo\r\n';
    for (let i = 400; i >= 1; i--) body = `--q${i}_\r\nContent-Type: multipart/mixed; boundary="q${i + 1}_"\r\n\r\n${body}\r\n--q${i}_--\r\n`;
    const f = write('deep.eml', Buffer.concat([email({ from: 'a@b.it', subject: 'deep', messageId: '<deep@x>' }).subarray(0, 0), Buffer.from(`From: a@b.it\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\nContent-Type: multipart/mixed; boundary="q1_"\r\n\r\n${body}`)]));
    const r = ingestFile(f);
    expect(r).toMatchObject({ classification: 'quarantined', quarantine: { reason: expect.stringContaining('mime-too-complex') } });
  });

  it('counts leaf parts too: one multipart with 990 attachments is refused (limits.maxMimeParts, 200)', () => {
    const parts = Array.from({ length: 990 }, (_, i) => `--flat\r\nContent-Type: text/plain; name="a${i}.txt"\r\nContent-Disposition: attachment\r\n\r\nparte ${i}\r\n`).join('');
    const f = write('flat-990.eml', Buffer.from(`From: a@b.it\r\nSubject: flat\r\nMessage-ID: <flat990@x>\r\nContent-Type: multipart/mixed; boundary="flat"\r\n\r\n${parts}--flat--\r\n`));
    const r = ingestFile(f);
    expect(r).toMatchObject({ classification: 'quarantined', quarantine: { reason: expect.stringContaining('990 MIME parts') } });
  });
});

describe('quarantine commands', () => {
  it('list, show and retry a quarantined message', () => {
    const f = write('nofrom.eml', Buffer.from('Subject: senza mittente\r\nMessage-ID: <nf@x>\r\n\r\ntesto\r\n'));
    const r = ingestFile(f);
    expect(r.classification).toBe('quarantined');
    const id = r.quarantine.id;
    const show = ws.cli(['quarantine', 'show', String(id), '--json']).json;
    expect(show).toMatchObject({ id, mailbox: 'support', status: 'open', message: { subject: 'senza mittente' } });
    expect(show.message.rawPath).toContain(show.message.sha256);
    const human = ws.cli(['quarantine', 'list']);
    expect(human.stdout).toContain('no-sender');
    // Still broken: retrying quarantines it again (exit 1), the old entry is released.
    const retry = ws.cli(['quarantine', 'retry', String(id), '--json']);
    expect(retry.status).toBe(1);
    expect(retry.json.results[0].classification).toBe('quarantined');
    expect(ws.cli(['quarantine', 'list', '--json']).json.entries).toHaveLength(1);
    expect(ws.count('SELECT count(*) FROM messages')).toBe(1);
  });

  it('retry succeeds once the cause is fixed (a message over the size limit, limit raised)', () => {
    const small = new Workspace((c) => (c.limits = { maxMessageBytes: 200 }));
    try {
      const f = small.path('big.eml');
      writeFileSync(f, email({ from: 'anna.rossi@comune.esempio.it', subject: 'Grande', messageId: '<big@x>', body: 'x'.repeat(500) }));
      const r = small.cli(['ingest', f, '--json', '--now', NOW]).json.results[0];
      expect(r.quarantine.reason).toContain('too-large');
      small.config.limits = { maxMessageBytes: 100000 };
      writeFileSync(small.configPath, JSON.stringify(small.config));
      const retry = small.cli(['quarantine', 'retry', String(r.quarantine.id), '--json']);
      expect(retry.status).toBe(0);
      expect(retry.json.results[0]).toMatchObject({ classification: 'email', ticket: { ref: 'HD-2026-000001' } });
      expect(small.cli(['quarantine', 'list', '--json']).json.entries).toHaveLength(0);
    } finally {
      small.cleanup();
    }
  });
  it('a message still in processing past limits.maxProcessingSeconds is quarantined, not acted on; retried under a sane limit it is processed', () => {
    const slow = new Workspace((c) => (c.limits = { maxProcessingSeconds: 0.000001 }));
    try {
      const f = slow.path('slow.eml');
      writeFileSync(f, email({ from: 'anna.rossi@comune.esempio.it', subject: 'Lento', messageId: '<slow@x>', body: 'Buongiorno' }));
      const r = slow.cli(['ingest', f, '--json', '--now', NOW]).json.results[0];
      expect(r).toMatchObject({ classification: 'quarantined', ticket: null, reply: null });
      expect(r.quarantine.reason).toMatch(/^processing-timeout: still processing after limits\.maxProcessingSeconds \(0\.000001 s\), at the end of parsing/);
      slow.config.limits = { maxProcessingSeconds: 60 };
      writeFileSync(slow.configPath, JSON.stringify(slow.config));
      const retry = slow.cli(['quarantine', 'retry', String(r.quarantine.id), '--json']);
      expect(retry.status).toBe(0);
      expect(retry.json.results[0]).toMatchObject({ classification: 'email', ticket: { ref: 'HD-2026-000001' } });
    } finally {
      slow.cleanup();
    }
  });
});
