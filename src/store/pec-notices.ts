// pec_notices: every PEC receipt and anomaly, kept as evidence and listed for operators.
import type { PecVerificationProblem } from '../desk/verification.js';
import type { Db } from './db.js';

export interface PecNoticeRow {
  id: number;
  message_id: number;
  kind: 'receipt' | 'anomaly';
  tipo: string | null;
  certified: number;
  /** JSON array of VerificationProblem codes. */
  problems: string;
  /** JSON array of the operator's sentences behind the codes. */
  details: string;
  msgid: string | null;
  identificativo: string | null;
  daticert: string | null;
  outbox_id: number | null;
  applied: number;
  received_at: string | null;
  at: string;
}

export function insertPecNotice(
  db: Db,
  n: {
    messageRowId: number; kind: 'receipt' | 'anomaly'; tipo: string | null; certified: boolean; problems: readonly PecVerificationProblem[]; details: string[];
    msgid: string | null;
    identificativo: string | null; daticert: unknown; outboxId: number | null; applied: boolean; receivedAt: string; at: string;
  },
): number {
  return Number(
    db
      .prepare(
        `INSERT INTO pec_notices (message_id, kind, tipo, certified, problems, details, msgid, identificativo, daticert, outbox_id, applied, received_at, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        n.messageRowId, n.kind, n.tipo, n.certified ? 1 : 0, JSON.stringify(n.problems), JSON.stringify(n.details), n.msgid, n.identificativo,
        n.daticert ? JSON.stringify(n.daticert) : null, n.outboxId, n.applied ? 1 : 0, n.receivedAt, n.at,
      ).lastInsertRowid,
  );
}

export function listPecNotices(db: Db, filter: { kind?: string; uncorrelated?: boolean }): PecNoticeRow[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.kind) (where.push('kind = ?'), args.push(filter.kind));
  if (filter.uncorrelated) where.push('outbox_id IS NULL');
  return db
    .prepare(`SELECT * FROM pec_notices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`)
    .all(...args) as PecNoticeRow[];
}
