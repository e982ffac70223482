// The operator workflow of a ticket (SPEC §2.2, issue 9 rule 6) as a state machine. Pure: which
// transitions exist and when a requester's reply reopens a resolved ticket; the store records
// each change as an event, the CLI carries out the replies it implies.

export type TicketStatus = 'new' | 'in-charge' | 'escalated' | 'resolved' | 'closed' | 'reopened';

export type TicketAction = 'take' | 'escalate' | 'resolve' | 'close' | 'reopen';

/** Ticket event types written by the workflow (`tickets take|escalate|…`). */
export type WorkflowEventType = 'taken' | 'escalated' | 'resolved' | 'closed' | 'reopened';

export const TICKET_STATUSES: readonly TicketStatus[] = ['new', 'in-charge', 'escalated', 'resolved', 'closed', 'reopened'];
export const TICKET_ACTIONS: readonly TicketAction[] = ['take', 'escalate', 'resolve', 'close', 'reopen'];

/**
 * The transition table. `take` from `escalated` is the first level taking a ticket back from
 * the second; `escalate` needs someone in charge first; `reopen` brings a resolved or closed
 * ticket back to be taken in charge again.
 */
export const TRANSITIONS: Readonly<Record<TicketAction, { from: readonly TicketStatus[]; to: TicketStatus; event: WorkflowEventType }>> = {
  take: { from: ['new', 'reopened', 'escalated'], to: 'in-charge', event: 'taken' },
  escalate: { from: ['in-charge'], to: 'escalated', event: 'escalated' },
  resolve: { from: ['in-charge', 'escalated'], to: 'resolved', event: 'resolved' },
  close: { from: ['resolved'], to: 'closed', event: 'closed' },
  reopen: { from: ['resolved', 'closed'], to: 'reopened', event: 'reopened' },
};

/** Why a transition is refused. */
export type TransitionRefusal = 'not-allowed-from' | 'unknown-status';

export type TransitionResult =
  | { ok: true; to: TicketStatus; event: WorkflowEventType }
  | { ok: false; code: TransitionRefusal; reason: string };

export function isTicketStatus(s: string): s is TicketStatus {
  return (TICKET_STATUSES as readonly string[]).includes(s);
}

export function isTicketAction(s: string): s is TicketAction {
  return (TICKET_ACTIONS as readonly string[]).includes(s);
}

/** What `action` does to a ticket in `status`: the new status, or why it is refused (one line). */
export function transition(status: string, action: TicketAction): TransitionResult {
  const t = TRANSITIONS[action];
  if (!isTicketStatus(status)) return { ok: false, code: 'unknown-status', reason: `cannot ${action}: unknown ticket status ${JSON.stringify(status)}` };
  if (!t.from.includes(status)) {
    return { ok: false, code: 'not-allowed-from', reason: `cannot ${action} a ticket that is ${status} (${action} is allowed from: ${t.from.join(', ')})` };
  }
  return { ok: true, to: t.to, event: t.event };
}

const DAY_MS = 86_400_000;

/**
 * Does a requester's reply reopen the ticket? Only a `resolved` ticket, and only when the reply
 * arrives within `reopenDays` × 24 h of the resolution (a reply written before the resolution
 * was recorded counts too: it still needs an answer). A closed ticket is never reopened by
 * mail — a new message about it opens a new ticket.
 */
export function shouldReopenOnReply(status: string, resolvedAt: Date | string | null, replyAt: Date, reopenDays: number): boolean {
  if (status !== 'resolved' || resolvedAt === null) return false;
  if (!Number.isFinite(reopenDays) || reopenDays < 0) throw new RangeError(`reopenDays must be a non-negative number, got ${reopenDays}`);
  const resolved = typeof resolvedAt === 'string' ? new Date(resolvedAt) : resolvedAt;
  if (Number.isNaN(resolved.getTime())) return false;
  return replyAt.getTime() <= resolved.getTime() + reopenDays * DAY_MS;
}
