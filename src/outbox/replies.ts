// The one place outgoing mail of the desk is composed (SPEC §5): answers to a message, notices
// on the desk's own initiative (order letters, resolutions), and messages to the desk's staff
// (on-call, second level). Same headers, threading and subject rules for all of them.
import type { MailboxName } from '../config/load.js';
import { replySubject } from '../desk/refs.js';
import type { Channel } from '../desk/types.js';
import { threadKey } from '../mail/parse.js';
import { deskMessageId, type Desk } from '../runtime/context.js';
import { insertOutbox, type NewOutboxEntry, type OutboxAttachment } from '../store/outbox.js';
import { addThreadKey, addTicketEvent } from '../store/tickets.js';
import { renderTemplate } from './templates.js';

/**
 * reply: answers a message (Auto-Submitted: auto-replied, threaded on it); notice: to the
 * customer on the desk's initiative (auto-generated); letter: sent by an operator's command
 * (an order step: not automatic mail); internal: to the desk's own people.
 */
export type OutgoingKind = 'reply' | 'notice' | 'letter' | 'internal';

export interface OutgoingSpec {
  template: string;
  /** Template values; deskName and ref (when there is a ticket) are added. */
  vars: Record<string, string>;
  to: string;
  /** `pec` goes out through the PEC mailbox and asks for the complete delivery receipt. */
  channel: Channel;
  kind: OutgoingKind;
  ticket: { id: number; ref: string } | null;
  orderId?: number | null;
  /** The message answered (kind reply). */
  answering?: { subject: string; messageId: string | null; references: string[] } | null;
  /** The subject when not answering a message. */
  subject?: string;
  attachments?: OutboxAttachment[];
  at: string;
  /** Counted against the per-sender limit of automatic replies (default: replies and notices). */
  automatic?: boolean;
  /** Write the `reply-queued` event on the ticket (default true; the caller may write its own). */
  recordEvent?: boolean;
}

/** Subjects are capped: a 55,000-character subject must not come back in a reply. */
const MAX_SUBJECT = 250;
/** The quoted subject leaves room for "Re: " and the " [HD-YYYY-NNNNNN]" reference threading relies on. */
const MAX_QUOTED_SUBJECT = 200;
const cap = (s: string, max = MAX_SUBJECT) => ([...s].length > max ? `${[...s].slice(0, max - 1).join('')}…` : s);

export function composeOutgoing(desk: Desk, spec: OutgoingSpec): NewOutboxEntry {
  const mailboxName: MailboxName = spec.channel === 'pec' ? 'pec' : 'support';
  const mailbox = desk.cfg.mailboxes[mailboxName];
  const a = spec.answering ?? null;
  const ref = spec.ticket?.ref ?? null;
  const quoted = a ? cap(a.subject, MAX_QUOTED_SUBJECT) : '';
  const subject = a ? (ref ? replySubject(quoted, ref) : `Re: ${quoted}`) : cap(spec.subject ?? '');
  return {
    ticket_id: spec.ticket?.id ?? null,
    order_id: spec.orderId ?? null,
    template: spec.template,
    channel: spec.channel,
    mailbox: mailboxName,
    from_addr: mailbox.address,
    to_addr: spec.to,
    subject,
    body_text: renderTemplate(spec.template, desk.templateDirs, {
      deskName: desk.cfg.desk.name,
      ...(ref ? { ref } : {}),
      ...spec.vars,
      // The subject is quoted in the body too: capped there as well.
      ...(spec.vars.subject !== undefined ? { subject: cap(spec.vars.subject) } : {}),
    }),
    message_id: deskMessageId(desk, mailbox.address),
    in_reply_to: a?.messageId ?? null,
    refs: a ? [...a.references, ...(a.messageId ? [a.messageId] : [])].join(' ') || null : null,
    created_at: spec.at,
    automatic: spec.automatic ?? (spec.kind === 'reply' || spec.kind === 'notice'),
    headers: {
      ...(spec.kind === 'letter' ? {} : { 'Auto-Submitted': spec.kind === 'reply' ? 'auto-replied' : 'auto-generated', 'X-Auto-Response-Suppress': 'All' }),
      // PEC: ask for the complete delivery receipt (it carries the message back as evidence).
      ...(spec.channel === 'pec' ? { 'X-TipoRicevuta': 'completa' } : {}),
    },
    attachments: spec.attachments ?? [],
  };
}

/**
 * Queue an outgoing message in the caller's transaction: the outbox entry, its Message-ID as a
 * thread key of the ticket (answers to it thread), and a `reply-queued` event.
 */
export function queueOutgoing(desk: Desk, spec: OutgoingSpec): { outboxId: number; messageId: string; entry: NewOutboxEntry } {
  const entry = composeOutgoing(desk, spec);
  const outboxId = insertOutbox(desk.db, entry);
  if (spec.ticket) {
    if (spec.kind !== 'internal') addThreadKey(desk.db, threadKey(entry.message_id), spec.ticket.id);
    if (spec.recordEvent !== false) addTicketEvent(desk.db, {
      ticketId: spec.ticket.id, at: spec.at, type: 'reply-queued', actor: 'system',
      detail: { template: spec.template, outboxId, to: spec.to, messageId: entry.message_id },
    });
  }
  return { outboxId, messageId: entry.message_id, entry };
}
