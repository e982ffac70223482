// quarantine: messages that could not be processed, with their reason.
import type { Db } from './db.js';

export interface QuarantineRow {
  id: number;
  message_id: number;
  file: string | null;
  mailbox: string;
  reason: string;
  detail: string | null;
  at: string;
  status: 'open' | 'released';
  released_at: string | null;
}

export function quarantineMessage(
  db: Db,
  q: { messageRowId: number; file: string | null; mailbox: string; reason: string; detail: string | null; at: string },
): number {
  return Number(
    db
      .prepare('INSERT INTO quarantine (message_id, file, mailbox, reason, detail, at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(q.messageRowId, q.file, q.mailbox, q.reason, q.detail, q.at).lastInsertRowid,
  );
}

export function listQuarantine(db: Db, includeReleased = false): QuarantineRow[] {
  return db
    .prepare(`SELECT * FROM quarantine ${includeReleased ? '' : "WHERE status = 'open'"} ORDER BY id`)
    .all() as QuarantineRow[];
}

export function getQuarantine(db: Db, id: number): QuarantineRow | undefined {
  return db.prepare('SELECT * FROM quarantine WHERE id = ?').get(id) as QuarantineRow | undefined;
}

export function openQuarantineFor(db: Db, messageRowId: number): QuarantineRow | undefined {
  return db
    .prepare(`SELECT * FROM quarantine WHERE message_id = ? AND status = 'open' ORDER BY id DESC LIMIT 1`)
    .get(messageRowId) as QuarantineRow | undefined;
}

export function releaseQuarantine(db: Db, id: number, at: string): void {
  db.prepare(`UPDATE quarantine SET status = 'released', released_at = ? WHERE id = ?`).run(at, id);
}
