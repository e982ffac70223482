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
import { attachmentSpill, channelOf, type Desk } from '../runtime/context.js';
import { applyPlan, replayedResult } from '../store/apply-plan.js';
import { senderFacts } from '../store/directory.js';
import { findBySourceUid, findUnfinishedBySha, finishMessage, getMessage, insertMessage, type MessageRow } from '../store/messages.js';
import { activePins, getOrder } from '../store/orders.js';
import { automaticRepliesSince, findOutboxByMessageId, findOutboxByPecIdentificativo, recipients, type OutboxRow } from '../store/outbox.js';
import { openQuarantineFor, quarantineMessage, releaseQuarantine } from '../store/quarantine.js';
import { getTicket, getTicketByRef, ticketIdsForThreadKeys, type TicketRow } from '../store/tickets.js';
import { examine, type Examined } from './examine.js';
import {
  contractFacts, examineDocuments, hasDocumentCandidates, keepDocuments, orderPlanContext, pianoFacts, planContractIntake, planPianoIntake, type OrderDocuments,
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

/** A message over limits.maxMessageBytes, already streamed into the raw store: never parsed. */
export type TooLargeMessage = Omit<IncomingMessage, 'bytes'> & { tooLarge: { sha256: string; size: number } };

export type BatchInput = IncomingMessage | TooLargeMessage;

/** What parsing and examining a message found, before anything is written. */
type Analysis =
  | { ok: true; parsed: ParsedMessage; ex: Examined; docs: OrderDocuments }
  | { ok: false; parsed: ParsedMessage | null; error: unknown };

/** One message of a batch on its way to the commit. */
interface Pending {
  input: BatchInput;
  sha256: string;
  size: number;
  now: Date;
  /** The message's record when it exists already (a retry, an unfinished record). */
  row: MessageRow | undefined;
  analysis: Analysis;
}

/** Record then process one incoming message. Throws only when it could not be recorded. */
export async function ingestMessage(desk: Desk, inc: IncomingMessage, now: Date): Promise<IngestResult> {
  return recordedOrThrow((await ingestBatch(desk, [inc], () => now))[0]!);
}

function recordedOrThrow(r: IngestResult | Error): IngestResult {
  if (r instanceof Error) throw r;
  return r;
}

/**
 * Group commit (issue 12): a batch of messages is made durable together, so the cost of
 * durability is paid per batch, not per message —
 *  1. every raw file written and fsynced, each directory fsynced once;
 *  2. each message parsed and examined (no writes);
 *  3. ONE immediate transaction records every message row and carries out every plan, each
 *     message in its own savepoint: a message whose plan fails is quarantined alone;
 *  4. the caller acknowledges at the source only what this returns as a result.
 * If the batch's transaction cannot commit (disk full, a message whose quarantine itself fails),
 * each message is committed on its own, so one bad message holds back only itself.
 * Returns, per input in order, its result or the error that kept it from being recorded.
 */
export async function ingestBatch(desk: Desk, inputs: readonly BatchInput[], clock: () => Date): Promise<Array<IngestResult | Error>> {
  let shas: Array<string | null>;
  try {
    shas = await desk.raw.putAll(inputs.map((i) => ('bytes' in i && !i.sha256 ? i.bytes : null)));
  } catch (e) {
    return inputs.map(() => asError(e));
  }
  const out: Array<IngestResult | Error | undefined> = new Array(inputs.length);
  const pending: Array<{ index: number; p: Pending }> = [];
  const flush = () => {
    for (const { index, result } of commitPending(desk, pending.splice(0))) out[index] = result;
  };
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const sha256 = 'tooLarge' in input ? input.tooLarge.sha256 : (input.sha256 ?? shas[i]!);
    try {
      const found = existingRecord(desk, input, sha256);
      // Already finished (a restart before the source was acknowledged): report, do nothing.
      if (found && found.status !== 'received') {
        out[i] = replayedResult(desk, found);
        continue;
      }
      const now = clock();
      const size = 'tooLarge' in input ? input.tooLarge.size : input.bytes.length;
      const analysis = 'tooLarge' in input ? rejected(tooLarge(desk, size)) : await analyze(desk, input.bytes, now, input.arrivedAt, flush);
      pending.push({ index: i, p: { input, sha256, size, now, row: found, analysis } });
    } catch (e) {
      out[i] = asError(e);
    }
  }
  flush();
  return out.map((r) => r ?? new Error('message neither recorded nor reported'));
}

/** Process a stored message again (quarantine retry, recovery after a crash). */
export async function reprocessStored(desk: Desk, messageRowId: number, now: Date): Promise<IngestResult> {
  const row = getMessage(desk.db, messageRowId);
  if (!row) throw new Error(`message ${messageRowId} not found`);
  const bytes = desk.raw.get(row.sha256);
  const input: IncomingMessage = { bytes, mailbox: row.mailbox as MailboxName, source: row.source as IncomingMessage['source'], sourceUid: row.source_uid, file: row.file, sha256: row.sha256 };
  const analysis = await analyze(desk, bytes, now);
  return recordedOrThrow(commitPending(desk, [{ index: 0, p: { input, sha256: row.sha256, size: row.size, now, row, analysis } }])[0]!.result);
}

function existingRecord(desk: Desk, input: BatchInput, sha256: string): MessageRow | undefined {
  if (input.sourceUid) return findBySourceUid(desk.db, input.mailbox, input.source, input.sourceUid);
  return findUnfinishedBySha(desk.db, input.mailbox, sha256);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function rejected(error: unknown, parsed: ParsedMessage | null = null): Analysis {
  return { ok: false, parsed, error };
}

function tooLarge(desk: Desk, size: number): MessageRejected {
  return new MessageRejected('too-large', `message of ${size} bytes exceeds limits.maxMessageBytes (${desk.cfg.limits.maxMessageBytes})`);
}

/**
 * Parse and examine: everything that reads the message, nothing that writes the database.
 * Order documents are judged against the orders and the directory as the messages before them
 * left them: `commitEarlier` commits the batch so far before they are read.
 */
async function analyze(desk: Desk, bytes: Buffer, now: Date, arrivedAt?: Date, commitEarlier?: () => void): Promise<Analysis> {
  let parsed: ParsedMessage | null = null;
  const overTime = stageDeadline(desk.cfg.limits.maxProcessingSeconds);
  try {
    if (bytes.length > desk.cfg.limits.maxMessageBytes) throw tooLarge(desk, bytes.length);
    parsed = await parseMessage(bytes, mimeLimitsOf(desk.cfg.limits), attachmentSpill(desk));
    overTime('parsing');
    const ex = await examine(desk, bytes, parsed, now, arrivedAt);
    overTime('the envelope and sender checks');
    const withDocuments = ex.sender && (!ex.pec || ex.pec.kind === 'posta-certificata') && hasDocumentCandidates(ex);
    if (withDocuments) commitEarlier?.();
    const docs = withDocuments ? await examineDocuments(desk, ex, now) : { piano: null, contract: null };
    overTime('the documents');
    // The documents' bytes are evidence: durable before the transaction that refers to them.
    keepDocuments(desk, docs);
    return { ok: true, parsed, ex, docs };
  } catch (e) {
    return rejected(e, parsed);
  }
}

/**
 * limits.maxProcessingSeconds, checked at the end of each stage: a message past it is
 * quarantined rather than acted on. A stage in progress is not interrupted; the size, MIME and
 * PDF limits bound each one.
 */
function stageDeadline(seconds: number): (stage: string) => void {
  const deadline = performance.now() + seconds * 1000;
  return (stage) => {
    if (performance.now() > deadline) {
      throw new MessageRejected('processing-timeout', `still processing after limits.maxProcessingSeconds (${seconds} s), at the end of ${stage}`);
    }
  };
}

/**
 * Commit analysed messages: all in one transaction, or — when that fails — each in its own.
 * Quarantines are logged once committed.
 */
function commitPending(desk: Desk, pending: ReadonlyArray<{ index: number; p: Pending }>): Array<{ index: number; result: IngestResult | Error }> {
  if (pending.length === 0) return [];
  const commit = (items: ReadonlyArray<{ index: number; p: Pending }>) => desk.db.transaction(() => items.map(({ p }) => record(desk, p))).immediate();
  let results: Array<IngestResult | Error>;
  try {
    results = commit(pending);
  } catch (e) {
    if (pending.length === 1) return [{ index: pending[0]!.index, result: asError(e) }];
    desk.log.warn({ messages: pending.length, error: (e as Error).message }, 'batch commit failed; committing its messages one by one');
    results = pending.map((item) => {
      try {
        return commit([item])[0]!;
      } catch (err) {
        return asError(err);
      }
    });
  }
  return pending.map(({ index, p }, k) => {
    const result = results[k]!;
    if (!(result instanceof Error) && result.quarantine) {
      desk.log.warn({ file: p.input.file, mailbox: p.input.mailbox, quarantine: result.quarantine.id, reason: result.quarantine.reason }, 'message quarantined');
    }
    return { index, result };
  });
}

/** In the batch's transaction: the message's record, then its outcome (quarantine on any failure). */
function record(desk: Desk, p: Pending): IngestResult {
  const { input } = p;
  const row =
    p.row ??
    insertMessage(desk.db, {
      mailbox: input.mailbox, source: input.source, sourceUid: input.sourceUid, file: input.file, sha256: p.sha256, size: p.size, recordedAt: p.now.toISOString(),
    });
  const a = p.analysis;
  if (!a.ok) return quarantine(desk, row, a.parsed, a.error, p.now);
  try {
    return handleExamined(desk, row, a.ex, a.docs, p.now);
  } catch (e) {
    return quarantine(desk, row, a.parsed, e, p.now);
  }
}

function quarantine(desk: Desk, row: MessageRow, parsed: ParsedMessage | null, e: unknown, now: Date): IngestResult {
  const reason = e instanceof MessageRejected ? `${e.code}: ${e.message}` : `processing-error: ${(e as Error)?.message ?? String(e)}`;
  const detail = e instanceof MessageRejected ? null : ((e as Error)?.stack ?? null);
  const sender = parsed?.from?.address ?? null;
  const nowIso = now.toISOString();
  return desk.db.transaction(() => {
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
