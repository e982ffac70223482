// The daemon's lease on its dataDir: one `run` at a time (two made duplicate tickets and
// replies). Taken in an immediate transaction; a holder that is gone — its process no longer
// exists on this host, or its heartbeat is older than `staleMs` — is replaced.
import { hostname } from 'node:os';
import type { Db } from './db.js';

export interface LeaseHolder {
  pid: number;
  host: string;
  started_at: string;
  heartbeat_at: string;
}

export class LeaseHeld extends Error {
  constructor(readonly holder: LeaseHolder) {
    super(`another pecdesk run holds this dataDir: pid ${holder.pid} on ${holder.host}, started ${holder.started_at}, alive at ${holder.heartbeat_at}`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lease for this process, or throw LeaseHeld naming the holder. */
export function acquireLease(db: Db, now: Date, staleMs: number): void {
  const host = hostname();
  db.transaction(() => {
    const held = db.prepare('SELECT pid, host, started_at, heartbeat_at FROM daemon_lease WHERE id = 1').get() as LeaseHolder | undefined;
    if (held && !(held.pid === process.pid && held.host === host)) {
      const alive = held.host === host ? processAlive(held.pid) : now.getTime() - Date.parse(held.heartbeat_at) < staleMs;
      if (alive) throw new LeaseHeld(held);
    }
    db.prepare(
      `INSERT INTO daemon_lease (id, pid, host, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
    ).run(process.pid, host, now.toISOString(), now.toISOString());
  }).immediate();
}

export function renewLease(db: Db, now: Date): void {
  db.prepare('UPDATE daemon_lease SET heartbeat_at = ? WHERE id = 1 AND pid = ? AND host = ?').run(now.toISOString(), process.pid, hostname());
}

export function releaseLease(db: Db): void {
  db.prepare('DELETE FROM daemon_lease WHERE id = 1 AND pid = ? AND host = ?').run(process.pid, hostname());
}
