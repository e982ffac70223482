// Fixtures come from deterministic generators: running each again changes no byte.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../e2e/workspace.js';

function digest(dirs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of dirs) {
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (!e.isFile()) continue;
      const f = path.join(e.parentPath, e.name);
      out[path.relative(repoRoot, f)] = createHash('sha256').update(readFileSync(f)).digest('hex');
    }
  }
  return out;
}

const fx = (...p: string[]) => path.join(repoRoot, 'fixtures', ...p);
const GENERATORS: Array<[string, string, string[], number]> = [
  ['ordinary and malformed mail', fx('generate-mail.mjs'), [fx('mail', 'samples'), fx('mail', 'malformed')], 20],
  ['PEC: test provider CA, envelopes, receipts', fx('pec', 'generate.mjs'), [fx('pec', 'out')], 25],
  ['signatures: qualified test CA, CAdES, PAdES, attacks, CRL', fx('signatures', 'generate.mjs'), [fx('signatures', 'out')], 40],
  ['Piano forms, signed variants, PEC messages, contract documents', fx('piano', 'generate.mjs'), [fx('piano', 'out')], 40],
  ['IndicePA dumps: UTF-8 with BOM and Latin-1 with ";"', fx('ipa', 'generate.mjs'), [fx('ipa', 'out')], 3],
];

describe('fixture generators regenerate their output byte for byte', () => {
  it.each(GENERATORS)('%s', (_name, script, dirs, atLeast) => {
    const before = digest(dirs);
    execFileSync(process.execPath, [script], { stdio: 'ignore' });
    expect(digest(dirs)).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(atLeast);
  }, 120_000);
});
