// One message from bytes to a durable outcome (DESIGN "data flows one way"):
// raw store + record → parse → facts → decide (pure) → one transaction → result.
// Whatever throws after recording quarantines the message; nothing is lost.
import type { MailboxName } from '../config/load.js';
import { calendarFor, localDay, nextOpening, toLocal } from '../desk/calendar.js';
import { decide, type Decision, type MessageFacts, type MessageKind, type ThreadCandidate } from '../desk/decide.js';
import { formatTicketRef, ticketRefsInSubject } from '../desk/refs.js';
import { resolveRequester } from '../desk/requester.js';
import type { SenderVerification } from '../desk/types.js';
import { verificationProblemsItalian } from '../desk/verification.js';
import type { TicketEventType } from '../desk/events.js';
import { shouldReopenOnReply, transition } from '../desk/workflow.js';
import { AUTHORIZATION_REASON_TEXT, delegationOutOfPeriod, WHO_MAY_ASK } from '../desk/authorization.js';
import type { Category } from '../desk/category.js';
import { pinsInText, redactPins, verifyPin } from '../desk/pins.js';
import { activePins } from '../store/orders.js';
import { bounceDiagnostic, bouncedMessageIds, isAutoReply, isBounce, neverReplyReason } from '../mail/auto-detect.js';
import { header, MessageRejected, parseMessage, threadKey, type ParsedMessage } from '../mail/parse.js';
import { queueOutgoing } from '../outbox/replies.js';
import { describeServiceHours, formatItalianDateTime } from '../outbox/templates.js';
import { channelOf, type Desk } from '../runtime/context.js';
import { nextNumber } from '../store/counters.js';
import { senderFacts } from '../store/directory.js';
import {
  findBySourceUid, findOriginal, findUnfinishedBySha, finishMessage, getMessage, insertMessage, type MessageRow,
} from '../store/messages.js';
import {
  automaticRepliesSince, findOutboxByMessageId, findOutboxByPecIdentificativo, recipients, setPecIdentificativo, setRecipientState,
  type OutboxRow,
} from '../store/outbox.js';
import { insertPecNotice } from '../store/pec-notices.js';
import { examine, type Examined } from './examine.js';
import { canDo, type OrderState } from '../desk/orders.js';
import { addOrderEvent, getOrder, updateOrder } from '../store/orders.js';
import { applyContractIntake, applyPianoIntake, examineDocuments, type OrderDocuments } from './orders.js';
import type { PecEnvelope } from '../pec/envelope.js';
import { mergeState, receiptUpdates, type DeliveryState } from '../pec/receipts.js';
import { openQuarantineFor, quarantineMessage, releaseQuarantine } from '../store/quarantine.js';
import {
  addThreadKey, addTicketEvent, getTicket, getTicketByRef, insertTicket, recordTransition, ticketIdsForThreadKeys, type TicketRow,
} from '../store/tickets.js';
import type { IngestResult, TicketSummary } from './result.js';

const MAX_EVENT_TEXT = 100_000;

export interface IncomingMessage {
  bytes: Buffer;
  mailbox: MailboxName;
  source: 'maildir' | 'file';
  /** Stable identity at the source (Maildir unique name); null for files given to ingest. */
  sourceUid: string | null;
  file: string | null;
  /** When the source says it arrived (Maildir delivery time), if known. */
  arrivedAt?: Date;
}

/** Record then process one incoming message. Never throws for anything the message contains. */
export async function ingestMessage(desk: Desk, inc: IncomingMessage, now: Date): Promise<IngestResult> {
  const sha256 = desk.raw.put(inc.bytes);
  if (inc.sourceUid) {
    const seen = findBySourceUid(desk.db, inc.mailbox, inc.source, inc.sourceUid);
    // Already finished (a restart before the source was acknowledged): report, do nothing.
    if (seen && seen.status !== 'received') return replayed(desk, seen);
    if (seen) return processRecorded(desk, seen, inc.bytes, now, inc.arrivedAt);
  } else {
    const unfinished = findUnfinishedBySha(desk.db, inc.mailbox, sha256);
    if (unfinished) return processRecorded(desk, unfinished, inc.bytes, now, inc.arrivedAt);
  }
  const row = insertMessage(desk.db, {
    mailbox: inc.mailbox,
    source: inc.source,
    sourceUid: inc.sourceUid,
    file: inc.file,
    sha256,
    size: inc.bytes.length,
    recordedAt: now.toISOString(),
  });
  return processRecorded(desk, row, inc.bytes, now, inc.arrivedAt);
}

/** Process a stored message again (quarantine retry, recovery after a crash). */
export async function reprocessStored(desk: Desk, messageRowId: number, now: Date): Promise<IngestResult> {
  const row = getMessage(desk.db, messageRowId);
  if (!row) throw new Error(`message ${messageRowId} not found`);
  return processRecorded(desk, row, desk.raw.get(row.sha256), now);
}

function replayed(desk: Desk, row: MessageRow): IngestResult {
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

async function processRecorded(desk: Desk, row: MessageRow, bytes: Buffer, now: Date, arrivedAt?: Date): Promise<IngestResult> {
  let parsed: ParsedMessage | null = null;
  try {
    if (bytes.length > desk.cfg.limits.maxMessageBytes) {
      throw new MessageRejected('too-large', `message of ${bytes.length} bytes exceeds limits.maxMessageBytes (${desk.cfg.limits.maxMessageBytes})`);
    }
    parsed = await parseMessage(bytes);
    const ex = await examine(desk, bytes, parsed, now, arrivedAt);
    const docs = ex.sender && (!ex.pec || ex.pec.kind === 'posta-certificata') ? await examineDocuments(desk, ex, now) : { piano: null, contract: null };
    return handleExamined(desk, row, ex, docs, now);
  } catch (e) {
    return quarantine(desk, row, parsed, e, now);
  }
}

function quarantine(desk: Desk, row: MessageRow, parsed: ParsedMessage | null, e: unknown, now: Date): IngestResult {
  const reason = e instanceof MessageRejected ? `${e.code}: ${e.message}` : `processing-error: ${(e as Error)?.message ?? String(e)}`;
  const detail = e instanceof MessageRejected ? null : ((e as Error)?.stack ?? null);
  const sender = parsed?.from?.address ?? null;
  const nowIso = now.toISOString();
  const id = desk.db.transaction(() => {
    const open = openQuarantineFor(desk.db, row.id);
    if (open) releaseQuarantine(desk.db, open.id, nowIso);
    const qid = quarantineMessage(desk.db, { messageRowId: row.id, file: row.file, mailbox: row.mailbox, reason, detail, at: nowIso });
    const result: IngestResult = {
      file: row.file,
      messageId: parsed?.messageId ?? null,
      classification: 'quarantined',
      sender: { address: sender, verification: 'unverified', verificationProblems: [] },
      ticket: null,
      order: null,
      reply: null,
      quarantine: { id: qid, reason },
    };
    finishMessage(desk.db, row.id, {
      messageId: parsed?.messageId ?? null,
      sender,
      subject: parsed?.subject ?? null,
      receivedAt: null,
      status: 'quarantined',
      classification: 'quarantined',
      duplicateOf: null,
      ticketId: null,
      result,
    });
    return result;
  })();
  desk.log.warn({ messageRow: row.id, file: row.file, mailbox: row.mailbox, reason }, 'message quarantined');
  return id;
}

function summary(t: TicketRow): TicketSummary {
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

function messageKind(parsed: ParsedMessage): MessageKind {
  if (isBounce(parsed)) return 'bounce';
  if (isAutoReply(parsed)) return 'auto-reply';
  return 'email';
}

function threadCandidates(desk: Desk, parsed: ParsedMessage): ThreadCandidate[] {
  const out: ThreadCandidate[] = [];
  const add = (t: TicketRow | undefined, via: ThreadCandidate['via']) => {
    if (t && !out.some((c) => c.ticketId === t.id)) {
      out.push({ ticketId: t.id, ref: t.ref, requester: t.requester, administrationId: t.administration_id, via });
    }
  };
  for (const ref of ticketRefsInSubject(parsed.subject)) add(getTicketByRef(desk.db, ref), 'subject');
  for (const id of ticketIdsForThreadKeys(desk.db, parsed.inReplyTo.map(threadKey))) add(getTicket(desk.db, id), 'in-reply-to');
  for (const id of ticketIdsForThreadKeys(desk.db, parsed.references.map(threadKey))) add(getTicket(desk.db, id), 'references');
  return out;
}

function handleExamined(desk: Desk, row: MessageRow, ex: Examined, docs: OrderDocuments, now: Date): IngestResult {
  const { outer, content, sender, verification, receivedAt } = ex;
  if (!sender) throw new MessageRejected('no-sender', 'no sender address in From');
  // A certified-or-not PEC envelope is `pec`; everything a person wrote otherwise is `email`.
  const channelClass: 'pec' | 'email' = ex.pec ? 'pec' : 'email';
  const outcome = (classification: IngestResult['classification'], ticket: TicketRow | undefined, extra: Partial<IngestResult> = {}) => {
    const result: IngestResult = {
      file: row.file,
      messageId: outer.messageId,
      classification,
      sender: { address: sender, verification, verificationProblems: ex.verificationProblems },
      ticket: ticket ? summary(ticket) : null,
      order: null,
      reply: null,
      ...extra,
    };
    // Processed at last (a quarantine retry): its quarantine entry is done with.
    const open = openQuarantineFor(desk.db, row.id);
    if (open) releaseQuarantine(desk.db, open.id, now.toISOString());
    finishMessage(desk.db, row.id, {
      messageId: outer.messageId,
      sender,
      subject: content.subject,
      receivedAt: receivedAt.toISOString(),
      status: 'processed',
      classification,
      duplicateOf: original?.id ?? null,
      ticketId: ticket?.id ?? null,
      result,
    });
    return result;
  };

  // Duplicates are judged on the message as it arrived (for PEC: the envelope).
  const original = findOriginal(desk.db, row.id, row.sha256, outer.messageId, outer.from?.address ?? sender);
  if (original) {
    const t = original.ticket_id ? getTicket(desk.db, original.ticket_id) : undefined;
    return desk.db.transaction(() =>
      outcome('duplicate', undefined, { duplicateOf: { recordedAt: original.recorded_at, ticketRef: t?.ref ?? null } }),
    )();
  }
  const nowIso = now.toISOString();
  if (ex.pec && ex.pec.kind !== 'posta-certificata') {
    const pec = ex.pec;
    return desk.db.transaction(() =>
      pec.kind === 'receipt'
        ? applyReceipt(desk, row, ex, pec, nowIso, (t) => outcome('pec-receipt', t))
        : recordAnomaly(desk, row, ex, pec, nowIso, () => outcome('pec-anomaly', undefined)),
    )();
  }

  const kind = messageKind(content);
  if (kind === 'email' && (docs.piano || docs.contract)) {
    return desk.db.transaction((): IngestResult => {
      const r = docs.piano ? applyPianoIntake(desk, row, ex, docs.piano, nowIso) : applyContractIntake(desk, row, ex, docs.contract!, nowIso);
      return outcome(channelClass, r.ticket, { order: r.order, reply: r.reply });
    })();
  }
  const directoryFacts = senderFacts(desk.db, sender);
  const day = localDay(desk.cfg.timezone, receivedAt);
  const requester = resolveRequester(directoryFacts, day);
  const facts: MessageFacts = {
    channel: channelOf(row.mailbox as MailboxName),
    subject: content.subject,
    text: content.text,
    kind,
    sender: requester,
    verification,
    pecEnvelope: ex.pec?.kind === 'posta-certificata',
    delegationOutOfPeriod: delegationOutOfPeriod(directoryFacts, day, requester),
    pin: kind === 'email' ? pinRole(desk, requester.administrationId, content.text) : null,
    receivedAt,
    neverReply: neverReplyReason(content, desk.deskAddresses, sender),
    threadCandidates: kind === 'bounce' ? [] : threadCandidates(desk, content),
    repliesToSenderLastHour: automaticRepliesSince(desk.db, sender, new Date(now.getTime() - 3600_000).toISOString(), now.toISOString()),
  };
  const decision = decide(facts, desk.rules);

  return desk.db.transaction((): IngestResult => {
    if (kind === 'bounce') return applyBounce(desk, row, content, nowIso, (t) => outcome('bounce', t));
    return applyDecision(desk, row, ex, facts, decision, nowIso, (c, t, extra) =>
      outcome(c === 'email' ? channelClass : c, t, extra),
    );
  })();
}

/** A bounce of one of our replies marks that recipient failed and tells its ticket. */
function applyBounce(
  desk: Desk, row: MessageRow, parsed: ParsedMessage, nowIso: string,
  outcome: (t: TicketRow | undefined) => IngestResult,
): IngestResult {
  const diagnostic = bounceDiagnostic(parsed);
  let ticket: TicketRow | undefined;
  for (const id of bouncedMessageIds(parsed)) {
    const entry = findOutboxByMessageId(desk.db, id);
    if (!entry) continue;
    setRecipientState(desk.db, entry.id, entry.to_addr, 'failed', nowIso, diagnostic ?? 'bounced');
    if (entry.ticket_id) {
      ticket = getTicket(desk.db, entry.ticket_id);
      addTicketEvent(desk.db, {
        ticketId: entry.ticket_id, at: nowIso, type: 'reply-bounced', actor: 'system',
        detail: { outboxId: entry.id, to: entry.to_addr, diagnostic }, messageRowId: row.id,
      });
    }
  }
  return outcome(ticket);
}

function applyDecision(
  desk: Desk, row: MessageRow, ex: Examined, facts: MessageFacts, decision: Decision, nowIso: string,
  outcome: (c: IngestResult['classification'], t: TicketRow | undefined, extra?: Partial<IngestResult>) => IngestResult,
): IngestResult {
  const parsed = ex.content;
  const classification = facts.kind === 'auto-reply' ? 'auto-reply' : 'email';
  const evidence = {
    messageId: parsed.messageId, subject: parsed.subject, mailbox: row.mailbox, sha256: row.sha256, file: row.file,
    receivedAt: facts.receivedAt.toISOString(), verification: facts.verification, verificationNote: ex.verificationNote,
    ...(ex.pec ? { pec: pecEvidence(ex.pec) } : {}),
    // The request as the operator reads it (decoded, PINs masked); the raw bytes stay in the raw store.
    text: redactPins(parsed.text.length > MAX_EVENT_TEXT ? `${parsed.text.slice(0, MAX_EVENT_TEXT)}\n[…]` : parsed.text),
    attachments: parsed.attachments.map((x) => ({ filename: x.filename, contentType: x.contentType, size: x.size, sha256: x.sha256 })),
  };
  const a = decision.action;
  if (a.type === 'none') return outcome(classification, undefined);
  if (a.type === 'append') {
    // Authorization is decided for every message, never inherited from the thread.
    const authorization = { kind: a.kind, category: a.category, authorized: a.authorized, authorizationReason: a.reason };
    addTicketEvent(desk.db, { ticketId: a.ticketId, at: nowIso, type: a.eventType, actor: facts.sender.address, detail: { ...evidence, authorization }, messageRowId: row.id });
    // A customer's reply soon after the resolution means it is not solved: the ticket reopens.
    const t = getTicket(desk.db, a.ticketId)!;
    if (a.eventType === 'follow-up' && shouldReopenOnReply(t.status, t.resolved_at, facts.receivedAt, desk.cfg.workflow.reopenDays)) {
      const tr = transition(t.status, 'reopen');
      if (tr.ok) {
        recordTransition(desk.db, t, {
          action: 'reopen', to: tr.to, event: tr.event, at: nowIso, actor: facts.sender.address,
          detail: { reason: 'customer-reply', withinDays: desk.cfg.workflow.reopenDays }, messageRowId: row.id,
        });
      }
    }
    for (const k of threadKeysOf(ex)) addThreadKey(desk.db, k, a.ticketId);
    return outcome(classification, getTicket(desk.db, a.ticketId));
  }

  const local = toLocal(desk.cfg.timezone, facts.receivedAt);
  const ref = formatTicketRef(local.year, nextNumber(desk.db, 'HD', local.year));
  const ticketId = insertTicket(desk.db, {
    ref,
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
    mailbox: row.mailbox,
    subject: parsed.subject,
    received_at: facts.receivedAt.toISOString(),
    take_charge_due_at: a.takeChargeDueAt?.toISOString() ?? null,
    on_call: a.onCall ? 1 : 0,
    created_at: nowIso,
  });
  const event = (type: TicketEventType, detail: unknown, actor = 'system') =>
    addTicketEvent(desk.db, { ticketId, at: nowIso, type, actor, detail, messageRowId: row.id });
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
  if (decision.notifyOnCall) notifyOnCall(desk, ticketId, ref, facts, a, nowIso, event);
  for (const k of threadKeysOf(ex)) addThreadKey(desk.db, k, ticketId);

  let reply: IngestResult['reply'] = null;
  if (decision.reply) {
    const tz = desk.cfg.timezone;
    queueOutgoing(desk, {
      template: decision.reply.template,
      kind: 'reply',
      channel: facts.channel,
      to: facts.sender.address,
      ticket: { id: ticketId, ref },
      answering: { subject: parsed.subject, messageId: parsed.messageId, references: parsed.references },
      at: nowIso,
      vars: {
        requesterName: parsed.from?.name || facts.sender.name || facts.sender.address,
        subject: parsed.subject || '(senza oggetto)',
        priority: a.priority,
        deadlineSentence: a.takeChargeDueAt
          ? `La presa in carico è prevista entro ${formatItalianDateTime(a.takeChargeDueAt, tz)}.`
          : 'Per questa classe di priorità non è previsto un tempo massimo di presa in carico.',
        nextOpening: formatItalianDateTime(nextOpening(calendarFor(desk.rules, facts.sender.calendar), facts.receivedAt), tz),
        serviceHours: describeServiceHours(calendarFor(desk.rules, facts.sender.calendar)),
        verificationProblems: verificationProblemsItalian(ex.verificationProblems),
        priorityNote: a.priorityLoweredFrom
          ? `La classe di priorità ${a.priorityLoweredFrom} è riservata alle Amministrazioni con contratto di assistenza: la richiesta è stata registrata con classe ${a.priority}.\n`
          : '',
        onCallSentence: a.onCall ? 'La richiesta, pervenuta fuori orario con un PIN valido, è stata affidata al servizio di reperibilità.\n' : '',
        categoryLabel: CATEGORY_LABEL[a.category],
        whoMayAsk: WHO_MAY_ASK[a.category],
        authorizationReason: AUTHORIZATION_REASON_TEXT[a.reason],
      },
    });
    reply = { template: decision.reply.template, to: facts.sender.address };
  } else if (decision.replySuppressed) {
    event('reply-suppressed', { reason: decision.replySuppressed });
  }
  return outcome(classification, getTicket(desk.db, ticketId), { reply });
}


/** The Message-IDs by which later mail may refer to this one (PEC rewrites them). */
function threadKeysOf(ex: Examined): string[] {
  const ids = [ex.content.messageId, header(ex.content, 'x-riferimento-message-id'), ex.pec?.hints.riferimentoMessageId, ex.pec?.daticert?.identificativo, ex.pec?.daticert?.msgid];
  return [...new Set(ids.filter((x): x is string => Boolean(x)).map(threadKey))];
}

function pecEvidence(pec: PecEnvelope) {
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

function recordNotice(desk: Desk, row: MessageRow, ex: Examined, pec: PecEnvelope, nowIso: string, outboxId: number | null, applied: boolean): void {
  const msgid = pec.daticert?.msgid ? `<${pec.daticert.msgid}>` : (pec.hints.riferimentoMessageId ?? null);
  insertPecNotice(desk.db, {
    messageRowId: row.id,
    kind: pec.kind === 'anomaly' ? 'anomaly' : 'receipt',
    tipo: pec.tipo,
    certified: pec.certified,
    problems: pec.signature.problems,
    details: pec.signature.details,
    msgid,
    identificativo: pec.daticert?.identificativo ?? null,
    daticert: pec.daticert,
    outboxId,
    applied,
    receivedAt: ex.receivedAt.toISOString(),
    at: nowIso,
  });
}

/**
 * A receipt advances the delivery state of the outgoing message it refers to — only when
 * the provider's signature verifies: an unsigned "receipt" proves nothing. It never opens
 * a ticket nor gets a reply; uncorrelated or uncertified ones are kept for the operator.
 */
function applyReceipt(
  desk: Desk, row: MessageRow, ex: Examined, pec: PecEnvelope, nowIso: string,
  outcome: (t: TicketRow | undefined) => IngestResult,
): IngestResult {
  const d = pec.daticert;
  let entry: OutboxRow | undefined;
  if (d?.msgid) entry = findOutboxByMessageId(desk.db, `<${d.msgid}>`);
  if (!entry && d?.identificativo) entry = findOutboxByPecIdentificativo(desk.db, d.identificativo);
  if (!entry && !d && pec.hints.riferimentoMessageId) entry = findOutboxByMessageId(desk.db, pec.hints.riferimentoMessageId);
  const apply = Boolean(entry && pec.certified && d && pec.tipo);
  // The unsigned X-Riferimento-Message-ID should confirm the signed msgid; the signed one wins.
  const hint = pec.hints.riferimentoMessageId;
  const hintMismatch = Boolean(d?.msgid && hint && threadKey(hint) !== threadKey(d.msgid));
  if (hintMismatch) desk.log.warn({ messageRow: row.id, msgid: d?.msgid, hint }, 'X-Riferimento-Message-ID disagrees with the signed daticert msgid; the signed value is used');
  if (entry && apply && d && pec.tipo) {
    const current = new Map(recipients(desk.db, entry.id).map((r) => [r.address, r.state as DeliveryState]));
    for (const u of receiptUpdates(pec.tipo, d)) {
      const prev = current.get(u.address) ?? null;
      const next = mergeState(prev, u.state);
      if (next !== prev) setRecipientState(desk.db, entry.id, u.address, next, ex.receivedAt.toISOString(), u.detail);
    }
    // The Progetto's delivery receipt completes that step of its order.
    if (pec.tipo === 'avvenuta-consegna' && entry.order_id && entry.template === 'progetto-delivery') {
      const order = getOrder(desk.db, entry.order_id);
      if (order && canDo(order.state as OrderState, 'progetto-delivered')) {
        updateOrder(desk.db, order.id, { state: 'progetto-delivered', at: nowIso });
        addOrderEvent(desk.db, { orderId: order.id, at: nowIso, type: 'progetto-delivered', actor: d.gestoreEmittente ?? 'pec', detail: { from: order.state, to: 'progetto-delivered', outboxId: entry.id, identificativo: d.identificativo }, messageRowId: row.id });
      }
    }
    if (pec.tipo === 'accettazione' && d.identificativo) {
      setPecIdentificativo(desk.db, entry.id, d.identificativo);
      // The recipient's provider shows our message under this id: their replies cite it.
      if (entry.ticket_id) addThreadKey(desk.db, threadKey(d.identificativo), entry.ticket_id);
    }
  }
  const ticket = entry?.ticket_id ? getTicket(desk.db, entry.ticket_id) : undefined;
  if (ticket) {
    addTicketEvent(desk.db, {
      ticketId: ticket.id, at: nowIso, type: 'pec-receipt', actor: d?.gestoreEmittente ?? 'pec',
      detail: {
        tipo: pec.tipo, outboxId: entry!.id, applied: apply, certified: pec.certified, consegna: d?.consegna ?? null,
        errore: d?.erroreEsteso ?? null, problems: pec.signature.problems, ...(hintMismatch ? { headerMsgidMismatch: hint } : {}),
      },
      messageRowId: row.id,
    });
  }
  recordNotice(desk, row, ex, pec, nowIso, entry?.id ?? null, apply);
  if (!apply) desk.log.info({ messageRow: row.id, tipo: pec.tipo, correlated: Boolean(entry), certified: pec.certified }, 'PEC receipt kept without changing any delivery state');
  return outcome(ticket);
}

/** An anomaly envelope: ordinary mail that reached the PEC box. Kept for an operator, no reply. */
function recordAnomaly(desk: Desk, row: MessageRow, ex: Examined, pec: PecEnvelope, nowIso: string, outcome: () => IngestResult): IngestResult {
  recordNotice(desk, row, ex, pec, nowIso, null, false);
  return outcome();
}

/** The request's category in the words of a reply. */
const CATEGORY_LABEL: Record<Category, string> = {
  support: 'richiesta di assistenza',
  directory: 'modifica della rubrica o dei dati di una casella',
  'password-reset': 'reimpostazione della password di una casella',
  'mailbox-lifecycle': 'creazione, cancellazione o blocco di caselle o liste di distribuzione',
};

/**
 * Whose PIN the body carries (seeds 001, 004): checked against the Administration's scrypt
 * hashes; the PIN itself is never stored nor logged.
 */
function pinRole(desk: Desk, administrationId: string | null, text: string): MessageFacts['pin'] {
  const given = pinsInText(text);
  if (given.length === 0) return null;
  const pins = administrationId ? activePins(desk.db, administrationId) : [];
  for (const pin of given) {
    const match = pins.find((p) => verifyPin(pin, p.hash));
    if (match) return match.kind === 'referent' ? 'technical-referent' : 'generic';
  }
  return 'invalid';
}

/** The on-call address is told at once about a request it now owns. */
function notifyOnCall(
  desk: Desk, ticketId: number, ref: string, facts: MessageFacts, a: Extract<Decision['action'], { type: 'open' }>, nowIso: string,
  event: (type: TicketEventType, detail: unknown, actor?: string) => void,
): void {
  const to = desk.cfg.onCall.address;
  if (!to) {
    event('on-call-not-notified', { reason: 'onCall.address is not configured' });
    return;
  }
  const tz = desk.cfg.timezone;
  const { outboxId } = queueOutgoing(desk, {
    template: 'on-call',
    kind: 'internal',
    channel: 'email',
    to,
    ticket: { id: ticketId, ref },
    subject: `[${ref}] ${a.priority} in reperibilità: ${facts.subject || '(senza oggetto)'}`,
    at: nowIso,
    vars: {
      priority: a.priority,
      administration: facts.sender.administrationName ?? facts.sender.administrationId ?? '—',
      requester: facts.sender.address,
      subject: facts.subject || '(senza oggetto)',
      receivedAt: formatItalianDateTime(facts.receivedAt, tz),
      deadline: a.takeChargeDueAt ? formatItalianDateTime(a.takeChargeDueAt, tz) : '—',
    },
  });
  event('on-call-notified', { outboxId, to });
}
