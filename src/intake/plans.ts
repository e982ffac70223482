// From facts and decision to a plan (src/desk/plan.ts). Pure: every fact that needs the database
// (thread candidates, the ticket a follow-up joins, the outbox entry a receipt or bounce refers
// to, its recipients' states, the order it belongs to) is gathered by the caller beforehand, and
// the clock is the caller's. The store carries the plan out (src/store/apply-plan.ts).
import { AUTHORIZATION_REASON_TEXT, WHO_MAY_ASK } from '../desk/authorization.js';
import { calendarFor, nextOpening, toLocal } from '../desk/calendar.js';
import type { Category } from '../desk/category.js';
import type { Decision, DeskRules, MessageFacts } from '../desk/decide.js';
import { canDo, type OrderState } from '../desk/orders.js';
import { redactPins } from '../desk/pins.js';
import type { Effect, Plan, PlannedMessage, TicketHandle } from '../desk/plan.js';
import { verificationProblemsItalian } from '../desk/verification.js';
import { shouldReopenOnReply, transition } from '../desk/workflow.js';
import { contentFingerprint, header, threadKey } from '../mail/parse.js';
import { describeServiceHours, formatItalianDateTime } from '../outbox/templates.js';
import type { PecEnvelope } from '../pec/envelope.js';
import { mergeState, receiptUpdates, type DeliveryState } from '../pec/receipts.js';
import type { Examined } from './examine.js';

const MAX_EVENT_TEXT = 100_000;

/** The rules and settings a plan depends on (from the desk's config). */
export interface PlanContext {
  timezone: string;
  rules: DeskRules;
  /** Where on-call notices go; null when not configured. */
  onCallAddress: string | null;
  reopenDays: number;
}

/** The recorded message (its row) as far as plans need it. */
export interface MessageRecord {
  mailbox: string;
  sha256: string;
  file: string | null;
}

/** What the message row records about any message: its headline and duplicate key. */
export function plannedMessage(ex: Examined): PlannedMessage {
  if (!ex.sender) throw new Error('a plan needs the sender address');
  return {
    messageId: ex.outer.messageId,
    sender: ex.sender,
    subject: ex.content.subject,
    receivedAt: ex.receivedAt.toISOString(),
    verification: ex.verification,
    verificationProblems: ex.verificationProblems,
    duplicateKey: { messageId: ex.outer.messageId, sender: ex.outer.from?.address ?? ex.sender, content: contentFingerprint(ex.outer) },
  };
}

/** One of our outgoing messages a bounce reports as not delivered. */
export interface BouncedEntry {
  outboxId: number;
  to: string;
  ticketId: number | null;
}

export interface MessagePlanInput {
  row: MessageRecord;
  ex: Examined;
  facts: MessageFacts;
  decision: Decision;
  /** For a decision to append: that ticket's status and resolution time, as read before deciding. */
  target: { status: string; resolvedAt: string | null } | null;
  /** For a bounce: the outgoing messages it reports and its diagnostic. */
  bounce: { entries: BouncedEntry[]; diagnostic: string | null } | null;
  nowIso: string;
}

/** Ordinary mail, auto-replies and bounces: the decision (src/desk/decide.ts) as effects. */
export function planForMessage(input: MessagePlanInput, ctx: PlanContext): Plan {
  const { ex, facts } = input;
  const message = plannedMessage(ex);
  if (facts.kind === 'bounce') return planForBounce(message, input.bounce ?? { entries: [], diagnostic: null }, input.nowIso);
  const channelClass = ex.pec ? 'pec' : 'email';
  const classification = facts.kind === 'auto-reply' ? 'auto-reply' : channelClass;
  const parsed = ex.content;
  const evidence = {
    messageId: parsed.messageId, subject: parsed.subject, mailbox: input.row.mailbox, sha256: input.row.sha256, file: input.row.file,
    receivedAt: facts.receivedAt.toISOString(), verification: facts.verification, verificationNote: ex.verificationNote,
    ...(ex.pec ? { pec: pecEvidence(ex.pec) } : {}),
    // The request as the operator reads it (decoded, PINs masked); the raw bytes stay in the raw store.
    text: redactPins(parsed.text.length > MAX_EVENT_TEXT ? `${parsed.text.slice(0, MAX_EVENT_TEXT)}\n[…]` : parsed.text),
    attachments: parsed.attachments.map((x) => ({ filename: x.filename, contentType: x.contentType, size: x.size, sha256: x.sha256 })),
  };
  const effects: Effect[] = [];
  const a = input.decision.action;
  if (a.type === 'none') return { message, effects, result: { classification, ticket: null, order: null, reply: null } };

  if (a.type === 'append') {
    const ticket: TicketHandle = { id: a.ticketId };
    // Authorization is decided for every message, never inherited from the thread.
    const authorization = { kind: a.kind, category: a.category, authorized: a.authorized, authorizationReason: a.reason };
    effects.push({ type: 'ticket-event', ticket, eventType: a.eventType, actor: facts.sender.address, detail: { ...evidence, authorization }, fromMessage: true });
    // A customer's reply soon after the resolution means it is not solved: the ticket reopens.
    const t = input.target;
    if (a.eventType === 'follow-up' && t && shouldReopenOnReply(t.status, t.resolvedAt, facts.receivedAt, ctx.reopenDays)) {
      const tr = transition(t.status, 'reopen');
      if (tr.ok) {
        effects.push({
          type: 'ticket-transition', ticketId: a.ticketId, from: t.status, action: 'reopen', to: tr.to, event: tr.event, actor: facts.sender.address,
          detail: { reason: 'customer-reply', withinDays: ctx.reopenDays },
        });
      }
    }
    for (const key of threadKeysOf(ex)) effects.push({ type: 'thread-key', ticket, key });
    return { message, effects, result: { classification, ticket, order: null, reply: null } };
  }

  const ticket: TicketHandle = { opened: 'ticket' };
  effects.push({
    type: 'open-ticket',
    key: 'ticket',
    refYear: toLocal(ctx.timezone, facts.receivedAt).year,
    ticket: {
      kind: a.kind,
      category: a.category,
      status: 'new',
      priority: a.priority,
      administration_id: facts.sender.administrationId,
      requester: facts.sender.address,
      requester_name: parsed.from?.name || facts.sender.name,
      authorized: a.authorized ? 1 : 0,
      authorization_reason: a.reason,
      sender_verification: facts.verification,
      sender_verification_note: ex.verificationNote,
      sender_verification_problems: JSON.stringify(ex.verificationProblems),
      channel: facts.channel,
      mailbox: input.row.mailbox,
      subject: parsed.subject,
      received_at: facts.receivedAt.toISOString(),
      take_charge_due_at: a.takeChargeDueAt?.toISOString() ?? null,
      on_call: a.onCall ? 1 : 0,
    },
  });
  const event = (eventType: Extract<Effect, { type: 'ticket-event' }>['eventType'], detail: Record<string, unknown>, actor = 'system', outboxOf?: string) =>
    effects.push({ type: 'ticket-event', ticket, eventType, actor, detail, fromMessage: true, ...(outboxOf ? { outboxOf } : {}) });
  event('received', { ...evidence, role: facts.sender.role, administration: facts.sender.administrationId }, facts.sender.address);
  if (a.refusedThread) {
    event('thread-refused', {
      quotedTicket: a.refusedThread,
      reason: 'the sender is not the requester, nor a referent, delegate or verified user of its administration',
    });
  }
  event('classified', {
    kind: a.kind, category: a.category, categoryMatched: a.categoryMatched, priority: a.priority, reason: a.priorityReason,
    priorityLoweredFrom: a.priorityLoweredFrom, takeChargeDueAt: a.takeChargeDueAt?.toISOString() ?? null,
    authorized: a.authorized, authorizationReason: a.reason, onCall: a.onCall,
    // Whether a PIN was given and whose it is; never the PIN itself.
    pin: facts.pin,
  });
  const tz = ctx.timezone;
  if (input.decision.notifyOnCall) {
    // The on-call address is told at once about a request it now owns.
    const to = ctx.onCallAddress;
    if (!to) event('on-call-not-notified', { reason: 'onCall.address is not configured' });
    else {
      effects.push({
        type: 'queue-outgoing',
        key: 'on-call',
        ticket,
        subjectRefTag: true,
        spec: {
          template: 'on-call',
          kind: 'internal',
          channel: 'email',
          to,
          subject: `${a.priority} in reperibilità: ${facts.subject || '(senza oggetto)'}`,
          vars: {
            priority: a.priority,
            administration: facts.sender.administrationName ?? facts.sender.administrationId ?? '—',
            requester: facts.sender.address,
            subject: facts.subject || '(senza oggetto)',
            receivedAt: formatItalianDateTime(facts.receivedAt, tz),
            deadline: a.takeChargeDueAt ? formatItalianDateTime(a.takeChargeDueAt, tz) : '—',
          },
        },
      });
      event('on-call-notified', { to }, 'system', 'on-call');
    }
  }
  for (const key of threadKeysOf(ex)) effects.push({ type: 'thread-key', ticket, key });

  let reply: Plan['result']['reply'] = null;
  const decided = input.decision;
  if (decided.reply) {
    const calendar = calendarFor(ctx.rules, facts.sender.calendar);
    effects.push({
      type: 'queue-outgoing',
      ticket,
      spec: {
        template: decided.reply.template,
        kind: 'reply',
        channel: facts.channel,
        to: facts.sender.address,
        answering: { subject: parsed.subject, messageId: parsed.messageId, references: parsed.references },
        vars: {
          requesterName: parsed.from?.name || facts.sender.name || facts.sender.address,
          subject: parsed.subject || '(senza oggetto)',
          priority: a.priority,
          deadlineSentence: a.takeChargeDueAt
            ? `La presa in carico è prevista entro ${formatItalianDateTime(a.takeChargeDueAt, tz)}.`
            : 'Per questa classe di priorità non è previsto un tempo massimo di presa in carico.',
          nextOpening: formatItalianDateTime(nextOpening(calendar, facts.receivedAt), tz),
          serviceHours: describeServiceHours(calendar),
          verificationProblems: verificationProblemsItalian(ex.verificationProblems),
          priorityNote: a.priorityLoweredFrom
            ? `La classe di priorità ${a.priorityLoweredFrom} è riservata alle Amministrazioni con contratto di assistenza: la richiesta è stata registrata con classe ${a.priority}.\n`
            : '',
          onCallSentence: a.onCall ? 'La richiesta, pervenuta fuori orario con un PIN valido, è stata affidata al servizio di reperibilità.\n' : '',
          categoryLabel: CATEGORY_LABEL[a.category],
          whoMayAsk: WHO_MAY_ASK[a.category],
          authorizationReason: AUTHORIZATION_REASON_TEXT[a.reason],
        },
      },
    });
    reply = { template: decided.reply.template, to: facts.sender.address };
  } else if (decided.replySuppressed) {
    event('reply-suppressed', { reason: decided.replySuppressed });
  }
  return { message, effects, result: { classification, ticket, order: null, reply } };
}

/** A bounce of one of our replies marks that recipient failed and tells its ticket. */
function planForBounce(message: PlannedMessage, bounce: { entries: BouncedEntry[]; diagnostic: string | null }, nowIso: string): Plan {
  const effects: Effect[] = [];
  let ticket: TicketHandle | null = null;
  const diagnostic = bounce.diagnostic;
  for (const entry of bounce.entries) {
    effects.push({ type: 'recipient-state', outboxId: entry.outboxId, address: entry.to, state: 'failed', at: nowIso, detail: diagnostic ?? 'bounced' });
    if (entry.ticketId !== null) {
      ticket = { id: entry.ticketId };
      effects.push({
        type: 'ticket-event', ticket, eventType: 'reply-bounced', actor: 'system',
        detail: { outboxId: entry.outboxId, to: entry.to, diagnostic }, fromMessage: true,
      });
    }
  }
  return { message, effects, result: { classification: 'bounce', ticket, order: null, reply: null } };
}

/** The outgoing message a PEC receipt refers to, with what the receipt may change about it. */
export interface CorrelatedOutbox {
  id: number;
  ticketId: number | null;
  template: string;
  /** Its recipients' delivery states as read before planning. */
  recipientStates: Record<string, DeliveryState>;
  /** The order it belongs to (the Progetto's delivery), as read before planning. */
  order: { id: number; state: string } | null;
}

export interface ReceiptFacts {
  ex: Examined;
  pec: PecEnvelope;
  /** Found by the signed msgid, else by identificativo, else (no daticert) by the header hint. */
  entry: CorrelatedOutbox | null;
  /** The unsigned X-Riferimento-Message-ID when it disagrees with the signed msgid. */
  hintMismatch: string | null;
}

/** Was the receipt's signed daticert enough to change delivery states (certified and correlated)? */
export function receiptApplies(f: Pick<ReceiptFacts, 'pec' | 'entry'>): boolean {
  return Boolean(f.entry && f.pec.certified && f.pec.daticert && f.pec.tipo);
}

/**
 * A receipt advances the delivery state of the outgoing message it refers to — only when
 * the provider's signature verifies: an unsigned "receipt" proves nothing. It never opens
 * a ticket nor gets a reply; uncorrelated or uncertified ones are kept for the operator.
 */
export function planForReceipt(f: ReceiptFacts): Plan {
  const { pec, entry } = f;
  const d = pec.daticert;
  const message = plannedMessage(f.ex);
  const effects: Effect[] = [];
  const apply = receiptApplies(f);
  if (entry && apply && d && pec.tipo) {
    const at = f.ex.receivedAt.toISOString();
    const current = new Map(Object.entries(entry.recipientStates));
    for (const u of receiptUpdates(pec.tipo, d)) {
      const prev = current.get(u.address) ?? null;
      const next = mergeState(prev, u.state);
      if (next !== prev) effects.push({ type: 'recipient-state', outboxId: entry.id, address: u.address, state: next, at, detail: u.detail });
    }
    // The Progetto's delivery receipt completes that step of its order.
    if (pec.tipo === 'avvenuta-consegna' && entry.order && entry.template === 'progetto-delivery' && canDo(entry.order.state as OrderState, 'progetto-delivered')) {
      effects.push({
        type: 'order-transition', order: { id: entry.order.id }, from: entry.order.state, to: 'progetto-delivered', eventType: 'progetto-delivered',
        actor: d.gestoreEmittente ?? 'pec', detail: { outboxId: entry.id, identificativo: d.identificativo }, fromMessage: true,
      });
    }
    if (pec.tipo === 'accettazione' && d.identificativo) {
      effects.push({ type: 'pec-identificativo', outboxId: entry.id, identificativo: d.identificativo });
      // The recipient's provider shows our message under this id: their replies cite it.
      if (entry.ticketId !== null) effects.push({ type: 'thread-key', ticket: { id: entry.ticketId }, key: threadKey(d.identificativo) });
    }
  }
  const ticket: TicketHandle | null = entry && entry.ticketId !== null ? { id: entry.ticketId } : null;
  if (entry && ticket) {
    effects.push({
      type: 'ticket-event', ticket, eventType: 'pec-receipt', actor: d?.gestoreEmittente ?? 'pec', fromMessage: true,
      detail: {
        tipo: pec.tipo, outboxId: entry.id, applied: apply, certified: pec.certified, consegna: d?.consegna ?? null,
        errore: d?.erroreEsteso ?? null, problems: pec.signature.problems, ...(f.hintMismatch ? { headerMsgidMismatch: f.hintMismatch } : {}),
      },
    });
  }
  effects.push(noticeEffect(f.ex, pec, entry?.id ?? null, apply));
  return { message, effects, result: { classification: 'pec-receipt', ticket, order: null, reply: null } };
}

/** An anomaly envelope: ordinary mail that reached the PEC box. Kept for an operator, no reply. */
export function planForAnomaly(ex: Examined, pec: PecEnvelope): Plan {
  return { message: plannedMessage(ex), effects: [noticeEffect(ex, pec, null, false)], result: { classification: 'pec-anomaly', ticket: null, order: null, reply: null } };
}

function noticeEffect(ex: Examined, pec: PecEnvelope, outboxId: number | null, applied: boolean): Effect {
  return {
    type: 'pec-notice',
    notice: {
      kind: pec.kind === 'anomaly' ? 'anomaly' : 'receipt',
      tipo: pec.tipo,
      certified: pec.certified,
      problems: pec.signature.problems,
      details: pec.signature.details,
      msgid: pec.daticert?.msgid ? `<${pec.daticert.msgid}>` : (pec.hints.riferimentoMessageId ?? null),
      identificativo: pec.daticert?.identificativo ?? null,
      daticert: pec.daticert,
      outboxId,
      applied,
      receivedAt: ex.receivedAt.toISOString(),
    },
  };
}

/** The Message-IDs by which later mail may refer to this one (PEC rewrites them). */
export function threadKeysOf(ex: Examined): string[] {
  const ids = [ex.content.messageId, header(ex.content, 'x-riferimento-message-id'), ex.pec?.hints.riferimentoMessageId, ex.pec?.daticert?.identificativo, ex.pec?.daticert?.msgid];
  return [...new Set(ids.filter((x): x is string => Boolean(x)).map(threadKey))];
}

export function pecEvidence(pec: PecEnvelope) {
  return {
    kind: pec.kind,
    tipo: pec.tipo,
    certified: pec.certified,
    problems: pec.signature.problems,
    details: pec.signature.details,
    signer: pec.signature.signer?.certificate?.x509.subject.replace(/\n/g, ', ') ?? null,
    provider: pec.signature.provider,
    signingTime: pec.signature.signer?.signingTime?.toISOString() ?? null,
    daticert: pec.daticert,
  };
}

/** The request's category in the words of a reply. */
const CATEGORY_LABEL: Record<Category, string> = {
  support: 'richiesta di assistenza',
  directory: 'modifica della rubrica o dei dati di una casella',
  'password-reset': 'reimpostazione della password di una casella',
  'mailbox-lifecycle': 'creazione, cancellazione o blocco di caselle o liste di distribuzione',
};
