// npm run bench (part): `tickets list` at 1,000,000 tickets — the query alone and the whole
// command (process start included) — beside `node -e 0` and an empty SQLite transaction,
// measured in the same run. Measured, never asserted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { migrate, openDatabase, databasePath } = await import(path.join(root, 'dist', 'store', 'db.js'));
const { listTickets } = await import(path.join(root, 'dist', 'store', 'tickets.js'));

const N = Number(process.env.BENCH_TICKETS ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-bench-tickets-'));
const dataDir = path.join(dir, 'data');
const db = openDatabase(databasePath(dataDir));
migrate(db);
// Deterministic rows: statuses and classes in fixed proportions, one administration in ten.
const cols = db.prepare("SELECT name FROM pragma_table_info('tickets') WHERE \"notnull\" = 1 AND dflt_value IS NULL AND pk = 0").pluck().all().filter((c) => c !== 'status' && c !== 'priority');
const statuses = ['closed', 'closed', 'closed', 'resolved', 'in-charge', 'new'];
const classes = ['P4', 'P4', 'P3', 'P2', 'P1'];
const insert = db.prepare(`INSERT INTO tickets (${[...cols, 'status', 'priority', 'administration_id', 'take_charge_due_at'].join(', ')}) VALUES (${[...cols, 1, 2, 3, 4].map(() => '?').join(', ')})`);
const addAdmin = db.prepare('INSERT INTO administrations (id, name, updated_at) VALUES (?, ?, ?)');
for (let a = 0; a < 500; a++) addAdmin.run(`ente-${a}`, `Comune ${a}`, '2026-01-01T00:00:00.000Z');
let t0 = performance.now();
db.transaction(() => {
  for (let i = 1; i <= N; i++) {
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
const fillS = (performance.now() - t0) / 1000;
const time = (f, n = 20) => {
  f();
  const s = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - s) / n;
};
const queryAll = time(() => listTickets(db, { limit: 101 }));
const queryNew = time(() => listTickets(db, { status: 'new', limit: 101 }));
const queryAdminNew = time(() => listTickets(db, { status: 'new', admin: 'ente-7', limit: 101 }));
const emptyTx = time(() => db.transaction(() => {})(), 200);
db.close();
const cfg = path.join(dir, 'c.yaml');
writeFileSync(cfg, `dataDir: ${dataDir}\nmailboxes:\n  pec: { address: p@x.it, maildir: ${dir}/m1, outboxDir: ${dir}/o }\n  support: { address: s@x.it, maildir: ${dir}/m2, outboxDir: ${dir}/o }\n`);
const cli = (args) => time(() => execFileSync(process.execPath, [path.join(root, 'bin', 'pecdesk.js'), '--config', cfg, ...args], { stdio: 'ignore' }), 5);
const cliList = cli(['tickets', 'list', '--json']);
const cliNew = cli(['tickets', 'list', '--json', '--status', 'new']);
const nodeStart = time(() => execFileSync(process.execPath, ['-e', '0'], { stdio: 'ignore' }), 5);
console.log(`tickets list at ${N.toLocaleString('en')} tickets (filled in ${fillS.toFixed(0)} s): query ${queryAll.toFixed(2)} ms, --status new ${queryNew.toFixed(2)} ms, --status new --admin ${queryAdminNew.toFixed(2)} ms (empty SQLite transaction ${emptyTx.toFixed(3)} ms); whole command ${cliList.toFixed(0)} ms, --status new ${cliNew.toFixed(0)} ms (node -e 0: ${nodeStart.toFixed(0)} ms, ratio ${(cliList / nodeStart).toFixed(1)})`);
rmSync(dir, { recursive: true, force: true });
