// pecdesk outbox list [--status S] · outbox retry ID
import type { Command } from 'commander';
import { getOutbox, listOutbox, requeue } from '../store/outbox.js';
import { isJson, withDesk } from './common.js';
import { localTime, NegativeOutcome, parseId, printJson, table, UsageError } from './output.js';
import { outboxView } from './views.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export function registerOutbox(program: Command): void {
  const outbox = program.command('outbox').description(COMMAND_SUMMARIES.outbox);
  outbox
    .command('list')
    .description('list outbox entries')
    .option('--status <status>', 'queued, sent, failed, or uncertain (a send a crash interrupted)')
    .action(async (o: { status?: string }, cmd: Command) =>
      withDesk(cmd, (desk) => {
        if (o.status && !['queued', 'sent', 'failed', 'uncertain'].includes(o.status)) throw new UsageError(`--status: expected queued, sent, failed or uncertain`);
        const rows = o.status === 'uncertain' ? listOutbox(desk.db).filter((e) => e.uncertain_at) : listOutbox(desk.db, o.status);
        const entries = rows.map((e) => outboxView(desk, e));
        if (isJson(cmd)) return printJson({ entries });
        process.stdout.write(
          table(
            entries.map((e) => ({
              id: String(e.id),
              status: e.status + (e.uncertain ? '(uncertain)' : '') + (e.delivery ? `/${e.delivery.state}` : ''),
              template: e.template,
              to: e.to,
              ticket: e.ticket ?? '—',
              when: localTime(e.sentAt ?? e.createdAt, desk.cfg.timezone),
              where: e.sentTo ?? e.lastError ?? '',
            })),
            [
              { key: 'id', title: 'ID' },
              { key: 'status', title: 'STATUS' },
              { key: 'template', title: 'TEMPLATE' },
              { key: 'to', title: 'TO', max: 34 },
              { key: 'ticket', title: 'TICKET' },
              { key: 'when', title: 'WHEN' },
              { key: 'where', title: 'WRITTEN TO / ERROR', max: 60 },
            ],
          ),
        );
      }, { syncDirectory: false }),
    );
  outbox
    .command('retry')
    .description('send a failed or waiting entry again now')
    .argument('<id>', 'outbox entry id')
    .action(async (idText: string, _o, cmd: Command) =>
      withDesk(cmd, async (desk) => {
        const id = parseId(idText, 'outbox id');
        const e = getOutbox(desk.db, id);
        if (!e) throw new UsageError(`no outbox entry ${id}`);
        if (e.status === 'sent') throw new UsageError(`outbox entry ${id} was already sent (${e.sent_to})`);
        const now = new Date();
        requeue(desk.db, id, now.toISOString());
        const { drainOutbox } = await import('../outbox/worker.js');
        const report = await drainOutbox(desk, now, { onlyId: id });
        const view = outboxView(desk, getOutbox(desk.db, id)!);
        if (isJson(cmd)) printJson(view);
        else process.stdout.write(report.sent.length ? `sent #${id} to ${view.to} (${view.sentTo})\n` : `#${id} not sent: ${view.lastError}\n`);
        if (!report.sent.length) throw new NegativeOutcome('');
      }, { syncDirectory: false }),
    );
}
