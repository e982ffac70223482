// The daemon: one loop per mailbox source (Maildir or IMAP) and one outbox loop per mailbox,
// each with its own waits and timeouts, so a slow server holds only its own work. A message is
// acknowledged at its source only after its outcome is committed. SIGINT/SIGTERM: every loop
// finishes the item in hand; after daemon.stopSeconds, sockets are closed and the run ends.
import { MAILBOX_NAMES, type MailboxName } from '../config/load.js';
import type { IngestResult } from '../intake/result.js';
import { ingestBatch, reprocessStored } from '../intake/pipeline.js';
import { ImapSource, reconnectDelayMs } from '../mail/imap.js';
import { MaildirSource } from '../mail/maildir.js';
import type { Consume, MailSource, SourceStatus } from '../mail/source.js';
import { drainOutbox, MailboxTransports, type DrainReport } from '../outbox/worker.js';
import type { Desk } from '../runtime/context.js';
import { startHttpListener, type HttpListener, type LastPolls } from './http.js';
import { unfinishedMessages } from '../store/messages.js';
import { markInterruptedSendsUncertain } from '../store/outbox.js';
import { runSlaCheck, startSlaWatch } from './sla-watch.js';

export interface RunOptions {
  once: boolean;
  clock: () => Date;
  onMessage?: (mailbox: MailboxName, result: IngestResult) => void;
  onOutbox?: (report: DrainReport) => void;
  /** Once, when every source has done its first pass: where mail is read from. */
  onIdle?: (sources: Record<MailboxName, string>) => void;
  /** Resolves when the daemon should stop (signals). */
  stopSignal?: StopSignal;
  /** Filled in by each pass: every mailbox's last successful poll (for /healthz and /metrics). */
  lastPolls?: LastPolls;
}

/**
 * A wait that ends early when woken, or when the daemon stops. A wake while nobody sleeps (new
 * mail announced during a pass) is kept, so the next sleep returns at once instead of missing it.
 */
export class Wakeup {
  private wakers: Array<() => void> = [];
  private pending = false;
  wake(): void {
    if (!this.wakers.length) this.pending = true;
    for (const w of this.wakers.splice(0)) w();
  }
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wakers = self.wakers.filter((w) => w !== done);
        resolve();
      }
      this.wakers.push(done);
    });
  }
}

export class StopSignal extends Wakeup {
  stopped = false;
  private readonly others = new Set<Wakeup>();
  private resolveStopped!: () => void;
  /** Resolves when stop() is called. */
  readonly whenStopped = new Promise<void>((r) => (this.resolveStopped = r));
  stop(): void {
    this.stopped = true;
    this.resolveStopped();
    this.wake();
    for (const w of this.others) w.wake();
  }
  /** A Wakeup of one loop, also woken by stop(). */
  child(): Wakeup {
    const w = new Wakeup();
    this.others.add(w);
    return w;
  }
}

/** Messages recorded by `ingest` but never finished (a crash): finish them first. */
async function recoverUnfinished(desk: Desk, clock: () => Date): Promise<void> {
  for (const row of unfinishedMessages(desk.db)) {
    if (row.source !== 'file') continue; // source messages are still unacknowledged and come round again
    const r = await reprocessStored(desk, row.id, clock());
    desk.log.info({ messageRow: row.id, classification: r.classification }, 'recovered unfinished message');
  }
}

/** A send that started this long ago and never ended belongs to a process that is gone. */
const STALE_SEND_MS = 3_600_000;
/** How often the running daemon looks for such sends (not on every outbox pass). */
const STALE_SWEEP_MS = 300_000;

/**
 * Sends a crash interrupted: uncertain (e-mail re-sent now with the same Message-ID; PEC after
 * the wait). With `startedBefore`, only sends older than that (the daemon's periodic sweep).
 */
function recoverInterruptedSends(desk: Desk, now: Date, startedBefore?: Date): void {
  const pecResendAt = new Date(now.getTime() + desk.cfg.daemon.pecUncertainWaitMinutes * 60_000).toISOString();
  for (const e of markInterruptedSendsUncertain(desk.db, now.toISOString(), pecResendAt, startedBefore?.toISOString())) {
    desk.log.warn(
      { outbox: e.id, messageId: e.message_id, channel: e.channel, to: e.to_addr, sendingSince: e.sending_since, resendAt: e.next_attempt_at },
      e.channel === 'pec'
        ? 'a PEC send was interrupted: re-sent only if no accettazione arrives by resendAt'
        : 'a send was interrupted: re-sent with the same Message-ID',
    );
  }
}

export function createSources(desk: Desk): MailSource[] {
  return MAILBOX_NAMES.map((mb) => {
    const cfg = desk.cfg.mailboxes[mb];
    if (cfg.imap) return new ImapSource(mb, cfg, { db: desk.db, raw: desk.raw, log: desk.log, maxMessageBytes: desk.cfg.limits.maxMessageBytes });
    return new MaildirSource(mb, cfg.maildir!, desk.log, { maxMessages: desk.cfg.daemon.batchMessages, maxBytes: desk.cfg.daemon.batchBytes });
  });
}

function describeSource(s: MailSource): string {
  return s instanceof MaildirSource ? s.newDir : s instanceof ImapSource ? s.where : s.mailbox;
}

/** Every source's status, for /healthz and /metrics. */
export type SourceStatuses = Partial<Record<MailboxName, SourceStatus>>;

export async function runDaemon(desk: Desk, opts: RunOptions): Promise<{ sourceFailures: number }> {
  const stop = opts.stopSignal ?? new StopSignal();
  const lastPolls: LastPolls = opts.lastPolls ?? {};
  const sources = createSources(desk);
  const statuses: SourceStatuses = Object.fromEntries(sources.map((s) => [s.mailbox, s.status]));
  // The ops listener (http.listen): up before the first pass, so a busy port stops the start.
  const listen = opts.once ? undefined : desk.cfg.http.listen;
  const http: HttpListener | null = listen ? await startHttpListener(listen, { desk, lastPolls, sources: statuses, startedAt: new Date() }) : null;
  const transports = new MailboxTransports(desk);
  const outboxWakes = Object.fromEntries(MAILBOX_NAMES.map((mb) => [mb, stop.child()])) as Record<MailboxName, Wakeup>;
  let sourceFailures = 0;

  const consume: Consume = async (batch) => {
    const outcomes = await ingestBatch(
      desk,
      batch.map((m) => {
        const inc = { mailbox: m.mailbox, source: m.source, sourceUid: m.sourceUid, file: m.file, arrivedAt: m.arrivedAt };
        return 'bytes' in m ? { ...inc, bytes: m.bytes, sha256: m.sha256 } : { ...inc, tooLarge: m.tooLarge };
      }),
      opts.clock,
    );
    let replies = false;
    outcomes.forEach((result, i) => {
      if (result instanceof Error) return; // the source logs it and leaves the message unacknowledged
      const m = batch[i]!;
      desk.log.info(
        { mailbox: m.mailbox, sourceUid: m.sourceUid, messageId: result.messageId, classification: result.classification, ticket: result.ticket?.ref ?? null, quarantine: result.quarantine?.id ?? null },
        'message processed',
      );
      opts.onMessage?.(m.mailbox, result);
      replies ||= result.reply !== null;
    });
    if (replies) for (const w of Object.values(outboxWakes)) w.wake();
    return outcomes;
  };
  const drain = async (mailbox?: MailboxName) => {
    try {
      const report = await drainOutbox(desk, opts.clock(), { mailbox, transports, shouldStop: () => stop.stopped });
      if (report.sent.length || report.failed.length) opts.onOutbox?.(report);
    } catch (e) {
      desk.log.error({ mailbox, error: (e as Error).message }, 'outbox pass failed; retrying on the next pass');
    }
  };

  try {
    await recoverUnfinished(desk, opts.clock);
    recoverInterruptedSends(desk, new Date());
    if (opts.once) {
      for (const s of sources) {
        if (stop.stopped) break;
        try {
          await s.pass(consume, () => stop.stopped);
          lastPolls[s.mailbox] = new Date();
        } catch (e) {
          sourceFailures++;
          desk.log.error({ mailbox: s.mailbox, error: (e as Error).message }, 'mailbox pass failed');
        }
      }
      try {
        runSlaCheck(desk, opts.clock());
      } catch (e) {
        desk.log.error({ error: (e as Error).message }, 'SLA check failed; retrying on the next pass');
      }
      if (!stop.stopped) await drain();
      return { sourceFailures };
    }

    const slaWatch = startSlaWatch(desk, { clock: opts.clock, onPass: (r) => {
      if (r.notices) for (const w of Object.values(outboxWakes)) w.wake(); // send them now
    } });
    const firstPasses = new Set(sources.map((s) => s.mailbox));
    const announce = (mb: MailboxName) => {
      if (firstPasses.delete(mb) && firstPasses.size === 0) {
        opts.onIdle?.(Object.fromEntries(sources.map((s) => [s.mailbox, describeSource(s)])) as Record<MailboxName, string>);
      }
    };
    const sourceLoop = async (s: MailSource) => {
      const wake = stop.child();
      s.watch(() => wake.wake());
      let failures = 0;
      // IMAP waits on IDLE and its cron poll; a Maildir also on its poll interval.
      const waitMs = s instanceof ImapSource ? 3_600_000 : desk.cfg.daemon.pollSeconds * 1000;
      while (!stop.stopped) {
        try {
          await s.pass(consume, () => stop.stopped);
          lastPolls[s.mailbox] = new Date();
          failures = 0;
          announce(s.mailbox);
        } catch (e) {
          failures++;
          const delay = reconnectDelayMs(failures);
          desk.log.warn({ mailbox: s.mailbox, error: (e as Error).message, retryInSeconds: delay / 1000 }, 'mailbox unavailable; retrying');
          await stop.sleep(delay); // only stop shortens a backoff (not the server's events)
          continue;
        }
        await wake.sleep(waitMs);
      }
    };
    let sweptAt = Date.now(); // the start already recovered every interrupted send
    const outboxLoop = async (mb: MailboxName) => {
      while (!stop.stopped) {
        // An `outbox retry` killed mid-send leaves its entry "sending": after an hour it is uncertain.
        if (Date.now() - sweptAt >= STALE_SWEEP_MS) {
          sweptAt = Date.now();
          try {
            recoverInterruptedSends(desk, new Date(), new Date(Date.now() - STALE_SEND_MS));
          } catch (e) {
            desk.log.error({ error: (e as Error).message }, 'stale-send sweep failed; retrying at the next sweep');
          }
        }
        await drain(mb);
        await outboxWakes[mb].sleep(desk.cfg.daemon.pollSeconds * 1000);
      }
    };
    const loops = Promise.allSettled([...sources.map(sourceLoop), ...MAILBOX_NAMES.map(outboxLoop)]);
    await Promise.race([stop.whenStopped, loops]);
    slaWatch.stop();
    // Drain: each loop ends after the item in hand; past the deadline, sockets are closed.
    const deadline = desk.cfg.daemon.stopSeconds * 1000;
    const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), deadline).unref());
    if ((await Promise.race([loops.then(() => 'done' as const), timer])) === 'late') {
      desk.log.warn({ stopSeconds: desk.cfg.daemon.stopSeconds }, 'work still in flight at the stop deadline: closing connections');
      transports.close();
      for (const s of sources) if (s instanceof ImapSource) s.abort();
      await Promise.race([loops, new Promise((r) => setTimeout(r, 1000).unref())]);
      // Sends still in flight are abandoned (this run holds the lease: they are its own).
      recoverInterruptedSends(desk, new Date());
    }
    return { sourceFailures };
  } finally {
    transports.close();
    await Promise.allSettled(sources.map((s) => s.close()));
    await http?.close();
  }
}
