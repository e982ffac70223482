// Every input `npm run fuzz` found breaking something (fixtures/fuzz/regressions/) runs again
// through its target with the fuzz run's own code and check (scripts/fuzz-targets.mjs), in a
// worker with a time limit, since a synchronous hang cannot be interrupted in process: each
// must end processed, quarantined or rejected with a reason. Uses dist/, as the CLI tests do.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HANDLED, InputRunner, regressionsDir, targetOfFile } from '../../scripts/fuzz-targets.mjs';

const PER_INPUT_MS = 20_000;
const files = readdirSync(regressionsDir).filter((f) => !f.endsWith('.md')).sort();
const runner = new InputRunner({ timeLimitMs: PER_INPUT_MS });
afterAll(() => runner.close());

describe('fuzz regressions end handled, with a reason', () => {
  it('the folder has inputs, each named after its target', () => {
    expect(files.length).toBeGreaterThan(0);
    // The text-scanner hang (src/pdf/syntax.ts skipValue) stays among them.
    expect(files).toContain('verify-aabb7f2bea36.pdf');
    for (const f of files) expect(targetOfFile(f), f).not.toBeNull();
  });

  it.each(files)('%s', async (file) => {
    const r = await runner.run(targetOfFile(file)!, readFileSync(path.join(regressionsDir, file)), file);
    expect({ outcome: r.outcome, reason: r.reason }).toEqual({ outcome: expect.toBeOneOf(HANDLED), reason: expect.stringMatching(/\S/) });
    // Nothing it left behind (a rejected promise nobody awaits) ends the worker afterwards.
    expect(await runner.settle(100)).toBeNull();
  }, PER_INPUT_MS + 130_000); // room for the worker's start (module loading) on a busy machine
});
