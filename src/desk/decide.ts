// The decision step (DESIGN "decide"): given the facts gathered about one message, the rules and
// the clock, say what should happen. Pure: the store carries the decision out.
import { authorize, type AuthorizationReason } from './authorization.js';
import { calendarFor, isWithinServiceHours, takeChargeDeadline, type CalendarConfig, type CalendarSet, type PriorityClass } from './calendar.js';
import { categorize, type Category, type CategoryRule } from './category.js';
import { derivePriority, type PriorityRules } from './priority.js';
import type { Requester } from './requester.js';
import { mayJoinTicket } from './threading.js';
import type { Channel, SenderVerification, TicketKind } from './types.js';
import { requestWording } from './wording.js';

export type MessageKind = 'email' | 'auto-reply' | 'bounce';

export interface ThreadCandidate {
  ticketId: number;
  ref: string;
  requester: string;
  administrationId: string | null;
  via: 'subject' | 'in-reply-to' | 'references';
}

export interface MessageFacts {
  channel: Channel;
  subject: string;
  text: string;
  kind: MessageKind;
  sender: Requester;
  verification: SenderVerification;
  /** The message came in a PEC transport envelope (certified or not). */
  pecEnvelope: boolean;
  /** The sender is a delegate of an Administration, but not on the day of receipt. */
  delegationOutOfPeriod: boolean;
  /**
   * A PIN written in the body, checked by the caller against the Administration's hashes:
   * the role it belongs to, `invalid`, or null when there is none.
   */
  pin: 'technical-referent' | 'generic' | 'invalid' | null;
  receivedAt: Date;
  /** Why the desk must never answer this message (auto-detect), or null. */
  neverReply: string | null;
  /** Tickets the message claims to belong to, strongest claim first. */
  threadCandidates: ThreadCandidate[];
  /** Automatic replies already queued to this sender in the hour before receivedAt. */
  repliesToSenderLastHour: number;
}

export interface DeskRules extends CalendarSet {
  /** The default calendar (`calendarFor(rules, null)`), kept for callers that know no contract. */
  calendar: CalendarConfig;
  priority: PriorityRules;
  categories: CategoryRule[];
  repliesPerSenderPerHour: number;
}

/** The authorization decided for this very message (never inherited from a thread). */
export interface MessageAuthorization {
  kind: TicketKind;
  category: Category;
  /** The words that made it a change request. */
  categoryMatched: string[] | null;
  authorized: boolean;
  reason: AuthorizationReason;
}

export type TicketAction =
  | ({
      type: 'open';
      priority: PriorityClass;
      priorityReason: string;
      /** The class the contract cap lowered (the reply says so), else null. */
      priorityLoweredFrom: PriorityClass | null;
      takeChargeDueAt: Date | null;
      /** Out of hours with a valid PIN: the on-call service, on a 24/7 clock. */
      onCall: boolean;
      /** A ticket the message quoted but whose thread the sender may not join. */
      refusedThread: string | null;
    } & MessageAuthorization)
  | ({ type: 'append'; ticketId: number; ref: string; eventType: 'follow-up' | 'auto-reply' | 'bounce' } & MessageAuthorization)
  | { type: 'none' };

export type ReplyTemplate = 'acknowledgement' | 'out-of-hours' | 'unverified-sender' | 'refusal';

export interface Decision {
  action: TicketAction;
  reply: { template: ReplyTemplate } | null;
  /** Set when a reply would have been sent but a rule forbade it. */
  replySuppressed: string | null;
  /** Tell the on-call address at once. */
  notifyOnCall: boolean;
}

const HOUR_CLASSES: ReadonlySet<PriorityClass> = new Set(['P1+', 'P1', 'P2']);
const ON_CALL_HOURS: Partial<Record<PriorityClass, number>> = { 'P1+': 1, P1: 2, P2: 4 };

/** Category and authorization of one message (SPEC §2.3, §3). */
export function authorizationOf(f: MessageFacts, rules: DeskRules, wording = requestWording(f.subject, f.text)): MessageAuthorization {
  const c = categorize(wording, rules.categories);
  const a = authorize({ category: c.category, requester: f.sender, verification: f.verification, delegationOutOfPeriod: f.delegationOutOfPeriod });
  return { kind: c.kind, category: c.category, categoryMatched: c.matched, authorized: a.authorized, reason: a.reason };
}

export function decide(f: MessageFacts, rules: DeskRules): Decision {
  const joinable = f.threadCandidates.find((c) => mayJoinTicket(c, f.sender, f.verification));
  if (f.kind !== 'email') {
    // Machine mail never opens a ticket; it is kept on the thread it answers, if any.
    const machine: MessageAuthorization = { kind: 'support', category: 'support', categoryMatched: null, authorized: false, reason: 'sender-unverified' };
    return {
      action: joinable ? { type: 'append', ticketId: joinable.ticketId, ref: joinable.ref, eventType: f.kind, ...machine } : { type: 'none' },
      reply: null,
      replySuppressed: null,
      notifyOnCall: false,
    };
  }
  // The request's own words, normalised once for the category and the priority tables.
  const wording = requestWording(f.subject, f.text);
  const auth = authorizationOf(f, rules, wording);
  if (joinable) {
    // A follow-up is an event on its ticket (with its own authorization); no new acknowledgement.
    return {
      action: { type: 'append', ticketId: joinable.ticketId, ref: joinable.ref, eventType: 'follow-up', ...auth },
      reply: null,
      replySuppressed: null,
      notifyOnCall: false,
    };
  }

  // The calendar of the Administration's contract (seeds 001, 003, 004 keep different hours).
  const calendar = calendarFor(rules, f.sender.calendar);
  const p = derivePriority(
    {
      wording,
      subject: f.subject,
      category: auth.category,
      mayForce: f.sender.role === 'referent' && auth.authorized && f.verification !== 'unverified',
      supportContract: f.sender.supportContract,
    },
    rules.priority,
  );
  const inHours = isWithinServiceHours(calendar, f.receivedAt);
  // Seeds 001/004: out of hours, an hour class with the Administration's valid PIN goes to
  // the on-call service, whose clock runs 24/7.
  const onCall = HOUR_CLASSES.has(p.priority) && !inHours && auth.authorized && (f.pin === 'technical-referent' || f.pin === 'generic');
  const takeChargeDueAt = onCall
    ? new Date(f.receivedAt.getTime() + ON_CALL_HOURS[p.priority]! * 3_600_000)
    : takeChargeDeadline(calendar, p.priority, f.receivedAt);
  const pinNote = f.pin === 'invalid' ? '; the PIN in the message is not valid: it waits for the next opening' : '';
  const action: TicketAction = {
    type: 'open',
    ...auth,
    priority: p.priority,
    priorityReason: `${p.reason}${onCall ? `; on call (valid ${f.pin} PIN out of service hours): 24/7 clock` : ''}${pinNote}`,
    priorityLoweredFrom: p.loweredFrom,
    takeChargeDueAt,
    onCall,
    refusedThread: f.threadCandidates[0]?.ref ?? null,
  };

  let replySuppressed = f.neverReply;
  if (!replySuppressed && f.repliesToSenderLastHour >= rules.repliesPerSenderPerHour) {
    replySuppressed = `reply limit reached: ${rules.repliesPerSenderPerHour} automatic replies to this sender in the last hour`;
  }
  let template: ReplyTemplate;
  if (!auth.authorized) template = auth.reason === 'sender-unverified' ? 'unverified-sender' : 'refusal';
  // A PEC envelope that failed verification: registered, and the sender is told how to resend.
  else if (f.pecEnvelope && f.verification === 'unverified') template = 'unverified-sender';
  else template = inHours || onCall ? 'acknowledgement' : 'out-of-hours';
  return { action, reply: replySuppressed ? null : { template }, replySuppressed, notifyOnCall: onCall };
}
