// pecdesk tickets list [--status S] [--admin ID] · tickets show REF
import type { Command } from 'commander';
import { getTicketByRef, listTickets } from '../store/tickets.js';
import { isJson, withDesk } from './common.js';
import { localTime, printJson, table, UsageError } from './output.js';
import { ticketView, ticketWithEvents } from './views.js';

export function registerTickets(program: Command): void {
  const tickets = program.command('tickets').description('help-desk tickets');
  tickets
    .command('list')
    .description('list tickets')
    .option('--status <status>', 'only this status (new, in-progress, escalated, resolved, closed)')
    .option('--admin <id>', 'only this administration')
    .action(async (o: { status?: string; admin?: string }, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const rows = listTickets(desk.db, o).map((t) => ticketView(desk, t));
        if (isJson(cmd)) return printJson({ tickets: rows });
        process.stdout.write(
          table(
            rows.map((t) => ({
              ref: t.ref,
              status: t.status,
              priority: t.priority,
              due: localTime(t.takeChargeDueAt, desk.cfg.timezone),
              requester: t.requester,
              admin: t.administration ?? '—',
              subject: t.subject ?? '',
            })),
            [
              { key: 'ref', title: 'TICKET' },
              { key: 'status', title: 'STATUS' },
              { key: 'priority', title: 'PRIO' },
              { key: 'due', title: 'TAKE CHARGE BY' },
              { key: 'requester', title: 'REQUESTER', max: 34 },
              { key: 'admin', title: 'ADMINISTRATION', max: 20 },
              { key: 'subject', title: 'SUBJECT', max: 48 },
            ],
          ),
        );
      }, { syncDirectory: false }),
    );
  tickets
    .command('show')
    .description('show a ticket and its history')
    .argument('<ref>', 'ticket reference, e.g. HD-2026-000123')
    .action(async (ref: string, _o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const t = getTicketByRef(desk.db, ref);
        if (!t) throw new UsageError(`no ticket ${ref}`);
        const v = ticketWithEvents(desk, t);
        if (isJson(cmd)) return printJson(v);
        const tz = desk.cfg.timezone;
        const lines = [
          `${v.ref}  ${v.subject ?? ''}`,
          `  status ${v.status} · ${v.kind}/${v.category} · priority ${v.priority} · take charge by ${localTime(v.takeChargeDueAt, tz)}`,
          `  requester ${v.requesterName ? `${v.requesterName} <${v.requester}>` : v.requester} · ${v.administrationName ?? 'no administration'} · sender ${v.senderVerification} · ${v.authorized ? 'authorized' : 'NOT authorized'}`,
          `  received ${localTime(v.receivedAt, tz)} via ${v.channel}`,
          '',
          table(
            v.events.map((e) => ({ at: localTime(e.at, tz), type: e.type, actor: e.actor, detail: summarize(e.detail) })),
            [
              { key: 'at', title: 'AT' },
              { key: 'type', title: 'EVENT' },
              { key: 'actor', title: 'BY', max: 34 },
              { key: 'detail', title: 'DETAIL', max: 70 },
            ],
          ),
        ];
        process.stdout.write(lines.join('\n'));
      }, { syncDirectory: false }),
    );
}

function summarize(detail: unknown): string {
  if (!detail || typeof detail !== 'object') return '';
  const d = detail as Record<string, unknown>;
  for (const k of ['reason', 'template', 'subject', 'priority']) if (typeof d[k] === 'string') return `${k}: ${d[k]}`;
  return '';
}
