// npm run bench: throughput and memory of the ingest pipeline on the daemon path
// (Maildir → raw store → SQLite → outbox file), measured, never asserted.
// Usage: node bench/ingest.mjs [messages=1000]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const n = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-bench-'));
const maildir = path.join(dir, 'maildir', 'support');
for (const d of ['tmp', 'new', 'cur']) mkdirSync(path.join(maildir, d), { recursive: true });
mkdirSync(path.join(dir, 'maildir', 'pec', 'new'), { recursive: true });
writeFileSync(
  path.join(dir, 'pecdesk.yaml'),
  `dataDir: ${dir}/data
directory: ${root}/fixtures/directory.yaml
mailboxes:
  pec: { address: pec@pec.cloudpa-desk.example.it, maildir: ${dir}/maildir/pec, outboxDir: ${dir}/outbox }
  support: { address: helpdesk@cloudpa-desk.example.it, maildir: ${maildir}, outboxDir: ${dir}/outbox }
`,
);
const body = 'Buongiorno, la casella non riceve più messaggi da questa mattina. Grazie.\r\n'.repeat(40);
for (let i = 0; i < n; i++) {
  const name = `${1795000000 + i}.M${String(i).padStart(7, '0')}P1.bench`;
  const msg = [
    `Received: from mx by mx.desk; Mon, 23 Nov 2026 10:00:00 +0100`,
    `From: Utente ${i} <utente${i}@comune.esempio.it>`,
    'To: helpdesk@cloudpa-desk.example.it',
    `Subject: Richiesta ${i}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0100',
    `Message-ID: <bench-${i}@comune.esempio.it>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
  ].join('\r\n');
  writeFileSync(path.join(maildir, 'tmp', name), msg);
  renameSync(path.join(maildir, 'tmp', name), path.join(maildir, 'new', name));
}
const t0 = process.hrtime.bigint();
// GNU time reports the peak RSS; without it the figure is left out.
const timed = existsSync('/usr/bin/time');
const cmd = [process.execPath, path.join(root, 'bin', 'pecdesk.js'), '--config', path.join(dir, 'pecdesk.yaml'), 'run', '--once', '--json'];
const r = spawnSync(timed ? '/usr/bin/time' : cmd[0], timed ? ['-f', '%M', ...cmd] : cmd.slice(1), {
  encoding: 'utf8',
  env: { ...process.env, PECDESK_LOG_LEVEL: 'warn' },
  maxBuffer: 1 << 30,
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.status !== 0) {
  console.error(r.stderr);
  process.exit(1);
}
const maxRssKb = timed ? Number(r.stderr.trim().split('\n').pop()) : NaN;
const out = JSON.parse(r.stdout);
console.log(`ingest (Maildir → tickets + replies written): ${n} messages in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(0)} msg/s, peak RSS ${timed ? `${(maxRssKb / 1024).toFixed(0)} MiB` : 'n/a (no /usr/bin/time)'}, ${out.outbox.sent.length} replies`);
rmSync(dir, { recursive: true, force: true });
