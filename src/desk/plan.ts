// What one incoming message makes happen (DESIGN "data flows one way", issue 9 "one decision
// pipe"): a plan of typed effects, built by pure functions from the facts and the decision, and
// carried out by the store (src/store/apply-plan.ts) in one immediate transaction. Nothing here
// touches the database; ids the store assigns (tickets, outbox rows) are referred to by handle.
import type { SenderVerification, Classification } from './types.js';
import type { VerificationProblem, PecVerificationProblem } from './verification.js';
import type { TicketEventType } from './events.js';
import type { TicketAction, TicketStatus, WorkflowEventType } from './workflow.js';
import type { OutgoingSpec } from '../outbox/replies.js';
import type { NewTicket } from '../store/tickets.js';
import type { DeliveryState } from '../pec/receipts.js';

/** A ticket that already exists, or the one an `open-ticket` effect of this plan creates. */
export type TicketHandle = { id: number } | { opened: string };

/** An order that already exists, or the one an `open-order` effect of this plan creates. */
export type OrderHandle = { id: number } | { opened: string };

/** The ticket row an `open-ticket` effect inserts; the store assigns its ref and created_at. */
export type PlannedTicket = Omit<NewTicket, 'ref' | 'created_at'>;

export type Effect =
  /** Insert a ticket; its ref is HD-<refYear>-<next number>, drawn in the transaction. */
  | { type: 'open-ticket'; key: string; refYear: number; ticket: PlannedTicket }
  /**
   * Append a ticket event. fromMessage: the event is tied to the message being processed.
   * outboxOf: the key of a `queue-outgoing` effect of this plan whose outbox id goes into
   * detail.outboxId (first key). orderRef: a detail field that gets an order's ref (known
   * only once the store assigned it).
   */
  | {
      type: 'ticket-event'; ticket: TicketHandle; eventType: TicketEventType; actor: string; detail: Record<string, unknown>; fromMessage: boolean;
      outboxOf?: string; orderRef?: { field: string; order: OrderHandle };
    }
  /** A Message-ID (already a thread key) by which later mail finds the ticket. */
  | { type: 'thread-key'; ticket: TicketHandle; key: string }
  /** A workflow transition judged legal on the ticket's status as read (`from`); stale → refused. */
  | { type: 'ticket-transition'; ticketId: number; from: string; action: TicketAction; to: TicketStatus; event: WorkflowEventType; actor: string; detail: Record<string, unknown> }
  /**
   * Queue outgoing mail through the one composer (src/outbox/replies.ts). subjectRefTag: the
   * subject starts with `[REF] ` of the ticket (known only once the store assigned it).
   * order: the order it belongs to; orderRefVar: the template value that gets that order's ref.
   */
  | {
      type: 'queue-outgoing'; key?: string; ticket: TicketHandle | null; spec: Omit<OutgoingSpec, 'at' | 'ticket' | 'orderId'>; subjectRefTag?: boolean;
      order?: OrderHandle; orderRefVar?: string;
    }
  /** Set one recipient's delivery state of an outbox entry. */
  | { type: 'recipient-state'; outboxId: number; address: string; state: DeliveryState; at: string; detail: string | null }
  /** The PEC identificativo the provider gave our outgoing message (first one wins). */
  | { type: 'pec-identificativo'; outboxId: number; identificativo: string }
  /** Keep a PEC receipt or anomaly as evidence (pec_notices). */
  | { type: 'pec-notice'; notice: PlannedNotice }
  /** An Administration created from a Piano's fields, under the free id read before planning. */
  | { type: 'create-administration'; id: string; name: string; fiscalCode: string | null; ipaCode: string | null; pec: string | null }
  /** Insert an order (state piano-received); its ref is PF-<refYear>-<next number>. */
  | { type: 'open-order'; key: string; refYear: number; ticket: TicketHandle; administrationId: string; piano: unknown; requester: string; problems: unknown }
  /** The Piano and its findings replaced on an order (a corrected Piano re-sent). */
  | { type: 'order-update'; order: OrderHandle; piano: unknown; problems: unknown }
  /** An order event that changes no state. */
  | { type: 'order-event'; order: OrderHandle; eventType: string; actor: string; detail: Record<string, unknown>; fromMessage: boolean }
  /** A document of the order (its bytes already in the raw store under sha256). */
  | { type: 'order-document'; order: OrderHandle; kind: string; filename: string; sha256: string; size: number }
  /** Move an order to a new state with its event `{ from, to, ...detail }`. */
  | { type: 'order-transition'; order: OrderHandle; from: string; to: string; eventType: string; actor: string; detail: Record<string, unknown>; fromMessage: boolean };

export interface PlannedNotice {
  kind: 'receipt' | 'anomaly';
  tipo: string | null;
  certified: boolean;
  problems: readonly PecVerificationProblem[];
  details: string[];
  msgid: string | null;
  identificativo: string | null;
  daticert: unknown;
  outboxId: number | null;
  applied: boolean;
  receivedAt: string;
}

/** What the message row records about the message, whatever the plan. */
export interface PlannedMessage {
  messageId: string | null;
  sender: string;
  subject: string | null;
  receivedAt: string;
  verification: SenderVerification;
  verificationProblems: VerificationProblem[];
  /** Duplicates are judged on the message as it arrived (for PEC: the envelope). */
  duplicateKey: { messageId: string | null; sender: string | null; content: string };
}

/** The outcome the message row and the ingest result (SPEC §8.2) record once the effects ran. */
export interface PlanOutcome {
  classification: Classification;
  ticket: TicketHandle | null;
  /** The order the message concerns: the store puts its ref in the result. */
  order: null | { order: OrderHandle; state: string; problems: string[] };
  reply: null | { template: string; to: string };
}

/**
 * One message's plan. Finishing the message (status `processed`, classification, result) is not
 * an effect: every plan ends with it, so the store writes it from `result` after the effects.
 */
export interface Plan {
  message: PlannedMessage;
  effects: Effect[];
  result: PlanOutcome;
}
