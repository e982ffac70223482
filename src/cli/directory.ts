// pecdesk directory import FILE · directory show
import type { Command } from 'commander';
import { readDirectoryFile } from '../directory/load.js';
import { dumpDirectory, importAdministrations } from '../store/directory.js';
import { isJson, withDesk } from './common.js';
import { printJson, table } from './output.js';

export function registerDirectory(program: Command): void {
  const dir = program.command('directory').description('administrations, referents and delegates');
  dir
    .command('import')
    .description('import a directory file (SPEC §8.3); each administration in it is replaced')
    .argument('<file>', 'YAML directory file')
    .action(async (file: string, _o, cmd: Command) => {
      const parsed = readDirectoryFile(file); // validate before opening anything
      await withDesk(cmd, (desk) => {
        importAdministrations(desk.db, parsed.administrations, new Date().toISOString());
        const summary = {
          imported: parsed.administrations.map((a) => ({
            id: a.id, name: a.name, referents: a.referents.length, delegates: a.delegates.length, domains: a.domains.length,
          })),
        };
        if (isJson(cmd)) printJson(summary);
        else process.stdout.write(`imported ${summary.imported.length} administration(s): ${summary.imported.map((a) => a.id).join(', ')}\n`);
      }, { syncDirectory: false });
    });
  dir
    .command('show')
    .description('show the directory')
    .action(async (_o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const d = dumpDirectory(desk.db);
        if (isJson(cmd)) return printJson(d);
        process.stdout.write(
          table(
            d.administrations.map((a) => ({
              id: a.id,
              name: a.name,
              contract: a.contract.support ? 'yes' : 'no',
              domains: a.domains.join(' '),
              referents: a.referents.map((r) => r.email ?? r.pec ?? '').join(' '),
              delegates: a.delegates.map((r) => `${r.email ?? r.pec} (${r.validFrom}→${r.validUntil})`).join(' '),
            })),
            [
              { key: 'id', title: 'ID' },
              { key: 'name', title: 'NAME', max: 32 },
              { key: 'contract', title: 'SUPPORT' },
              { key: 'domains', title: 'DOMAINS', max: 32 },
              { key: 'referents', title: 'REFERENTS', max: 40 },
              { key: 'delegates', title: 'DELEGATES', max: 50 },
            ],
          ),
        );
      }, { syncDirectory: false }),
    );
}
