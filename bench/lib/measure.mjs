// Measuring a real process: wall time and memory. Peak RSS is the process's own high-water mark
// (VmHWM), polled from /proc while it runs and completed at exit by GNU time's %M (wait4's
// ru_maxrss), so the last moments before exit are not missed; samples of VmRSS are kept so a
// caller can show how memory moved during the run.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const pecdeskBin = path.join(root, 'bin', 'pecdesk.js');
const GNU_TIME = '/usr/bin/time';
const haveGnuTime = existsSync(GNU_TIME);

/** VmHWM and VmRSS of a live process in KiB, or null once it is gone (or a zombie). */
export function procMemory(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    const m = { hwm: kib('VmHWM'), rss: kib('VmRSS') };
    // A zombie (exited, not yet reaped) still has a status file, without the Vm lines.
    return Number.isFinite(m.hwm) && Number.isFinite(m.rss) ? m : null;
  } catch {
    return null;
  }
}

/** The pid of `parent`'s child (GNU time runs the command as its child; no /proc/…/children here). */
function childOf(parent) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) return Number(d);
    } catch {
      /* gone meanwhile */
    }
  }
  return null;
}

/**
 * Run `cmd args` to completion, measured. Resolves { status, stdout, stderr, seconds, peakKiB,
 * samples: [{ t, rss, hwm, ...sample() }] }. `sample(t)` is called on every poll (every
 * `pollMs`); what it returns is stored with that poll (e.g. how many messages are left).
 * stdout is kept unless `stdout: 'ignore'`.
 */
export function measure(cmd, args, { env = process.env, cwd = root, pollMs = 100, sample, stdout = 'capture' } = {}) {
  const timeFile = path.join(cwd === root ? '/tmp' : cwd, `.bench-time-${process.pid}-${Date.now()}`);
  const [file, argv] = haveGnuTime ? [GNU_TIME, ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
    const child = spawn(file, argv, { cwd, env, stdio: ['ignore', stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout?.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let pid = haveGnuTime ? null : child.pid;
    let hwm = 0;
    const samples = [];
    const poll = () => {
      pid ??= childOf(child.pid);
      if (!pid) return;
      const m = procMemory(pid);
      if (!m) return;
      hwm = Math.max(hwm, m.hwm);
      const t = elapsed();
      samples.push({ t, rss: m.rss, hwm: m.hwm, ...(sample ? sample(t) : {}) });
    };
    // A short first poll finds the pid early; then the regular cadence.
    const early = setTimeout(poll, 5);
    const timer = setInterval(poll, pollMs);
    child.on('error', (e) => {
      clearInterval(timer);
      clearTimeout(early);
      reject(e);
    });
    child.on('close', (status) => {
      const seconds = elapsed();
      clearInterval(timer);
      clearTimeout(early);
      let peakKiB = hwm;
      if (haveGnuTime) {
        try {
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          peakKiB = Math.max(peakKiB, Number(lines.at(-1)) || 0);
        } catch {
          /* killed before time wrote it */
        }
        rmSync(timeFile, { force: true });
      }
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), seconds, peakKiB, samples });
    });
  });
}

/** Like measure(), but fails loudly when the process does not exit 0. */
export async function measureOk(cmd, args, opts) {
  const r = await measure(cmd, args, opts);
  if (r.status !== 0) {
    // Paths shortened to their last part: the message goes into the table's notes.
    const shown = [cmd, ...args].map((a) => (a.includes('/') ? path.basename(a) : a)).join(' ');
    const first = r.stderr.split('\n').find((l) => l.trim()) ?? '';
    const e = new Error(`\`${shown}\` exited ${r.status}: ${first.trim()}`);
    e.stderr = r.stderr;
    throw e;
  }
  return r;
}

/** Run the same command `n` times (after one unmeasured warm-up); medians of wall time and peak RSS. */
export async function medianRuns(cmd, args, n, opts = {}) {
  await measureOk(cmd, args, { ...opts, stdout: 'ignore' });
  const runs = [];
  for (let i = 0; i < n; i++) runs.push(await measureOk(cmd, args, { ...opts, stdout: 'ignore' }));
  return { seconds: median(runs.map((r) => r.seconds)), peakKiB: median(runs.map((r) => r.peakKiB)), runs: runs.map((r) => ({ seconds: r.seconds, peakKiB: r.peakKiB })) };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Mean ms of `f` over `n` calls after one warm-up, in this process. */
export function timeInProcess(f, n) {
  f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t0) / n;
}

export const mib = (kib) => kib / 1024;
export const fmtMiB = (kib) => (Number.isFinite(kib) && kib > 0 ? `${Math.round(kib / 1024)}` : '—');
export const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
export const fmtRate = (r) => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2));
