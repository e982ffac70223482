// Aggregates for the ops surface (/metrics, /healthz): one GROUP BY or count per question,
// nothing per row. Statuses and classes come from the data, so a new one shows up unasked.
import type { Db } from './db.js';

export interface DeskCounts {
  /** Messages by classification; NULL (recorded, not processed yet) as "unclassified". */
  messagesByClassification: Array<{ classification: string; count: number }>;
  ticketsByPriorityStatus: Array<{ priority: string; status: string; count: number }>;
  /** Tickets the SLA watch found past their take-charge deadline (breached_at set). */
  slaBreaches: number;
  outboxByStatus: Array<{ status: string; count: number }>;
  /** Failed send attempts: every attempt that did not end in `sent`. */
  outboxFailures: number;
}

export interface OutboxBacklog {
  queued: number;
  failed: number;
  /** created_at of the oldest queued entry (ISO), null when none is queued. */
  oldestQueuedAt: string | null;
}

export function deskCounts(db: Db): DeskCounts {
  return {
    messagesByClassification: db
      .prepare(
        `SELECT COALESCE(classification, 'unclassified') AS classification, count(*) AS count
           FROM messages GROUP BY 1 ORDER BY 1`,
      )
      .all() as DeskCounts['messagesByClassification'],
    ticketsByPriorityStatus: db
      .prepare('SELECT priority, status, count(*) AS count FROM tickets GROUP BY priority, status ORDER BY priority, status')
      .all() as DeskCounts['ticketsByPriorityStatus'],
    slaBreaches: db.prepare('SELECT count(*) FROM tickets WHERE breached_at IS NOT NULL').pluck().get() as number,
    outboxByStatus: db
      .prepare('SELECT status, count(*) AS count FROM outbox GROUP BY status ORDER BY status')
      .all() as DeskCounts['outboxByStatus'],
    outboxFailures: db
      .prepare(`SELECT COALESCE(SUM(CASE WHEN status = 'sent' THEN attempts - 1 ELSE attempts END), 0) FROM outbox`)
      .pluck()
      .get() as number,
  };
}

export function outboxBacklog(db: Db): OutboxBacklog {
  const row = db
    .prepare(
      `SELECT COALESCE(SUM(status = 'queued'), 0) AS queued, COALESCE(SUM(status = 'failed'), 0) AS failed,
              MIN(CASE WHEN status = 'queued' THEN created_at END) AS oldestQueuedAt
         FROM outbox WHERE status IN ('queued', 'failed')`,
    )
    .get() as OutboxBacklog;
  return { queued: Number(row.queued), failed: Number(row.failed), oldestQueuedAt: row.oldestQueuedAt ?? null };
}

const ROLLBACK = Symbol('rollback');

/**
 * Can the desk still commit? A write under an immediate transaction (the write lock taken, a
 * row inserted), then rolled back: nothing is left behind. Returns the error text, or null.
 */
export function probeWrite(db: Db, busyTimeoutMs = 2000): string | null {
  // Not the desk's 10 s: the probe runs on the daemon's thread and must not hold it long.
  const previous = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  try {
    db.transaction(() => {
      db.prepare(`INSERT OR REPLACE INTO counters (series, year, value) VALUES ('healthz-probe', 0, 0)`).run();
      throw ROLLBACK;
    }).immediate();
    return 'the probe transaction was not rolled back';
  } catch (e) {
    return e === ROLLBACK ? null : `${(e as { code?: string }).code ? `${(e as { code: string }).code}: ` : ''}${(e as Error).message}`;
  } finally {
    db.pragma(`busy_timeout = ${previous}`);
  }
}
