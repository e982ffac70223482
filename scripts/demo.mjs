// npm run demo: the daemon on the embedded default config, visibly working on sample mail.
// Delivers fixtures/mail/samples/*.eml into ./var/maildir/support, runs one pass, shows the
// tickets and the replies written, then keeps the daemon running for new mail until Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const cli = [path.join(root, 'bin', 'pecdesk.js'), '--config', 'config/default.yaml'];
const env = { ...process.env, PECDESK_LOG_LEVEL: process.env.PECDESK_LOG_LEVEL ?? 'warn' };
const pecdesk = (...args) => {
  const r = spawnSync(process.execPath, [...cli, ...args], { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 2);
};
const bold = process.stdout.isTTY ? (s) => `\x1b[1m${s}\x1b[0m` : (s) => s;
const say = (s) => process.stdout.write(`\n${bold(`== ${s}`)}\n`);

// Deliver the samples the way an MTA does: write in tmp/, rename into new/.
const t = Math.floor(Date.now() / 1000);
let seq = 0;
function deliverAll(from, mailbox) {
  const maildir = path.join('var', 'maildir', mailbox);
  for (const d of ['tmp', 'new', 'cur']) mkdirSync(path.join(maildir, d), { recursive: true });
  const files = readdirSync(from).filter((f) => f.endsWith('.eml')).sort();
  for (const f of files) {
    const name = `${t}.M${String(seq++).padStart(6, '0')}P${process.pid}.${hostname()}`;
    writeFileSync(path.join(maildir, 'tmp', name), readFileSync(path.join(from, f)));
    renameSync(path.join(maildir, 'tmp', name), path.join(maildir, 'new', name));
  }
  say(`Delivered ${files.length} message(s) from ${from}/ into ${maildir}/new`);
}
deliverAll(path.join('fixtures', 'mail', 'samples'), 'support');
// A real PEC envelope (Aruba, 2023): its provider signature verifies at its signing time.
deliverAll(path.join('fixtures', 'mail', 'pec-real'), 'pec');
say('pecdesk run --once: one pass over the mailboxes, replies written to var/outbox');
pecdesk('run', '--once');
say('pecdesk tickets list');
pecdesk('tickets', 'list');
say('pecdesk outbox list');
pecdesk('outbox', 'list');
say('pecdesk run: the daemon keeps running for new mail (a message already seen shows as a duplicate)');

const daemon = spawn(process.execPath, [...cli, 'run'], { stdio: 'inherit', env });
const forward = (sig) => daemon.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
daemon.on('exit', (code) => process.exit(code ?? 0));
