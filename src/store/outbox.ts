// outbox and per-recipient delivery state.
import type { Db } from './db.js';

export interface OutboxRow {
  id: number;
  ticket_id: number | null;
  order_id: number | null;
  template: string;
  automatic: number;
  channel: 'pec' | 'email';
  mailbox: string;
  from_addr: string;
  to_addr: string;
  subject: string;
  body_text: string;
  headers: string;
  attachments: string;
  message_id: string;
  in_reply_to: string | null;
  refs: string | null;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  next_attempt_at: string;
  created_at: string;
  sent_at: string | null;
  sent_to: string | null;
  pec_identificativo: string | null;
  /** Set while a send is in progress (committed before it starts). */
  sending_since: string | null;
  /** When a crash was found to have interrupted a send of this entry. */
  uncertain_at: string | null;
}

export type NewOutboxEntry = Pick<
  OutboxRow,
  'ticket_id' | 'template' | 'channel' | 'mailbox' | 'from_addr' | 'to_addr' | 'subject' | 'body_text' | 'message_id' | 'in_reply_to' | 'refs' | 'created_at'
> & {
  automatic?: boolean;
  headers?: Record<string, string>;
  order_id?: number | null;
  attachments?: OutboxAttachment[];
  status?: 'queued' | 'sent';
  sent_to?: string | null;
};

/** An attachment of an outgoing message; its bytes are in the raw store under sha256. */
export interface OutboxAttachment {
  filename: string;
  contentType: string;
  sha256: string;
}

export function insertOutbox(db: Db, e: NewOutboxEntry): number {
  return Number(
    db
      .prepare(
        `INSERT INTO outbox (ticket_id, template, automatic, channel, mailbox, from_addr, to_addr, subject, body_text,
           headers, message_id, in_reply_to, refs, next_attempt_at, created_at, order_id, attachments, status, sent_at, sent_to, attempts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        e.ticket_id,
        e.template,
        e.automatic === false ? 0 : 1,
        e.channel,
        e.mailbox,
        e.from_addr,
        e.to_addr,
        e.subject,
        e.body_text,
        JSON.stringify(e.headers ?? {}),
        e.message_id,
        e.in_reply_to,
        e.refs,
        e.created_at,
        e.created_at,
        e.order_id ?? null,
        JSON.stringify(e.attachments ?? []),
        e.status ?? 'queued',
        e.status === 'sent' ? e.created_at : null,
        e.sent_to ?? null,
        e.status === 'sent' ? 1 : 0,
      ).lastInsertRowid,
  );
}

export function automaticRepliesSince(db: Db, to: string, sinceIso: string, untilIso: string): number {
  return db
    .prepare('SELECT count(*) FROM outbox WHERE to_addr = ? AND automatic = 1 AND created_at > ? AND created_at <= ?')
    .pluck()
    .get(to, sinceIso, untilIso) as number;
}

export function listOutbox(db: Db, status?: string): OutboxRow[] {
  return (status
    ? db.prepare('SELECT * FROM outbox WHERE status = ? ORDER BY id').all(status)
    : db.prepare('SELECT * FROM outbox ORDER BY id').all()) as OutboxRow[];
}

export function getOutbox(db: Db, id: number): OutboxRow | undefined {
  return db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
}

export function findOutboxByMessageId(db: Db, messageId: string): OutboxRow | undefined {
  return db.prepare('SELECT * FROM outbox WHERE message_id = ?').get(messageId) as OutboxRow | undefined;
}

/** Queued entries to send now: never tried yet, or whose backoff has run out. */
export function findOutboxByPecIdentificativo(db: Db, identificativo: string): OutboxRow | undefined {
  return db.prepare('SELECT * FROM outbox WHERE pec_identificativo = ?').get(identificativo) as OutboxRow | undefined;
}

/**
 * The provider accepted our PEC message under this identificativo. An entry whose send a crash
 * interrupted (still queued, uncertain) is thereby known to have gone: it is settled as sent.
 */
export function setPecIdentificativo(db: Db, id: number, identificativo: string, at?: string): void {
  db.prepare('UPDATE outbox SET pec_identificativo = COALESCE(pec_identificativo, ?) WHERE id = ?').run(identificativo, id);
  db.prepare(
    `UPDATE outbox SET status = 'sent', sent_at = COALESCE(sent_at, ?), sent_to = COALESCE(sent_to, 'pec-accettazione'), last_error = NULL
     WHERE id = ? AND status = 'queued' AND uncertain_at IS NOT NULL AND sending_since IS NULL`,
  ).run(at ?? new Date().toISOString(), id);
}

/**
 * Queued entries to send now (of one mailbox, or all): never tried yet, or whose backoff (or,
 * for an uncertain PEC entry, whose wait for an accettazione) has run out.
 */
/** Entries due now, in id order after `afterId`: a page at a time, never the whole queue in memory. */
export function dueOutbox(db: Db, nowIso: string, mailbox?: string, limit = 100, afterId = 0): OutboxRow[] {
  return db
    .prepare(
      `SELECT * FROM outbox WHERE status = 'queued' AND sending_since IS NULL
         AND ((attempts = 0 AND uncertain_at IS NULL) OR next_attempt_at <= ?) AND (? IS NULL OR mailbox = ?) AND id > ?
       ORDER BY id LIMIT ?`,
    )
    .all(nowIso, mailbox ?? null, mailbox ?? null, afterId, limit) as OutboxRow[];
}

/** Committed before a send starts: a crash from here to markSent leaves the entry uncertain. */
export function markSending(db: Db, id: number, at: string): boolean {
  return db.prepare(`UPDATE outbox SET sending_since = ? WHERE id = ? AND status = 'queued' AND sending_since IS NULL`).run(at, id).changes === 1;
}

export function markSent(db: Db, id: number, at: string, sentTo: string): void {
  db.prepare(
    `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, sent_to = ?, last_error = NULL, sending_since = NULL WHERE id = ?`,
  ).run(at, sentTo, id);
}

export function markAttemptFailed(db: Db, id: number, error: string, nextAttemptAt: string | null): void {
  db.prepare(
    `UPDATE outbox SET attempts = attempts + 1, last_error = ?, sending_since = NULL,
       status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'queued' END,
       next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?`,
  ).run(error, nextAttemptAt, nextAttemptAt, id);
}

export interface UncertainEntry {
  id: number;
  channel: 'pec' | 'email';
  to_addr: string;
  message_id: string;
  sending_since: string;
  next_attempt_at: string;
}

/**
 * At the start of a run (the lease held, so no other sender exists): entries whose send was
 * interrupted by a crash become uncertain; while it runs, only those whose send started before
 * `startedBefore` (another process — `outbox retry` — killed mid-send long ago). E-mail is due again at once (re-sent with the same
 * Message-ID, which receivers de-duplicate); PEC waits until `pecResendAt` for an accettazione.
 */
export function markInterruptedSendsUncertain(db: Db, nowIso: string, pecResendAt: string, startedBefore?: string): UncertainEntry[] {
  return db.transaction(() => {
    const rows = db
      .prepare(
        `SELECT id, channel, to_addr, message_id, sending_since FROM outbox
         WHERE sending_since IS NOT NULL AND status = 'queued' AND (? IS NULL OR sending_since < ?) ORDER BY id`,
      )
      .all(startedBefore ?? null, startedBefore ?? null) as Array<Omit<UncertainEntry, 'next_attempt_at'>>;
    const update = db.prepare(`UPDATE outbox SET sending_since = NULL, uncertain_at = ?, next_attempt_at = ? WHERE id = ?`);
    return rows.map((r) => {
      const next = r.channel === 'pec' ? pecResendAt : nowIso;
      update.run(nowIso, next, r.id);
      return { ...r, next_attempt_at: next };
    });
  }).immediate();
}

export function requeue(db: Db, id: number, nowIso: string): void {
  db.prepare(`UPDATE outbox SET status = 'queued', next_attempt_at = ?, last_error = NULL WHERE id = ?`).run(nowIso, id);
}

export interface RecipientRow {
  outbox_id: number;
  address: string;
  state: string;
  at: string;
  detail: string | null;
}

export function recipients(db: Db, outboxId: number): RecipientRow[] {
  return db.prepare('SELECT * FROM outbox_recipients WHERE outbox_id = ? ORDER BY address').all(outboxId) as RecipientRow[];
}

export function setRecipientState(db: Db, outboxId: number, address: string, state: string, at: string, detail: string | null): void {
  db.prepare(
    `INSERT INTO outbox_recipients (outbox_id, address, state, at, detail) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (outbox_id, address) DO UPDATE SET state = excluded.state, at = excluded.at, detail = excluded.detail`,
  ).run(outboxId, address, state, at, detail);
}
