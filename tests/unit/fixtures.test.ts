// Fixtures come from a deterministic generator: running it again changes no byte.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../e2e/workspace.js';

function digest(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const sub of ['samples', 'malformed']) {
    const dir = path.join(repoRoot, 'fixtures', 'mail', sub);
    for (const f of readdirSync(dir).sort()) out[`${sub}/${f}`] = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
  }
  return out;
}

describe('fixtures/generate-mail.mjs', () => {
  it('regenerates the checked-in fixtures byte for byte', () => {
    const before = digest();
    execFileSync(process.execPath, [path.join(repoRoot, 'fixtures', 'generate-mail.mjs')], { stdio: 'ignore' });
    expect(digest()).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(20);
  });
});
