// The daemon's ops listener (http.listen): /healthz and /metrics over real loopback HTTP, then
// SIGTERM closes it with the daemon.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { health, maxPollAgeSeconds } from '../../src/daemon/http.js';
import type { SourceState } from '../../src/mail/source.js';
import { openDesk } from '../../src/runtime/context.js';
import { createLogger } from '../../src/runtime/logger.js';
import { readSample, Workspace } from './workspace.js';

let ws: Workspace | undefined;
let daemon: ChildProcess | undefined;
afterEach(() => {
  // A failed assertion must not leave a daemon behind.
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  daemon = undefined;
  ws?.cleanup();
  ws = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nobody listens on now: bind port 0 on loopback, note it, release it. */
async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Does anything accept TCP connections on 127.0.0.1:port? */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function deliver(w: Workspace, mailbox: 'pec' | 'support', name: string, bytes: Buffer): void {
  const root = w.config.mailboxes[mailbox].maildir as string;
  writeFileSync(path.join(root, 'tmp', name), bytes);
  renameSync(path.join(root, 'tmp', name), path.join(root, 'new', name));
}

/** Prometheus text: `name{labels} value` lines → value by the series as written. */
function samplesOf(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

/** Start the daemon of `ws` (its Maildirs made first); its stderr so far via stderr(). */
function startDaemon() {
  const w = ws!;
  for (const mb of ['pec', 'support']) {
    for (const d of ['tmp', 'new', 'cur']) mkdirSync(path.join(w.config.mailboxes[mb].maildir, d), { recursive: true });
  }
  const child = w.spawnDaemon();
  daemon = child;
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  return { w, daemon: child, exited: once(child, 'exit'), stderr: () => err };
}

describe('http.listen', () => {
  it('serves /healthz and /metrics while the daemon runs, 404/405 otherwise, and closes on SIGTERM', async () => {
    const port = await freePort();
    ws = new Workspace((c) => {
      c.http = { listen: `127.0.0.1:${port}` };
    });
    const { w, exited, stderr } = startDaemon();
    const base = `http://127.0.0.1:${port}`;

    // Wait until it answers and has polled both mailboxes once.
    let health: any;
    for (let i = 0; i < 300; i++) {
      try {
        const r = await fetch(`${base}/healthz`);
        health = { status: r.status, type: r.headers.get('content-type'), body: await r.json() };
        if (health.body.mailboxes.pec.lastPollAt && health.body.mailboxes.support.lastPollAt) break;
      } catch {
        /* not listening yet */
      }
      await sleep(50);
    }
    expect(health, stderr()).toBeDefined();
    expect(health.status).toBe(200);
    expect(health.type).toMatch(/^application\/json/);
    expect(health.body).toMatchObject({
      status: 'ok',
      database: { writable: true },
      outbox: { queued: 0, failed: 0, oldestQueuedAgeSeconds: null },
    });
    for (const mb of ['pec', 'support']) {
      const m = health.body.mailboxes[mb];
      expect(Date.parse(m.lastPollAt)).toBeGreaterThan(Date.now() - 30_000);
      expect(m.lastPollAgeSeconds).toBeGreaterThanOrEqual(0);
      expect(m.lastPollAgeSeconds).toBeLessThan(10); // pollSeconds 0.2: polled again and again
      expect(m.maxAgeSeconds).toBe(60);
    }
    expect(health.body.checks.map((c: any) => [c.name, c.ok])).toEqual([
      ['database', true],
      ['mailbox.pec', true],
      ['mailbox.support', true],
    ]);
    // The write probe was rolled back: nothing of it in the database.
    expect(w.count("SELECT count(*) FROM counters WHERE series = 'healthz-probe'")).toBe(0);

    // Before any mail: no message series, the outbox gauges at zero.
    let r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    let text = await r.text();
    expect(text).toContain('# TYPE pecdesk_up gauge\npecdesk_up 1\n');
    expect(text).not.toContain('pecdesk_messages_total{');

    deliver(w, 'support', '1795000001.M000001P1.test', readSample('01-casella-bloccata.eml'));
    for (let i = 0; i < 300; i++) {
      try {
        if (w.count("SELECT count(*) FROM outbox WHERE status = 'sent'") === 1) break;
      } catch {
        /* busy */
      }
      await sleep(50);
    }
    r = await fetch(`${base}/metrics`);
    text = await r.text();
    // Every sample belongs to a family announced with HELP and TYPE just before it.
    const lines = text.trimEnd().split('\n');
    let family = '';
    for (const [i, line] of lines.entries()) {
      if (line.startsWith('# HELP ')) {
        family = line.split(' ')[2]!;
        expect(lines[i + 1]).toMatch(new RegExp(`^# TYPE ${family} (counter|gauge)$`));
      } else if (!line.startsWith('#')) {
        expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?\d+(\.\d+)?|NaN)$/);
        expect(line.startsWith(family)).toBe(true);
      }
    }
    expect(text).toContain('# TYPE pecdesk_messages_total counter\n');
    expect(text).toContain('pecdesk_messages_total{classification="email"} 1\n');
    const s = samplesOf(text);
    const [ticket] = w.query<{ priority: string; status: string }>('SELECT priority, status FROM tickets');
    expect(ticket).toBeDefined();
    expect(s.get(`pecdesk_tickets{priority="${ticket!.priority}",status="${ticket!.status}"}`)).toBe(1);
    expect(s.get('pecdesk_sla_breaches_total')).toBe(0);
    expect(s.get('pecdesk_outbox_entries{status="sent"}')).toBe(1);
    expect(s.get('pecdesk_outbox_entries{status="queued"}')).toBe(0);
    expect(s.get('pecdesk_outbox_failures_total')).toBe(0);
    for (const mb of ['pec', 'support']) {
      const age = s.get(`pecdesk_mailbox_last_poll_age_seconds{mailbox="${mb}"}`);
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(10);
    }

    // Anything else.
    r = await fetch(`${base}/nope`);
    expect(r.status).toBe(404);
    r = await fetch(`${base}/`);
    expect(r.status).toBe(404);
    r = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
    r = await fetch(`${base}/healthz`, { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect((await fetch(`${base}/healthz?verbose=1`)).status).toBe(200);

    expect(await accepts(port)).toBe(true);
    // An idle client connection (no request sent): SIGTERM must not wait for it to time out.
    const idle = connect({ host: '127.0.0.1', port });
    await once(idle, 'connect');
    idle.on('error', () => undefined);
    // Not events.once(): it rejects on 'error', and the daemon's exit may reset (RST) rather than
    // close (FIN) this socket — which is just as closed.
    const idleClosed = new Promise((resolve) => idle.once('close', resolve));
    const t0 = Date.now();
    daemon!.kill('SIGTERM');
    const [code] = await exited;
    expect(code, stderr()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2500); // the server's own timeouts are 5 s and more
    await idleClosed;
    expect(await accepts(port)).toBe(false);
  });

  it('/healthz answers 503 while the database cannot be written (another process holds the write lock), 200 after', async () => {
    const port = await freePort();
    ws = new Workspace((c) => {
      c.http = { listen: port }; // a bare port (a YAML number): 127.0.0.1
    });
    const { w, exited, stderr } = startDaemon();
    const url = `http://127.0.0.1:${port}/healthz`;
    let first: Response | undefined;
    for (let i = 0; i < 300 && !first; i++) {
      first = await fetch(url).catch(() => undefined);
      if (!first) await sleep(50);
    }
    expect(first?.status, stderr()).toBe(200);
    const db = new Database(path.join(w.config.dataDir, 'pecdesk.sqlite'));
    try {
      db.exec('BEGIN IMMEDIATE');
      const r = await fetch(url);
      const body: any = await r.json();
      expect(r.status).toBe(503);
      expect(body.status).toBe('unhealthy');
      expect(body.database.writable).toBe(false);
      expect(body.database.error).toMatch(/SQLITE_BUSY/);
      expect(body.checks.find((c: any) => c.name === 'database')).toMatchObject({ ok: false });
      expect(body.checks.filter((c: any) => !c.ok)).toHaveLength(1); // the mailboxes are fine
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
    const again = await fetch(url);
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).database).toEqual({ writable: true });
    daemon!.kill('SIGTERM');
    expect((await exited)[0], stderr()).toBe(0);
  });

  it('a mailbox not polled successfully for more than max(60 s, 10 × pollSeconds) is unhealthy', () => {
    ws = new Workspace((c) => {
      c.daemon = { pollSeconds: 10 }; // limit 100 s
    });
    const desk = openDesk(loadConfig(ws.configPath), { log: createLogger('silent') });
    try {
      const now = new Date('2026-11-30T10:00:00Z');
      const ago = (s: number) => new Date(now.getTime() - s * 1000);
      let h = health({ desk, lastPolls: { pec: ago(99), support: ago(1) }, startedAt: ago(500), now: () => now });
      expect(h.status).toBe('ok');
      expect(h.mailboxes.pec).toEqual({ lastPollAt: ago(99).toISOString(), lastPollAgeSeconds: 99, maxAgeSeconds: 100 });
      h = health({ desk, lastPolls: { pec: ago(101), support: ago(1) }, startedAt: ago(500), now: () => now });
      expect(h.status).toBe('unhealthy');
      expect(h.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['mailbox.pec']);
      // Never polled: as old as the daemon.
      h = health({ desk, lastPolls: { pec: ago(1) }, startedAt: ago(30), now: () => now });
      expect(h.status).toBe('ok');
      expect(h.mailboxes.support).toMatchObject({ lastPollAt: null, lastPollAgeSeconds: 30 });
      h = health({ desk, lastPolls: { pec: ago(1) }, startedAt: ago(120), now: () => now });
      expect(h.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['mailbox.support']);
      // A small pollSeconds still allows 60 s.
      expect(maxPollAgeSeconds(0.2)).toBe(60);
      // IMAP: connected in IDLE counts as polled; a refused login is unhealthy at once; a lost
      // connection only once the poll is too old.
      const imap = (state: SourceState) => ({ kind: 'imap' as const, state, since: now, reconnects: 0, lastError: state === 'auth-failed' ? 'login refused' : null, idle: true, refreshTokenDaysLeft: null });
      const polls = { pec: ago(300), support: ago(1) };
      expect(health({ desk, lastPolls: polls, sources: { pec: imap('idle') }, startedAt: ago(500), now: () => now }).status).toBe('ok');
      h = health({ desk, lastPolls: { pec: ago(1), support: ago(1) }, sources: { pec: imap('auth-failed') }, startedAt: ago(500), now: () => now });
      expect(h.checks.find((c) => c.name === 'mailbox.pec')).toMatchObject({ ok: false, detail: expect.stringContaining('auth-failed: login refused') });
      expect(h.mailboxes.pec).toMatchObject({ source: 'imap', state: 'auth-failed', lastError: 'login refused' });
      expect(health({ desk, lastPolls: polls, sources: { pec: imap('disconnected') }, startedAt: ago(500), now: () => now }).status).toBe('unhealthy');
      expect(health({ desk, lastPolls: { pec: ago(30), support: ago(1) }, sources: { pec: imap('disconnected') }, startedAt: ago(500), now: () => now }).status).toBe('ok');
    } finally {
      desk.close();
    }
  });

  it('a port already in use stops the start with a clear line and exit 2', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as AddressInfo).port;
    try {
      ws = new Workspace((c) => {
        c.http = { listen: `127.0.0.1:${port}` };
      });
      const r = await ws.cliAsync(['run']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`pecdesk: http.listen: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((res) => busy.close(() => res()));
    }
  });

  it('a bad http.listen value stops the start with the file and the key', () => {
    for (const [listen, why] of [
      ['localhost:9464', /is not an IPv4 address/],
      ['127.0.0.1:70000', /port out of range/],
      ['::1:9464', /expected PORT, IPV4:PORT or \[IPV6\]:PORT/],
      ['[127.0.0.1]:9464', /is not an IPv6 address/],
    ] as const) {
      ws?.cleanup();
      ws = new Workspace((c) => {
        c.http = { listen };
      });
      const r = ws.cli(['run', '--once']);
      expect(r.status, listen).toBe(2);
      expect(r.stderr).toContain(`${ws.configPath}: http.listen: `);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
