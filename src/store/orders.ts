// orders, order_events, order_documents, pins.
import type { Db } from './db.js';

export interface OrderRow {
  id: number;
  ref: string;
  state: string;
  administration_id: string | null;
  ticket_id: number | null;
  piano: string | null;
  created_at: string;
  updated_at: string;
  piano_message_id: number | null;
  requester: string | null;
  problems: string;
}

export function insertOrder(db: Db, o: { ref: string; state: string; administrationId: string | null; ticketId: number | null; piano: unknown; requester: string; problems: unknown; messageRowId: number; at: string }): number {
  return Number(
    db
      .prepare(
        `INSERT INTO orders (ref, state, administration_id, ticket_id, piano, created_at, updated_at, piano_message_id, requester, problems)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(o.ref, o.state, o.administrationId, o.ticketId, JSON.stringify(o.piano), o.at, o.at, o.messageRowId, o.requester, JSON.stringify(o.problems)).lastInsertRowid,
  );
}

export function updateOrder(db: Db, id: number, changes: { state?: string; piano?: unknown; problems?: unknown; ticketId?: number; at: string }): void {
  const row = getOrder(db, id)!;
  db.prepare('UPDATE orders SET state = ?, piano = ?, problems = ?, ticket_id = ?, updated_at = ? WHERE id = ?').run(
    changes.state ?? row.state,
    changes.piano !== undefined ? JSON.stringify(changes.piano) : row.piano,
    changes.problems !== undefined ? JSON.stringify(changes.problems) : row.problems,
    changes.ticketId ?? row.ticket_id,
    changes.at,
    id,
  );
}

export function getOrder(db: Db, id: number): OrderRow | undefined {
  return db.prepare('SELECT * FROM orders WHERE id = ?').get(id) as OrderRow | undefined;
}

export function getOrderByRef(db: Db, ref: string): OrderRow | undefined {
  return db.prepare('SELECT * FROM orders WHERE ref = ?').get(ref.toUpperCase()) as OrderRow | undefined;
}

export function listOrders(db: Db): OrderRow[] {
  return db.prepare('SELECT * FROM orders ORDER BY id').all() as OrderRow[];
}

/** The rejected order of an administration a re-sent Piano corrects. */
export function rejectedOrderFor(db: Db, administrationId: string): OrderRow | undefined {
  return db
    .prepare(`SELECT * FROM orders WHERE administration_id = ? AND state = 'piano-rejected' ORDER BY id DESC LIMIT 1`)
    .get(administrationId) as OrderRow | undefined;
}

export function addOrderEvent(db: Db, e: { orderId: number; at: string; type: string; actor: string; detail?: unknown; messageRowId?: number | null }): void {
  db.prepare('INSERT INTO order_events (order_id, at, type, actor, detail, message_id) VALUES (?, ?, ?, ?, ?, ?)').run(
    e.orderId, e.at, e.type, e.actor, JSON.stringify(e.detail ?? {}), e.messageRowId ?? null,
  );
}

export interface OrderEventRow {
  at: string;
  type: string;
  actor: string;
  detail: string;
}

export function orderEvents(db: Db, orderId: number): OrderEventRow[] {
  return db.prepare('SELECT at, type, actor, detail FROM order_events WHERE order_id = ? ORDER BY id').all(orderId) as OrderEventRow[];
}

export interface OrderDocumentRow {
  id: number;
  order_id: number;
  kind: string;
  filename: string;
  sha256: string;
  size: number;
  message_id: number | null;
  outbox_id: number | null;
  at: string;
}

export function addOrderDocument(db: Db, d: { orderId: number; kind: string; filename: string; sha256: string; size: number; messageRowId?: number | null; outboxId?: number | null; at: string }): void {
  db.prepare('INSERT INTO order_documents (order_id, kind, filename, sha256, size, message_id, outbox_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    d.orderId, d.kind, d.filename, d.sha256, d.size, d.messageRowId ?? null, d.outboxId ?? null, d.at,
  );
}

export function orderDocuments(db: Db, orderId: number, kind?: string): OrderDocumentRow[] {
  return (kind
    ? db.prepare('SELECT * FROM order_documents WHERE order_id = ? AND kind = ? ORDER BY id').all(orderId, kind)
    : db.prepare('SELECT * FROM order_documents WHERE order_id = ? ORDER BY id').all(orderId)) as OrderDocumentRow[];
}

export function insertPin(db: Db, p: { administrationId: string; kind: string; hash: string; orderId: number; at: string }): void {
  // A new PIN of a kind replaces the previous one.
  db.prepare('UPDATE pins SET revoked_at = ? WHERE administration_id = ? AND kind = ? AND revoked_at IS NULL').run(p.at, p.administrationId, p.kind);
  db.prepare('INSERT INTO pins (administration_id, kind, hash, order_id, created_at) VALUES (?, ?, ?, ?, ?)').run(p.administrationId, p.kind, p.hash, p.orderId, p.at);
}

export function activePins(db: Db, administrationId: string): Array<{ kind: string; hash: string }> {
  return db.prepare('SELECT kind, hash FROM pins WHERE administration_id = ? AND revoked_at IS NULL').all(administrationId) as Array<{ kind: string; hash: string }>;
}
