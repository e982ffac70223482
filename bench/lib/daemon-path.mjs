// The daemon path, as an operator runs it: Maildirs delivered the Maildir way, then the real
// process `pecdesk --config X run --once` (real SQLite file, real fsyncs, replies written
// to an outbox directory), measured from outside. Also the bare component of mail workloads:
// mailparser alone, in its own process, over the very same files.
import { mkdirSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
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
   * One `run --once` over what was delivered. Every ~0.5 s the messages still in new/ are
   * counted beside the RSS sample, so memory can be read against progress. Without --json: that
   * document holds every result until the end (20,000 of them are ~100 MB), which is the
   * command's output, not the daemon's memory. What became of the messages is read from the
   * database afterwards.
   */
  async runOnce({ now, countEvery = 5 } = {}) {
    let polls = 0;
    const left = () => MAILBOXES.reduce((s, m) => s + readdirSync(this.newDir(m)).length, 0);
    // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the daemon (not allowed in NODE_OPTIONS).
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const args = [...nodeArgs, pecdeskBin, '--config', this.config, 'run', '--once', ...(now ? ['--now', now] : [])];
    const r = await measureOk(process.execPath, args, {
      env: { ...process.env, PECDESK_LOG_LEVEL: 'warn' },
      sample: () => (polls++ % countEvery === 0 ? { left: left() } : {}),
      stdout: 'ignore',
    });
    const db = new Database(path.join(this.dir, 'data', 'pecdesk.sqlite'), { readonly: true });
    try {
      const one = (sql) => db.prepare(sql).pluck().get();
      const groups = (sql) => Object.fromEntries(db.prepare(sql).raw().all());
      const summary = {
        processed: one(`SELECT count(*) FROM messages WHERE status <> 'received'`),
        leftInNew: left(),
        byClassification: groups('SELECT classification, count(*) FROM messages GROUP BY 1'),
        tickets: one('SELECT count(*) FROM tickets'),
        quarantined: one(`SELECT count(*) FROM messages WHERE status = 'quarantined'`),
        orders: one('SELECT count(*) FROM orders'),
        ordersByState: groups('SELECT state, count(*) FROM orders GROUP BY 1'),
        verification: groups(`SELECT json_extract(result, '$.sender.verification'), count(*) FROM messages GROUP BY 1`),
        repliesWritten: one(`SELECT count(*) FROM outbox WHERE status = 'sent'`),
        repliesFailed: one(`SELECT count(*) FROM outbox WHERE status = 'failed'`),
        warningLines: r.stderr.split('\n').filter(Boolean).length,
      };
      return { seconds: r.seconds, peakKiB: r.peakKiB, samples: r.samples, summary, total: this.delivered, stderrTail: r.stderr.slice(-2000) };
    } finally {
      db.close();
    }
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
