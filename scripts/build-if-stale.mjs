#!/usr/bin/env node
// Compile src/ to dist/ only when something changed since the last build: the demo, the bench
// and the tests start at once on a current dist/ instead of paying for tsc (several seconds).
// "Changed" means a file under src/, tsconfig.json or package.json newer than tsc's build info.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildInfo = path.join(root, 'dist', '.tsbuildinfo');

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
    return statSync(buildInfo).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = Math.max(newestUnder(path.join(root, 'src')), ...['tsconfig.json', 'package.json'].map((f) => statSync(path.join(root, f)).mtimeMs));
if (builtAt() < sources) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  // tsc leaves its build info untouched when no output changed (a comment edit): mark it current.
  const now = new Date();
  utimesSync(buildInfo, now, now);
}
