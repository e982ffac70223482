// Operator steps of the order workflow (SPEC §2.1): send the Progetto, countersign with the
// Help Desk PINs, activate. Each is one transition with its event, its evidence (file hash)
// and its PEC to the Administration.
import { calendarFor } from '../desk/calendar.js';
import { administrationCalendar } from '../store/directory.js';
import path from 'node:path';
import { nextState, type OrderState } from '../desk/orders.js';
import { generatePin, hashPin } from '../desk/pins.js';
import { threadKey } from '../mail/parse.js';
import { composeOutgoing } from '../outbox/replies.js';
import { composeOutboxMessage, deliver } from '../outbox/worker.js';
import { describeServiceHours, formatItalianDateTime, renderTemplate } from '../outbox/templates.js';
import type { Desk } from '../runtime/context.js';
import { getOutbox, insertOutbox, type NewOutboxEntry, type OutboxRow } from '../store/outbox.js';
import { addOrderDocument, addOrderEvent, getOrderByRef, insertPin, updateOrder, type OrderRow } from '../store/orders.js';
import { addThreadKey, addTicketEvent, getTicket, type TicketRow } from '../store/tickets.js';

export class OrderActionError extends Error {}

function orderOrThrow(desk: Desk, ref: string): OrderRow {
  const o = getOrderByRef(desk.db, ref);
  if (!o) throw new OrderActionError(`no order ${ref}`);
  return o;
}

function adminName(desk: Desk, o: OrderRow): string {
  return (o.administration_id && (desk.db.prepare('SELECT name FROM administrations WHERE id = ?').pluck().get(o.administration_id) as string)) || (o.requester ?? '');
}

interface Letter {
  template: string;
  vars: Record<string, string>;
  attachment: { filename: string; bytes: Buffer; contentType: string } | null;
}

function render(desk: Desk, o: OrderRow, l: Letter): string {
  return renderTemplate(l.template, desk.templateDirs, { deskName: desk.cfg.desk.name, orderRef: o.ref, administrationName: adminName(desk, o), ...l.vars });
}

/** The outbox entry of a PEC to the order's Administration (not yet inserted), with `body`. */
function letterEntry(desk: Desk, o: OrderRow, l: Letter, at: string, body: string): { ticket: TicketRow | undefined; sha256: string | null; entry: NewOutboxEntry } {
  const ticket = o.ticket_id ? getTicket(desk.db, o.ticket_id) : undefined;
  const sha256 = l.attachment ? desk.raw.put(l.attachment.bytes) : null;
  const entry = composeOutgoing(desk, {
    template: l.template,
    vars: { orderRef: o.ref, administrationName: adminName(desk, o), ...l.vars },
    to: o.requester ?? '',
    channel: 'pec',
    kind: 'letter',
    ticket: ticket ?? null,
    orderId: o.id,
    subject: `Ordine ${o.ref}${ticket ? ` [${ticket.ref}]` : ''}`,
    attachments: l.attachment && sha256 ? [{ filename: l.attachment.filename, contentType: l.attachment.contentType, sha256 }] : [],
    at,
  });
  return { ticket, sha256, entry: { ...entry, body_text: body } };
}

/** Move the order and queue its PEC, in one transaction. */
function stepWithLetter(desk: Desk, o: OrderRow, action: 'send-progetto' | 'activate', l: Letter, now: Date, detail: Record<string, unknown>): OutboxRow {
  const at = now.toISOString();
  const to = nextState(o.state as OrderState, action);
  return desk.db.transaction(() => {
    const { ticket, sha256, entry } = letterEntry(desk, o, l, at, render(desk, o, l));
    const outboxId = insertOutbox(desk.db, entry);
    if (ticket) addThreadKey(desk.db, threadKey(entry.message_id), ticket.id);
    updateOrder(desk.db, o.id, { state: to, at });
    addOrderEvent(desk.db, { orderId: o.id, at, type: action, actor: 'operator', detail: { from: o.state, to, outboxId, ...detail } });
    if (l.attachment && sha256) {
      addOrderDocument(desk.db, { orderId: o.id, kind: action === 'send-progetto' ? 'progetto' : 'notice', filename: l.attachment.filename, sha256, size: l.attachment.bytes.length, outboxId, at });
    }
    if (ticket) addTicketEvent(desk.db, { ticketId: ticket.id, at, type: action, actor: 'operator', detail: { order: o.ref, outboxId } });
    return getOutbox(desk.db, outboxId)!;
  })();
}

export function sendProgetto(desk: Desk, ref: string, file: string, bytes: Buffer, now: Date): OutboxRow {
  const o = orderOrThrow(desk, ref);
  nextState(o.state as OrderState, 'send-progetto');
  if (!bytes.subarray(0, 1024).includes('%PDF-')) throw new OrderActionError(`${file}: not a PDF`);
  const filename = path.basename(file);
  return stepWithLetter(desk, o, 'send-progetto', {
    template: 'progetto-delivery', vars: { filename, sha256: desk.raw.put(bytes) },
    attachment: { filename, bytes, contentType: 'application/pdf' },
  }, now, { filename });
}

export function activate(desk: Desk, ref: string, now: Date): OutboxRow {
  const o = orderOrThrow(desk, ref);
  nextState(o.state as OrderState, 'activate');
  const piano = o.piano ? (JSON.parse(o.piano) as { services?: Array<{ code: string; quantity: number | null }> }) : {};
  return stepWithLetter(desk, o, 'activate', {
    template: 'activation', attachment: null,
    vars: {
      activatedAt: formatItalianDateTime(now, desk.cfg.timezone),
      servicesList: (piano.services ?? []).map((s) => `- ${s.code}: ${s.quantity ?? '?'}`).join('\n'),
      supportAddress: desk.cfg.mailboxes.support.address,
      serviceHours: describeServiceHours(calendarFor(desk.rules, administrationCalendar(desk.db, o.administration_id))),
    },
  }, now, {});
}

/**
 * Countersign: the PEC carries the two new PINs, which are never stored in clear — so it is
 * sent now, and only once it has gone are the PIN hashes, the outbox record (with the PINs
 * masked) and the transition committed. If sending fails nothing is recorded; run it again.
 */
export async function countersign(desk: Desk, ref: string, file: string, bytes: Buffer, portalUrl: string, now: Date): Promise<{ outbox: OutboxRow; pins: { referent: string; generic: string } }> {
  const o = orderOrThrow(desk, ref);
  const to = nextState(o.state as OrderState, 'countersign');
  if (!o.administration_id) throw new OrderActionError(`order ${ref} has no administration to issue PINs to`);
  const at = now.toISOString();
  const pins = { referent: generatePin(), generic: generatePin() };
  const filename = path.basename(file);
  const letter: Letter = {
    template: 'countersigned', vars: { portalUrl, referentPin: pins.referent, genericPin: pins.generic },
    attachment: { filename, bytes, contentType: /\.p7m$/i.test(filename) ? 'application/pkcs7-mime' : 'application/pdf' },
  };
  const { ticket, sha256, entry } = letterEntry(desk, o, letter, at, render(desk, o, letter));
  const masked = render(desk, o, { ...letter, vars: { ...letter.vars, referentPin: '••••••', genericPin: '••••••' } });
  const draft = {
    ...entry, id: 0, status: 'queued', attempts: 0, last_error: null, next_attempt_at: at, sent_at: null, sent_to: null, pec_identificativo: null,
    automatic: 0, order_id: o.id, headers: JSON.stringify(entry.headers), attachments: JSON.stringify(entry.attachments),
  } as OutboxRow;
  const raw = await composeOutboxMessage(desk, draft, now);
  // A fresh name per attempt: a failed earlier attempt's file must not stand in for this one.
  const sentTo = await deliver(desk, { ...draft, id: Date.now() }, raw);
  const outbox = desk.db.transaction(() => {
    const outboxId = insertOutbox(desk.db, { ...entry, body_text: masked, status: 'sent', sent_to: sentTo });
    if (ticket) addThreadKey(desk.db, threadKey(entry.message_id), ticket.id);
    insertPin(desk.db, { administrationId: o.administration_id!, kind: 'referent', hash: hashPin(pins.referent), orderId: o.id, at });
    insertPin(desk.db, { administrationId: o.administration_id!, kind: 'generic', hash: hashPin(pins.generic), orderId: o.id, at });
    updateOrder(desk.db, o.id, { state: to, at });
    addOrderEvent(desk.db, { orderId: o.id, at, type: 'countersign', actor: 'operator', detail: { from: o.state, to, outboxId, filename, sha256, pinsIssued: ['referent', 'generic'] } });
    addOrderDocument(desk.db, { orderId: o.id, kind: 'countersigned', filename, sha256: sha256!, size: bytes.length, outboxId, at });
    if (ticket) addTicketEvent(desk.db, { ticketId: ticket.id, at, type: 'countersign', actor: 'operator', detail: { order: o.ref, outboxId } });
    return getOutbox(desk.db, outboxId)!;
  })();
  return { outbox, pins };
}
