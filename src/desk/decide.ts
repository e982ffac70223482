// The decision step (DESIGN "decide"): given the facts gathered about one message, the rules and
// the clock, say what should happen. Pure: the store carries the decision out.
import { isWithinServiceHours, takeChargeDeadline, type CalendarConfig } from './calendar.js';
import { derivePriority, type PriorityRules } from './priority.js';
import type { Requester } from './requester.js';
import { mayJoinTicket } from './threading.js';
import type { Channel, SenderVerification, TicketKind } from './types.js';

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
  receivedAt: Date;
  /** Why the desk must never answer this message (auto-detect), or null. */
  neverReply: string | null;
  /** Tickets the message claims to belong to, strongest claim first. */
  threadCandidates: ThreadCandidate[];
  /** Automatic replies already queued to this sender in the hour before receivedAt. */
  repliesToSenderLastHour: number;
}

export interface DeskRules {
  calendar: CalendarConfig;
  priority: PriorityRules;
  repliesPerSenderPerHour: number;
}

export type TicketAction =
  | {
      type: 'open';
      kind: TicketKind;
      category: string;
      priority: string;
      priorityReason: string;
      takeChargeDueAt: Date | null;
      authorized: boolean;
      onCall: boolean;
      /** A ticket the message quoted but whose thread the sender may not join. */
      refusedThread: string | null;
    }
  | { type: 'append'; ticketId: number; ref: string; eventType: string }
  | { type: 'none' };

export interface Decision {
  action: TicketAction;
  reply: { template: 'acknowledgement' | 'out-of-hours' | 'unverified-sender' } | null;
  /** Set when a reply would have been sent but a rule forbade it. */
  replySuppressed: string | null;
}

export function decide(f: MessageFacts, rules: DeskRules): Decision {
  const joinable = f.threadCandidates.find((c) => mayJoinTicket(c, f.sender, f.verification));
  if (f.kind !== 'email') {
    // Machine mail never opens a ticket; it is kept on the thread it answers, if any.
    return {
      action: joinable
        ? { type: 'append', ticketId: joinable.ticketId, ref: joinable.ref, eventType: f.kind }
        : { type: 'none' },
      reply: null,
      replySuppressed: null,
    };
  }
  if (joinable) {
    // A follow-up is an event on its ticket; it gets no new acknowledgement.
    return {
      action: { type: 'append', ticketId: joinable.ticketId, ref: joinable.ref, eventType: 'follow-up' },
      reply: null,
      replySuppressed: null,
    };
  }

  const category = 'support';
  const kind: TicketKind = 'support';
  const p = derivePriority({ subject: f.subject, text: f.text, category }, rules.priority);
  const action: TicketAction = {
    type: 'open',
    kind,
    category,
    priority: p.priority,
    priorityReason: p.reason,
    takeChargeDueAt: takeChargeDeadline(rules.calendar, p.priority, f.receivedAt),
    // Any sender may register a support request; privileged categories arrive with the rules.
    authorized: true,
    onCall: false,
    refusedThread: f.threadCandidates[0]?.ref ?? null,
  };

  let replySuppressed = f.neverReply;
  if (!replySuppressed && f.repliesToSenderLastHour >= rules.repliesPerSenderPerHour) {
    replySuppressed = `reply limit reached: ${rules.repliesPerSenderPerHour} automatic replies to this sender in the last hour`;
  }
  // A PEC envelope that failed verification: registered, and the sender is told how to resend.
  const template =
    f.pecEnvelope && f.verification === 'unverified'
      ? 'unverified-sender'
      : isWithinServiceHours(rules.calendar, f.receivedAt)
        ? 'acknowledgement'
        : 'out-of-hours';
  return { action, reply: replySuppressed ? null : { template }, replySuppressed };
}
