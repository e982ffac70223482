// The daemon path, as an operator runs it: Maildirs delivered the Maildir way, then the real
// process `pecdesk --config X run --once --json` (real SQLite file, real fsyncs, replies written
// to an outbox directory), measured from outside. Also the bare component of mail workloads:
// mailparser alone, in its own process, over the very same files.
import { mkdirSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { measureOk, pecdeskBin, root } from './measure.mjs';

const MAILBOXES = ['support', 'pec'];

export class BenchDesk {
  /** A throw-away installation in `dir`; `trust` is the config's trust section (PEC workloads). */
  constructor(dir, { trust } = {}) {
    this.dir = dir;
    this.maildir = Object.fromEntries(MAILBOXES.map((m) => [m, path.join(dir, 'maildir', m)]));
    for (const m of MAILBOXES) for (const d of ['tmp', 'new', 'cur']) mkdirSync(path.join(this.maildir[m], d), { recursive: true });
    this.config = path.join(dir, 'pecdesk.yaml');
    writeFileSync(
      this.config,
      stringify({
        dataDir: path.join(dir, 'data'),
        timezone: 'Europe/Rome',
        directory: path.join(root, 'fixtures', 'directory.yaml'),
        ...(trust ? { trust } : {}),
        mailboxes: {
          pec: { address: 'pec@pec.cloudpa-desk.example.it', maildir: this.maildir.pec, outboxDir: path.join(dir, 'outbox') },
          support: { address: 'helpdesk@cloudpa-desk.example.it', maildir: this.maildir.support, outboxDir: path.join(dir, 'outbox') },
        },
      }),
    );
    this.delivered = 0;
  }

  newDir(mailbox) {
    return path.join(this.maildir[mailbox], 'new');
  }

  /** Deliver like an MDA: write in tmp/, rename into new/. A fixed mtime keeps arrival times reproducible. */
  deliver(mailbox, name, bytes, mtime) {
    const tmp = path.join(this.maildir[mailbox], 'tmp', name);
    writeFileSync(tmp, bytes);
    if (mtime) utimesSync(tmp, mtime, mtime);
    renameSync(tmp, path.join(this.newDir(mailbox), name));
    this.delivered++;
  }

  /**
   * One `run --once --json` over what was delivered. Every ~0.5 s the messages still in new/
   * are counted beside the RSS sample, so memory can be read against progress. Returns the
   * measurement and a summary of the run's own JSON (what became of the messages).
   */
  async runOnce({ now, countEvery = 5 } = {}) {
    let polls = 0;
    const left = () => MAILBOXES.reduce((s, m) => s + readdirSync(this.newDir(m)).length, 0);
    const args = [pecdeskBin, '--config', this.config, 'run', '--once', '--json', ...(now ? ['--now', now] : [])];
    const r = await measureOk(process.execPath, args, {
      env: { ...process.env, PECDESK_LOG_LEVEL: 'warn' },
      sample: () => (polls++ % countEvery === 0 ? { left: left() } : {}),
    });
    const out = JSON.parse(r.stdout);
    const count = (f) => out.results.filter(f).length;
    const byClassification = {};
    for (const x of out.results) byClassification[x.classification] = (byClassification[x.classification] ?? 0) + 1;
    const summary = {
      processed: out.results.length,
      leftInNew: left(),
      byClassification,
      tickets: count((x) => x.ticket),
      quarantined: count((x) => x.quarantine),
      orders: count((x) => x.order),
      ordersByState: out.results.reduce((a, x) => (x.order ? { ...a, [x.order.state]: (a[x.order.state] ?? 0) + 1 } : a), {}),
      verification: out.results.reduce((a, x) => ({ ...a, [x.sender.verification]: (a[x.sender.verification] ?? 0) + 1 }), {}),
      repliesWritten: out.outbox.sent.length,
      repliesFailed: out.outbox.failed.length,
      warningLines: r.stderr.split('\n').filter(Boolean).length,
    };
    return { seconds: r.seconds, peakKiB: r.peakKiB, samples: r.samples, summary, total: this.delivered, stderrTail: r.stderr.slice(-2000) };
  }
}

/** RSS (MiB) when 25/50/75/100 % of the messages had left new/, and the last sample before exit. */
export function rssByProgress(samples, total) {
  const marks = {};
  for (const q of [25, 50, 75, 100]) {
    const s = samples.find((x) => x.left !== undefined && total - x.left >= (total * q) / 100);
    marks[`${q}%`] = s ? { t: +s.t.toFixed(1), rssMiB: Math.round(s.rss / 1024) } : null;
  }
  const last = samples.at(-1);
  marks.exit = last ? { t: +last.t.toFixed(1), rssMiB: Math.round(last.rss / 1024) } : null;
  return marks;
}

/** mailparser's simpleParser alone (pecdesk's options), one process, over every file in `dirs`. */
export async function mailparserAlone(dirs) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mailparser-alone.mjs');
  const r = await measureOk(process.execPath, [script, ...dirs]);
  return { seconds: r.seconds, peakKiB: r.peakKiB, ...JSON.parse(r.stdout) };
}
