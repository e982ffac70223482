// The CLI loads only the module of the command it runs (src/cli/program.ts): the registry must
// list every top-level command the modules register, or a command becomes unreachable.
import { describe, expect, it } from 'vitest';
import { commandNamed, commandsOfAllModules } from '../../src/cli/program.js';
import { COMMAND_SUMMARIES } from '../../src/cli/summaries.js';

describe('command registry', () => {
  it('names exactly the top-level commands the modules register', async () => {
    const registered = await commandsOfAllModules();
    expect(new Set(registered).size).toBe(registered.length);
    expect([...registered].sort()).toEqual(Object.keys(COMMAND_SUMMARIES).sort());
  });

  it('finds the command after the global options, and the one `help` names', () => {
    expect(commandNamed(['--config', 'x.yaml', '--json', 'tickets', 'list'])).toBe('tickets');
    expect(commandNamed(['--json', 'extract', 'p.pdf'])).toBe('extract');
    expect(commandNamed(['help', 'orders'])).toBe('orders');
    expect(commandNamed(['help'])).toBe('help');
    expect(commandNamed(['--help'])).toBeUndefined();
  });
});
