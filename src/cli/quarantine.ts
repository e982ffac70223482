// pecdesk quarantine list · quarantine show ID · quarantine retry ID
import type { Command } from 'commander';
import { getQuarantine, listQuarantine } from '../store/quarantine.js';
import { isJson, withDesk } from './common.js';
import { resultsTable } from './ingest.js';
import { localTime, NegativeOutcome, parseId, printJson, table, UsageError } from './output.js';
import { quarantineDetail, quarantineView } from './views.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export function registerQuarantine(program: Command): void {
  const q = program.command('quarantine').description(COMMAND_SUMMARIES.quarantine);
  q.command('list')
    .description('list quarantined messages')
    .option('--all', 'include released entries')
    .action(async (o: { all?: boolean }, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const entries = listQuarantine(desk.db, o.all).map(quarantineView);
        if (isJson(cmd)) return printJson({ entries });
        process.stdout.write(
          table(
            entries.map((e) => ({ id: String(e.id), at: localTime(e.at, desk.cfg.timezone), mailbox: e.mailbox, file: e.file ?? '', reason: e.reason })),
            [
              { key: 'id', title: 'ID' },
              { key: 'at', title: 'AT' },
              { key: 'mailbox', title: 'MAILBOX' },
              { key: 'file', title: 'FILE', max: 40 },
              { key: 'reason', title: 'REASON', max: 70 },
            ],
          ),
        );
      }, { syncDirectory: false }),
    );
  q.command('show')
    .description('show a quarantined message and why')
    .argument('<id>', 'quarantine id')
    .action(async (idText: string, _o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const entry = getQuarantine(desk.db, parseId(idText, 'quarantine id'));
        if (!entry) throw new UsageError(`no quarantine entry ${idText}`);
        const d = quarantineDetail(desk, entry);
        if (isJson(cmd)) return printJson(d);
        process.stdout.write(
          [
            `quarantine #${d.id} (${d.status}) — ${d.mailbox}, ${localTime(d.at, desk.cfg.timezone)}`,
            `  reason:   ${d.reason}`,
            `  file:     ${d.file ?? '—'}`,
            `  from:     ${d.message.sender ?? '—'}`,
            `  subject:  ${d.message.subject ?? '—'}`,
            `  raw:      ${d.message.rawPath} (${d.message.size} bytes, sha256 ${d.message.sha256})`,
            '',
          ].join('\n'),
        );
      }, { syncDirectory: false }),
    );
  q.command('retry')
    .description('process a quarantined message again (after fixing config or code)')
    .argument('<id>', 'quarantine id')
    .option('--now <iso>', 'fix the clock')
    .action(async (idText: string, _o, cmd: Command) =>
      withDesk(cmd, async (desk) => {
        const entry = getQuarantine(desk.db, parseId(idText, 'quarantine id'));
        if (!entry) throw new UsageError(`no quarantine entry ${idText}`);
        if (entry.status !== 'open') throw new UsageError(`quarantine entry ${entry.id} was already released`);
        const { reprocessStored } = await import('../intake/pipeline.js');
        const result = await reprocessStored(desk, entry.message_id, new Date());
        if (isJson(cmd)) printJson({ results: [result] });
        else process.stdout.write(resultsTable([result], desk.cfg.timezone));
        if (result.classification === 'quarantined') throw new NegativeOutcome('');
      }),
    );
}
