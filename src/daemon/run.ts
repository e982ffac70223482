// The daemon loop: each Maildir's new/ → pipeline → cur/ (only after the commit), then the
// outbox. SIGINT/SIGTERM finish the message in hand and return.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { MailboxName } from '../config/load.js';
import type { IngestResult } from '../intake/result.js';
import { ingestMessage, reprocessStored } from '../intake/pipeline.js';
import { Maildir } from '../mail/maildir.js';
import { drainOutbox, type DrainReport } from '../outbox/worker.js';
import type { Desk } from '../runtime/context.js';
import { startHttpListener, type HttpListener, type LastPolls } from './http.js';
import { unfinishedMessages } from '../store/messages.js';
import { runSlaCheck, startSlaWatch } from './sla-watch.js';

export interface RunOptions {
  once: boolean;
  clock: () => Date;
  onMessage?: (mailbox: MailboxName, name: string, result: IngestResult) => void;
  onOutbox?: (report: DrainReport) => void;
  onIdle?: (mailboxes: Record<MailboxName, string>) => void;
  /** Resolves when the daemon should stop (signals). */
  stopSignal?: StopSignal;
  /** Filled in by each pass: every mailbox's last successful poll (for /healthz and /metrics). */
  lastPolls?: LastPolls;
}

export class StopSignal {
  stopped = false;
  private wakers: Array<() => void> = [];
  stop(): void {
    this.stopped = true;
    this.wake();
  }
  wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }
  sleep(ms: number): Promise<void> {
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

const MAILBOXES: MailboxName[] = ['pec', 'support'];

/** Messages recorded by `ingest` but never finished (a crash): finish them first. */
async function recoverUnfinished(desk: Desk, clock: () => Date): Promise<void> {
  for (const row of unfinishedMessages(desk.db)) {
    if (row.source !== 'file') continue; // Maildir ones are still in new/ and come round again
    const r = await reprocessStored(desk, row.id, clock());
    desk.log.info({ messageRow: row.id, classification: r.classification }, 'recovered unfinished message');
  }
}

/** One pass over every mailbox; returns how many messages were handled. */
export async function pollOnce(desk: Desk, opts: RunOptions): Promise<number> {
  let handled = 0;
  for (const mailbox of MAILBOXES) {
    const md = new Maildir(desk.cfg.mailboxes[mailbox].maildir);
    md.ensure();
    const names = md.listNew();
    if (opts.lastPolls) opts.lastPolls[mailbox] = new Date(); // wall clock, not opts.clock
    for (const name of names) {
      if (opts.stopSignal?.stopped) return handled;
      let read: { bytes: Buffer; arrivedAt: Date };
      try {
        read = md.read(name);
      } catch (e) {
        // Vanished (another consumer) or unreadable: leave it, say so, go on.
        desk.log.warn({ mailbox, name, error: (e as Error).message }, 'cannot read Maildir message');
        continue;
      }
      let result: IngestResult;
      try {
        result = await ingestMessage(
          desk,
          { bytes: read.bytes, mailbox, source: 'maildir', sourceUid: Maildir.uid(name), file: md.pathOf(name), arrivedAt: read.arrivedAt },
          opts.clock(),
        );
      } catch (e) {
        // The message itself is quarantined inside the pipeline; what reaches here is the
        // desk failing to record it (disk full, database locked). Leave it unacknowledged in
        // new/ for the next pass rather than lose it or stop the daemon.
        desk.log.error({ mailbox, name, error: (e as Error).message }, 'cannot record message; left in new/ for the next pass');
        continue;
      }
      md.acknowledge(name);
      handled++;
      opts.onMessage?.(mailbox, name, result);
    }
  }
  return handled;
}

export async function runDaemon(desk: Desk, opts: RunOptions): Promise<void> {
  const stop = opts.stopSignal ?? new StopSignal();
  const lastPolls: LastPolls = opts.lastPolls ?? {};
  opts = { ...opts, stopSignal: stop, lastPolls };
  // The ops listener (http.listen): up before the first pass, so a busy port stops the start.
  const listen = opts.once ? undefined : desk.cfg.http.listen;
  const http: HttpListener | null = listen ? await startHttpListener(listen, { desk, lastPolls, startedAt: new Date() }) : null;
  try {
    await recoverUnfinished(desk, opts.clock);
  } catch (e) {
    await http?.close();
    throw e;
  }
  const watchers: FSWatcher[] = [];
  if (!opts.once) {
    // fs.watch only shortens the wait; polling stays the source of truth.
    for (const mailbox of MAILBOXES) {
      try {
        const w = watch(path.join(desk.cfg.mailboxes[mailbox].maildir, 'new'), () => stop.wake());
        w.on('error', () => undefined);
        watchers.push(w);
      } catch {
        /* polling alone */
      }
    }
  }
  let announcedIdle = false;
  // The SLA watch: its own schedule while running; with --once, one check per pass (below).
  const slaWatch = opts.once ? null : startSlaWatch(desk, { clock: opts.clock, onPass: (r) => {
    if (r.notices) stop.wake(); // send them now rather than after the poll interval
  } });
  try {
    for (;;) {
      const handled = await pollOnce(desk, opts);
      if (stop.stopped) break;
      if (opts.once) {
        try {
          runSlaCheck(desk, opts.clock());
        } catch (e) {
          desk.log.error({ error: (e as Error).message }, 'SLA check failed; retrying on the next pass');
        }
      }
      try {
        const report = await drainOutbox(desk, opts.clock());
        if (report.sent.length || report.failed.length) opts.onOutbox?.(report);
      } catch (e) {
        desk.log.error({ error: (e as Error).message }, 'outbox pass failed; retrying on the next pass');
      }
      if (opts.once || stop.stopped) break;
      if (!announcedIdle || handled > 0) {
        opts.onIdle?.({
          pec: path.join(desk.cfg.mailboxes.pec.maildir, 'new'),
          support: path.join(desk.cfg.mailboxes.support.maildir, 'new'),
        });
        announcedIdle = true;
      }
      await stop.sleep(desk.cfg.daemon.pollSeconds * 1000);
      if (stop.stopped) break;
    }
  } finally {
    slaWatch?.stop();
    for (const w of watchers) w.close();
    await http?.close();
  }
}
