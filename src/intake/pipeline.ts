// One message from bytes to a durable outcome (DESIGN "data flows one way"):
// raw store + record → parse → facts → decide (pure) → one transaction → result.
// Whatever throws after recording quarantines the message; nothing is lost.
import type { MailboxName } from '../config/load.js';
import { delegationOutOfPeriod } from '../desk/authorization.js';
import { localDay } from '../desk/calendar.js';
import { decide, type MessageFacts, type MessageKind, type ThreadCandidate } from '../desk/decide.js';
import { pinsInText, verifyPin } from '../desk/pins.js';
import { ticketRefsInSubject } from '../desk/refs.js';
import { resolveRequester } from '../desk/requester.js';
import { bounceDiagnostic, bouncedMessageIds, isAutoReply, isBounce, neverReplyReason } from '../mail/auto-detect.js';
import { MessageRejected, mimeLimitsOf, parseMessage, threadKey, type ParsedMessage } from '../mail/parse.js';
import type { PecEnvelope } from '../pec/envelope.js';
import type { DeliveryState } from '../pec/receipts.js';
import { channelOf, type Desk } from '../runtime/context.js';
import { applyPlan, replayedResult } from '../store/apply-plan.js';
import { senderFacts } from '../store/directory.js';
import { findBySourceUid, findUnfinishedBySha, finishMessage, getMessage, insertMessage, type MessageRow } from '../store/messages.js';
import { activePins, getOrder } from '../store/orders.js';
import { automaticRepliesSince, findOutboxByMessageId, findOutboxByPecIdentificativo, recipients, type OutboxRow } from '../store/outbox.js';
import { openQuarantineFor, quarantineMessage, releaseQuarantine } from '../store/quarantine.js';
import { getTicket, getTicketByRef, ticketIdsForThreadKeys, type TicketRow } from '../store/tickets.js';
import { examine, type Examined } from './examine.js';
import {
  contractFacts, examineDocuments, keepDocuments, orderPlanContext, pianoFacts, planContractIntake, planPianoIntake, type OrderDocuments,
} from './orders.js';
import {
  planForAnomaly, planForMessage, planForReceipt, receiptApplies, type BouncedEntry, type PlanContext, type ReceiptFacts,
} from './plans.js';
import type { IngestResult } from './result.js';

export interface IncomingMessage {
  bytes: Buffer;
  mailbox: MailboxName;
  source: 'maildir' | 'imap' | 'file';
  /** Stable identity at the source (Maildir unique name, IMAP folder:UIDVALIDITY:UID); null for files given to ingest. */
  sourceUid: string | null;
  file: string | null;
  /** When the source says it arrived (Maildir delivery time), if known. */
  arrivedAt?: Date;
  /** Set when the bytes are already in the raw store under this hash (streamed there by the source). */
  sha256?: string;
}

/** Record then process one incoming message. Never throws for anything the message contains. */
export async function ingestMessage(desk: Desk, inc: IncomingMessage, now: Date): Promise<IngestResult> {
  const sha256 = inc.sha256 ?? desk.raw.put(inc.bytes);
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

/**
 * A message over limits.maxMessageBytes, already streamed into the raw store: recorded and
 * quarantined with the reason, never parsed, never dropped.
 */
export function ingestTooLarge(desk: Desk, inc: Omit<IncomingMessage, 'bytes'> & { sha256: string; size: number }, now: Date): IngestResult {
  const seen = inc.sourceUid ? findBySourceUid(desk.db, inc.mailbox, inc.source, inc.sourceUid) : undefined;
  if (seen && seen.status !== 'received') return replayed(desk, seen);
  const row =
    seen ??
    insertMessage(desk.db, {
      mailbox: inc.mailbox, source: inc.source, sourceUid: inc.sourceUid, file: inc.file, sha256: inc.sha256, size: inc.size, recordedAt: now.toISOString(),
    });
  return quarantine(desk, row, null, tooLarge(desk, inc.size), now);
}

function tooLarge(desk: Desk, size: number): MessageRejected {
  return new MessageRejected('too-large', `message of ${size} bytes exceeds limits.maxMessageBytes (${desk.cfg.limits.maxMessageBytes})`);
}

/** Process a stored message again (quarantine retry, recovery after a crash). */
export async function reprocessStored(desk: Desk, messageRowId: number, now: Date): Promise<IngestResult> {
  const row = getMessage(desk.db, messageRowId);
  if (!row) throw new Error(`message ${messageRowId} not found`);
  return processRecorded(desk, row, desk.raw.get(row.sha256), now);
}

function replayed(desk: Desk, row: MessageRow): IngestResult {
  return replayedResult(desk, row);
}

async function processRecorded(desk: Desk, row: MessageRow, bytes: Buffer, now: Date, arrivedAt?: Date): Promise<IngestResult> {
  let parsed: ParsedMessage | null = null;
  try {
    if (bytes.length > desk.cfg.limits.maxMessageBytes) throw tooLarge(desk, bytes.length);
    parsed = await parseMessage(bytes, mimeLimitsOf(desk.cfg.limits));
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
  }).immediate();
  desk.log.warn({ messageRow: row.id, file: row.file, mailbox: row.mailbox, reason }, 'message quarantined');
  return id;
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
  const { content, sender, verification, receivedAt } = ex;
  if (!sender) throw new MessageRejected('no-sender', 'no sender address in From');
  const nowIso = now.toISOString();

  if (ex.pec && ex.pec.kind !== 'posta-certificata') {
    const pec = ex.pec;
    if (pec.kind !== 'receipt') return applyPlan(desk, row, planForAnomaly(ex, pec), nowIso);
    const facts = receiptFacts(desk, row, ex, pec);
    const result = applyPlan(desk, row, planForReceipt(facts), nowIso);
    if (result.classification !== 'duplicate' && !receiptApplies(facts)) {
      desk.log.info({ messageRow: row.id, tipo: pec.tipo, correlated: Boolean(facts.entry), certified: pec.certified }, 'PEC receipt kept without changing any delivery state');
    }
    return result;
  }

  const kind = messageKind(content);
  if (kind === 'email' && (docs.piano || docs.contract)) {
    // The documents' bytes are evidence: in the raw store before the transaction refers to them.
    keepDocuments(desk, docs);
    const plan = docs.piano
      ? planPianoIntake(pianoFacts(desk, row, ex, docs.piano, nowIso), orderPlanContext(desk))
      : planContractIntake(contractFacts(desk, ex, docs.contract!), orderPlanContext(desk));
    return applyPlan(desk, row, plan, nowIso);
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
  const joined = decision.action.type === 'append' ? getTicket(desk.db, decision.action.ticketId) : undefined;
  const plan = planForMessage(
    {
      row, ex, facts, decision, nowIso,
      target: joined ? { status: joined.status, resolvedAt: joined.resolved_at } : null,
      bounce: kind === 'bounce' ? bounceFacts(desk, content) : null,
    },
    planContext(desk),
  );
  return applyPlan(desk, row, plan, nowIso);
}

export function planContext(desk: Desk): PlanContext {
  return { timezone: desk.cfg.timezone, rules: desk.rules, onCallAddress: desk.cfg.onCall.address ?? null, reopenDays: desk.cfg.workflow.reopenDays };
}

/** Our outgoing messages a bounce reports (read-only). */
function bounceFacts(desk: Desk, parsed: ParsedMessage): { entries: BouncedEntry[]; diagnostic: string | null } {
  const entries: BouncedEntry[] = [];
  for (const id of bouncedMessageIds(parsed)) {
    const entry = findOutboxByMessageId(desk.db, id);
    if (entry) entries.push({ outboxId: entry.id, to: entry.to_addr, ticketId: entry.ticket_id });
  }
  return { entries, diagnostic: bounceDiagnostic(parsed) ?? null };
}

/** The outgoing message a receipt refers to, its recipients' states and its order (read-only). */
function receiptFacts(desk: Desk, row: MessageRow, ex: Examined, pec: PecEnvelope): ReceiptFacts {
  const d = pec.daticert;
  let entry: OutboxRow | undefined;
  if (d?.msgid) entry = findOutboxByMessageId(desk.db, `<${d.msgid}>`);
  if (!entry && d?.identificativo) entry = findOutboxByPecIdentificativo(desk.db, d.identificativo);
  if (!entry && !d && pec.hints.riferimentoMessageId) entry = findOutboxByMessageId(desk.db, pec.hints.riferimentoMessageId);
  // The unsigned X-Riferimento-Message-ID should confirm the signed msgid; the signed one wins.
  const hint = pec.hints.riferimentoMessageId;
  const hintMismatch = Boolean(d?.msgid && hint && threadKey(hint) !== threadKey(d.msgid));
  if (hintMismatch) desk.log.warn({ messageRow: row.id, msgid: d?.msgid, hint }, 'X-Riferimento-Message-ID disagrees with the signed daticert msgid; the signed value is used');
  const order = entry?.order_id ? getOrder(desk.db, entry.order_id) : undefined;
  return {
    ex,
    pec,
    entry: entry
      ? {
          id: entry.id,
          ticketId: entry.ticket_id,
          template: entry.template,
          recipientStates: Object.fromEntries(recipients(desk.db, entry.id).map((r) => [r.address, r.state as DeliveryState])),
          order: order ? { id: order.id, state: order.state } : null,
        }
      : null,
    hintMismatch: hintMismatch ? hint! : null,
  };
}

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
