// Replies through a real SMTP server (smtp-server, in-process on loopback): delivery, refusal,
// outage and retry.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { samples, Workspace } from './workspace.js';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

let server: SMTPServer;
let port: number;
let received: Received[];
let refuse: null | { code: number; message: string };
let ws: Workspace;

beforeEach(async () => {
  received = [];
  refuse = null;
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refuse) {
          const err = Object.assign(new Error(refuse.message), { responseCode: refuse.code });
          return callback(err);
        }
        received.push({
          from: (session.envelope.mailFrom as { address: string }).address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
  ws = new Workspace((c) => {
    c.mailboxes.support = { address: 'helpdesk@cloudpa-desk.example.it', maildir: c.mailboxes.support.maildir, smtp: { host: '127.0.0.1', port, secure: false } };
    c.daemon = { pollSeconds: 0.2, outboxRetryBaseSeconds: 60, outboxMaxAttempts: 3 };
  });
});
afterEach(async () => {
  ws.cleanup();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('outbox over SMTP', () => {
  it('sends the acknowledgement through the mailbox SMTP, threaded and auto-submitted', async () => {
    expect(ws.cli(['ingest', path.join(samples, '01-casella-bloccata.eml'), '--now', '2026-11-23T15:00:00+01:00']).status).toBe(0);
    const r = await ws.cliAsync(['run', '--once', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(received).toHaveLength(1);
    const m = received[0]!;
    expect(m.from).toBe('helpdesk@cloudpa-desk.example.it');
    expect(m.to).toEqual(['anna.rossi@comune.esempio.it']);
    expect(m.raw).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(m.raw).toMatch(/^In-Reply-To: <demo-001@comune\.esempio\.it>/m);
    expect(m.raw).toMatch(/^References: <demo-001@comune\.esempio\.it>/m);
    const e = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    expect(e).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
    expect(m.raw).toContain(`Message-ID: ${e.messageId}`);
  });

  it('a temporary refusal keeps the entry queued with its error; retry sends it', async () => {
    ws.cli(['ingest', path.join(samples, '01-casella-bloccata.eml'), '--now', '2026-11-23T15:00:00+01:00']);
    refuse = { code: 451, message: 'try again later' };
    expect((await ws.cliAsync(['run', '--once'])).status).toBe(0);
    let e = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    expect(e).toMatchObject({ status: 'queued', attempts: 1 });
    expect(e.lastError).toMatch(/451|try again/);
    // Backoff: the next pass does not hammer the server.
    await ws.cliAsync(['run', '--once']);
    expect(ws.cli(['outbox', 'list', '--json']).json.entries[0].attempts).toBe(1);
    refuse = null;
    const retry = await ws.cliAsync(['outbox', 'retry', String(e.id), '--json']);
    expect(retry.status, retry.stderr).toBe(0);
    e = retry.json;
    expect(e).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
    expect(received).toHaveLength(1);
  });

  it('a server that is down: the reply survives, queued, and the run still exits 0', async () => {
    ws.cli(['ingest', path.join(samples, '01-casella-bloccata.eml'), '--now', '2026-11-23T15:00:00+01:00']);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const r = await ws.cliAsync(['run', '--once']);
    expect(r.status).toBe(0);
    const e = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    expect(e.status).toBe('queued');
    expect(e.lastError).toMatch(/ECONNREFUSED|connect/i);
    // restart the server for afterEach
    server = new SMTPServer({ authOptional: true, logger: false });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  it('after the last attempt the entry is failed, and retry exits 1 while the server refuses', async () => {
    ws.cli(['ingest', path.join(samples, '01-casella-bloccata.eml'), '--now', '2026-11-23T15:00:00+01:00']);
    refuse = { code: 550, message: 'mailbox unavailable' };
    const id = ws.cli(['outbox', 'list', '--json']).json.entries[0].id;
    for (let i = 0; i < 3; i++) await ws.cliAsync(['outbox', 'retry', String(id)]);
    const e = ws.cli(['outbox', 'list', '--json']).json.entries[0];
    expect(e).toMatchObject({ status: 'failed', attempts: 3 });
    expect((await ws.cliAsync(['outbox', 'retry', String(id)])).status).toBe(1);
  });
});
