// The fuzz targets (issue 12, item 6), shared by `npm run fuzz` (scripts/fuzz.mjs) and the
// regression test (tests/unit/fuzz-regressions.test.ts): how an input is run through
// ingest / verify / extract in process, and the check that decides whether it ended well.
// Inputs run inside a worker thread (this same file, started with workerData.pecdeskFuzz):
// synchronous code cannot be interrupted otherwise, so a hang or an out-of-memory is seen
// only by terminating the worker from outside.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = ['ingest', 'verify', 'extract'];
/** Outcomes that count as handled; anything else is a failure kept as a regression fixture. */
export const HANDLED = ['processed', 'quarantined', 'rejected'];
export const FAILURES = ['crash', 'hang', 'memory', 'lost'];
export const regressionsDir = path.join(repoRoot, 'fixtures', 'fuzz', 'regressions');
/** A fixed clock: the fixtures' certificates and PEC envelopes are valid then. */
export const FUZZ_NOW = new Date('2026-11-25T09:00:00Z');

const CLASSIFICATIONS = new Set(['pec', 'pec-receipt', 'pec-anomaly', 'email', 'auto-reply', 'bounce', 'duplicate', 'quarantined']);

/** Which target a regression fixture file belongs to: its name starts with the target. */
export function targetOfFile(file) {
  const t = path.basename(file).split('-')[0];
  return TARGETS.includes(t) ? t : null;
}

function errorText(e) {
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`.slice(0, 500);
}

// ---------------------------------------------------------------------------------------------
// Worker side: load the compiled modules once, keep a desk open, run one input per message.

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;

async function loadModules() {
  const [load, context, logger, pipeline, verify, docTrust, piano, calendar, output, cfgErrors, dirErrors] = await Promise.all([
    import(dist('config/load.js')),
    import(dist('runtime/context.js')),
    import(dist('runtime/logger.js')),
    import(dist('intake/pipeline.js')),
    import(dist('signature/verify.js')),
    import(dist('signature/document-trust.js')),
    import(dist('pdf/piano.js')),
    import(dist('desk/calendar.js')),
    import(dist('cli/output.js')),
    import(dist('config/errors.js')),
    import(dist('directory/errors.js')),
  ]);
  return {
    loadConfig: load.loadConfig,
    openDesk: context.openDesk,
    createLogger: logger.createLogger,
    ingestMessage: pipeline.ingestMessage,
    verifyDocument: verify.verifyDocument,
    documentTrust: docTrust.documentTrust,
    extractPiano: piano.extractPiano,
    localDay: calendar.localDay,
    // What the CLI turns into one clean line (src/cli/program.ts); anything else is a crash.
    expectedErrors: [output.UsageError, cfgErrors.ConfigError, dirErrors.DirectoryError],
  };
}

/** A throw-away installation, configured as the e2e tests do (tests/e2e/workspace.ts). */
function writeConfig(dir) {
  const fx = (...p) => path.join(repoRoot, 'fixtures', ...p);
  const cfg = {
    dataDir: path.join(dir, 'data'),
    timezone: 'Europe/Rome',
    directory: fx('directory.yaml'),
    mailboxes: {
      pec: { address: 'pec@pec.cloudpa-desk.example.it', maildir: path.join(dir, 'maildir', 'pec'), outboxDir: path.join(dir, 'outbox') },
      support: { address: 'helpdesk@cloudpa-desk.example.it', maildir: path.join(dir, 'maildir', 'support'), outboxDir: path.join(dir, 'outbox') },
    },
    trust: {
      pecProviders: fx('pec', 'out', 'trust'),
      signatures: fx('signatures', 'out', 'trust'),
      authservIds: ['mx.cloudpa-desk.example.it'],
    },
  };
  const file = path.join(dir, 'pecdesk.yaml');
  writeFileSync(file, JSON.stringify(cfg, null, 2)); // JSON is YAML
  return file;
}

class WorkerState {
  constructor(mods, root) {
    this.mods = mods;
    this.root = root;
    this.generation = 0;
    this.desk = null;
    this.open();
    this.trust = mods.documentTrust(this.cfg.trust);
    this.today = mods.localDay('Europe/Rome', FUZZ_NOW);
  }

  open() {
    this.dir = path.join(this.root, `desk-${this.generation++}`);
    mkdirSync(this.dir, { recursive: true });
    this.cfg = this.mods.loadConfig(writeConfig(this.dir));
    this.desk = this.mods.openDesk(this.cfg, { log: this.mods.createLogger('silent'), now: FUZZ_NOW });
    this.finished = this.desk.db.prepare('SELECT status, classification, sha256 FROM messages WHERE file = ? ORDER BY id DESC LIMIT 1');
    this.unfinished = this.desk.db.prepare(`SELECT count(*) FROM messages WHERE status NOT IN ('processed', 'quarantined')`).pluck();
  }

  /** A fresh desk now and then: bounds the database, the raw store and the disk used. */
  rotate() {
    this.desk.close();
    rmSync(this.dir, { recursive: true, force: true });
    this.open();
  }

  close() {
    this.desk?.close();
    this.desk = null;
  }

  async run(target, bytes, name) {
    try {
      if (target === 'ingest') return await this.ingest(bytes, name);
      if (target === 'verify') return this.verify(bytes, name);
      if (target === 'extract') return await this.extract(bytes, name);
      return { outcome: 'crash', reason: `unknown target ${target}` };
    } catch (e) {
      if (target !== 'ingest' && this.mods.expectedErrors.some((C) => e instanceof C)) return { outcome: 'rejected', reason: errorText(e) };
      return { outcome: 'crash', reason: errorText(e), detail: e?.stack ?? null };
    }
  }

  // ingestMessage never throws for anything a message contains; every recorded message ends
  // processed or quarantined (with its reason), in the result and in the messages table, and
  // its bytes are in the raw store.
  async ingest(bytes, name) {
    const mailbox = pecLooking(bytes) ? 'pec' : 'support';
    const file = `fuzz-${name}`;
    const r = await this.mods.ingestMessage(this.desk, { bytes: Buffer.from(bytes), mailbox, source: 'file', sourceUid: null, file }, FUZZ_NOW);
    const row = this.finished.get(file);
    let storedSize = null;
    try {
      storedSize = row ? statSync(this.desk.raw.pathFor(row.sha256)).size : null;
    } catch {
      /* not stored: reported by the check */
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return checkIngest(r, row, this.unfinished.get(), { sha256, size: bytes.length, storedSize });
  }

  verify(bytes, name) {
    return checkVerify(this.mods.verifyDocument(name, Buffer.from(bytes), this.trust, FUZZ_NOW));
  }

  async extract(bytes, name) {
    const r = await this.mods.extractPiano(name, Buffer.from(bytes), { trust: this.trust, at: FUZZ_NOW, arrival: null, today: this.today });
    return checkExtract(r);
  }
}

/** The mailbox an input is delivered to, from its content, so a regression file alone reproduces it. */
export function pecLooking(bytes) {
  return /daticert\.xml|X-Trasporto|X-Ricevuta|posta-certificata/i.test(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
}

// ---------------------------------------------------------------------------------------------
// The checks: pure, so both the fuzz script and the test judge alike.

export function checkIngest(r, row, unfinished, raw) {
  if (!r || typeof r !== 'object') return { outcome: 'lost', reason: 'ingestMessage returned no result' };
  if (!CLASSIFICATIONS.has(r.classification)) return { outcome: 'lost', reason: `unknown classification ${JSON.stringify(r.classification)}` };
  const quarantined = r.classification === 'quarantined';
  if (quarantined && !r.quarantine?.reason) return { outcome: 'lost', reason: 'quarantined without a reason' };
  if (!row) return { outcome: 'lost', reason: 'no row in messages' };
  if (row.status !== 'processed' && row.status !== 'quarantined') return { outcome: 'lost', reason: `message left ${row.status}` };
  if ((row.status === 'quarantined') !== quarantined) return { outcome: 'lost', reason: `result ${r.classification} but messages.status ${row.status}` };
  if (unfinished) return { outcome: 'lost', reason: `${unfinished} message(s) left unfinished` };
  if (row.sha256 !== raw.sha256 || raw.storedSize !== raw.size) return { outcome: 'lost', reason: `raw bytes not stored (sha256 ${row.sha256}, stored size ${raw.storedSize} of ${raw.size})` };
  return quarantined ? { outcome: 'quarantined', reason: r.quarantine.reason } : { outcome: 'processed', reason: r.classification };
}

export function checkVerify(r) {
  if (!r || typeof r !== 'object' || typeof r.valid !== 'boolean' || !Array.isArray(r.problems)) return { outcome: 'crash', reason: 'verifyDocument returned no report' };
  if (r.valid) return { outcome: 'processed', reason: `valid ${r.format}` };
  const reasons = [...r.problems, ...(r.signatures ?? []).flatMap((s) => s.problems ?? [])];
  if (!reasons.length) return { outcome: 'lost', reason: `not valid (${r.format}) without a problem` };
  return { outcome: 'rejected', reason: [...new Set(reasons)].join(', ') };
}

export function checkExtract(r) {
  if (!r || typeof r !== 'object' || typeof r.passed !== 'boolean' || !Array.isArray(r.problems)) return { outcome: 'crash', reason: 'extractPiano returned no result' };
  if (r.passed) return { outcome: 'processed', reason: 'passed' };
  if (!r.problems.length) return { outcome: 'lost', reason: 'not passed without a problem' };
  return { outcome: 'rejected', reason: [...new Set(r.problems.map((p) => p.code))].join(', ') };
}

if (!isMainThread && workerData?.pecdeskFuzz) {
  const state = new WorkerState(await loadModules(), workerData.pecdeskFuzz.root);
  parentPort.on('message', async (m) => {
    if (m.type === 'close') {
      state.close();
      parentPort.close();
      return;
    }
    if (m.type === 'rotate') {
      state.rotate();
      parentPort.postMessage({ id: m.id });
      return;
    }
    const t0 = performance.now();
    const r = await state.run(m.target, m.bytes, m.name);
    const ms = performance.now() - t0;
    // Let what the input left behind (a rejected promise nobody awaits) surface now, while it
    // is still this input's: Node then ends the worker and the main side sees the error.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 0));
    parentPort.postMessage({ id: m.id, ...r, ms, heapMb: process.memoryUsage().heapUsed / 1048576 });
  });
  parentPort.postMessage({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Main side: one reused worker; a hang past the limit or an out-of-memory terminates it and
// the next input gets a fresh one (with a fresh desk).

export class InputRunner {
  /**
   * @param {{ timeLimitMs?: number, msPerMb?: number, maxOldGenerationSizeMb?: number, rotateEvery?: number, startTimeoutMs?: number }} [opts]
   *   the limit per input is timeLimitMs plus msPerMb for each MiB of input: an 8 MiB message
   *   decoded in linear time is slow, not hung
   */
  constructor(opts = {}) {
    this.timeLimitMs = opts.timeLimitMs ?? 10_000;
    this.msPerMb = opts.msPerMb ?? 2000;
    this.maxOldGenerationSizeMb = opts.maxOldGenerationSizeMb ?? 512;
    this.rotateEvery = opts.rotateEvery ?? 500;
    this.startTimeoutMs = opts.startTimeoutMs ?? 120_000;
    this.root = mkdtempSync(path.join(tmpdir(), 'pecdesk-fuzz-'));
    this.worker = null;
    this.nextId = 1;
    this.restarts = 0;
    this.workers = 0;
    this.busy = false;
    this.afterlife = null;
    this.ingested = 0;
  }

  async start() {
    const w = new Worker(new URL(import.meta.url), {
      workerData: { pecdeskFuzz: { root: path.join(this.root, `w${this.workers++}`) } },
      resourceLimits: { maxOldGenerationSizeMb: this.maxOldGenerationSizeMb },
      stdout: true, // the worker's console output is not ours to print
      stderr: true,
    });
    w.stdout.resume();
    w.stderr.resume();
    this.ingested = 0; // a new worker opens a new desk
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`fuzz worker did not start within ${this.startTimeoutMs} ms`)), this.startTimeoutMs);
      const fail = (e) => {
        clearTimeout(timer);
        w.terminate();
        reject(e);
      };
      w.once('message', (m) => (m?.type === 'ready' ? (clearTimeout(timer), resolve()) : fail(new Error(`fuzz worker: unexpected ${JSON.stringify(m)}`))));
      w.once('error', (e) => fail(new Error(`fuzz worker failed to start: ${errorText(e)}`, { cause: e })));
      w.once('exit', (code) => fail(new Error(`fuzz worker exited with ${code} while starting`)));
    });
    w.removeAllListeners('error');
    w.removeAllListeners('exit');
    // A worker that dies between inputs (something the last input left running): kept for
    // the next run() or settle() to report against that input.
    let error = null;
    w.on('error', (e) => (error = e));
    w.on('exit', (code) => {
      if (this.worker !== w || this.busy) return;
      this.worker = null;
      this.restarts++;
      this.afterlife = { outcome: 'crash', reason: `worker died after answering: ${error ? errorText(error) : `exit ${code}`}`, detail: error?.stack ?? null };
    });
    this.worker = w;
  }

  /** A fresh desk, between inputs (not timed as one): bounds the database and the disk used. */
  async rotate() {
    const w = this.worker;
    const id = this.nextId++;
    await new Promise((resolve, reject) => {
      const done = (e) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', onExit);
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`fuzz worker did not open a new desk within ${this.startTimeoutMs} ms`)), this.startTimeoutMs);
      const onMessage = (m) => m?.id === id && done();
      const onExit = (code) => done(new Error(`fuzz worker exited with ${code} while opening a new desk`));
      w.on('message', onMessage);
      w.on('exit', onExit);
      w.postMessage({ type: 'rotate', id });
    });
    this.ingested = 1;
  }

  /** Wait a little; a crash the last input caused after its answer, or null. */
  async settle(ms = 50) {
    await new Promise((r) => setTimeout(r, ms));
    const a = this.afterlife;
    this.afterlife = null;
    return a;
  }

  /**
   * Run one input; never throws for anything the input does. `previous`: a crash the input
   * before caused after answering (null almost always).
   */
  async run(target, bytes, name) {
    const previous = this.afterlife;
    this.afterlife = null;
    if (!this.worker) await this.start();
    if (target === 'ingest' && this.ingested++ >= this.rotateEvery) await this.rotate();
    const w = this.worker;
    this.busy = true;
    const id = this.nextId++;
    const copy = Uint8Array.from(bytes); // transferred: the caller keeps its buffer
    const t0 = performance.now();
    const r = await new Promise((resolve) => {
      let done = false;
      const finish = (v) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        resolve(v);
      };
      const onMessage = (m) => m?.id === id && finish(m);
      const onError = (e) =>
        finish(e?.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { outcome: 'memory', reason: `worker out of memory (maxOldGenerationSizeMb ${this.maxOldGenerationSizeMb})`, fatal: true }
          : { outcome: 'crash', reason: `uncaught in worker: ${errorText(e)}`, detail: e?.stack ?? null, fatal: true });
      const onExit = (code) => finish({ outcome: 'crash', reason: `worker exited with ${code}`, fatal: true });
      const limit = Math.round(this.timeLimitMs + (this.msPerMb * bytes.length) / 1048576);
      const timer = setTimeout(() => finish({ outcome: 'hang', reason: `no answer within ${limit} ms`, fatal: true }), limit);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage({ type: 'run', id, target, bytes: copy, name }, [copy.buffer]);
    });
    this.busy = false;
    if (r.fatal) {
      // The worker is stuck, dead or out of memory: drop it; the next input starts another.
      this.worker = null;
      this.restarts++;
      await w.terminate().catch(() => undefined);
    }
    return { outcome: r.outcome, reason: r.reason, detail: r.detail ?? null, ms: r.ms ?? performance.now() - t0, heapMb: r.heapMb ?? null, previous };
  }

  async close() {
    const w = this.worker;
    this.worker = null;
    if (w) {
      w.postMessage({ type: 'close' });
      await Promise.race([new Promise((r) => w.once('exit', r)), new Promise((r) => setTimeout(r, 5000).unref())]);
      await w.terminate().catch(() => undefined);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
