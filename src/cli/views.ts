// JSON views of stored records (SPEC §8.2 shapes). Keys are a contract: add, never rename.
import { overallState } from '../pec/receipts.js';
import type { Desk } from '../runtime/context.js';
import { getMessage } from '../store/messages.js';
import { recipients, type OutboxRow } from '../store/outbox.js';
import type { QuarantineRow } from '../store/quarantine.js';
import { ticketEvents, type TicketRow } from '../store/tickets.js';

export function ticketView(desk: Desk, t: TicketRow & { administration_name?: string | null }) {
  // A listed row brings the name joined in; a single ticket asks for it.
  const admin = t.administration_name !== undefined
    ? t.administration_name
    : t.administration_id
      ? (desk.db.prepare('SELECT name FROM administrations WHERE id = ?').pluck().get(t.administration_id) as string | undefined)
      : undefined;
  return {
    ref: t.ref,
    kind: t.kind,
    category: t.category,
    status: t.status,
    priority: t.priority,
    administration: t.administration_id,
    administrationName: admin ?? null,
    requester: t.requester,
    requesterName: t.requester_name,
    authorized: t.authorized === 1,
    authorizationReason: t.authorization_reason,
    senderVerification: t.sender_verification,
    senderVerificationNote: t.sender_verification_note,
    senderVerificationProblems: JSON.parse(t.sender_verification_problems) as string[],
    channel: t.channel,
    subject: t.subject,
    receivedAt: t.received_at,
    takeChargeDueAt: t.take_charge_due_at,
    onCall: t.on_call === 1,
    // Operator workflow and SLA (issue 9).
    takenAt: t.taken_at,
    escalatedAt: t.escalated_at,
    resolvedAt: t.resolved_at,
    closedAt: t.closed_at,
    reopenedAt: t.reopened_at,
    breachedAt: t.breached_at,
    slaNotifiedAt: t.sla_notified_at,
    remindedAt: t.reminded_at,
  };
}

export function ticketWithEvents(desk: Desk, t: TicketRow) {
  return {
    ...ticketView(desk, t),
    events: ticketEvents(desk.db, t.id).map((e) => ({ at: e.at, type: e.type, actor: e.actor, detail: JSON.parse(e.detail) as unknown })),
  };
}

export function outboxView(desk: Desk, e: OutboxRow) {
  const rcpts = recipients(desk.db, e.id);
  let delivery = null;
  if (rcpts.length) {
    delivery = { state: overallState(rcpts.map((r) => r.state)), recipients: rcpts.map((r) => ({ address: r.address, state: r.state, at: r.at, detail: r.detail })) };
  }
  const ticketRef = e.ticket_id ? (desk.db.prepare('SELECT ref FROM tickets WHERE id = ?').pluck().get(e.ticket_id) as string) : null;
  return {
    id: e.id,
    template: e.template,
    channel: e.channel,
    to: e.to_addr,
    from: e.from_addr,
    subject: e.subject,
    messageId: e.message_id,
    inReplyTo: e.in_reply_to,
    ticket: ticketRef,
    status: e.status,
    // A crash interrupted a send of this entry (issue 10): re-sent with the same Message-ID
    // (e-mail), or only without an accettazione by resendAfter (PEC).
    uncertain: e.uncertain_at ? { since: e.uncertain_at, resendAfter: e.status === 'queued' ? e.next_attempt_at : null } : null,
    delivery,
    attempts: e.attempts,
    lastError: e.last_error,
    createdAt: e.created_at,
    sentAt: e.sent_at,
    sentTo: e.sent_to,
    pecIdentificativo: e.pec_identificativo,
  };
}

export function quarantineView(q: QuarantineRow) {
  return { id: q.id, file: q.file, mailbox: q.mailbox, reason: q.reason, at: q.at, status: q.status };
}

export function quarantineDetail(desk: Desk, q: QuarantineRow) {
  const m = getMessage(desk.db, q.message_id)!;
  return {
    ...quarantineView(q),
    releasedAt: q.released_at,
    detail: q.detail,
    message: {
      sha256: m.sha256,
      size: m.size,
      rawPath: desk.raw.pathFor(m.sha256),
      messageId: m.message_id,
      sender: m.sender,
      subject: m.subject,
      recordedAt: m.recorded_at,
      source: m.source,
      sourceUid: m.source_uid,
    },
  };
}
