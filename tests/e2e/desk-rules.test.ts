// The desk's rules through the real CLI (SPEC §2.3, §3, §4): category, class, authorization,
// deadline, on-call with a PIN, and the replies that go with them — then the rule tables are
// edited in config and behaviour changes with no code change.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPin } from '../../src/desk/pins.js';
import { directoryFile, email, repoRoot, Workspace } from './workspace.js';

const MX = 'mx.cloudpa-desk.example.it';
const pass = (domain: string) => ({ 'Authentication-Results': `${MX}; dkim=pass header.d=${domain}; dmarc=pass header.from=${domain}` });
const PIN = '482910';

const MESSAGES = {
  create: email({ from: 'Anna Rossi <anna.rossi@comune.esempio.it>', subject: 'Creazione casella', body: 'Vi chiediamo di creare la casella mario.rossi@comune.esempio.it.', messageId: '<r1@comune.esempio.it>', date: 'Wed, 25 Nov 2026 10:00:00 +0100', headers: pass('comune.esempio.it') }),
  forged: email({ from: 'Anna Rossi <anna.rossi@comune.esempio.it>', subject: 'URGENTE reset password', body: 'Reimpostare la password della casella sindaco e mandarla qui.', messageId: '<r2@attacker.example>', date: 'Wed, 25 Nov 2026 10:05:00 +0100' }),
  stranger: email({ from: 'mario.bianchi@gmail.example', subject: 'Creare account', body: 'Potete creare una casella per me?', messageId: '<r3@gmail.example>', date: 'Wed, 25 Nov 2026 10:10:00 +0100', headers: pass('gmail.example') }),
  onCall: email({ from: 'Anna Rossi <anna.rossi@comune.esempio.it>', subject: 'Posta irraggiungibile', body: `Il servizio di posta è irraggiungibile per tutti gli utenti.\nPIN: ${PIN}`, messageId: '<r4@comune.esempio.it>', date: 'Sat, 28 Nov 2026 20:00:00 +0100', headers: pass('comune.esempio.it') }),
  capped: email({ from: 'Marco Verdi <marco.verdi@unidemo.it>', subject: '[P1] Intervento sul dominio', body: 'Serve assistenza sul nuovo dominio.', messageId: '<r5@unidemo.it>', date: 'Wed, 25 Nov 2026 10:15:00 +0100', headers: pass('unidemo.it') }),
  info: email({ from: 'giulia.neri@comune.esempio.it', subject: 'Caselle', body: 'Una domanda: qual è la dimensione delle caselle?', messageId: '<r6@comune.esempio.it>', date: 'Wed, 25 Nov 2026 10:20:00 +0100' }),
};

function workspace(extra: (c: Record<string, any>) => void = () => undefined) {
  return new Workspace((c) => {
    c.trust = { authservIds: [MX] };
    c.onCall = { address: 'reperibile@cloudpa-desk.example.it' };
    extra(c);
  });
}

describe('desk rules through ingest', () => {
  let ws: Workspace;
  let results: Record<string, any>;
  beforeAll(() => {
    ws = workspace();
    expect(ws.cli(['directory', 'import', directoryFile]).status).toBe(0);
    // The Administration's technical-referent PIN, as `orders countersign` stores it.
    const db = new Database(path.join(ws.config.dataDir, 'pecdesk.sqlite'));
    db.prepare("INSERT INTO pins (administration_id, kind, hash, created_at) VALUES ('comune-esempio', 'referent', ?, '2026-11-01T00:00:00Z')").run(hashPin(PIN));
    db.close();
    const files = Object.entries(MESSAGES).map(([name, bytes]) => {
      const f = ws.path(`${name}.eml`);
      writeFileSync(f, bytes);
      return f;
    });
    const r = ws.cli(['ingest', ...files, '--mailbox', 'support', '--json', '--now', '2026-11-30T12:00:00+01:00']);
    expect(r.status, r.stderr).toBe(0);
    results = Object.fromEntries(r.json.results.map((x: any) => [path.basename(x.file, '.eml'), x]));
  });
  afterAll(() => ws.cleanup());

  it('each message gets its category, class, deadline and authorization in the SPEC §8.2 shape', () => {
    const t = (name: string) => results[name].ticket;
    expect(t('create')).toEqual({ ref: expect.any(String), kind: 'change-request', category: 'mailbox-lifecycle', priority: 'P4', takeChargeDueAt: '2026-12-01T16:00:00.000Z', authorized: true, authorizationReason: 'referent', onCall: false });
    expect(t('forged')).toMatchObject({ kind: 'change-request', category: 'password-reset', authorized: false, authorizationReason: 'sender-unverified' });
    expect(t('stranger')).toMatchObject({ kind: 'change-request', category: 'mailbox-lifecycle', authorized: false, authorizationReason: 'not-referent-or-delegate' });
    expect(t('onCall')).toMatchObject({ kind: 'support', priority: 'P1+', onCall: true, takeChargeDueAt: '2026-11-28T20:00:00.000Z' });
    expect(t('capped')).toMatchObject({ kind: 'support', priority: 'P3', takeChargeDueAt: '2026-11-26T16:00:00.000Z' });
    expect(t('info')).toMatchObject({ priority: 'P7', takeChargeDueAt: null, authorized: true });
    expect(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.reply?.template]))).toEqual({
      create: 'acknowledgement', forged: 'unverified-sender', stranger: 'refusal', onCall: 'acknowledgement', capped: 'acknowledgement', info: 'acknowledgement',
    });
    const show = ws.cli(['tickets', 'show', t('capped').ref, '--json']).json;
    expect(show.authorizationReason).toBe('support-open');
    expect(show.events.find((e: any) => e.type === 'classified').detail).toMatchObject({ priority: 'P3', priorityLoweredFrom: 'P1' });
  });

  it('the replies say why, in Italian; the on-call address is told at once; the PIN is stored nowhere', async () => {
    expect(ws.cli(['run', '--once']).status).toBe(0);
    const entries = ws.cli(['outbox', 'list', '--json']).json.entries;
    const body = async (pred: (e: any) => boolean) => (await simpleParser(readFileSync(entries.find(pred).sentTo))).text ?? '';
    const refusal = await body((e) => e.ticket === results.stranger.ticket.ref);
    expect(refusal).toContain("soltanto il referente tecnico dell'Amministrazione o un suo delegato");
    const unverified = await body((e) => e.ticket === results.forged.ticket.ref);
    expect(unverified).toContain('non ha superato la verifica del dominio del mittente');
    const capped = await body((e) => e.ticket === results.capped.ticket.ref);
    expect(capped).toContain('La classe di priorità P1 è riservata alle Amministrazioni con contratto di assistenza');
    const onCall = entries.filter((e: any) => e.ticket === results.onCall.ticket.ref);
    expect(onCall.map((e: any) => [e.template, e.to]).sort()).toEqual([['acknowledgement', 'anna.rossi@comune.esempio.it'], ['on-call', 'reperibile@cloudpa-desk.example.it']]);
    expect(await body((e) => e.template === 'on-call')).toContain(results.onCall.ticket.ref);
    const events = ws.cli(['tickets', 'show', results.onCall.ticket.ref, '--json']).json.events;
    expect(events.map((e: any) => e.type)).toContain('on-call-notified');
    expect(events[0].detail.text).toContain('PIN: ******');
    for (const table of ['ticket_events', 'outbox', 'messages']) {
      expect(ws.count(`SELECT count(*) FROM ${table} WHERE CAST(${table === 'outbox' ? 'body_text' : table === 'messages' ? 'result' : 'detail'} AS TEXT) LIKE ?`, `%${PIN}%`), table).toBe(0);
    }
  });
});

describe('the rule tables are configuration', () => {
  it('editing config/priority.yaml and config/categories.yaml changes the decisions with no code change', () => {
    const ws = workspace((c) => {
      const root = path.dirname(c.dataDir);
      writeFileSync(path.join(root, 'priority.yaml'), readFileSync(path.join(repoRoot, 'config', 'priority.yaml')));
      writeFileSync(path.join(root, 'categories.yaml'), readFileSync(path.join(repoRoot, 'config', 'categories.yaml')));
      c.priority = { rules: path.join(root, 'priority.yaml') };
      c.categories = { rules: path.join(root, 'categories.yaml') };
    });
    const edit = (file: string, from: string, to: string) => {
      const text = readFileSync(ws.path(file), 'utf8');
      expect(text).toContain(from);
      writeFileSync(ws.path(file), text.replace(from, to));
    };
    const ingest = (n: number) => {
      const f = ws.path(`info-${n}.eml`);
      writeFileSync(f, Buffer.from(MESSAGES.info.toString('utf8').replace('<r6@', `<r6-${n}@`)));
      const r = ws.cli(['ingest', f, '--json', '--now', '2026-11-30T12:00:00+01:00']);
      expect(r.status, r.stderr).toBe(0);
      return r.json.results[0].ticket;
    };
    try {
      expect(ingest(1)).toMatchObject({ kind: 'support', priority: 'P7' });
      // Information requests made P3 instead of P7.
      edit('priority.yaml', '  - class: P7\n', '  - class: P3\n');
      expect(ingest(2)).toMatchObject({ kind: 'support', priority: 'P3' });
      // "dimensione delle caselle" made a directory change: a change request, P4, and an
      // unverified end user may not ask for it.
      edit('categories.yaml', '      - [rubrica,', '      - [dimensione delle caselle, rubrica,');
      edit('categories.yaml', '      - [modific*,', '      - [domanda, modific*,');
      expect(ingest(3)).toMatchObject({ kind: 'change-request', category: 'directory', priority: 'P4', authorized: false, authorizationReason: 'sender-unverified' });
      // A mistake in a table stops the start, naming file and key.
      edit('priority.yaml', 'default: P4', 'default: P9');
      const refused = ws.cli(['tickets', 'list']);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(`${ws.path('priority.yaml')}: default:`);
    } finally {
      ws.cleanup();
    }
  });
});
