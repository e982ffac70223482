// npm run bench: every workload of issue 12 generated deterministically into one temp directory,
// each measured beside its bare component in the same run, printed as one table and written to
// bench/last-run.json (the README's figures come from there). Measured, never asserted; a
// workload whose messages did not come out as expected says PROBLEM in its notes and the run
// exits 1, so a broken workload cannot pass for a fast one.
//
//   node bench/run.mjs [--quick] [--only a,c]
//
// a  5,000 plain ~4 KB support mails, daemon path          vs mailparser alone
// b  300 PEC envelopes, each a signed ~1 MB Piano           vs openssl cms -verify
// c  one mail with a 30 MB attachment                       vs mailparser alone
// d  20,000-message backlog on first start (RSS over time)  vs mailparser alone
// e  tickets list / --status new at 1,000,000 tickets       vs an empty SQLite transaction
// f  CLI start: pecdesk --help, pecdesk tickets list        vs node -e 0
// g  extract + formal check of a signed 5 MB Piano, CLI     vs the same in process
// h  verify a signed 1 MB PDF, 1 and 1,000 anchors          vs openssl cms -verify
// --quick shrinks every size (development only: its numbers are not the README's).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './lib/measure.mjs';
import { workloads as ingest } from './ingest.mjs';
import { workloads as pecPiano } from './pec-piano.mjs';
import { workloads as tickets } from './tickets.mjs';
import { workloads as extract } from './extract.mjs';
import { workloads as verify } from './verify.mjs';

const ALL = [...ingest, ...pecPiano, ...tickets, ...extract, ...verify].sort((x, y) => x.id.localeCompare(y.id));

function options(argv) {
  const o = { quick: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') o.quick = true;
    else if (argv[i] === '--only') o.only = argv[++i];
    else if (argv[i].startsWith('--only=')) o.only = argv[i].slice(7);
    else {
      console.error(`usage: node bench/run.mjs [--quick] [--only ${ALL.map((w) => w.id).join(',')}]`);
      process.exit(2);
    }
  }
  if (o.only !== null) {
    o.only = o.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = o.only.filter((id) => !ALL.some((w) => w.id === id));
    if (!o.only.length || unknown.length) {
      console.error(`--only: unknown workload ${unknown.join(',') || '(none given)'}; known: ${ALL.map((w) => w.id).join(',')}`);
      process.exit(2);
    }
  }
  return o;
}

function machine() {
  const cpus = os.cpus();
  let openssl = null;
  try {
    openssl = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    /* rows needing it say so */
  }
  return {
    date: new Date().toISOString(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    openssl,
    kernel: os.release(),
    // The machine is shared: the load before and after says how much to trust the figures.
    loadavgStart: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

/** One aligned text table; `notes` last, so a long note does not push the numbers apart. */
function table(rows) {
  const head = ['', 'workload', 'pecdesk', 'bare component', 'ratio', 'peak RSS MiB', 'notes'];
  const cells = rows.map((r) => [r.id, r.workload, r.pecdesk, r.bare, Number.isFinite(r.ratio) ? `${r.ratio.toFixed(r.ratio >= 10 ? 0 : r.ratio >= 1 ? 1 : 2)}×` : '—', r.rss, r.notes]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
  const line = (c) => c.map((x, i) => (i === c.length - 1 ? String(x) : i === 4 || i === 5 ? String(x).padStart(width[i]) : String(x).padEnd(width[i]))).join('  ').trimEnd();
  return [line(head), line(width.map((w, i) => (i === width.length - 1 ? '-'.repeat(Math.min(w, 40)) : '-'.repeat(w)))), ...cells.map(line)].join('\n');
}

const opts = options(process.argv.slice(2));
const selected = ALL.filter((w) => !opts.only || opts.only.includes(w.id));
const info = machine();
const t0 = performance.now();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pecdesk-bench-'));
let cleaned = false;
const cleanup = () => {
  if (!cleaned) rmSync(tmp, { recursive: true, force: true });
  cleaned = true;
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

console.log(`pecdesk bench${opts.quick ? ' --quick (small sizes: development numbers, not the README\'s)' : ''} — ${info.date}`);
console.log(`machine: ${info.cpus} × ${info.cpuModel}, ${info.memoryGiB} GiB, Linux ${info.kernel}; node ${info.node}; ${info.openssl ?? 'no openssl'}; load ${info.loadavgStart.join(' ')}`);
console.log(`workloads: ${selected.map((w) => w.id).join(', ')}; temp dir ${tmp}\n`);

const rows = [];
const timings = {};
try {
  for (const w of selected) {
    const dir = path.join(tmp, w.id);
    mkdirSync(dir);
    const started = performance.now();
    const log = (msg) => console.log(`  [${w.id} ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
    log('start');
    try {
      rows.push(...(await w.run({ tmp: dir, quick: opts.quick, log })));
    } catch (e) {
      // One broken workload (a command gone, a build half-written) must not hide the others' figures.
      const first = String(e?.message ?? e).split('\n').find(Boolean) ?? 'failed';
      log(`FAILED: ${e?.stack ?? e}${e?.stderr ? `\n${e.stderr.slice(-3000)}` : ''}`);
      rows.push({ id: w.id, workload: `(workload ${w.id})`, pecdesk: '—', bare: '—', ratio: NaN, rss: '—', notes: `PROBLEM: failed: ${first.slice(0, 160)}`, problems: [first] });
    }
    timings[w.id] = +((performance.now() - started) / 1000).toFixed(1);
    log(`done in ${timings[w.id]} s`);
    rmSync(dir, { recursive: true, force: true }); // the next workload gets the disk back
  }
} finally {
  cleanup();
}

const totalSeconds = (performance.now() - t0) / 1000;
info.loadavgEnd = os.loadavg().map((x) => +x.toFixed(2));
console.log(`\n${table(rows)}\n`);
console.log('ratio = pecdesk\'s time per unit ÷ the bare component\'s (>1: pecdesk costs that many times more); peak RSS = pecdesk / bare component.');
console.log(`total ${totalSeconds.toFixed(0)} s (${Object.entries(timings).map(([k, v]) => `${k} ${v} s`).join(', ')}); load at the end ${info.loadavgEnd.join(' ')}`);
const problems = rows.filter((r) => r.problems?.length);
const out = path.join(root, 'bench', 'last-run.json');
writeFileSync(out, `${JSON.stringify({ machine: info, quick: opts.quick, only: opts.only, totalSeconds: +totalSeconds.toFixed(1), workloadSeconds: timings, rows }, null, 2)}\n`);
console.log(`written: ${path.relative(process.cwd(), out)}`);
if (problems.length) {
  console.error(`\nPROBLEM in ${problems.map((r) => r.id).join(', ')}: the workload did not come out as expected (see notes)`);
  process.exitCode = 1;
}
