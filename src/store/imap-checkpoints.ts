// IMAP checkpoints: per mailbox and folder, the UIDVALIDITY and the highest UID below which
// every message is recorded and acknowledged. A changed UIDVALIDITY invalidates it.
import type { Db } from './db.js';

export interface ImapCheckpoint {
  mailbox: string;
  folder: string;
  uidvalidity: string;
  last_uid: number;
  updated_at: string;
}

export function getImapCheckpoint(db: Db, mailbox: string, folder: string): ImapCheckpoint | undefined {
  return db.prepare('SELECT * FROM imap_checkpoints WHERE mailbox = ? AND folder = ?').get(mailbox, folder) as ImapCheckpoint | undefined;
}

export function setImapCheckpoint(db: Db, mailbox: string, folder: string, uidvalidity: string, lastUid: number, at: string): void {
  db.prepare(
    `INSERT INTO imap_checkpoints (mailbox, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (mailbox, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, updated_at = excluded.updated_at`,
  ).run(mailbox, folder, uidvalidity, lastUid, at);
}
