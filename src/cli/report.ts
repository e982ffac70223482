// pecdesk report sla [--from D] [--to D] [--csv] [--now ISO]: take-charge compliance per
// priority class and per Administration for the tickets received in [from, to).
import type { Command } from 'commander';
import { toLocal } from '../desk/calendar.js';
import { reportPeriod, SlaPeriodError, slaCsv, slaReport, type SlaRow } from '../desk/sla.js';
import { ticketsReceivedBetween } from '../store/tickets.js';
import { isJson, withDesk } from './common.js';
import { parseInstant, printJson, table, UsageError } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

function cell(v: number | null): string {
  return v === null ? '—' : String(v);
}

export function registerReport(program: Command): void {
  const report = program.command('report').description(COMMAND_SUMMARIES.report);
  report
    .command('sla')
    .description('take-charge compliance per priority class and per Administration (tickets received in [from, to))')
    .option('--from <date>', 'first day, YYYY-MM-DD in the desk\'s time zone (default: the first day of the current month)')
    .option('--to <date>', 'day after the last, YYYY-MM-DD (default: the first day of the month after --from)')
    .option('--csv', 'RFC 4180 CSV on stdout: columns group,key,name,received,taken,takenInTime,takenLate,breached,open,medianMinutesToTakeCharge')
    .option('--now <iso>', 'fix the clock: what is still open or past due is judged at this instant')
    .action(async (o: { from?: string; to?: string; csv?: boolean; now?: string }, cmd: Command) => {
      if (o.csv && isJson(cmd)) throw new UsageError('--csv and --json: choose one');
      const now = o.now ? parseInstant(o.now, '--now') : new Date();
      await withDesk(cmd, (desk) => {
        const tz = desk.cfg.timezone;
        let period: ReturnType<typeof reportPeriod>;
        try {
          period = reportPeriod(tz, toLocal(tz, now), o.from, o.to);
        } catch (e) {
          throw e instanceof SlaPeriodError ? new UsageError(e.message) : e;
        }
        const tickets = ticketsReceivedBetween(desk.db, period.fromInstant.toISOString(), period.toInstant.toISOString()).map((t) => ({
          priority: t.priority,
          administrationId: t.administration_id,
          administrationName: t.administration_name,
          receivedAt: t.received_at,
          takeChargeDueAt: t.take_charge_due_at,
          takenAt: t.taken_at,
        }));
        const r = slaReport(tickets, now);
        if (o.csv) return void process.stdout.write(slaCsv(r));
        if (isJson(cmd)) return printJson({ from: period.from, to: period.to, timezone: tz, now: now.toISOString(), ...r });
        const rows = (list: SlaRow[]) =>
          list.map((x) => ({
            key: x.group === 'administration' ? (x.name ?? (x.key || '(no administration)')) : x.key,
            received: String(x.received),
            taken: String(x.taken),
            inTime: cell(x.takenInTime),
            late: cell(x.takenLate),
            breached: cell(x.breached),
            open: String(x.open),
            median: x.medianMinutesToTakeCharge === null ? '—' : String(x.medianMinutesToTakeCharge),
          }));
        const cols = (first: string) => [
          { key: 'key', title: first, max: 36 },
          { key: 'received', title: 'RECEIVED' },
          { key: 'taken', title: 'TAKEN' },
          { key: 'inTime', title: 'IN TIME' },
          { key: 'late', title: 'LATE' },
          { key: 'breached', title: 'BREACHED' },
          { key: 'open', title: 'OPEN' },
          { key: 'median', title: 'MEDIAN MIN' },
        ];
        process.stdout.write(
          [
            `Take-charge SLA, tickets received ${period.from} to ${period.to} (excluded), ${tz}; as of ${now.toISOString()}`,
            '',
            table([...rows(r.classes), ...rows([r.total])], cols('CLASS')),
            table(rows(r.administrations), cols('ADMINISTRATION')),
          ].join('\n'),
        );
      }, { syncDirectory: false, now });
    });
}
