// The raw store makes every directory it creates durable in its parent before a message counts
// as stored: watched with strace (the system calls are the only witness of an fsync).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const hasStrace = spawnSync('strace', ['-V']).status === 0;
if (!hasStrace && process.env.CI) throw new Error('CI=true but strace is not installed (.ci/run installs it)');

describe.skipIf(!hasStrace)('RawStore.put durability', () => {
  it('fsyncs the file, its directory and the parent of every directory it had to create', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-raw-'));
    try {
      const store = path.join(dir, 'data', 'raw');
      const script = `const { RawStore } = await import(${JSON.stringify(path.join(root, 'dist', 'store', 'raw-store.js'))}); new RawStore(${JSON.stringify(store)}).put(Buffer.from('a message'));`;
      const trace = path.join(dir, 'trace');
      const r = spawnSync('strace', ['-f', '-e', 'trace=openat,fsync,close', '-o', trace, process.execPath, '--input-type=module', '-e', script]);
      expect(r.status, r.stderr.toString()).toBe(0);
      // Directories opened read-only and then fsynced through the same descriptor.
      const open = new Map<string, string>();
      const synced = new Set<string>();
      for (const line of readFileSync(trace, 'utf8').split('\n')) {
        const o = /openat\(AT_FDCWD, "([^"]+)", O_RDONLY[^)]*\) = (\d+)/.exec(line);
        if (o) open.set(o[2]!, o[1]!);
        const f = /fsync\((\d+)\)\s+= 0/.exec(line);
        if (f && open.has(f[1]!)) synced.add(open.get(f[1]!)!);
        const c = /close\((\d+)\)/.exec(line);
        if (c) open.delete(c[1]!);
      }
      const leaf = [...synced].find((d) => d.startsWith(store) && d.split(path.sep).length === store.split(path.sep).length + 2);
      expect(leaf, [...synced].join('\n')).toBeDefined();
      // raw/ab/cd (the file's entry), raw/ab (cd's), raw (ab's), data (raw's), and dir (data's).
      for (const d of [leaf!, path.dirname(leaf!), store, path.dirname(store), dir]) expect([...synced], d).toContain(d);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
