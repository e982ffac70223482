// The one place an incoming message's plan (src/desk/plan.ts) is carried out: every effect, the
// duplicate check and the message's outcome in ONE immediate transaction, so two processes
// handling the same message cannot both act on it, and nothing is half-written.
import type { Effect, OrderHandle, Plan, PlanOutcome, PlannedMessage, TicketHandle } from '../desk/plan.js';
import { formatOrderRef, formatTicketRef } from '../desk/refs.js';
import type { IngestResult, TicketSummary } from '../intake/result.js';
import { queueOutgoing } from '../outbox/replies.js';
import type { Desk } from '../runtime/context.js';
import { nextNumber } from './counters.js';
import { findMessageIdReuse, findOriginal, finishMessage, getMessage, type MessageRow } from './messages.js';
import { insertAdministrationFromPiano } from './directory.js';
import { addOrderDocument, addOrderEvent, getOrder, insertOrder, updateOrder } from './orders.js';
import { setPecIdentificativo, setRecipientState } from './outbox.js';
import { insertPecNotice } from './pec-notices.js';
import { openQuarantineFor, releaseQuarantine } from './quarantine.js';
import { addThreadKey, addTicketEvent, getTicket, insertTicket, recordTransition, type TicketRow } from './tickets.js';

export function ticketSummary(t: TicketRow): TicketSummary {
  return {
    ref: t.ref,
    kind: t.kind,
    category: t.category,
    priority: t.priority,
    takeChargeDueAt: t.take_charge_due_at,
    authorized: t.authorized === 1,
    authorizationReason: t.authorization_reason,
    onCall: t.on_call === 1,
  };
}

/** What a message already finished reports when it comes again (never acted on twice). */
export function replayedResult(desk: Desk, row: MessageRow): IngestResult {
  const before = row.result ? (JSON.parse(row.result) as IngestResult) : null;
  const ticket = row.ticket_id ? getTicket(desk.db, row.ticket_id) : undefined;
  return {
    file: row.file,
    messageId: row.message_id,
    classification: 'duplicate',
    // Results recorded before verificationProblems existed lack it.
    sender: before?.sender ? { ...before.sender, verificationProblems: before.sender.verificationProblems ?? [] } : { address: row.sender, verification: 'unverified', verificationProblems: [] },
    ticket: null,
    order: null,
    reply: null,
    duplicateOf: { recordedAt: row.recorded_at, ticketRef: ticket?.ref ?? null },
  };
}

/** The ticket ids an outcome refers to, once the store has assigned them. */
export interface ResolvedOutcome {
  classification: PlanOutcome['classification'];
  ticketId: number | null;
  order: IngestResult['order'];
  reply: PlanOutcome['reply'];
}

/**
 * Run `body` in one immediate transaction after the duplicate checks, then finish the message
 * row with its outcome: a message already finished by someone else is reported, not redone; a
 * repeat of an earlier message records the `duplicate` outcome instead of running `body`.
 */
function inIntakeTransaction(desk: Desk, row: MessageRow, message: PlannedMessage, nowIso: string, body: () => ResolvedOutcome): IngestResult {
  return desk.db
    .transaction((): IngestResult => {
      const current = getMessage(desk.db, row.id);
      // Finished meanwhile (another process, a restart before acknowledging): nothing more to do.
      if (current && current.status === 'processed') return replayedResult(desk, current);
      const key = message.duplicateKey;
      const original = findOriginal(desk.db, row.id, row.sha256, key.messageId, key.sender, key.content);
      if (original) {
        const t = original.ticket_id ? getTicket(desk.db, original.ticket_id) : undefined;
        return finish(desk, row, message, nowIso, { classification: 'duplicate', ticketId: null, order: null, reply: null }, original.id, {
          duplicateOf: { recordedAt: original.recorded_at, ticketRef: t?.ref ?? null },
        });
      }
      // The same Message-ID and sender with other content is a new message: processed, and noted.
      const reused = findMessageIdReuse(desk.db, row.id, key.messageId, key.sender, key.content);
      const outcome = body();
      if (!reused) return finish(desk, row, message, nowIso, outcome, null, {});
      const messageIdReuseOf = { recordedAt: reused.recorded_at, ticketRef: reused.ticket_id ? (getTicket(desk.db, reused.ticket_id)?.ref ?? null) : null };
      if (outcome.ticketId !== null) {
        addTicketEvent(desk.db, {
          ticketId: outcome.ticketId, at: nowIso, type: 'message-id-reused', actor: 'system', messageRowId: row.id,
          detail: { messageId: key.messageId, earlier: messageIdReuseOf },
        });
      }
      return finish(desk, row, message, nowIso, outcome, null, { messageIdReuseOf });
    })
    .immediate();
}

function finish(
  desk: Desk, row: MessageRow, message: PlannedMessage, nowIso: string, o: ResolvedOutcome, duplicateOf: number | null, extra: Partial<IngestResult>,
): IngestResult {
  const ticket = o.ticketId !== null ? getTicket(desk.db, o.ticketId) : undefined;
  const result: IngestResult = {
    file: row.file,
    messageId: message.messageId,
    classification: o.classification,
    sender: { address: message.sender, verification: message.verification, verificationProblems: message.verificationProblems },
    ticket: ticket ? ticketSummary(ticket) : null,
    order: o.order,
    reply: o.reply,
    ...extra,
  };
  // Processed at last (a quarantine retry): its quarantine entry is done with.
  const open = openQuarantineFor(desk.db, row.id);
  if (open) releaseQuarantine(desk.db, open.id, nowIso);
  finishMessage(desk.db, row.id, {
    messageId: message.messageId,
    sender: message.sender,
    subject: message.subject,
    receivedAt: message.receivedAt,
    status: 'processed',
    classification: o.classification,
    duplicateOf,
    ticketId: ticket?.id ?? null,
    result,
    contentSha256: message.duplicateKey.content,
  });
  return result;
}

/** Carry out a plan: duplicate check, every effect, the message's outcome — one immediate transaction. */
export function applyPlan(desk: Desk, row: MessageRow, plan: Plan, nowIso: string): IngestResult {
  return inIntakeTransaction(desk, row, plan.message, nowIso, () => {
    const ids = applyEffects(desk, row, plan.effects, nowIso);
    const o = plan.result.order;
    return {
      classification: plan.result.classification,
      ticketId: ids.ticket(plan.result.ticket),
      order: o ? { ref: ids.order(o.order).ref, state: o.state, problems: o.problems } : null,
      reply: plan.result.reply,
    };
  });
}

/** Finds what a handle names: a row that exists, or one an earlier effect of the plan opened. */
function resolver(what: string, opened: Map<string, { id: number; ref: string }>, get: (id: number) => { id: number; ref: string } | undefined) {
  return (h: { id: number } | { opened: string }): { id: number; ref: string } => {
    if ('id' in h) {
      const row = get(h.id);
      if (!row) throw new Error(`plan refers to ${what} ${h.id}, which does not exist`);
      return { id: row.id, ref: row.ref };
    }
    const row = opened.get(h.opened);
    if (!row) throw new Error(`plan refers to ${what} "${h.opened}" before opening it`);
    return row;
  };
}

/** Apply effects in order, in the caller's transaction. */
function applyEffects(desk: Desk, row: MessageRow, effects: readonly Effect[], nowIso: string) {
  const db = desk.db;
  const opened = new Map<string, { id: number; ref: string }>();
  const outbox = new Map<string, number>();
  const orders = new Map<string, { id: number; ref: string }>();
  const ticketOf = resolver('ticket', opened, (id) => getTicket(db, id));
  const idOf = (h: TicketHandle): number => ('id' in h ? h.id : ticketOf(h).id);
  const orderOf = resolver('order', orders, (id) => getOrder(db, id));
  const orderIdOf = (h: OrderHandle): number => ('id' in h ? h.id : orderOf(h).id);
  for (const e of effects) {
    switch (e.type) {
      case 'open-ticket': {
        const ref = formatTicketRef(e.refYear, nextNumber(db, 'HD', e.refYear));
        const id = insertTicket(db, { ...e.ticket, ref, created_at: nowIso });
        opened.set(e.key, { id, ref });
        break;
      }
      case 'ticket-event': {
        let detail = e.outboxOf !== undefined ? { outboxId: outboxIdOf(outbox, e.outboxOf), ...e.detail } : e.detail;
        if (e.orderRef) detail = { ...detail, [e.orderRef.field]: orderOf(e.orderRef.order).ref };
        addTicketEvent(db, { ticketId: idOf(e.ticket), at: nowIso, type: e.eventType, actor: e.actor, detail, messageRowId: e.fromMessage ? row.id : null });
        break;
      }
      case 'thread-key':
        addThreadKey(db, e.key, idOf(e.ticket));
        break;
      case 'ticket-transition':
        recordTransition(db, { id: e.ticketId, status: e.from }, {
          action: e.action, to: e.to, event: e.event, at: nowIso, actor: e.actor, detail: e.detail, messageRowId: row.id,
        });
        break;
      case 'queue-outgoing': {
        const ticket = e.ticket ? ticketOf(e.ticket) : null;
        const subject = e.subjectRefTag && ticket ? `[${ticket.ref}] ${e.spec.subject ?? ''}` : e.spec.subject;
        const order = e.order ? orderOf(e.order) : null;
        const vars = order && e.orderRefVar ? { ...e.spec.vars, [e.orderRefVar]: order.ref } : e.spec.vars;
        const { outboxId } = queueOutgoing(desk, {
          ...e.spec, vars, ...(subject !== undefined ? { subject } : {}), ...(order ? { orderId: order.id } : {}), ticket, at: nowIso,
        });
        if (e.key !== undefined) outbox.set(e.key, outboxId);
        break;
      }
      case 'recipient-state':
        setRecipientState(db, e.outboxId, e.address, e.state, e.at, e.detail);
        break;
      case 'pec-identificativo':
        setPecIdentificativo(db, e.outboxId, e.identificativo, nowIso);
        break;
      case 'pec-notice':
        insertPecNotice(db, { ...e.notice, messageRowId: row.id, at: nowIso });
        break;
      case 'create-administration':
        insertAdministrationFromPiano(db, { id: e.id, name: e.name, fiscalCode: e.fiscalCode, ipaCode: e.ipaCode, pec: e.pec, at: nowIso });
        break;
      case 'open-order': {
        const ref = formatOrderRef(e.refYear, nextNumber(db, 'PF', e.refYear));
        const id = insertOrder(db, {
          ref, state: 'piano-received', administrationId: e.administrationId, ticketId: idOf(e.ticket), piano: e.piano, requester: e.requester,
          problems: e.problems, messageRowId: row.id, at: nowIso,
        });
        orders.set(e.key, { id, ref });
        break;
      }
      case 'order-update':
        updateOrder(db, orderIdOf(e.order), { piano: e.piano, problems: e.problems, at: nowIso });
        break;
      case 'order-event':
        addOrderEvent(db, { orderId: orderIdOf(e.order), at: nowIso, type: e.eventType, actor: e.actor, detail: e.detail, messageRowId: e.fromMessage ? row.id : null });
        break;
      case 'order-document':
        addOrderDocument(db, { orderId: orderIdOf(e.order), kind: e.kind, filename: e.filename, sha256: e.sha256, size: e.size, messageRowId: row.id, at: nowIso });
        break;
      case 'order-transition': {
        const orderId = orderIdOf(e.order);
        updateOrder(db, orderId, { state: e.to, at: nowIso });
        addOrderEvent(db, { orderId, at: nowIso, type: e.eventType, actor: e.actor, detail: { from: e.from, to: e.to, ...e.detail }, messageRowId: e.fromMessage ? row.id : null });
        break;
      }
      default: {
        const never: never = e;
        throw new Error(`unknown plan effect ${JSON.stringify(never)}`);
      }
    }
  }
  return { ticket: (h: TicketHandle | null): number | null => (h ? idOf(h) : null), order: orderOf };
}

function outboxIdOf(outbox: Map<string, number>, key: string): number {
  const id = outbox.get(key);
  if (id === undefined) throw new Error(`plan refers to outgoing message "${key}" before queueing it`);
  return id;
}
