// Workloads (e) and (f) of `npm run bench`.
// (e) `tickets list` and `tickets list --status new` at 1,000,000 tickets: the query in process
//     (pecdesk's own listTickets, i.e. its SQL through better-sqlite3) and the whole command,
//     beside an empty SQLite transaction (BEGIN IMMEDIATE; COMMIT, WAL, synchronous=FULL, a file).
// (f) CLI start: `pecdesk --help` and `pecdesk tickets list` (empty database) beside `node -e 0`,
//     each the median of 7 runs after a warm-up.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fmtMiB, fmtMs, medianRuns, pecdeskBin, root, timeInProcess } from './lib/measure.mjs';

const RUNS = 7;

/** A config with dataDir alone (what the operator commands need). */
function configIn(dir) {
  const cfg = path.join(dir, 'c.yaml');
  writeFileSync(cfg, `dataDir: ${dir}/data\n`);
  return cfg;
}

/** `n` tickets, deterministic: statuses and classes in fixed proportions, one in ten without an administration. */
async function fillTickets(dataDir, n) {
  const { migrate, openDatabase, databasePath } = await import(path.join(root, 'dist', 'store', 'db.js'));
  const db = openDatabase(databasePath(dataDir));
  migrate(db);
  const cols = db.prepare("SELECT name FROM pragma_table_info('tickets') WHERE \"notnull\" = 1 AND dflt_value IS NULL AND pk = 0").pluck().all().filter((c) => c !== 'status' && c !== 'priority');
  const statuses = ['closed', 'closed', 'closed', 'resolved', 'in-charge', 'new'];
  const classes = ['P4', 'P4', 'P3', 'P2', 'P1'];
  const insert = db.prepare(`INSERT INTO tickets (${[...cols, 'status', 'priority', 'administration_id', 'take_charge_due_at'].join(', ')}) VALUES (${[...cols, 1, 2, 3, 4].map(() => '?').join(', ')})`);
  const addAdmin = db.prepare('INSERT INTO administrations (id, name, updated_at) VALUES (?, ?, ?)');
  for (let a = 0; a < 500; a++) addAdmin.run(`ente-${a}`, `Comune ${a}`, '2026-01-01T00:00:00.000Z');
  db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const values = cols.map((c) => {
        if (c === 'ref') return `HD-2026-${String(i).padStart(7, '0')}`;
        if (c === 'sender_verification_problems') return '[]';
        if (c === 'authorized' || c === 'on_call') return 0;
        if (c === 'received_at') return new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString();
        return 'x';
      });
      insert.run(...values, statuses[i % statuses.length], classes[i % classes.length], i % 10 === 0 ? null : `ente-${i % 500}`, new Date(Date.UTC(2020, 0, 2) + i * 60_000).toISOString());
    }
  })();
  return db;
}

/** The bare floor of any write: an empty immediate transaction on a WAL file with synchronous=FULL. */
function emptyTransactionMs(dir) {
  const db = new Database(path.join(dir, 'empty-tx.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const ms = timeInProcess(() => {
    begin.run();
    commit.run();
  }, 1000);
  db.close();
  return ms;
}

/** listTickets in process, with the SQL it ran (caught at prepare) and SQLite's plan for it. */
async function queryInProcess(db, filter) {
  const { listTickets } = await import(path.join(root, 'dist', 'store', 'tickets.js'));
  let seen = null;
  const prepare = db.prepare.bind(db);
  const spy = Object.create(db, { prepare: { value: (sql) => ((seen = sql), prepare(sql)) } });
  const rows = listTickets(spy, filter);
  const ms = timeInProcess(() => listTickets(db, filter), 50);
  const sql = seen.replace(/\s+/g, ' ').trim();
  const args = [...(filter.status ? [filter.status] : []), filter.limit];
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${seen}`).all(...args).map((r) => r.detail);
  return { ms, rows: rows.length, sql, plan };
}

export const workloads = [
  {
    id: 'e',
    size: (quick) => (quick ? 100_000 : 1_000_000),
    async run(ctx) {
      const n = this.size(ctx.quick);
      let t0 = performance.now();
      const db = await fillTickets(path.join(ctx.tmp, 'data'), n);
      const fillS = (performance.now() - t0) / 1000;
      ctx.log(`${n.toLocaleString('en')} tickets filled in ${fillS.toFixed(0)} s; queries…`);
      const emptyTx = emptyTransactionMs(ctx.tmp);
      // The CLI asks for one more than a page (100) to know whether there is a next page.
      const cases = [
        { id: 'e1', args: [], filter: { limit: 101 } },
        { id: 'e2', args: ['--status', 'new'], filter: { status: 'new', limit: 101 } },
      ];
      for (const c of cases) c.q = await queryInProcess(db, c.filter);
      db.close();
      const cfg = configIn(ctx.tmp);
      const rows = [];
      for (const c of cases) {
        const cli = await medianRuns(process.execPath, [pecdeskBin, '--config', cfg, 'tickets', 'list', ...c.args], RUNS);
        const problems = c.q.rows === 101 ? [] : [`query returned ${c.q.rows} rows, expected 101`];
        rows.push({
          id: c.id,
          workload: `tickets list${c.args.length ? ` ${c.args.join(' ')}` : ''} at ${n.toLocaleString('en')} tickets (query in process)`,
          pecdesk: `${fmtMs(c.q.ms)} ms`,
          bare: `empty SQLite tx ${fmtMs(emptyTx)} ms`,
          ratio: c.q.ms / emptyTx,
          rss: `${fmtMiB(cli.peakKiB)} / —`,
          notes: [...(problems.length ? [`PROBLEM: ${problems.join(', ')}`] : []), `whole command ${fmtMs(cli.seconds * 1000)} ms (median of ${RUNS}; RSS is its); plan: ${c.q.plan.join(' · ')}`].join('; '),
          problems,
          data: {
            input: { tickets: n, fillSeconds: fillS },
            pecdesk: { queryMs: c.q.ms, sql: c.q.sql, plan: c.q.plan, command: `pecdesk tickets list ${c.args.join(' ')}`.trim(), commandMedianMs: cli.seconds * 1000, commandRunsMs: cli.runs.map((r) => r.seconds * 1000), commandPeakRssMiB: cli.peakKiB / 1024 },
            bare: { component: 'BEGIN IMMEDIATE; COMMIT (WAL, synchronous=FULL, file), mean of 1000', ms: emptyTx },
          },
        });
      }
      return rows;
    },
  },
  {
    id: 'f',
    async run(ctx) {
      const cfg = configIn(ctx.tmp);
      // An empty, migrated database: what is measured is the start, not a query.
      execFileSync(process.execPath, [pecdeskBin, '--config', cfg, 'migrate'], { stdio: 'ignore' });
      const node = await medianRuns(process.execPath, ['-e', '0'], RUNS);
      const help = await medianRuns(process.execPath, [pecdeskBin, '--help'], RUNS);
      const list = await medianRuns(process.execPath, [pecdeskBin, '--config', cfg, 'tickets', 'list'], RUNS);
      const row = (id, label, r) => ({
        id,
        workload: `CLI start: ${label}`,
        pecdesk: `${fmtMs(r.seconds * 1000)} ms`,
        bare: `node -e 0 ${fmtMs(node.seconds * 1000)} ms`,
        ratio: r.seconds / node.seconds,
        rss: `${fmtMiB(r.peakKiB)} / ${fmtMiB(node.peakKiB)}`,
        notes: `median of ${RUNS} after a warm-up; ${r.seconds >= node.seconds ? '+' : '−'}${fmtMs(Math.abs(r.seconds - node.seconds) * 1000)} ms over node`,
        problems: [],
        data: {
          pecdesk: { medianMs: r.seconds * 1000, runsMs: r.runs.map((x) => x.seconds * 1000), peakRssMiB: r.peakKiB / 1024 },
          bare: { component: 'node -e 0', medianMs: node.seconds * 1000, runsMs: node.runs.map((x) => x.seconds * 1000), peakRssMiB: node.peakKiB / 1024 },
        },
      });
      return [row('f1', 'pecdesk --help', help), row('f2', 'pecdesk tickets list (empty database)', list)];
    },
  },
];
