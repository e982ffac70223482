// pecdesk pec list [--kind receipt|anomaly] [--uncorrelated]: PEC receipts and anomalies.
import type { Command } from 'commander';
import { getMessage } from '../store/messages.js';
import { listPecNotices } from '../store/pec-notices.js';
import { isJson, withDesk } from './common.js';
import { localTime, printJson, table, UsageError } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export function registerPec(program: Command): void {
  const pec = program.command('pec').description(COMMAND_SUMMARIES.pec);
  pec
    .command('list')
    .description('list PEC receipts and anomaly envelopes')
    .option('--kind <kind>', 'receipt or anomaly')
    .option('--uncorrelated', 'only those not matched to an outgoing message')
    .action(async (o: { kind?: string; uncorrelated?: boolean }, cmd: Command) =>
      withDesk(cmd, (desk) => {
        if (o.kind && !['receipt', 'anomaly'].includes(o.kind)) throw new UsageError('--kind: expected receipt or anomaly');
        const notices = listPecNotices(desk.db, o).map((n) => {
          const m = getMessage(desk.db, n.message_id)!;
          return {
            id: n.id,
            kind: n.kind,
            tipo: n.tipo,
            certified: n.certified === 1,
            problems: JSON.parse(n.problems) as string[],
            details: JSON.parse(n.details) as string[],
            msgid: n.msgid,
            identificativo: n.identificativo,
            outboxId: n.outbox_id,
            applied: n.applied === 1,
            receivedAt: n.received_at,
            file: m.file,
            sender: m.sender,
            subject: m.subject,
            sha256: m.sha256,
          };
        });
        if (isJson(cmd)) return printJson({ notices });
        process.stdout.write(
          table(
            notices.map((n) => ({
              id: String(n.id),
              at: localTime(n.receivedAt, desk.cfg.timezone),
              kind: n.kind,
              tipo: n.tipo ?? '—',
              certified: n.certified ? 'yes' : `NO (${n.problems.join(', ') || 'unknown'})`,
              outbox: n.outboxId ? `#${n.outboxId}${n.applied ? '' : ' (not applied)'}` : 'uncorrelated',
              subject: n.subject ?? '',
            })),
            [
              { key: 'id', title: 'ID' },
              { key: 'at', title: 'RECEIVED' },
              { key: 'kind', title: 'KIND' },
              { key: 'tipo', title: 'TYPE' },
              { key: 'certified', title: 'CERTIFIED' },
              { key: 'outbox', title: 'OUTGOING' },
              { key: 'subject', title: 'SUBJECT', max: 50 },
            ],
          ),
        );
      }, { syncDirectory: false }),
    );
}
