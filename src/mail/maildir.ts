// Maildir mailbox (new/ cur/ tmp/). A message is read from new/ and moved to cur/ only after
// its outcome is committed: a crash in between leaves it in new/ to be seen again.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { MailboxName } from '../config/load.js';
import type { Logger } from '../runtime/logger.js';
import { fsyncDir } from '../store/raw-store.js';
import { newStatus, setState, type BatchLimits, type Consume, type MailSource, type SourceMessage } from './source.js';

let deliveries = 0;

export class Maildir {
  constructor(readonly root: string) {}

  ensure(): void {
    for (const d of ['new', 'cur', 'tmp']) mkdirSync(path.join(this.root, d), { recursive: true });
  }

  /** Names waiting in new/, oldest first (Maildir names start with the delivery time). */
  listNew(): string[] {
    const dir = path.join(this.root, 'new');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort((a, b) => {
        const ta = Number.parseFloat(a) || 0;
        const tb = Number.parseFloat(b) || 0;
        return ta - tb || a.localeCompare(b);
      });
  }

  read(name: string): { bytes: Buffer; arrivedAt: Date } {
    const file = path.join(this.root, 'new', name);
    return { bytes: readFileSync(file), arrivedAt: statSync(file).mtime };
  }

  pathOf(name: string): string {
    return path.join(this.root, 'new', name);
  }

  /** The unique part of a Maildir name (before ":2,flags"): the message's identity here. */
  static uid(name: string): string {
    return name.split(':')[0]!;
  }

  /** Acknowledge: move new/NAME to cur/NAME:2,S (seen). */
  acknowledge(name: string): void {
    const target = path.join(this.root, 'cur', name.includes(':2,') ? name : `${name}:2,S`);
    renameSync(path.join(this.root, 'new', name), target);
  }

  /** Deliver bytes the Maildir way (tmp/ then rename into new/); returns the name. */
  deliver(bytes: Uint8Array): string {
    this.ensure();
    const now = Date.now();
    const name = `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${++deliveries}.${hostname().replace(/[/:]/g, '_')}`;
    const tmp = path.join(this.root, 'tmp', name);
    writeFileSync(tmp, bytes, { flush: true });
    renameSync(tmp, path.join(this.root, 'new', name));
    fsyncDir(path.join(this.root, 'new'));
    return name;
  }
}

/** A Maildir as a daemon source: new/ is the queue, fs.watch shortens the wait. */
export class MaildirSource implements MailSource {
  readonly status = newStatus('maildir');
  private readonly md: Maildir;
  private watcher: FSWatcher | null = null;

  constructor(
    readonly mailbox: MailboxName,
    root: string,
    private readonly log: Logger,
    /** Group commit: at most this many messages, or this many bytes, per commit. */
    private readonly batch: BatchLimits = { maxMessages: 1, maxBytes: Infinity },
  ) {
    this.md = new Maildir(root);
  }

  get newDir(): string {
    return path.join(this.md.root, 'new');
  }

  async pass(consume: Consume, shouldStop: () => boolean): Promise<number> {
    this.md.ensure();
    let handled = 0;
    let batch: Array<SourceMessage & { name: string; bytes: Buffer }> = [];
    let batchBytes = 0;
    const commit = async () => {
      if (batch.length === 0) return;
      const taken = batch;
      batch = [];
      batchBytes = 0;
      const outcomes = await consume(taken);
      taken.forEach((m, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error || outcome === undefined) {
          // The desk failing to record it (disk full, database locked): left in new/ for the next pass.
          this.log.error({ mailbox: this.mailbox, sourceUid: m.sourceUid, error: outcome?.message ?? 'no outcome' }, 'cannot record message; left in new/ for the next pass');
          return;
        }
        this.md.acknowledge(m.name);
        handled++;
      });
    };
    for (const name of this.md.listNew()) {
      if (shouldStop()) break;
      let read: { bytes: Buffer; arrivedAt: Date };
      try {
        read = this.md.read(name);
      } catch (e) {
        // Vanished (another consumer) or unreadable: leave it, say so, go on.
        this.log.warn({ mailbox: this.mailbox, name, error: (e as Error).message }, 'cannot read Maildir message');
        continue;
      }
      // Bounded in count and bytes: memory stays bounded by the batch, not by the backlog.
      if (batch.length > 0 && batchBytes + read.bytes.length > this.batch.maxBytes) await commit();
      batch.push({ name, mailbox: this.mailbox, source: 'maildir', sourceUid: Maildir.uid(name), file: this.md.pathOf(name), arrivedAt: read.arrivedAt, bytes: read.bytes });
      batchBytes += read.bytes.length;
      if (batch.length >= this.batch.maxMessages) await commit();
    }
    await commit();
    setState(this.status, 'idle', null);
    return handled;
  }

  watch(wake: () => void): void {
    // fs.watch only shortens the wait; polling stays the source of truth.
    try {
      this.md.ensure();
      this.watcher = watch(this.newDir, () => wake());
      this.watcher.on('error', () => undefined);
    } catch {
      /* polling alone */
    }
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
    setState(this.status, 'stopped');
  }
}
