// pecdesk run [--once]: the daemon on both Maildirs, and the outbox.
import path from 'node:path';
import type { Command } from 'commander';
import type { IngestResult } from '../intake/result.js';
import { isJson, withDesk } from './common.js';
import { localTime, parseInstant, printJson, UsageError } from './output.js';
import { acquireLease, LeaseHeld, releaseLease, renewLease } from '../store/lease.js';
import { COMMAND_SUMMARIES } from './summaries.js';

/** A lease not renewed for this long (a holder on another host that died) is taken over. */
const LEASE_STALE_MS = 60_000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(COMMAND_SUMMARIES.run)
    .option('--once', 'one pass over every mailbox, drain the outbox, exit')
    .option('--now <iso>', 'fix the clock (tests and replays)')
    .action(async (o: { once?: boolean; now?: string }, cmd: Command) => {
      const fixed = o.now ? parseInstant(o.now, '--now') : undefined;
      const json = isJson(cmd);
      // Loaded when used: other commands start without the daemon's modules (imapflow, nodemailer, pdf.js).
      const { runDaemon, StopSignal } = await import('../daemon/run.js');
      await withDesk(cmd, async (desk) => {
        const stop = new StopSignal();
        const onSignal = (sig: string) => {
          desk.log.info({ signal: sig }, 'stopping after the message in hand');
          stop.stop();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const tz = desk.cfg.timezone;
        const results: Array<IngestResult & { mailbox: string }> = [];
        const outbox: Array<{ id: number; to: string; via: string }> = [];
        const failed: Array<{ id: number; to: string; error: string }> = [];
        // One run per dataDir: a second one (the daemon plus an operator's `run --once`) would
        // process and answer the same mail twice.
        try {
          acquireLease(desk.db, new Date(), LEASE_STALE_MS);
        } catch (e) {
          if (e instanceof LeaseHeld) throw new UsageError(`${desk.cfg.dataDir}: ${e.message}; stop it first (ingest and the operator commands may run beside it)`);
          throw e;
        }
        const heartbeat = setInterval(() => renewLease(desk.db, new Date()), LEASE_STALE_MS / 4);
        heartbeat.unref();
        desk.log.info({ once: Boolean(o.once), dataDir: desk.cfg.dataDir }, 'pecdesk started');
        let sourceFailures = 0;
        try {
          ({ sourceFailures } = await runDaemon(desk, {
            once: Boolean(o.once),
            clock: () => fixed ?? new Date(),
            stopSignal: stop,
            onMessage: (mailbox, r) => {
              if (json) {
                if (o.once) results.push({ ...r, mailbox });
                else process.stdout.write(`${JSON.stringify({ event: 'message', mailbox, ...r })}\n`);
                return;
              }
              const what = r.ticket
                ? `${r.ticket.ref} ${r.ticket.priority}, take charge by ${localTime(r.ticket.takeChargeDueAt, tz)}`
                : r.duplicateOf
                  ? `duplicate of ${r.duplicateOf.ticketRef ?? 'an earlier message'}`
                  : r.quarantine
                    ? `QUARANTINED #${r.quarantine.id}: ${r.quarantine.reason}`
                    : 'no ticket';
              const reply = r.reply ? ` · reply «${r.reply.template}» queued` : '';
              const verified = r.sender.verification !== 'unverified' ? ` [${r.sender.verification}]` : '';
              process.stdout.write(`${localTime(new Date().toISOString(), tz)}  ${mailbox.padEnd(7)} ${r.classification.padEnd(11)} ${(r.sender.address ?? '—').padEnd(34)}${verified} → ${what}${reply}\n`);
            },
            onOutbox: (report) => {
              // Kept only for the one JSON document of --once: a running daemon would hold every send forever.
              if (json && o.once) {
                outbox.push(...report.sent);
                failed.push(...report.failed);
              }
              if (json) {
                if (!o.once) process.stdout.write(`${JSON.stringify({ event: 'outbox', ...report })}\n`);
                return;
              }
              for (const s of report.sent) process.stdout.write(`${' '.repeat(16)} reply #${s.id} to ${s.to} written: ${path.relative(process.cwd(), s.via) || s.via}\n`);
              for (const f of report.failed) process.stdout.write(`${' '.repeat(16)} reply #${f.id} to ${f.to} NOT sent: ${f.error}${f.final ? ' (giving up)' : ' (will retry)'}\n`);
            },
            onIdle: (where) => {
              if (json) return;
              const shown = (w: string) => (w.includes('://') ? w : `${path.relative(process.cwd(), w) || w}   (drop .eml files here)`);
              process.stdout.write(`\nWaiting for mail:\n  support  ${shown(where.support)}\n  pec      ${shown(where.pec)}\nCtrl-C to stop.\n\n`);
            },
          }));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          clearInterval(heartbeat);
          releaseLease(desk.db);
        }
        if (json && o.once) printJson({ results, outbox: { sent: outbox, failed } });
        desk.log.info('pecdesk stopped');
        // A mailbox that could not be read (server down, login refused) is an I/O failure of --once.
        if (sourceFailures) throw new UsageError(`${sourceFailures} mailbox(es) could not be read; see the log above`);
        if (!o.once) {
          // Sockets were closed at the stop deadline; nothing left may keep the process past it.
          setTimeout(() => process.exit(), 1000).unref();
        }
      }, { now: fixed });
    });
}
