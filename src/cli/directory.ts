// pecdesk directory import FILE · directory import-ipa FILE.csv · directory show
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeIpaFinding, IpaDumpError, parseIpaDump, type IpaDump, type IpaFinding } from '../directory/ipa.js';
import { readDirectoryFile } from '../directory/load.js';
import { dumpDirectory, importAdministrations } from '../store/directory.js';
import { importIpaRows } from '../store/directory-ipa.js';
import { isJson, withDesk } from './common.js';
import { printJson, table, UsageError } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export function registerDirectory(program: Command): void {
  const dir = program.command('directory').description(COMMAND_SUMMARIES.directory);
  dir
    .command('import')
    .description('import a directory file (SPEC §8.3); each administration in it is replaced')
    .argument('<file>', 'YAML directory file')
    .action(async (file: string, _o, cmd: Command) => {
      const parsed = readDirectoryFile(file); // validate before opening anything
      await withDesk(cmd, (desk) => {
        importAdministrations(desk.db, parsed.administrations, new Date().toISOString(), {
          calendars: Object.keys(desk.rules.calendars),
          source: file,
        });
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
    .command('import-ipa')
    .description('create or update Administrations from the public IndicePA dump (CSV of the "enti"): name, fiscal code, IPA code, PEC addresses')
    .argument('<file>', 'IndicePA CSV (UTF-8 or Windows-1252/Latin-1; delimiter , ; or tab)')
    .action(async (file: string, _o, cmd: Command) => {
      const started = performance.now();
      const dump = readIpaDump(file); // read and check before opening anything
      await withDesk(cmd, (desk) => {
        const r = importIpaRows(desk.db, dump.rows, new Date().toISOString());
        const finding = (f: IpaFinding) => ({ ...f, message: describeIpaFinding(f) });
        const summary = {
          file,
          encoding: dump.encoding,
          bom: dump.bom,
          delimiter: dump.delimiter,
          records: dump.records,
          created: r.created,
          updated: r.updated,
          unchanged: r.unchanged,
          skipped: dump.skipped.length,
          skippedLines: dump.skipped.map(finding),
          warnings: [...dump.warnings, ...r.warnings].sort((x, y) => x.line - y.line).map(finding),
          // What changed in Administrations the directory already had (new ones are only counted:
          // a first import creates tens of thousands).
          updates: r.changes.filter((c) => c.action === 'updated').map(({ action: _a, ...c }) => c),
        };
        if (isJson(cmd)) return printJson(summary);
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        const lines = [
          `${file} (${dump.encoding}${dump.bom ? ' with BOM' : ''}, delimiter ${dump.delimiter === '\t' ? 'tab' : JSON.stringify(dump.delimiter)}): ` +
            `${dump.records} record(s): ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged, ${summary.skipped} skipped, in ${seconds} s`,
        ];
        const where = (f: IpaFinding) => `line ${f.line}${f.column ? `: ${f.column}` : ''}: ${f.code} — ${describeIpaFinding(f)}`;
        if (summary.skipped) lines.push('skipped:', ...dump.skipped.map((f) => `  ${where(f)}`));
        if (summary.warnings.length) lines.push('warnings:', ...summary.warnings.map((f) => `  ${where(f)}`));
        process.stdout.write(`${lines.join('\n')}\n`);
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

function readIpaDump(file: string): IpaDump {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UsageError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseIpaDump(bytes);
  } catch (e) {
    if (e instanceof IpaDumpError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
}
