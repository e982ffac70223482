// Outbox delivery: every queued entry is composed (nodemailer) and sent through its mailbox's
// transport — SMTP when configured, else an .eml file in outboxDir. Temporary failures retry
// with exponential backoff, a 5xx answer is final; the queue lives in SQLite, so it survives
// outages and restarts, and a send interrupted by a crash is found at the next start.
import { existsSync } from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { isLoopbackHost, type MailboxName, type SmtpConfig } from '../config/load.js';
import { AccessTokenSource } from '../mail/oauth.js';
import type { Desk } from '../runtime/context.js';
import { writeFileDurably, writeFilesDurably } from '../store/raw-store.js';
import { dueOutbox, markAttemptFailed, markSending, markSent, type OutboxAttachment, type OutboxRow } from '../store/outbox.js';

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

/** nodemailer options for a mailbox's SMTP server: its own timeouts, TLS required off loopback. */
export function smtpTransportOptions(smtp: SmtpConfig, auth: { user: string; pass?: string; accessToken?: string } | undefined) {
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure && !isLoopbackHost(smtp.host),
    auth: auth ? (auth.accessToken ? { type: 'OAuth2' as const, user: auth.user, accessToken: auth.accessToken } : { user: auth.user, pass: auth.pass ?? '' }) : undefined,
    connectionTimeout: smtp.connectionTimeoutSeconds * 1000,
    greetingTimeout: smtp.greetingTimeoutSeconds * 1000,
    socketTimeout: smtp.socketTimeoutSeconds * 1000,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized },
  };
}

/** The login for a mailbox's SMTP server (an OAuth2 token fetched now when configured). */
export async function smtpAuth(smtp: SmtpConfig, tokens: AccessTokenSource | null) {
  if (!smtp.user) return undefined;
  if (smtp.oauth2 && tokens) return { user: smtp.user, accessToken: await tokens.token() };
  return { user: smtp.user, pass: smtp.pass };
}

/** An SMTP server's answer, as the outbox records it (code and text, no stack). */
export function smtpError(err: unknown): { text: string; permanent: boolean } {
  const e = err as Error & { responseCode?: number; response?: string; code?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  const text = e.response ? `${e.response}`.slice(0, 500) : `${e.code ? `${e.code}: ` : ''}${e.message}`;
  return { text, permanent: code !== null && code >= 500 && code < 600 };
}

/**
 * One pooled nodemailer transport per mailbox (the PEC mailbox's SMTP for PEC replies): a slow
 * or silent server holds only its own mailbox's replies. close() ends its sockets, in-flight
 * sends included (the stop deadline).
 */
export class MailboxTransports {
  private readonly transports = new Map<MailboxName, { transport: Transporter; token: string | null }>();
  private readonly tokens = new Map<MailboxName, AccessTokenSource>();

  constructor(private readonly desk: Desk) {}

  tokenSource(mailbox: MailboxName): AccessTokenSource | null {
    const smtp = this.desk.cfg.mailboxes[mailbox].smtp;
    if (!smtp?.oauth2) return null;
    let t = this.tokens.get(mailbox);
    if (!t) this.tokens.set(mailbox, (t = new AccessTokenSource(smtp.oauth2, `mailboxes.${mailbox}.smtp`)));
    return t;
  }

  async send(mailbox: MailboxName, envelope: { from: string; to: string }, raw: Buffer): Promise<string> {
    const smtp = this.desk.cfg.mailboxes[mailbox].smtp!;
    const auth = await smtpAuth(smtp, this.tokenSource(mailbox));
    const token = auth?.accessToken ?? null;
    let t = this.transports.get(mailbox);
    if (t && t.token !== token) {
      t.transport.close();
      t = undefined;
    }
    if (!t) {
      t = { transport: nodemailer.createTransport({ ...smtpTransportOptions(smtp, auth), pool: true, maxConnections: 1, maxMessages: 100 }), token };
      this.transports.set(mailbox, t);
    }
    await t.transport.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw });
    return `smtp://${smtp.host}:${smtp.port}`;
  }

  close(): void {
    for (const t of this.transports.values()) t.transport.close();
    this.transports.clear();
  }
}

/** Where a reply goes when its mailbox has no SMTP: a file in outboxDir, named by entry and ticket. */
function outboxFile(desk: Desk, e: Pick<OutboxRow, 'id' | 'mailbox' | 'subject' | 'template'>): string {
  const dir = desk.cfg.mailboxes[e.mailbox as MailboxName].outboxDir!;
  const ticketPart = /\[(HD-\d{4}-\d{6})\]/.exec(e.subject)?.[1] ?? e.template;
  return path.join(dir, `${String(e.id).padStart(6, '0')}-${ticketPart}.eml`);
}

/** Send one message now, through the mailbox's SMTP or into its outboxDir (operator actions). */
export async function deliver(desk: Desk, e: Pick<OutboxRow, 'id' | 'mailbox' | 'from_addr' | 'to_addr' | 'subject' | 'template'>, raw: Buffer, transports?: MailboxTransports): Promise<string> {
  const mailbox = e.mailbox as MailboxName;
  if (!desk.cfg.mailboxes[mailbox].smtp) {
    // Idempotent by name: a reply written before a crash is not written twice.
    const file = outboxFile(desk, e);
    if (!existsSync(file)) writeFileDurably(file, raw);
    return file;
  }
  const own = transports ?? new MailboxTransports(desk);
  try {
    return await own.send(mailbox, { from: e.from_addr, to: e.to_addr }, raw);
  } finally {
    if (!transports) own.close();
  }
}

export interface DrainOptions {
  /** Only this entry (`outbox retry`). */
  onlyId?: number;
  /** Only this mailbox's entries (the daemon runs one drain loop per mailbox). */
  mailbox?: MailboxName;
  /** Reused transports (the daemon's); one-off ones are closed at the end. */
  transports?: MailboxTransports;
  /** Checked between entries: stop early (SIGTERM). */
  shouldStop?: () => boolean;
}

/** Entries read from the queue at a time: the drain's memory is bounded by a page, not the queue. */
const OUTBOX_PAGE = 100;

/** Send every due entry once. */
export async function drainOutbox(desk: Desk, now: Date, opts: DrainOptions = {}): Promise<DrainReport> {
  const report: DrainReport = { sent: [], failed: [] };
  const transports = opts.transports ?? new MailboxTransports(desk);
  try {
    let after = 0;
    while (!opts.shouldStop?.()) {
      const page = dueOutbox(desk.db, now.toISOString(), opts.mailbox, OUTBOX_PAGE, after);
      if (page.length === 0) break;
      after = page.at(-1)!.id;
      const due = opts.onlyId === undefined ? page : page.filter((e) => e.id === opts.onlyId);
      const viaSmtp = (e: OutboxRow) => Boolean(desk.cfg.mailboxes[e.mailbox as MailboxName].smtp);
      await writeFiles(desk, due.filter((e) => !viaSmtp(e)), now, report);
      for (const e of due.filter(viaSmtp)) {
        if (opts.shouldStop?.()) break;
        await sendEntry(desk, e, now, transports, report, opts.shouldStop);
      }
    }
  } finally {
    if (!opts.transports) transports.close();
  }
  return report;
}

/**
 * Replies that go to outboxDir files, a page at a time (group commit): taken in one
 * transaction, each file written and fsynced, each directory fsynced once, then all marked sent
 * in one transaction. A crash in between leaves them "sending": uncertain at the next start and
 * written again under the same name and Message-ID.
 */
async function writeFiles(desk: Desk, entries: OutboxRow[], now: Date, report: DrainReport): Promise<void> {
  if (entries.length === 0) return;
  const takenAt = new Date().toISOString();
  const taken = desk.db.transaction(() => entries.filter((e) => markSending(desk.db, e.id, takenAt))).immediate();
  const written: Array<{ e: OutboxRow; file: string; bytes?: Buffer }> = [];
  for (const e of taken) {
    try {
      const file = outboxFile(desk, e);
      // Idempotent by name: a reply written before a crash is not written twice.
      written.push(existsSync(file) ? { e, file } : { e, file, bytes: await composeOutboxMessage(desk, e, now) });
    } catch (err) {
      recordFailure(desk, e, now, smtpError(err), report);
    }
  }
  await writeFilesDurably(written.flatMap(({ file, bytes }) => (bytes ? [{ file, bytes }] : [])));
  desk.db.transaction(() => {
    for (const { e, file } of written) markSent(desk.db, e.id, now.toISOString(), file);
  }).immediate();
  for (const { e, file } of written) {
    report.sent.push({ id: e.id, to: e.to_addr, via: file });
    desk.log.info({ outbox: e.id, messageId: e.message_id, to: e.to_addr, template: e.template, via: file, ...(e.uncertain_at ? { resentAfterUncertain: true } : {}) }, 'reply sent');
  }
}

async function sendEntry(desk: Desk, e: OutboxRow, now: Date, transports: MailboxTransports, report: DrainReport, stopping?: () => boolean): Promise<void> {
  const log = desk.log.child({ outbox: e.id, messageId: e.message_id });
  // Taken by this sender (committed): a crash from here until the outcome is recorded leaves
  // the entry uncertain for the next run, never silently sent twice.
  if (!markSending(desk.db, e.id, new Date().toISOString())) return;
  try {
    const raw = await composeOutboxMessage(desk, e, now);
    const via = await deliver(desk, e, raw, transports);
    markSent(desk.db, e.id, now.toISOString(), via);
    report.sent.push({ id: e.id, to: e.to_addr, via });
    log.info({ to: e.to_addr, template: e.template, via, ...(e.uncertain_at ? { resentAfterUncertain: true } : {}) }, 'reply sent');
  } catch (err) {
    const { text, permanent } = smtpError(err);
    if (stopping?.()) {
      // Cut off by the stop: the server may or may not have taken it. Left "sending", as a crash
      // would leave it; the daemon's sweep (at the stop deadline, else at the next start) makes it uncertain.
      log.warn({ to: e.to_addr, error: text }, 'send cut off by the stop');
      return;
    }
    recordFailure(desk, e, now, { text, permanent }, report);
  }
}

/** A failed attempt: retried with backoff, or failed for good (a 5xx, or out of attempts). */
function recordFailure(desk: Desk, e: OutboxRow, now: Date, { text, permanent }: { text: string; permanent: boolean }, report: DrainReport): void {
  const final = permanent || e.attempts + 1 >= desk.cfg.daemon.outboxMaxAttempts;
  const next = final ? null : new Date(now.getTime() + backoffSeconds(desk, e.attempts) * 1000).toISOString();
  markAttemptFailed(desk.db, e.id, text, next);
  report.failed.push({ id: e.id, to: e.to_addr, error: text, final });
  desk.log.warn({ outbox: e.id, messageId: e.message_id, to: e.to_addr, error: text, nextAttemptAt: next }, final ? 'reply failed for good' : 'reply send failed, will retry');
}
