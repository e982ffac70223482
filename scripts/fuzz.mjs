#!/usr/bin/env node
// npm run fuzz -- [--iterations N] [--seed S] [--target ingest|verify|extract|all]
//                  [--time-limit-ms MS] [--ms-per-mb MS] [--max-minutes M] [--max-old-space-mb MB] [--from I] [--quiet]
// Mutates the checked-in fixture messages and PDFs and runs them through ingest, verify and
// extract in process (scripts/fuzz-targets.mjs). Every input must end processed, quarantined
// or rejected with a reason; a crash, a hang past the per-input limit, an out-of-memory or a
// lost message is written to fixtures/fuzz/regressions/ (run by `npm test`) and the exit code
// is 1. The same seed gives the same inputs.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mutate, prng } from './fuzz-mutators.mjs';
import { FAILURES, InputRunner, regressionsDir, repoRoot, TARGETS } from './fuzz-targets.mjs';

const { values: opt } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    // Start at this iteration (the ones before are skipped, not run): to replay a failure.
    from: { type: 'string', default: '0' },
    seed: { type: 'string', default: 'pecdesk' },
    'time-limit-ms': { type: 'string', default: '10000' },
    // Added to the limit for each MiB of input (huge-line inputs are several MiB).
    'ms-per-mb': { type: 'string', default: '2000' },
    'max-minutes': { type: 'string', default: '60' },
    target: { type: 'string', default: 'all' },
    'max-old-space-mb': { type: 'string', default: '512' },
    quiet: { type: 'boolean', default: false },
  },
  strict: true,
});

function positive(name, v) {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`fuzz: --${name}: expected a positive number, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}
const iterations = Math.floor(positive('iterations', opt.iterations));
const from = Math.floor(Number(opt.from)) || 0;
const timeLimitMs = positive('time-limit-ms', opt['time-limit-ms']);
const msPerMb = opt['ms-per-mb'] === '0' ? 0 : positive('ms-per-mb', opt['ms-per-mb']);
const maxMs = positive('max-minutes', opt['max-minutes']) * 60_000;
const maxOld = positive('max-old-space-mb', opt['max-old-space-mb']);
if (opt.target !== 'all' && !TARGETS.includes(opt.target)) {
  process.stderr.write(`fuzz: --target: expected ingest, verify, extract or all, got ${JSON.stringify(opt.target)}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Seed corpus: the generated fixtures as committed (sorted: the same seed, the same inputs).

const fx = (...p) => path.join(repoRoot, 'fixtures', ...p);
function files(dir, exts) {
  return readdirSync(dir)
    .filter((f) => exts.some((e) => f.endsWith(e)))
    .sort()
    .map((f) => {
      const bytes = readFileSync(path.join(dir, f));
      return { name: f, kind: f.endsWith('.eml') ? 'eml' : f.endsWith('.p7m') ? 'p7m' : 'pdf', bytes };
    });
}
const corpus = {
  ingest: [fx('mail', 'samples'), fx('mail', 'malformed'), fx('mail', 'pec-real'), fx('pec', 'out'), fx('piano', 'out', 'messages'), fx('piano', 'out', 'contract')].flatMap((d) => files(d, ['.eml'])),
  verify: [fx('signatures', 'out', 'cades'), fx('signatures', 'out', 'pades'), fx('piano', 'out', 'signed'), fx('piano', 'out', 'contract')].flatMap((d) => files(d, ['.p7m', '.pdf'])),
  extract: [fx('piano', 'out', 'forms'), fx('piano', 'out', 'signed'), fx('piano', 'out', 'contract')].flatMap((d) => files(d, ['.p7m', '.pdf'])),
};
// Ingest costs the most per input (the database, and a Piano inside a PEC runs both PDF
// readers); verify is cheap. The mix keeps 20,000 inputs within minutes on two cores.
const MIX = [[45, 'ingest'], [35, 'verify'], [20, 'extract']];

// ---------------------------------------------------------------------------------------------

const tally = Object.fromEntries(TARGETS.map((t) => [t, { inputs: 0, processed: 0, quarantined: 0, rejected: 0, crash: 0, hang: 0, memory: 0, lost: 0 }]));
const reasons = new Map(); // processing-error quarantines: handled, but worth a look
const failures = [];
let worst = { ms: 0, what: '' };
let peakHeapMb = 0;
let peakRssMb = 0;
const t0 = performance.now();
const runner = new InputRunner({ timeLimitMs, msPerMb, maxOldGenerationSizeMb: maxOld });
let done = 0;
let stoppedByTime = false;

function save(target, kind, bytes) {
  mkdirSync(regressionsDir, { recursive: true });
  const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const ext = target === 'ingest' ? 'eml' : kind === 'p7m' ? 'p7m' : 'pdf';
  const file = path.join(regressionsDir, `${target}-${sha}.${ext}`);
  writeFileSync(file, bytes);
  return path.relative(repoRoot, file);
}

const log = (s) => process.stderr.write(`${s}\n`);
let prev = null; // the input before: blamed for a crash that surfaces after its answer

/** A failing input: counted, kept as a regression fixture, logged. */
function failed(input, res, { after = false } = {}) {
  const { i, target, seed, bytes, ops } = input;
  if (after) {
    // It had been counted by its answer; the crash that followed is what counts.
    tally[target][input.outcome]--;
    tally[target].crash++;
  }
  const file = save(target, seed.kind, bytes);
  failures.push(file);
  log(`fuzz: #${i} ${target} ${res.outcome}: ${res.reason} — seed ${seed.name}, mutations [${ops.join(' ')}], ${bytes.length} B → ${file}`);
  if (res.detail) log(res.detail.split('\n').slice(0, 8).join('\n'));
}
const mb = (n) => Math.round(n);

try {
  for (let i = from; i < iterations; i++) {
    if (performance.now() - t0 > maxMs) {
      stoppedByTime = true;
      break;
    }
    const r = prng(opt.seed, i);
    const target = opt.target === 'all' ? r.weighted(MIX) : opt.target;
    const seed = r.pick(corpus[target]);
    const { bytes, ops } = mutate(r, seed.kind, seed.bytes);
    const res = await runner.run(target, bytes, `${i}-${seed.name}`);
    if (res.previous) failed(prev, res.previous, { after: true });
    prev = { i, target, seed, bytes, ops, outcome: res.outcome };
    done++;
    const t = tally[target];
    t.inputs++;
    t[res.outcome]++;
    if (res.ms > worst.ms) worst = { ms: res.ms, what: `#${i} ${target} ${seed.name} [${ops.join(' ')}] ${bytes.length} B` };
    if (res.heapMb) peakHeapMb = Math.max(peakHeapMb, res.heapMb);
    if (res.outcome === 'quarantined' && res.reason.startsWith('processing-error')) {
      const key = res.reason.slice(0, 160);
      const seen = reasons.get(key);
      reasons.set(key, { n: (seen?.n ?? 0) + 1, first: seen?.first ?? i });
    }
    if (FAILURES.includes(res.outcome)) failed(prev, res);
    if (i % 50 === 0) peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 1048576);
    if (!opt.quiet && (i + 1) % 1000 === 0) {
      const s = (performance.now() - t0) / 1000;
      log(`fuzz: ${i + 1}/${iterations} in ${s.toFixed(0)} s (${((i + 1) / s).toFixed(1)}/s), failures ${failures.length}, worker restarts ${runner.restarts}`);
    }
  }
  peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 1048576);
  const last = await runner.settle();
  if (last && prev) failed(prev, last, { after: true });
} finally {
  await runner.close();
}

const elapsed = (performance.now() - t0) / 1000;
// Handled (quarantined with the reason), but an unexpected exception inside: worth a look.
for (const [reason, { n, first }] of [...reasons].sort((a, b) => b[1].n - a[1].n).slice(0, 20)) log(`fuzz: quarantined ${n}× (first #${first}) ${reason}`);
const count = (k) => TARGETS.reduce((s, t) => s + tally[t][k], 0);
const per = TARGETS.filter((t) => tally[t].inputs)
  .map((t) => `${t} ${tally[t].inputs} (processed ${tally[t].processed}, quarantined ${tally[t].quarantined}, rejected ${tally[t].rejected})`)
  .join('; ');
process.stdout.write(
  `fuzz: seed ${opt.seed}, iterations ${done}/${iterations - from}${stoppedByTime ? ` (stopped at --max-minutes ${opt['max-minutes']})` : ''}; ${per}; ` +
    `crashes ${count('crash')}, hangs ${count('hang')}, memory ${count('memory')}, lost ${count('lost')}; ` +
    `worst ${worst.ms.toFixed(0)} ms (${worst.what}); peak worker heap ${mb(peakHeapMb)} MB, peak rss ${mb(peakRssMb)} MB; elapsed ${elapsed.toFixed(1)} s\n`,
);
process.exitCode = failures.length ? 1 : 0;
