// Group commit through the real daemon path (`run --once` on a Maildir), watched with strace:
// the database commits once per batch, not three or four times per message, and a message is
// acknowledged (new/ → cur/) only after its raw file and its batch's commit are durable.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, Workspace } from './workspace.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
if (!hasStrace && process.env.CI) throw new Error('CI=true but strace is not installed (.ci/run installs it)');

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

const MESSAGES = 100;
const BATCH = 25;

describe.skipIf(!hasStrace)('group commit (run --once, strace)', () => {
  it(`${MESSAGES} messages in batches of ${BATCH}: a few WAL commits per batch, every acknowledgement after its batch is durable`, () => {
    ws = new Workspace((c) => {
      c.daemon.batchMessages = BATCH;
    });
    const newDir = path.join(ws.config.mailboxes.support.maildir, 'new');
    mkdirSync(newDir, { recursive: true });
    for (const d of ['cur', 'tmp']) mkdirSync(path.join(ws.config.mailboxes.support.maildir, d), { recursive: true });
    for (let i = 0; i < MESSAGES; i++) {
      writeFileSync(
        path.join(newDir, `${1795000000 + i}.M${i}P1.gc`),
        `From: Utente ${i} <utente${i}@comune.esempio.it>\r\nTo: helpdesk@cloudpa-desk.example.it\r\nSubject: Richiesta ${i}\r\n` +
          `Message-ID: <gc-${i}@comune.esempio.it>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0100\r\n\r\nLa casella non riceve messaggi.\r\n`,
      );
    }
    const trace = ws.path('trace');
    const r = spawnSync('strace', ['-f', '-e', 'trace=openat,fsync,fdatasync,rename', '-o', trace, process.execPath, bin, '--config', ws.configPath, 'run', '--once', '--json', '--now', '2026-11-23T10:00:00+01:00'], {
      cwd: ws.dir, encoding: 'utf8', env: { ...process.env, PECDESK_LOG_LEVEL: 'warn' }, maxBuffer: 1 << 26,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.results).toHaveLength(MESSAGES);
    expect(out.outbox.sent).toHaveLength(MESSAGES);
    expect(readdirSync(newDir)).toEqual([]);

    const lines = readFileSync(trace, 'utf8').split('\n');
    const walFd = /sqlite-wal", [^)]*\) = (\d+)/.exec(lines.find((l) => l.includes('sqlite-wal"'))!)![1];
    const walSyncs: number[] = [];
    const rawRenames: number[] = [];
    const acks: number[] = [];
    lines.forEach((l, i) => {
      if (new RegExp(`f(data)?sync\\(${walFd}[)<, ]`).test(l)) walSyncs.push(i);
      if (/rename\("[^"]*\/raw\/[^"]*\.tmp", /.test(l)) rawRenames.push(i);
      if (/rename\("[^"]*\/new\/[^"]*", "[^"]*\/cur\//.test(l)) acks.push(i);
    });
    expect(acks).toHaveLength(MESSAGES);
    expect(rawRenames).toHaveLength(MESSAGES);
    // Per message, one at a time, this was ≥ 3 commits (the message row, the outcome, the reply
    // sent); now: the migrations, then per batch the intake, the replies taken and marked sent.
    expect(walSyncs.length, `${walSyncs.length} WAL fsyncs`).toBeLessThanOrEqual(MESSAGES / 4);
    // Batch k's acknowledgements come after its raw files and a commit that follows them.
    for (let k = 0; k < MESSAGES / BATCH; k++) {
      const firstAck = acks[k * BATCH]!;
      const lastRaw = rawRenames[(k + 1) * BATCH - 1]!;
      expect(lastRaw).toBeLessThan(firstAck);
      expect(walSyncs.some((w) => w > lastRaw && w < firstAck), `batch ${k}: a commit between its raw files and its first acknowledgement`).toBe(true);
    }
  });
});
