// Operator workflow and take-charge SLA end to end (issue 9 rules 6 and 7): the real CLI on a
// real SQLite file. One CLI run per behaviour; the assertions look at what it left behind.
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { email, Workspace } from './workspace.js';

const SECOND_LEVEL = 'secondo.livello@cloudpa-desk.example.it';
let ws: Workspace;
afterEach(() => ws?.cleanup());

function write(name: string, bytes: Buffer): string {
  const p = ws.path(name);
  writeFileSync(p, bytes);
  return p;
}

function ingest(files: string[], now: string, extra: string[] = []) {
  const r = ws.cli(['ingest', ...files, '--json', '--now', now, ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return r.json.results as any[];
}

function ok(args: string[]) {
  const r = ws.cli(args);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

describe('operator workflow', () => {
  it('walks new → in-charge → escalated → resolved → closed → reopened, with events, notice and PEC reply', () => {
    ws = new Workspace((c) => (c.secondLevel = { address: SECOND_LEVEL }));
    // An ordinary message that reached the PEC mailbox: the ticket's channel is pec.
    const [res] = ingest(
      [write('req.eml', email({ from: 'Anna Rossi <anna.rossi@comune.esempio.it>', subject: 'Portale non raggiungibile', messageId: '<wf-1@comune.esempio.it>', body: 'Buongiorno, il portale dei servizi non si apre da stamattina.' }))],
      '2026-11-23T10:00:00+01:00',
      ['--mailbox', 'pec'],
    );
    const ref: string = res.ticket.ref;

    // A refused transition: exit 1, one line naming the current status; nothing recorded.
    const refused = ws.cli(['tickets', 'resolve', ref, '--now', '2026-11-23T10:05:00+01:00']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`pecdesk: ${ref}: cannot resolve a ticket that is new (resolve is allowed from: in-charge, escalated)\n`);

    const take = ok(['tickets', 'take', ref, '--as', 'mario.operatore', '--note', 'verifico', '--now', '2026-11-23T10:30:00+01:00', '--json']).json;
    expect(take).toMatchObject({ from: 'new', to: 'in-charge', event: 'taken', actor: 'mario.operatore', outbox: [] });
    expect(take.ticket).toMatchObject({ ref, status: 'in-charge', takenAt: '2026-11-23T09:30:00.000Z', breachedAt: null });

    const again = ws.cli(['tickets', 'take', ref, '--now', '2026-11-23T10:31:00+01:00']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('cannot take a ticket that is in-charge');

    ok(['tickets', 'escalate', ref, '--as', 'mario.operatore', '--note', 'serve il secondo livello', '--now', '2026-11-23T11:00:00+01:00']);
    ok(['tickets', 'resolve', ref, '--as', 'giulia.secondo', '--note', 'Riavviato il bilanciatore; il portale è di nuovo raggiungibile.', '--now', '2026-11-23T12:00:00+01:00']);
    ok(['tickets', 'close', ref, '--as', 'mario.operatore', '--now', '2026-11-24T09:00:00+01:00']);
    const reopen = ok(['tickets', 'reopen', ref, '--as', 'mario.operatore', '--note', 'il problema si è ripresentato', '--now', '2026-11-25T09:00:00+01:00']);
    expect(reopen.stdout).toBe(`${ref}: closed → reopened by mario.operatore\n`);

    const t = ok(['tickets', 'show', ref, '--json']).json;
    expect(t).toMatchObject({
      status: 'reopened', channel: 'pec',
      takenAt: '2026-11-23T09:30:00.000Z', escalatedAt: '2026-11-23T10:00:00.000Z', resolvedAt: '2026-11-23T11:00:00.000Z',
      closedAt: '2026-11-24T08:00:00.000Z', reopenedAt: '2026-11-25T08:00:00.000Z',
    });
    const wf = t.events.filter((e: any) => ['taken', 'escalated', 'resolved', 'closed', 'reopened'].includes(e.type));
    expect(wf.map((e: any) => [e.type, e.actor, e.at, e.detail.from, e.detail.to, e.detail.note])).toEqual([
      ['taken', 'mario.operatore', '2026-11-23T09:30:00.000Z', 'new', 'in-charge', 'verifico'],
      ['escalated', 'mario.operatore', '2026-11-23T10:00:00.000Z', 'in-charge', 'escalated', 'serve il secondo livello'],
      ['resolved', 'giulia.secondo', '2026-11-23T11:00:00.000Z', 'escalated', 'resolved', 'Riavviato il bilanciatore; il portale è di nuovo raggiungibile.'],
      ['closed', 'mario.operatore', '2026-11-24T08:00:00.000Z', 'resolved', 'closed', null],
      ['reopened', 'mario.operatore', '2026-11-25T08:00:00.000Z', 'closed', 'reopened', 'il problema si è ripresentato'],
    ]);
    expect(t.events.at(-2)).toMatchObject({ type: 'closed' });
    expect(t.events.filter((e: any) => e.type === 'reply-queued').map((e: any) => e.detail.template)).toContain('resolved');

    const out = ok(['outbox', 'list', '--json']).json.entries;
    const escalation = out.find((e: any) => e.template === 'escalation');
    const resolved = out.find((e: any) => e.template === 'resolved');
    expect(escalation).toMatchObject({ channel: 'email', to: SECOND_LEVEL, ticket: ref, subject: `[${ref}] Inoltro al secondo livello: Portale non raggiungibile` });
    expect(wf[1].detail.notified).toEqual({ outboxId: escalation.id, to: SECOND_LEVEL });
    expect(resolved).toMatchObject({
      channel: 'pec', to: 'anna.rossi@comune.esempio.it', from: 'pec@pec.cloudpa-desk.example.it', ticket: ref,
      subject: `Re: Portale non raggiungibile [${ref}]`, inReplyTo: '<wf-1@comune.esempio.it>', status: 'queued',
    });
    const [row] = ws.query('SELECT body_text, headers FROM outbox WHERE id = ?', resolved.id);
    expect(row.body_text).toContain(`la sua richiesta con riferimento ${ref} è stata risolta`);
    expect(row.body_text).toContain('Riavviato il bilanciatore; il portale è di nuovo raggiungibile.');
    expect(row.body_text).toContain('entro 10 giorni');
    expect(JSON.parse(row.headers)).toMatchObject({ 'X-TipoRicevuta': 'completa', 'Auto-Submitted': 'auto-replied' });
    const [esc] = ws.query('SELECT body_text FROM outbox WHERE id = ?', escalation.id);
    expect(esc.body_text).toContain(`La richiesta ${ref} è stata inoltrata al secondo livello da mario.operatore`);
    expect(esc.body_text).toContain('serve il secondo livello');
    expect(esc.body_text).toContain('Comune di Esempio');
    // A requester's answer to the resolved reply comes back to this ticket.
    expect(ws.count('SELECT count(*) FROM thread_keys WHERE ticket_id = (SELECT id FROM tickets WHERE ref = ?) AND key = ?', ref, resolved.messageId.slice(1, -1).toLowerCase())).toBe(1);
  });

  it('tickets list filters by status, class, breached and deadline; usage errors exit 2', () => {
    ws = new Workspace();
    ingest(
      [
        write('a.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Richiesta A', messageId: '<la@x.it>', date: 'Mon, 23 Nov 2026 09:00:00 +0100' })),
        write('b.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Richiesta B', messageId: '<lb@x.it>', date: 'Tue, 24 Nov 2026 09:00:00 +0100' })),
        write('c.eml', email({ from: 'mario@altro.example', subject: 'Richiesta C', messageId: '<lc@x.it>', date: 'Wed, 25 Nov 2026 09:00:00 +0100' })),
      ],
      '2026-11-25T10:00:00+01:00',
    );
    const all = ok(['tickets', 'list', '--json']).json.tickets;
    expect(all.map((t: any) => t.priority)).toEqual(['P4', 'P4', 'P4']);
    const [a, b, c] = all.map((t: any) => t.ref);
    // Due: A Sat 28 Nov 14:00, B Mon 30 Nov 17:00, C Tue 1 Dec 17:00. B taken late on Tuesday 1 Dec.
    ok(['tickets', 'take', b, '--now', '2026-12-01T09:00:00+01:00']);
    const list = (...args: string[]) => ok(['tickets', 'list', '--json', ...args]).json.tickets.map((t: any) => t.ref);
    expect(list('--status', 'in-charge')).toEqual([b]);
    expect(list('--class', 'p4', '--admin', 'comune-esempio')).toEqual([a, b]);
    expect(list('--due-before', '2026-11-30T17:00:00+01:00')).toEqual([a]);
    // On 1 Dec at 12:00: A is past due and not taken, B was taken late, C is still in time.
    expect(list('--breached', '--now', '2026-12-01T12:00:00+01:00')).toEqual([a, b]);
    expect(list('--class', 'P2')).toEqual([]);
    const bad = ws.cli(['tickets', 'list', '--status', 'in-progress']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('pecdesk: --status: expected one of new, in-charge, escalated, resolved, closed, reopened, got "in-progress"\n');
    expect(ws.cli(['tickets', 'take', 'HD-2026-999999']).status).toBe(2);
    // Pages: --limit, and the next page --after the previous one's last; --all streams JSON lines.
    const first = ok(['tickets', 'list', '--json', '--limit', '2']).json;
    expect([first.tickets.map((t: any) => t.ref), first.next]).toEqual([[a, b], b]);
    const second = ok(['tickets', 'list', '--json', '--limit', '2', '--after', first.next]).json;
    expect([second.tickets.map((t: any) => t.ref), second.next]).toEqual([[c], null]);
    const lines = ok(['tickets', 'list', '--all', '--json', '--status', 'new']).stdout.trim().split('\n').map((l: string) => JSON.parse(l));
    expect(lines.map((t: any) => t.ref)).toEqual([a, c]);
    expect(lines[0]).toEqual(all[0]);
    expect(ws.cli(['tickets', 'list', '--limit', '0']).status).toBe(2);
  });
});

describe('SLA watch (run --once)', () => {
  it('reminds once before the deadline, marks a breach once and notifies once; a ticket taken in time is left alone', () => {
    ws = new Workspace((c) => (c.secondLevel = { address: SECOND_LEVEL }));
    const results = ingest(
      [
        write('late.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Nessuno mi risponde', messageId: '<sla-1@x.it>', date: 'Mon, 23 Nov 2026 10:00:00 +0100' })),
        write('ok.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Presa in carico puntuale', messageId: '<sla-2@x.it>', date: 'Mon, 23 Nov 2026 10:05:00 +0100' })),
      ],
      '2026-11-23T10:10:00+01:00',
    );
    const [late, inTime] = results.map((r) => r.ticket);
    // P4 on Monday: close of the 5th working day after, Saturday 28 Nov 14:00 Rome.
    expect([late.priority, late.takeChargeDueAt, inTime.takeChargeDueAt]).toEqual(['P4', '2026-11-28T13:00:00.000Z', '2026-11-28T13:00:00.000Z']);
    ok(['tickets', 'take', inTime.ref, '--now', '2026-11-24T09:00:00+01:00']);

    ok(['run', '--once', '--now', '2026-11-28T13:40:00+01:00']); // 20 minutes before: a reminder
    ok(['run', '--once', '--now', '2026-11-28T14:30:00+01:00']); // past due: the breach
    ok(['run', '--once', '--now', '2026-11-28T15:30:00+01:00']); // nothing new

    const t = ok(['tickets', 'show', late.ref, '--json']).json;
    expect(t.breachedAt).toBe('2026-11-28T13:30:00.000Z');
    expect(t.remindedAt).toBe('2026-11-28T12:40:00.000Z');
    expect(t.slaNotifiedAt).toBe('2026-11-28T13:30:00.000Z');
    const sla = t.events.filter((e: any) => e.type.startsWith('sla-'));
    expect(sla.map((e: any) => [e.type, e.at])).toEqual([
      ['sla-reminder', '2026-11-28T12:40:00.000Z'],
      ['sla-breached', '2026-11-28T13:30:00.000Z'],
    ]);
    const notices = ws.query(
      "SELECT o.template, o.to_addr, o.status, o.body_text, t.ref FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE o.template LIKE 'sla-%' ORDER BY o.id",
    );
    expect(notices.map((n) => [n.template, n.to_addr, n.status, n.ref])).toEqual([
      ['sla-reminder', SECOND_LEVEL, 'sent', late.ref],
      ['sla-breach', SECOND_LEVEL, 'sent', late.ref],
    ]);
    expect(notices[0].body_text).toContain('tempo residuo: 20 minuti');
    expect(notices[1].body_text).toContain(`la richiesta ${late.ref} non è stata presa in carico entro il termine previsto`);
    expect(notices[1].body_text).toContain('sabato 28 novembre 2026, ore 14:00');
    // The one taken in time: neither reminded nor breached.
    expect(ws.query('SELECT breached_at, reminded_at FROM tickets WHERE ref = ?', inTime.ref)).toEqual([{ breached_at: null, reminded_at: null }]);
    // The notices were sent in the same passes (outboxDir .eml files).
    const files = readdirSync(ws.path('outbox')).filter((f) => f.includes(late.ref));
    const breachFile = files.map((f) => readFileSync(path.join(ws.path('outbox'), f), 'utf8')).find((m) => m.includes('Presa in carico scaduta'));
    expect(breachFile).toMatch(/^To: secondo\.livello@cloudpa-desk\.example\.it$/m);
  });
});

describe('SLA watch in the running daemon', () => {
  it('checks on its cron schedule (sla.checkCron) and stops cleanly on SIGTERM', async () => {
    // Every second (node-cron's six-field form), so the test need not wait a minute.
    ws = new Workspace((c) => ((c.secondLevel = { address: SECOND_LEVEL }), (c.sla = { checkCron: '* * * * * *' })));
    const daemon = ws.spawnDaemon();
    const exited = once(daemon, 'exit');
    let out = '';
    daemon.stdout!.on('data', (d) => (out += d));
    for (let i = 0; i < 1500 && !out.includes('Waiting for mail'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(out).toContain('Waiting for mail');
    // Registered after the daemon's start-up pass, long past its deadline (real clock).
    const [r] = ingest([write('old.eml', email({ from: 'anna.rossi@comune.esempio.it', subject: 'Vecchia richiesta', messageId: '<old@x.it>', date: 'Mon, 25 Nov 2024 10:00:00 +0100' }))], '2024-11-25T10:05:00+01:00');
    let breached: string | null = null;
    for (let i = 0; i < 300 && !breached; i++) {
      await new Promise((res) => setTimeout(res, 50));
      breached = ws.query('SELECT breached_at FROM tickets WHERE ref = ?', r.ticket.ref)[0]?.breached_at ?? null;
    }
    daemon.kill('SIGTERM');
    const [code] = await exited;
    expect(breached).not.toBeNull();
    expect(code).toBe(0);
    expect(ws.count("SELECT count(*) FROM outbox WHERE template = 'sla-breach'")).toBe(1);
  });
});

describe('report sla', () => {
  it('matches hand-computed figures (CSV), marks breaches without notices when no address is configured', () => {
    ws = new Workspace();
    const A = 'anna.rossi@comune.esempio.it';
    const U = 'marco.verdi@unidemo.it';
    const msg = (id: string, from: string, date: string, subject: string, body: string) =>
      write(`${id}.eml`, email({ from, subject, body, messageId: `<${id}@x.it>`, date }));
    const neutral = 'Buongiorno, vi scrivo per una richiesta di assistenza.';
    const slow = 'Buongiorno, alcuni utenti segnalano rallentamenti nell\'accesso al portale.';
    const files = [
      msg('x1', A, 'Sat, 31 Oct 2026 23:30:00 +0100', 'Prima del periodo', neutral), // October: outside
      msg('x2', A, 'Sun, 01 Nov 2026 00:30:00 +0100', 'Inizio periodo', neutral), // P4, due Fri 6 Nov 17:00, never taken
      msg('a1', A, 'Mon, 23 Nov 2026 09:00:00 +0100', 'Rallentamenti 1', slow), // P2, due 13:00
      msg('a2', A, 'Mon, 23 Nov 2026 10:00:00 +0100', 'Rallentamenti 2', slow), // P2, due 14:00
      msg('a3', A, 'Mon, 23 Nov 2026 11:00:00 +0100', 'Rallentamenti 3', slow), // P2, due 15:00, never taken
      msg('a4', A, 'Mon, 23 Nov 2026 12:00:00 +0100', 'Richiesta generica', neutral), // P4, due Sat 28 14:00
      msg('u1', U, 'Mon, 23 Nov 2026 09:00:00 +0100', 'Urgente', 'Buongiorno, è urgente: serve una verifica.'), // P3, due Tue 24 17:00
      msg('u2', U, 'Mon, 23 Nov 2026 14:00:00 +0100', 'Informazioni', 'Buongiorno, vorrei sapere gli orari del servizio.'), // P7
      msg('u3', U, 'Mon, 23 Nov 2026 14:10:00 +0100', 'Altre informazioni', 'Buongiorno, vorrei sapere il costo del servizio.'), // P7, never taken
      msg('n1', 'mario@altro.example', 'Mon, 23 Nov 2026 15:00:00 +0100', 'Richiesta esterna', neutral), // P4, no administration
    ];
    const results = ingest(files, '2026-11-23T16:00:00+01:00');
    const ref: Record<string, string> = {};
    results.forEach((r, i) => (ref[path.basename(files[i]!, '.eml')] = r.ticket.ref));
    expect(results.map((r) => r.ticket.priority)).toEqual(['P4', 'P4', 'P2', 'P2', 'P2', 'P4', 'P3', 'P7', 'P7', 'P4']);
    expect(results[2].ticket.takeChargeDueAt).toBe('2026-11-23T12:00:00.000Z');

    const take = (k: string, at: string) => ok(['tickets', 'take', ref[k]!, '--now', at]);
    take('a1', '2026-11-23T09:30:00+01:00'); // in time, 30 min
    take('a2', '2026-11-23T15:00:00+01:00'); // late, 300 min
    take('a4', '2026-11-23T12:20:00+01:00'); // in time, 20 min
    take('u1', '2026-11-24T10:00:00+01:00'); // in time, 1500 min
    take('u2', '2026-11-23T14:45:00+01:00'); // P7, 45 min

    // The watch marks what is past due and not taken (x1, x2, a3); no address: no notices.
    ok(['run', '--once', '--now', '2026-11-25T12:00:00+01:00']);
    expect(ws.query('SELECT ref FROM tickets WHERE breached_at IS NOT NULL ORDER BY ref').map((r) => r.ref)).toEqual([ref.x1, ref.x2, ref.a3].sort());
    expect(ws.count("SELECT count(*) FROM outbox WHERE template LIKE 'sla-%'")).toBe(0);
    expect(ws.count("SELECT count(*) FROM ticket_events WHERE type = 'sla-breached'")).toBe(3);

    const r = ok(['report', 'sla', '--csv', '--now', '2026-11-25T12:00:00+01:00']);
    expect(r.stdout).toBe(
      [
        'group,key,name,received,taken,takenInTime,takenLate,breached,open,medianMinutesToTakeCharge',
        'class,P1+,,0,0,0,0,0,0,',
        'class,P1,,0,0,0,0,0,0,',
        'class,P2,,3,2,1,1,2,1,165',
        'class,P3,,1,1,1,0,0,0,1500',
        'class,P4,,3,1,1,0,1,2,20',
        'class,P7,,2,1,,,,1,45',
        'administration,comune-esempio,Comune di Esempio,5,3,2,1,3,2,30',
        'administration,universita-demo,Università degli Studi Demo,3,2,1,0,0,1,772.5',
        'administration,,,1,0,0,0,0,1,',
        'total,all,,9,5,3,1,3,4,45',
        '',
      ].join('\r\n'),
    );

    // An explicit period (1 Nov only), as JSON.
    const j = ok(['report', 'sla', '--from', '2026-11-01', '--to', '2026-11-02', '--now', '2026-11-25T12:00:00+01:00', '--json']).json;
    expect(j).toMatchObject({ from: '2026-11-01', to: '2026-11-02', timezone: 'Europe/Rome', total: { received: 1, breached: 1, open: 1 } });
    expect(j.administrations).toEqual([expect.objectContaining({ key: 'comune-esempio', received: 1 })]);

    const bad = ws.cli(['report', 'sla', '--from', '2026-11-31']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('pecdesk: --from: expected a date like 2026-11-01, got "2026-11-31"\n');
  });
});
