#!/usr/bin/env node
// Compile src/ to dist/ only when something changed since the last build: the demo, the bench
// and the tests start at once on a current dist/ instead of paying for tsc (several seconds).
// The stamp is ours (not tsc's build info, which `tsc --noEmit` also writes) and carries the time
// the build STARTED, so a file saved while tsc ran is compiled again next time.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.built-from-src');

function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = Math.max(newestUnder(path.join(root, 'src')), ...['tsconfig.json', 'package.json'].map((f) => statSync(path.join(root, f)).mtimeMs));
if (builtAt() < sources) {
  const started = new Date();
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  closeSync(openSync(stamp, 'a'));
  utimesSync(stamp, started, started);
}
