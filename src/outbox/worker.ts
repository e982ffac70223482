// Outbox delivery: every queued entry is composed (nodemailer) and sent through its mailbox's
// transport — SMTP when configured, else an .eml file in outboxDir. Failures retry with
// exponential backoff; the queue lives in SQLite, so it survives outages and restarts.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { MailboxName } from '../config/load.js';
import type { Desk } from '../runtime/context.js';
import { fsyncDir } from '../store/raw-store.js';
import { dueOutbox, markAttemptFailed, markSent, type OutboxAttachment, type OutboxRow } from '../store/outbox.js';

export interface DrainReport {
  sent: Array<{ id: number; to: string; via: string }>;
  failed: Array<{ id: number; to: string; error: string; final: boolean }>;
}

export async function composeOutboxMessage(desk: Desk, e: OutboxRow, date: Date, bodyText = e.body_text): Promise<Buffer> {
  const headers = JSON.parse(e.headers) as Record<string, string>;
  const attachments = (JSON.parse(e.attachments) as OutboxAttachment[]).map((a) => ({
    filename: a.filename,
    contentType: a.contentType,
    content: desk.raw.get(a.sha256),
  }));
  const mail = new MailComposer({
    from: { name: desk.cfg.desk.name, address: e.from_addr },
    to: e.to_addr,
    subject: e.subject,
    text: bodyText,
    attachments,
    messageId: e.message_id,
    inReplyTo: e.in_reply_to ?? undefined,
    references: e.refs ?? undefined,
    date,
    headers,
    textEncoding: 'quoted-printable',
  });
  return mail.compile().build();
}

function backoffSeconds(desk: Desk, attempts: number): number {
  return Math.min(desk.cfg.daemon.outboxRetryBaseSeconds * 2 ** attempts, 6 * 3600);
}

export async function deliver(desk: Desk, e: Pick<OutboxRow, 'id' | 'mailbox' | 'from_addr' | 'to_addr' | 'subject' | 'template'>, raw: Buffer): Promise<string> {
  const mb = desk.cfg.mailboxes[e.mailbox as MailboxName];
  if (mb.smtp) {
    const transport = nodemailer.createTransport({
      host: mb.smtp.host,
      port: mb.smtp.port,
      secure: mb.smtp.secure,
      auth: mb.smtp.user ? { user: mb.smtp.user, pass: mb.smtp.pass ?? '' } : undefined,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
    });
    try {
      await transport.sendMail({ envelope: { from: e.from_addr, to: [e.to_addr] }, raw });
    } finally {
      transport.close();
    }
    return `smtp://${mb.smtp.host}:${mb.smtp.port}`;
  }
  const dir = mb.outboxDir!;
  mkdirSync(dir, { recursive: true });
  const ticketPart = /\[(HD-\d{4}-\d{6})\]/.exec(e.subject)?.[1] ?? e.template;
  const file = path.join(dir, `${String(e.id).padStart(6, '0')}-${ticketPart}.eml`);
  if (!existsSync(file)) {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, raw, { flush: true });
    renameSync(tmp, file);
    fsyncDir(dir);
  }
  return file;
}

/** Send every due entry once. */
export async function drainOutbox(desk: Desk, now: Date, onlyId?: number): Promise<DrainReport> {
  const report: DrainReport = { sent: [], failed: [] };
  for (const e of dueOutbox(desk.db, now.toISOString())) {
    if (onlyId !== undefined && e.id !== onlyId) continue;
    try {
      const raw = await composeOutboxMessage(desk, e, now);
      const via = await deliver(desk, e, raw);
      markSent(desk.db, e.id, now.toISOString(), via);
      report.sent.push({ id: e.id, to: e.to_addr, via });
      desk.log.info({ outbox: e.id, to: e.to_addr, template: e.template, via }, 'reply sent');
    } catch (err) {
      const error = (err as Error).message;
      const final = e.attempts + 1 >= desk.cfg.daemon.outboxMaxAttempts;
      const next = final ? null : new Date(now.getTime() + backoffSeconds(desk, e.attempts) * 1000).toISOString();
      markAttemptFailed(desk.db, e.id, error, next);
      report.failed.push({ id: e.id, to: e.to_addr, error, final });
      desk.log.warn({ outbox: e.id, to: e.to_addr, error, nextAttemptAt: next }, final ? 'reply failed for good' : 'reply send failed, will retry');
    }
  }
  return report;
}
