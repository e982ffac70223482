// The daemon on real IMAP (Dovecot on loopback) with replies to a real SMTP server (smtp-server
// in-process): IDLE, a server restart, kill -9 under load, acknowledgement only after commit.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Dovecot, dovecotAvailable, freePort } from './dovecot.js';
import { email, Workspace } from './workspace.js';

const available = dovecotAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dovecot: Dovecot;
let smtp: SMTPServer;
let smtpPort: number;
/** Message-IDs of every message the SMTP sink accepted, in order. */
let delivered: string[];
/** Each SMTP login: METHOD:user. */
let smtpLogins: string[];
const SMTP_TOKEN = 'smtp-token-1';
let ws: Workspace;

function supportMail(i: number, tag: string): Buffer {
  return email({
    from: `Utente ${i} <utente${i}.${tag}@comune.esempio.it>`,
    subject: `Richiesta ${tag} numero ${i}: casella bloccata`,
    messageId: `<${tag}-${i}@comune.esempio.it>`,
    body: `Buongiorno, la casella dell'ufficio ${i} non riceve posta da stamattina.`,
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
  return Date.now() - start;
}

function startDaemon(): { daemon: ChildProcess; exited: Promise<unknown[]>; output: () => string } {
  const daemon = ws.spawnDaemon();
  let out = '';
  daemon.stdout!.on('data', (d) => (out += d));
  daemon.stderr!.on('data', (d) => (out += d));
  return { daemon, exited: once(daemon, 'exit'), output: () => out };
}

const tickets = () => ws.count('SELECT count(*) FROM tickets');

describe.skipIf(!available)('the daemon on IMAP (Dovecot) with an SMTP outbox', () => {
  beforeAll(async () => {
    dovecot = new Dovecot();
    await dovecot.start();
  });
  afterAll(async () => {
    await dovecot?.dispose();
  });
  beforeEach(async () => {
    delivered = [];
    smtpLogins = [];
    smtp = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        smtpLogins.push(`${auth.method}:${auth.username}`);
        if (auth.method !== 'XOAUTH2') return callback(null, { user: auth.username });
        if (auth.accessToken === SMTP_TOKEN) return callback(null, { user: auth.username });
        callback(null, { data: { status: '401', schemes: 'bearer', scope: 'mail' } });
      },
      onData(stream, _session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString('latin1')));
        stream.on('end', () => {
          delivered.push(/^Message-ID:\s*(\S+)/im.exec(raw)?.[1] ?? '?');
          callback();
        });
      },
    });
    smtp.on('error', () => undefined); // a client killed mid-transaction (the SIGKILL test)
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    ws?.cleanup();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  /** Both mailboxes on Dovecot (each its own user), replies to the sink; IDLE only (the cron poll yearly). */
  async function imapWorkspace(tag: string, extra: (c: Record<string, any>) => void = () => undefined) {
    const httpPort = await freePort();
    // Each test reads its own folder, so earlier tests' mail never mixes in.
    ws = new Workspace((c) => {
      for (const [mb, user] of [['support', 'desk'], ['pec', 'pec']] as const) {
        c.mailboxes[mb] = {
          address: c.mailboxes[mb].address,
          imap: { ...dovecot.imapConfig(user), pollCron: '0 0 1 1 *' },
          folder: `in-${tag}`,
          processedFolder: `done-${tag}`,
          smtp: { host: '127.0.0.1', port: smtpPort, secure: false },
        };
      }
      c.daemon = { pollSeconds: 0.5, stopSeconds: 5 };
      c.http = { listen: `127.0.0.1:${httpPort}` };
      extra(c);
    });
    const admin = await dovecot.client('desk');
    await admin.mailboxCreate(`in-${tag}`).catch(() => undefined);
    await admin.logout();
    const pecAdmin = await dovecot.client('pec');
    await pecAdmin.mailboxCreate(`in-${tag}`).catch(() => undefined);
    await pecAdmin.logout();
    return { httpPort, folder: `in-${tag}`, processed: `done-${tag}` };
  }

  it('mail APPENDed while the daemon idles becomes tickets and replies within seconds (IDLE); /metrics and /healthz answer', async () => {
    const { httpPort, folder, processed } = await imapWorkspace('idle');
    const d = startDaemon();
    try {
      await until('the daemon to idle', () => d.output().includes('Waiting for mail'));
      expect(d.output()).toContain(`imap://127.0.0.1:${dovecot.port}/${folder}`);
      await sleep(1500); // well into IDLE: nothing but IDLE can announce what comes next
      const t0 = Date.now();
      await dovecot.append('desk', [1, 2, 3].map((i) => supportMail(i, 'idle')), folder);
      await until('3 tickets', () => tickets() === 3, 15_000);
      await until('3 replies at the SMTP sink', () => delivered.length === 3, 15_000);
      const seconds = (Date.now() - t0) / 1000;
      expect(seconds).toBeLessThan(10);
      process.stderr.write(`imap IDLE test: 3 messages APPENDed → 3 tickets and 3 replies at the sink in ${seconds} s\n`);
      expect(await dovecot.count('desk', folder)).toBe(0);
      expect(await dovecot.count('desk', processed)).toBe(3);
      // As ops would look: curl.
      const curl = (p: string) => execFileSync('curl', ['-s', '-w', '\n%{http_code}', `http://127.0.0.1:${httpPort}${p}`], { encoding: 'utf8' });
      const metrics = curl('/metrics');
      expect(metrics.endsWith('\n200')).toBe(true);
      expect(metrics).toMatch(/^pecdesk_imap_connected\{mailbox="support"\} 1$/m);
      expect(metrics).toMatch(/^pecdesk_imap_connected\{mailbox="pec"\} 1$/m);
      expect(metrics).toMatch(/^pecdesk_messages_total\{classification="email"\} 3$/m);
      const health = curl('/healthz');
      expect(health.endsWith('\n200')).toBe(true);
      const h = JSON.parse(health.slice(0, health.lastIndexOf('\n')));
      expect(h.mailboxes.support).toMatchObject({ source: 'imap' });
      expect(d.output()).not.toMatch(/"level":(40|50)/); // no warning or error logged
      const sources = ws.query<{ source: string; source_uid: string; file: string }>('SELECT source, source_uid, file FROM messages ORDER BY id');
      expect(sources.every((m) => m.source === 'imap' && /^in-idle:\d+:[123]$/.test(m.source_uid))).toBe(true);
    } finally {
      d.daemon.kill('SIGTERM');
      await d.exited;
    }
  });

  it('Dovecot restarted mid-run: the daemon reconnects and loses nothing', async () => {
    const { httpPort, folder, processed } = await imapWorkspace('restart');
    const d = startDaemon();
    try {
      await until('the daemon to idle', () => d.output().includes('Waiting for mail'));
      await dovecot.append('desk', [1, 2, 3, 4, 5].map((i) => supportMail(i, 'restart')), folder);
      await dovecot.restart(); // while the daemon may be fetching, moving or idling
      await dovecot.append('desk', [6, 7, 8, 9, 10].map((i) => supportMail(i, 'restart')), folder);
      await until('10 tickets', () => tickets() === 10, 60_000);
      await until('10 replies', () => delivered.length >= 10, 30_000);
      expect(await dovecot.count('desk', folder)).toBe(0);
      expect(await dovecot.count('desk', processed)).toBe(10);
      expect(ws.count('SELECT count(*) FROM messages')).toBe(10);
      expect(new Set(delivered).size).toBe(10);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(Number(/^pecdesk_imap_reconnects_total\{mailbox="support"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    } finally {
      d.daemon.kill('SIGTERM');
      await d.exited;
    }
  }, 120_000);

  it('SIGKILLed repeatedly while 200 messages arrive: each processed once, moved once, each reply sent once (but uncertain ones)', async () => {
    const { folder, processed } = await imapWorkspace('kill');
    const total = 200;
    // The MTA side: 200 messages in batches of 20, while the daemon is killed and restarted.
    const arriving = (async () => {
      for (let b = 0; b < total / 20; b++) {
        await dovecot.append('desk', Array.from({ length: 20 }, (_, k) => supportMail(b * 20 + k + 1, 'kill')), folder);
        await sleep(300);
      }
    })();
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const d = startDaemon();
      // Killed in the middle of the work: once it has opened a few more tickets.
      const before = (() => { try { return tickets(); } catch { return 0; } })();
      await until('progress', () => { try { return tickets() >= before + 3 + round; } catch { return false; } }, 20_000).catch(() => undefined);
      await sleep(round * 37);
      d.daemon.kill('SIGKILL');
      await d.exited;
      kills++;
    }
    await arriving;
    const d = startDaemon();
    try {
      await until(`${total} tickets`, () => tickets() === total, 120_000);
      await until('every reply sent', () => ws.count(`SELECT count(*) FROM outbox WHERE status <> 'sent'`) === 0, 60_000);
      expect(await dovecot.count('desk', folder)).toBe(0);
      expect(await dovecot.count('desk', processed)).toBe(total);
      const ids = await dovecot.messageIds('desk', processed);
      expect(new Set(ids).size).toBe(total); // moved once each
      expect(ws.count('SELECT count(*) FROM messages')).toBe(total);
      expect(ws.count(`SELECT count(*) FROM messages WHERE status = 'processed' AND classification = 'email'`)).toBe(total);
      expect(ws.count('SELECT count(*) FROM outbox')).toBe(total);
      const uncertain = ws.count('SELECT count(*) FROM outbox WHERE uncertain_at IS NOT NULL');
      const unique = new Set(delivered);
      expect(unique.size).toBe(total); // every reply arrived
      // A second copy of a reply only for an entry whose send a kill interrupted.
      expect(delivered.length - unique.size).toBeLessThanOrEqual(uncertain);
      expect(kills).toBe(5);
      process.stderr.write(`imap kill test: ${kills} kills, ${uncertain} uncertain sends, ${delivered.length - unique.size} re-sent\n`);
    } finally {
      d.daemon.kill('SIGTERM');
      await d.exited;
    }
  }, 300_000);

  it('run --once on IMAP: an oversized message is quarantined (stored, never dropped); without processedFolder messages are flagged and not read twice', async () => {
    const { folder, processed } = await imapWorkspace('once', (c) => {
      c.limits = { maxMessageBytes: 4000 };
      c.mailboxes.pec.processedFolder = null;
    });
    const big = email({ from: 'grande@comune.esempio.it', subject: 'Allegato enorme', messageId: '<big@comune.esempio.it>', body: 'x'.repeat(9000) });
    await dovecot.append('desk', [supportMail(1, 'once'), big], folder);
    await dovecot.append('pec', [supportMail(2, 'once')], folder);
    const r = await ws.cliAsync(['run', '--once', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const byMailbox = r.json.results.map((x: any) => [x.mailbox, x.classification]);
    expect(byMailbox).toEqual([['pec', 'email'], ['support', 'email'], ['support', 'quarantined']]);
    const q = r.json.results[2].quarantine;
    expect(q.reason).toMatch(/^too-large: message of \d+ bytes exceeds limits\.maxMessageBytes \(4000\)/);
    const shown = await ws.cliAsync(['quarantine', 'show', String(q.id), '--json']);
    expect(shown.json.message.size).toBe(big.length);
    expect(readFileSync(shown.json.message.rawPath).equals(big)).toBe(true);
    expect(shown.json.file).toMatch(new RegExp(`^imap://127\\.0\\.0\\.1:${dovecot.port}/${folder};UID=2$`));
    expect(await dovecot.count('desk', folder)).toBe(0);
    expect(await dovecot.count('desk', processed)).toBe(2);
    // Flagged \Seen and left where it was; the checkpoint keeps it from being read again.
    expect(await dovecot.count('pec', folder)).toBe(1);
    const again = await ws.cliAsync(['run', '--once', '--json']);
    expect(again.json.results).toEqual([]);
    expect(ws.count('SELECT count(*) FROM messages')).toBe(3);
    expect(ws.query('SELECT mailbox, folder, last_uid FROM imap_checkpoints ORDER BY mailbox')).toEqual([
      { mailbox: 'pec', folder, last_uid: 1 },
      { mailbox: 'support', folder, last_uid: 2 },
    ]);
  }, 60_000);

  it('XOAUTH2: IMAP and SMTP log in with the configured tokens (command, file) and mail is read and answered; a token the server refuses fails doctor naming the mailbox', async () => {
    dovecot.oauthTokens.set('tok-desk-1', 'desk');
    dovecot.oauthTokens.set('tok-pec-1', 'pec');
    const helpers = mkdtempSync(path.join(tmpdir(), 'pecdesk-oauth-'));
    chmodSync(helpers, 0o755);
    const helper = (name: string, token: string) => {
      const f = path.join(helpers, name);
      writeFileSync(f, `console.log(JSON.stringify({ access_token: ${JSON.stringify(token)}, expires_in: 3600 }));`);
      return [process.execPath, f];
    };
    const { folder } = await imapWorkspace('oauth', (c) => {
      for (const [mb, tok] of [['support', 'tok-desk-1'], ['pec', 'tok-pec-1']] as const) {
        delete c.mailboxes[mb].imap.pass;
        c.mailboxes[mb].imap.oauth2 = { tokenCommand: helper(`${mb}.mjs`, tok) };
      }
      // SMTP too, its token from a file another process keeps fresh.
      writeFileSync(path.join(helpers, 'smtp-token.json'), JSON.stringify({ access_token: SMTP_TOKEN, expires_in: 3600 }));
      c.mailboxes.support.smtp = { ...c.mailboxes.support.smtp, user: 'helpdesk@cloudpa-desk.example.it', oauth2: { tokenFile: path.join(helpers, 'smtp-token.json') } };
    });
    try {
      await dovecot.append('desk', [supportMail(1, 'oauth')], folder);
      const r = await ws.cliAsync(['run', '--once', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json.results.map((x: any) => [x.mailbox, x.classification])).toEqual([['support', 'email']]);
      expect(delivered).toHaveLength(1);
      expect(smtpLogins).toEqual(['XOAUTH2:helpdesk@cloudpa-desk.example.it']);
      dovecot.oauthTokens.delete('tok-desk-1'); // revoked
      const d = await ws.cliAsync(['doctor']);
      expect(d.status).toBe(1);
      expect(d.stdout).toMatch(/^FAIL\s+imap support\b.*desk@127\.0\.0\.1.*login refused/m);
      expect(d.stdout).toMatch(/^ok\s+imap pec\b/m);
      expect(d.stdout).toMatch(/^ok\s+smtp support\b.*login accepted/m);
      expect(d.stdout + d.stderr).not.toContain('tok-desk-1');
    } finally {
      rmSync(helpers, { recursive: true, force: true });
    }
  }, 60_000);

  it('doctor: every check a verdict line; a wrong IMAP password fails naming the mailbox', async () => {
    await imapWorkspace('doctor', (c) => {
      c.mailboxes.pec.imap.pass = 'wrong-password';
    });
    const r = await ws.cliAsync(['doctor']);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ok\s+config\b/m);
    expect(r.stdout).toMatch(/^ok\s+database\b/m);
    expect(r.stdout).toMatch(/^ok\s+imap support\b.*desk@127\.0\.0\.1/m);
    expect(r.stdout).toMatch(/^FAIL\s+imap pec\b.*(login refused|authentication)/im);
    expect(r.stdout).toMatch(/^ok\s+smtp support\b/m);
    expect(r.stdout + r.stderr).not.toContain('wrong-password');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const j = await ws.cliAsync(['doctor', '--json']);
    expect(j.status).toBe(1);
    const pec = j.json.checks.find((c: any) => c.name === 'imap pec');
    expect(pec).toMatchObject({ ok: false });
    // run --once reads the mailbox it can and says which one it could not, exit 2.
    const once = await ws.cliAsync(['run', '--once']);
    expect(once.status).toBe(2);
    expect(once.stderr).toMatch(/"mailbox":"pec".*login refused.*"msg":"mailbox pass failed"/);
    expect(once.stderr).toMatch(/^pecdesk: 1 mailbox\(es\) could not be read; see the log above$/m);
    expect(once.stderr).not.toContain('wrong-password');
  }, 60_000);
});
