// tickets, ticket_events, thread_keys.
import type { Db } from './db.js';

export interface TicketRow {
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

export type NewTicket = Omit<TicketRow, 'id' | 'updated_at'>;

export function insertTicket(db: Db, t: NewTicket): number {
  return Number(
    db
      .prepare(
        `INSERT INTO tickets (ref, kind, category, status, priority, administration_id, requester, requester_name,
           authorized, sender_verification, sender_verification_note, sender_verification_problems, channel, mailbox, subject, received_at, take_charge_due_at, on_call,
           created_at, updated_at)
         VALUES (@ref, @kind, @category, @status, @priority, @administration_id, @requester, @requester_name,
           @authorized, @sender_verification, @sender_verification_note, @sender_verification_problems, @channel, @mailbox, @subject, @received_at, @take_charge_due_at, @on_call,
           @created_at, @created_at)`,
      )
      .run(t).lastInsertRowid,
  );
}

export function addTicketEvent(
  db: Db,
  e: { ticketId: number; at: string; type: string; actor: string; detail?: unknown; messageRowId?: number | null },
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

export function listTickets(db: Db, filter: { status?: string; admin?: string }): TicketRow[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.status) (where.push('status = ?'), args.push(filter.status));
  if (filter.admin) (where.push('administration_id = ?'), args.push(filter.admin));
  return db
    .prepare(`SELECT * FROM tickets ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`)
    .all(...args) as TicketRow[];
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
