// tickets, ticket_events, thread_keys.
import type { TicketEventType } from '../desk/events.js';
import type { Db } from './db.js';
import type { TicketAction, TicketStatus, WorkflowEventType } from '../desk/workflow.js';

/** When each workflow step and SLA action happened (migration 0006); never set at insert. */
export interface TicketWorkflowStamps {
  /** The first take in charge: the take-charge SLA is judged on it. */
  taken_at: string | null;
  escalated_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  reopened_at: string | null;
  /** When the SLA watch found it past its deadline and not taken in charge. */
  breached_at: string | null;
  /** When the breach notice was queued; null when none was (no address configured). */
  sla_notified_at: string | null;
  reminded_at: string | null;
}

export interface TicketRow extends TicketWorkflowStamps {
  id: number;
  ref: string;
  kind: string;
  category: string;
  status: string;
  priority: string;
  administration_id: string | null;
  requester: string;
  requester_name: string | null;
  authorized: number;
  /** AuthorizationReason code (src/desk/authorization.ts); null on tickets older than the rules. */
  authorization_reason: string | null;
  sender_verification: string;
  sender_verification_note: string | null;
  /** JSON array of VerificationProblem codes. */
  sender_verification_problems: string;
  channel: string;
  mailbox: string;
  subject: string | null;
  received_at: string;
  take_charge_due_at: string | null;
  on_call: number;
  created_at: string;
  updated_at: string;
}

export interface TicketEventRow {
  id: number;
  ticket_id: number;
  at: string;
  type: string;
  actor: string;
  detail: string;
  message_id: number | null;
}

export type NewTicket = Omit<TicketRow, 'id' | 'updated_at' | keyof TicketWorkflowStamps>;

export function insertTicket(db: Db, t: NewTicket): number {
  return Number(
    db
      .prepare(
        `INSERT INTO tickets (ref, kind, category, status, priority, administration_id, requester, requester_name,
           authorized, authorization_reason, sender_verification, sender_verification_note, sender_verification_problems, channel, mailbox, subject, received_at, take_charge_due_at, on_call,
           created_at, updated_at)
         VALUES (@ref, @kind, @category, @status, @priority, @administration_id, @requester, @requester_name,
           @authorized, @authorization_reason, @sender_verification, @sender_verification_note, @sender_verification_problems, @channel, @mailbox, @subject, @received_at, @take_charge_due_at, @on_call,
           @created_at, @created_at)`,
      )
      .run(t).lastInsertRowid,
  );
}

export function addTicketEvent(
  db: Db,
  e: { ticketId: number; at: string; type: TicketEventType; actor: string; detail?: unknown; messageRowId?: number | null },
): void {
  db.prepare('INSERT INTO ticket_events (ticket_id, at, type, actor, detail, message_id) VALUES (?, ?, ?, ?, ?, ?)').run(
    e.ticketId,
    e.at,
    e.type,
    e.actor,
    JSON.stringify(e.detail ?? {}),
    e.messageRowId ?? null,
  );
  db.prepare('UPDATE tickets SET updated_at = ? WHERE id = ? AND updated_at < ?').run(e.at, e.ticketId, e.at);
}

export function getTicket(db: Db, id: number): TicketRow | undefined {
  return db.prepare('SELECT * FROM tickets WHERE id = ?').get(id) as TicketRow | undefined;
}

export function getTicketByRef(db: Db, ref: string): TicketRow | undefined {
  return db.prepare('SELECT * FROM tickets WHERE ref = ?').get(ref.toUpperCase()) as TicketRow | undefined;
}

export interface TicketFilter {
  status?: string;
  admin?: string;
  /** Priority class, e.g. P2. */
  priority?: string;
  /** ISO instant: only tickets whose take-charge deadline is before it. */
  dueBefore?: string;
  /** ISO instant: only tickets breached at it (marked, taken late, or waiting past the deadline: sla.isBreached). */
  breachedAt?: string;
  /** Paging: only tickets after this id (the previous page's last). */
  afterId?: number;
  /** Paging: at most this many. */
  limit?: number;
}

/** A listed ticket, with its administration's name joined in (one query, not one per row). */
export type TicketListRow = TicketRow & { administration_name: string | null };

/**
 * The filters as one indexed query in id order: each filter is an indexed column, and paging
 * continues after an id, so a page costs the same at the millionth ticket as at the first.
 */
function ticketQuery(filter: TicketFilter): { sql: string; args: Array<string | number> } {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (filter.status) (where.push('t.status = ?'), args.push(filter.status));
  if (filter.admin) (where.push('t.administration_id = ?'), args.push(filter.admin));
  if (filter.priority) (where.push('t.priority = ?'), args.push(filter.priority));
  if (filter.dueBefore) (where.push('t.take_charge_due_at IS NOT NULL AND t.take_charge_due_at < ?'), args.push(filter.dueBefore));
  if (filter.breachedAt) {
    // The SQL form of sla.isBreached (ISO instants compare as text).
    where.push(`((t.breached_at IS NOT NULL AND t.breached_at <= ?) OR (t.take_charge_due_at IS NOT NULL AND (
      (t.taken_at IS NOT NULL AND t.taken_at <= ? AND t.taken_at > t.take_charge_due_at) OR
      ((t.taken_at IS NULL OR t.taken_at > ?) AND ? > t.take_charge_due_at))))`);
    args.push(filter.breachedAt, filter.breachedAt, filter.breachedAt, filter.breachedAt);
  }
  if (filter.afterId !== undefined) (where.push('t.id > ?'), args.push(filter.afterId));
  const sql = `SELECT t.*, a.name AS administration_name FROM tickets t LEFT JOIN administrations a ON a.id = t.administration_id
    ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY t.id${filter.limit !== undefined ? ' LIMIT ?' : ''}`;
  if (filter.limit !== undefined) args.push(filter.limit);
  return { sql, args };
}

export function listTickets(db: Db, filter: TicketFilter): TicketListRow[] {
  const q = ticketQuery(filter);
  return db.prepare(q.sql).all(...q.args) as TicketListRow[];
}

/** The same rows one at a time (tickets list --all): memory stays flat whatever the count. */
export function iterateTickets(db: Db, filter: TicketFilter): IterableIterator<TicketListRow> {
  const q = ticketQuery(filter);
  return db.prepare(q.sql).iterate(...q.args) as IterableIterator<TicketListRow>;
}

export function ticketEvents(db: Db, ticketId: number): TicketEventRow[] {
  return db.prepare('SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id').all(ticketId) as TicketEventRow[];
}

export function addThreadKey(db: Db, key: string, ticketId: number): void {
  db.prepare('INSERT OR IGNORE INTO thread_keys (key, ticket_id) VALUES (?, ?)').run(key, ticketId);
}

export function ticketIdsForThreadKeys(db: Db, keys: string[]): number[] {
  const stmt = db.prepare('SELECT ticket_id FROM thread_keys WHERE key = ?').pluck();
  const ids: number[] = [];
  for (const k of keys) {
    const id = stmt.get(k) as number | undefined;
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

// ---------------------------------------------------------------------------
// Operator workflow and SLA watch (issue 9). Call inside the caller's transaction.

/** The stamp column each workflow action sets (`take` only the first time). */
const STAMP: Record<TicketAction, keyof TicketWorkflowStamps> = {
  take: 'taken_at',
  escalate: 'escalated_at',
  resolve: 'resolved_at',
  close: 'closed_at',
  reopen: 'reopened_at',
};

export class StaleTicket extends Error {}

/**
 * Record one workflow transition (already judged legal by src/desk/workflow.ts): the status,
 * its time stamp and the ticket event `{ from, to, ...detail }`. Refuses (StaleTicket) when the
 * status is no longer `from`.
 */
export function recordTransition(
  db: Db,
  t: Pick<TicketRow, 'id' | 'status'>,
  tr: { action: TicketAction; to: TicketStatus; event: WorkflowEventType; at: string; actor: string; detail?: Record<string, unknown>; messageRowId?: number | null },
): void {
  const col = STAMP[tr.action];
  const set = tr.action === 'take' ? `${col} = COALESCE(${col}, @at)` : `${col} = @at`;
  const r = db.prepare(`UPDATE tickets SET status = @to, ${set} WHERE id = @id AND status = @from`).run({ to: tr.to, at: tr.at, id: t.id, from: t.status });
  if (r.changes !== 1) throw new StaleTicket(`ticket ${t.id} is no longer ${t.status}`);
  addTicketEvent(db, { ticketId: t.id, at: tr.at, type: tr.event, actor: tr.actor, detail: { from: t.status, to: tr.to, ...tr.detail }, messageRowId: tr.messageRowId ?? null });
}

/** The Message-ID of the requester's latest message on the ticket (what a reply answers), if known. */
export function latestRequesterMessageId(db: Db, t: Pick<TicketRow, 'id' | 'requester'>): string | null {
  const v = db
    .prepare(
      `SELECT COALESCE(json_extract(e.detail, '$.messageId'), m.message_id) FROM ticket_events e
         LEFT JOIN messages m ON m.id = e.message_id
       WHERE e.ticket_id = ? AND e.message_id IS NOT NULL AND e.actor = ? ORDER BY e.id DESC LIMIT 1`,
    )
    .pluck()
    .get(t.id, t.requester) as string | null | undefined;
  return v ?? null;
}

/** The SLA watch's work list: not taken in charge, with a deadline, not yet marked breached. */
export function slaPendingTickets(db: Db): TicketRow[] {
  return db
    .prepare('SELECT * FROM tickets WHERE taken_at IS NULL AND take_charge_due_at IS NOT NULL AND breached_at IS NULL ORDER BY take_charge_due_at, id')
    .all() as TicketRow[];
}

/** Mark a ticket breached (once); false when it already was. */
export function markBreached(db: Db, id: number, at: string, notifiedAt: string | null): boolean {
  return db.prepare('UPDATE tickets SET breached_at = ?, sla_notified_at = ? WHERE id = ? AND breached_at IS NULL').run(at, notifiedAt, id).changes === 1;
}

/** Mark a ticket reminded (once); false when it already was. */
export function markReminded(db: Db, id: number, at: string): boolean {
  return db.prepare('UPDATE tickets SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL').run(at, id).changes === 1;
}

/** Tickets received in [fromIso, toIso), with their Administration's name (the SLA report). */
export function ticketsReceivedBetween(db: Db, fromIso: string, toIso: string): Array<TicketRow & { administration_name: string | null }> {
  return db
    .prepare(
      `SELECT t.*, a.name AS administration_name FROM tickets t LEFT JOIN administrations a ON a.id = t.administration_id
       WHERE t.received_at >= ? AND t.received_at < ? ORDER BY t.received_at, t.id`,
    )
    .all(fromIso, toIso) as Array<TicketRow & { administration_name: string | null }>;
}
