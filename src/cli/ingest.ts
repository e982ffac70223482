// pecdesk ingest FILE… [--mailbox pec|support] [--now ISO]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { MailboxName } from '../config/load.js';
import type { IngestResult } from '../intake/result.js';
import { isJson, withDesk } from './common.js';
import { localTime, parseInstant, printJson, table, UsageError } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(COMMAND_SUMMARIES.ingest)
    .argument('<files...>', '.eml files')
    .option('--mailbox <name>', 'pec or support', 'support')
    .option('--now <iso>', 'fix the clock (ISO date-time)')
    .action(async (files: string[], o: { mailbox: string; now?: string }, cmd: Command) => {
      if (o.mailbox !== 'pec' && o.mailbox !== 'support') throw new UsageError(`--mailbox: expected pec or support, got ${JSON.stringify(o.mailbox)}`);
      const mailbox = o.mailbox as MailboxName;
      const fixed = o.now ? parseInstant(o.now, '--now') : undefined;
      // Read every file first: a missing file is a usage error before anything is recorded.
      const inputs = files.map((f) => {
        try {
          return { file: f, bytes: readFileSync(f) };
        } catch (e) {
          throw new UsageError(`${f}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      });
      await withDesk(
        cmd,
        async (desk) => {
          const results: IngestResult[] = [];
          const { ingestBatch } = await import('../intake/pipeline.js');
          // Group commit, as the daemon does: a batch of files per transaction and fsync round.
          for (let i = 0; i < inputs.length; i += desk.cfg.daemon.batchMessages) {
            const batch = inputs.slice(i, i + desk.cfg.daemon.batchMessages);
            const outcomes = await ingestBatch(
              desk,
              batch.map(({ file, bytes }) => ({ bytes, mailbox, source: 'file' as const, sourceUid: null, file: path.resolve(file) })),
              () => fixed ?? new Date(),
            );
            for (const [k, r] of outcomes.entries()) {
              if (r instanceof Error) throw r; // not recorded (disk full, database locked): exit 2
              results.push({ ...r, file: batch[k]!.file });
            }
          }
          if (isJson(cmd)) printJson({ results });
          else process.stdout.write(resultsTable(results, desk.cfg.timezone));
        },
        { now: fixed },
      );
    });
}

export function resultsTable(results: IngestResult[], timezone: string): string {
  return table(
    results.map((r) => ({
      file: path.basename(r.file ?? ''),
      classification: r.classification,
      sender: r.sender.address ?? '—',
      ticket: r.ticket?.ref ?? r.duplicateOf?.ticketRef ?? '—',
      priority: r.ticket?.priority ?? '',
      due: r.ticket ? localTime(r.ticket.takeChargeDueAt, timezone) : '',
      reply: r.reply ? `${r.reply.template} → ${r.reply.to}` : r.quarantine ? `quarantine #${r.quarantine.id}: ${r.quarantine.reason}` : '—',
    })),
    [
      { key: 'file', title: 'FILE', max: 28 },
      { key: 'classification', title: 'CLASS' },
      { key: 'sender', title: 'SENDER', max: 34 },
      { key: 'ticket', title: 'TICKET' },
      { key: 'priority', title: 'PRIO' },
      { key: 'due', title: 'TAKE CHARGE BY' },
      { key: 'reply', title: 'REPLY', max: 60 },
    ],
  );
}
