// `pecdesk run` on real Maildirs: acknowledgement only after commit, crash safety, signals.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { email, readSample, Workspace } from './workspace.js';

let ws: Workspace;
let seq = 0;
beforeEach(() => {
  ws = new Workspace();
  for (const mb of ['pec', 'support']) {
    for (const d of ['tmp', 'new', 'cur']) mkdirSync(path.join(ws.config.mailboxes[mb].maildir, d), { recursive: true });
  }
});
afterEach(() => ws.cleanup());

/** Deliver into a Maildir the way an MTA does (tmp/ then rename into new/). */
function deliver(mailbox: 'pec' | 'support', bytes: Buffer): string {
  const root = ws.config.mailboxes[mailbox].maildir as string;
  seq++;
  const name = `${1795000000 + seq}.M${String(seq).padStart(6, '0')}P1.test`;
  writeFileSync(path.join(root, 'tmp', name), bytes);
  renameSync(path.join(root, 'tmp', name), path.join(root, 'new', name));
  return name;
}

/** Start the daemon and wait until it idles on its Maildirs; its stdout so far via output(). */
async function startedDaemon() {
  const daemon = ws.spawnDaemon();
  let out = '';
  daemon.stdout!.on('data', (d) => (out += d));
  const exited = once(daemon, 'exit');
  for (let i = 0; i < 500 && !out.includes('Waiting for mail'); i++) await sleep(20);
  expect(out).toContain('Waiting for mail');
  return { daemon, exited, output: () => out };
}

const listDir = (mailbox: string, sub: string) => readdirSync(path.join(ws.config.mailboxes[mailbox].maildir, sub));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('run --once on Maildir', () => {
  it('processes new/ into cur/, opens tickets and writes the replies to the outbox directory', () => {
    for (const f of ['01-casella-bloccata.eml', '03-rubrica.eml', '06-risposta-ticket.eml', '07-fuori-sede.eml']) deliver('support', readSample(f));
    const r = ws.cli(['run', '--once', '--json', '--now', '2026-11-23T15:00:00+01:00']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.results.map((x: any) => x.classification)).toEqual(['email', 'email', 'email', 'auto-reply']);
    expect(r.json.results[2].ticket.ref).toBe('HD-2026-000001'); // the follow-up threads
    expect(listDir('support', 'new')).toEqual([]);
    expect(listDir('support', 'cur')).toHaveLength(4);
    expect(listDir('support', 'cur').every((n) => n.endsWith(':2,S'))).toBe(true);
    const files = readdirSync(ws.path('outbox')).sort();
    expect(files).toEqual(['000001-HD-2026-000001.eml', '000002-HD-2026-000002.eml']);
    const out = ws.cli(['outbox', 'list', '--json']).json.entries;
    expect(out.map((e: any) => e.status)).toEqual(['sent', 'sent']);
    // The reply on disk is a real threaded, auto-submitted Italian message.
    const raw = readFileSync(path.join(ws.path('outbox'), files[0]!), 'utf8');
    expect(raw).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(raw).toMatch(/^In-Reply-To: <demo-001@comune\.esempio\.it>/m);
    expect(raw).toMatch(/^Subject: Re: Casella di posta bloccata \[HD-2026-000001\]/m);
    expect(raw).toContain('HD-2026-000001');
  });

  it('a message already processed but left in new/ (crash before the move) is acknowledged, not processed twice', () => {
    const name = deliver('support', readSample('01-casella-bloccata.eml'));
    expect(ws.cli(['run', '--once', '--now', '2026-11-23T15:00:00+01:00']).status).toBe(0);
    // Put it back as if the move had never happened.
    renameSync(path.join(ws.config.mailboxes.support.maildir, 'cur', `${name}:2,S`), path.join(ws.config.mailboxes.support.maildir, 'new', name));
    const r = ws.cli(['run', '--once', '--json', '--now', '2026-11-23T15:00:00+01:00']);
    expect(r.json.results[0].classification).toBe('duplicate');
    expect(ws.count('SELECT count(*) FROM messages')).toBe(1);
    expect(ws.count('SELECT count(*) FROM tickets')).toBe(1);
    expect(ws.count('SELECT count(*) FROM outbox')).toBe(1);
    expect(listDir('support', 'new')).toEqual([]);
  });

  it('malformed mail in the Maildir is quarantined, acknowledged, and the run goes on', () => {
    deliver('support', Buffer.alloc(0));
    deliver('support', readSample('01-casella-bloccata.eml'));
    const r = ws.cli(['run', '--once', '--json', '--now', '2026-11-23T15:00:00+01:00']);
    expect(r.status).toBe(0);
    expect(r.json.results.map((x: any) => x.classification)).toEqual(['quarantined', 'email']);
    expect(listDir('support', 'new')).toEqual([]);
    expect(ws.cli(['quarantine', 'list', '--json']).json.entries).toHaveLength(1);
  });
});

describe('when the desk cannot record', () => {
  it('a message that cannot be stored stays unacknowledged in new/ and is taken on the next pass', () => {
    deliver('support', readSample('01-casella-bloccata.eml'));
    expect(ws.cli(['migrate']).status).toBe(0);
    // The raw store cannot be written (a file where its directory should be: ENOTDIR).
    writeFileSync(path.join(ws.config.dataDir, 'raw'), 'not a directory');
    const r = ws.cli(['run', '--once']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('cannot record message');
    expect(listDir('support', 'new')).toHaveLength(1);
    expect(ws.count('SELECT count(*) FROM messages')).toBe(0);
    rmSync(path.join(ws.config.dataDir, 'raw'));
    const again = ws.cli(['run', '--once', '--json', '--now', '2026-11-23T15:00:00+01:00']);
    expect(again.json.results[0]).toMatchObject({ classification: 'email', ticket: { ref: 'HD-2026-000001' } });
    expect(listDir('support', 'new')).toHaveLength(0);
  });
});

describe('crash safety', () => {
  it('SIGKILL while processing 200 messages, then a restart: 200 recorded, one ticket each, no reply queued twice', async () => {
    const N = 200;
    for (let i = 0; i < N; i++) {
      deliver('support', email({ from: `utente${i}@comune.esempio.it`, subject: `Richiesta numero ${i}`, messageId: `<kill-${i}@comune.esempio.it>`, body: `Testo della richiesta ${i}.\r\n`.repeat(50) }));
    }
    const daemon = ws.spawnDaemon();
    const exited = once(daemon, 'exit');
    // Kill it mid-way: once some messages are recorded but before all of them are.
    let recorded = 0;
    for (let i = 0; i < 2000; i++) {
      await sleep(10);
      try {
        recorded = ws.count('SELECT count(*) FROM messages');
      } catch {
        continue; // database not created yet
      }
      if (recorded >= 20) break;
    }
    daemon.kill('SIGKILL');
    await exited;
    const atKill = ws.count('SELECT count(*) FROM messages');
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(N); // the kill really happened mid-way
    expect(listDir('support', 'new').length).toBeGreaterThan(0);

    const r = ws.cli(['run', '--once', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(ws.count('SELECT count(*) FROM messages')).toBe(N);
    expect(ws.count("SELECT count(*) FROM messages WHERE status = 'processed'")).toBe(N);
    expect(ws.count('SELECT count(*) FROM tickets')).toBe(N);
    expect(ws.count('SELECT count(DISTINCT requester) FROM tickets')).toBe(N);
    expect(ws.count('SELECT count(*) FROM outbox')).toBe(N);
    expect(ws.count('SELECT count(DISTINCT to_addr) FROM outbox')).toBe(N);
    expect(ws.count("SELECT count(*) FROM outbox WHERE status = 'sent'")).toBe(N);
    expect(readdirSync(ws.path('outbox')).filter((f) => f.endsWith('.eml'))).toHaveLength(N);
    expect(listDir('support', 'new')).toEqual([]);
    expect(listDir('support', 'cur')).toHaveLength(N);
  });

  it('SIGTERM finishes the message in hand and exits 0; the rest waits in new/', async () => {
    for (let i = 0; i < 60; i++) deliver('support', email({ from: `t${i}@comune.esempio.it`, subject: `Term ${i}`, messageId: `<term-${i}@x.it>` }));
    const daemon = ws.spawnDaemon();
    const exited = once(daemon, 'exit');
    for (let i = 0; i < 2000; i++) {
      await sleep(10);
      try {
        if (ws.count('SELECT count(*) FROM messages') >= 5) break;
      } catch {
        /* not yet */
      }
    }
    daemon.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    const processed = ws.count("SELECT count(*) FROM messages WHERE status = 'processed'");
    expect(ws.count("SELECT count(*) FROM messages WHERE status = 'received'")).toBe(0); // nothing half-done
    expect(listDir('support', 'cur')).toHaveLength(processed);
    expect(listDir('support', 'new')).toHaveLength(60 - processed);
  });

  it('the running daemon picks up mail dropped into new/ and answers it', async () => {
    const { daemon, exited, output } = await startedDaemon();
    deliver('support', readSample('02-reset-password.eml'));
    for (let i = 0; i < 500 && !output().includes('written'); i++) await sleep(20);
    daemon.kill('SIGINT');
    expect((await exited)[0]).toBe(0);
    expect(output()).toMatch(/HD-\d{4}-000001/);
    expect(readdirSync(ws.path('outbox'))).toHaveLength(1);
  });

  it('a second run on the same dataDir refuses to start and touches no mail; after the first exits it may run', async () => {
    const { daemon, exited, output } = await startedDaemon();
    daemon.kill('SIGSTOP'); // frozen, still holding the lease: the mail below must wait for it
    try {
      deliver('support', readSample('02-reset-password.eml'));
      const second = ws.cli(['run', '--once', '--json']);
      expect(second.status).toBe(2);
      expect(second.stderr).toMatch(/^pecdesk: .*another pecdesk run holds this dataDir: pid \d+ on .*; stop it first/m);
      expect(second.stdout).toBe('');
      expect(listDir('support', 'new')).toHaveLength(1);
      expect(ws.count('SELECT count(*) FROM messages')).toBe(0);
    } finally {
      daemon.kill('SIGCONT');
    }
    for (let i = 0; i < 500 && !output().includes('written'); i++) await sleep(20);
    daemon.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    expect(ws.count('SELECT count(*) FROM tickets')).toBe(1);
    // The lease went with it (and a kill -9 leaves one whose process is gone: taken over).
    expect(ws.cli(['run', '--once']).status).toBe(0);
  });

  it('a silent SMTP server (accepts, never greets) delays no new ticket; SIGTERM ends the run within daemon.stopSeconds', async () => {
    const held: Socket[] = [];
    const silent = createServer((sock) => {
      held.push(sock); // never a greeting
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      ws.cleanup();
      ws = new Workspace((c) => {
        c.mailboxes.support = { address: c.mailboxes.support.address, maildir: c.mailboxes.support.maildir, smtp: { host: '127.0.0.1', port, secure: false, greetingTimeoutSeconds: 60 } };
        c.daemon = { pollSeconds: 0.2, stopSeconds: 2 };
      });
      for (const d of ['tmp', 'new', 'cur']) mkdirSync(path.join(ws.config.mailboxes.support.maildir, d), { recursive: true });
      for (let i = 1; i <= 6; i++) deliver('support', email({ from: `utente${i}@comune.esempio.it`, subject: `Problema ${i}`, messageId: `<silent-${i}@comune.esempio.it>` }));
      const { daemon, exited } = await startedDaemon();
      const tickets = () => ws.count('SELECT count(*) FROM tickets');
      for (let i = 0; i < 500 && tickets() < 6; i++) await sleep(20);
      expect(tickets()).toBe(6);
      await sleep(300); // the outbox is now stuck on the silent server
      expect(held.length).toBeGreaterThanOrEqual(1);
      const t0 = Date.now();
      deliver('support', email({ from: 'nuovo@comune.esempio.it', subject: 'Nuova richiesta', messageId: '<silent-new@comune.esempio.it>' }));
      for (let i = 0; i < 500 && tickets() < 7; i++) await sleep(20);
      expect(tickets()).toBe(7);
      expect(Date.now() - t0).toBeLessThan(3000);
      const t1 = Date.now();
      daemon.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
      expect(Date.now() - t1).toBeLessThan(2000 + 2500); // stopSeconds, and the process's own exit
      // Nothing was sent; the reply cut off at the stop is uncertain (e-mail: re-sent next time, same Message-ID).
      expect(ws.count(`SELECT count(*) FROM outbox WHERE status = 'sent'`)).toBe(0);
      expect(ws.count('SELECT count(*) FROM outbox WHERE sending_since IS NOT NULL')).toBe(0);
      const listed = ws.cli(['outbox', 'list', '--status', 'uncertain', '--json']);
      expect(listed.json.entries.length).toBe(1);
      expect(listed.json.entries[0]).toMatchObject({ status: 'queued', channel: 'email', uncertain: { since: expect.any(String) } });
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  }, 60_000);
});
