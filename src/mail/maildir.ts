// Maildir mailbox (new/ cur/ tmp/). A message is read from new/ and moved to cur/ only after
// its outcome is committed: a crash in between leaves it in new/ to be seen again.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fsyncDir } from '../store/raw-store.js';

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
