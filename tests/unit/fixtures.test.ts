// Fixtures come from a deterministic generator: running it again changes no byte.
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

describe('fixture generators', () => {
  it('regenerates the checked-in fixtures byte for byte', () => {
    const dirs = [path.join(repoRoot, 'fixtures', 'mail', 'samples'), path.join(repoRoot, 'fixtures', 'mail', 'malformed')];
    const before = digest(dirs);
    execFileSync(process.execPath, [path.join(repoRoot, 'fixtures', 'generate-mail.mjs')], { stdio: 'ignore' });
    expect(digest(dirs)).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(20);
  });

  it('fixtures/pec/generate.mjs regenerates the PEC fixtures (test CA, envelopes, receipts) byte for byte', () => {
    const dirs = [path.join(repoRoot, 'fixtures', 'pec', 'out')];
    const before = digest(dirs);
    execFileSync(process.execPath, [path.join(repoRoot, 'fixtures', 'pec', 'generate.mjs')], { stdio: 'ignore' });
    expect(digest(dirs)).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(25);
  }, 120_000);

  it('fixtures/piano/generate.mjs regenerates the Piano forms, signed variants, PEC messages and contract documents byte for byte', () => {
    const dirs = [path.join(repoRoot, 'fixtures', 'piano', 'out')];
    const before = digest(dirs);
    execFileSync(process.execPath, [path.join(repoRoot, 'fixtures', 'piano', 'generate.mjs')], { stdio: 'ignore' });
    expect(digest(dirs)).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(40);
  }, 120_000);

  it('fixtures/signatures/generate.mjs regenerates the signature fixtures (qualified test CA, CAdES, PAdES, attacks, CRL) byte for byte', () => {
    const dirs = [path.join(repoRoot, 'fixtures', 'signatures', 'out')];
    const before = digest(dirs);
    execFileSync(process.execPath, [path.join(repoRoot, 'fixtures', 'signatures', 'generate.mjs')], { stdio: 'ignore' });
    expect(digest(dirs)).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(40);
  }, 120_000);
});
