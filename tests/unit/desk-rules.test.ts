// Pure desk rules: decide, threading, requester roles, references. No I/O.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCategoryRules, loadPriorityRules } from '../../src/config/rules.js';
import { repoRoot } from '../e2e/workspace.js';
import { DEFAULT_CALENDAR } from '../../src/desk/calendar.js';
import { decide, type MessageFacts } from '../../src/desk/decide.js';
import { formatTicketRef, replySubject, ticketRefsInSubject } from '../../src/desk/refs.js';
import { resolveRequester, type Requester } from '../../src/desk/requester.js';
import { mayJoinTicket } from '../../src/desk/threading.js';

const rules = {
  calendar: DEFAULT_CALENDAR,
  calendars: { standard: DEFAULT_CALENDAR },
  defaultCalendar: 'standard',
  priority: loadPriorityRules(path.join(repoRoot, 'config', 'priority.yaml')),
  categories: loadCategoryRules(path.join(repoRoot, 'config', 'categories.yaml')),
  repliesPerSenderPerHour: 5,
};
const anna: Requester = { address: 'anna@c.it', administrationId: 'c', administrationName: 'C', supportContract: true, role: 'referent', name: 'Anna', calendar: null };
const facts = (over: Partial<MessageFacts> = {}): MessageFacts => ({
  channel: 'email',
  subject: 'Problema',
  text: 'testo',
  kind: 'email',
  sender: anna,
  verification: 'unverified',
  pecEnvelope: false,
  delegationOutOfPeriod: false,
  pin: null,
  receivedAt: new Date('2026-11-23T09:00:00Z'), // Monday 10:00 Rome
  neverReply: null,
  threadCandidates: [],
  repliesToSenderLastHour: 0,
  ...over,
});

describe('decide', () => {
  it('a new request opens a ticket with the default class and its deadline, and is acknowledged', () => {
    const d = decide(facts(), rules);
    expect(d.action).toMatchObject({ type: 'open', kind: 'support', priority: 'P4', authorized: true, refusedThread: null });
    expect(d.action.type === 'open' && d.action.takeChargeDueAt?.toISOString()).toBe('2026-11-28T13:00:00.000Z');
    expect(d.reply).toEqual({ template: 'acknowledgement' });
  });

  it('a PEC envelope that failed verification is registered and answered with how to resend', () => {
    expect(decide(facts({ channel: 'pec', pecEnvelope: true }), rules).reply).toEqual({ template: 'unverified-sender' });
    expect(decide(facts({ channel: 'pec', pecEnvelope: true, verification: 'pec-certified' }), rules).reply).toEqual({ template: 'acknowledgement' });
    // Plain mail that reached the PEC box is not a failed PEC.
    expect(decide(facts({ channel: 'pec', pecEnvelope: false }), rules).reply).toEqual({ template: 'acknowledgement' });
  });

  it('out of service hours the reply is the out-of-hours notice', () => {
    expect(decide(facts({ receivedAt: new Date('2026-11-22T10:00:00Z') }), rules).reply).toEqual({ template: 'out-of-hours' });
  });

  it('never-reply reasons and the hourly limit suppress the reply but not the ticket', () => {
    const a = decide(facts({ neverReply: 'Precedence: bulk' }), rules);
    expect(a).toMatchObject({ action: { type: 'open' }, reply: null, replySuppressed: 'Precedence: bulk' });
    const b = decide(facts({ repliesToSenderLastHour: 5 }), rules);
    expect(b.reply).toBeNull();
    expect(b.replySuppressed).toMatch(/reply limit/);
    expect(decide(facts({ repliesToSenderLastHour: 4 }), rules).reply).not.toBeNull();
  });

  it('a follow-up joins the first candidate the sender may join, without a new reply', () => {
    const d = decide(
      facts({
        threadCandidates: [
          { ticketId: 1, ref: 'HD-2026-000001', requester: 'x@other.it', administrationId: 'other', via: 'subject' },
          { ticketId: 2, ref: 'HD-2026-000002', requester: 'anna@c.it', administrationId: 'c', via: 'in-reply-to' },
        ],
      }),
      rules,
    );
    expect(d).toMatchObject({ action: { type: 'append', ticketId: 2, eventType: 'follow-up' }, reply: null });
  });

  it('quoting a ticket one may not join opens a new ticket that records the refusal', () => {
    const d = decide(facts({ threadCandidates: [{ ticketId: 1, ref: 'HD-2026-000001', requester: 'x@other.it', administrationId: 'other', via: 'subject' }] }), rules);
    expect(d.action).toMatchObject({ type: 'open', refusedThread: 'HD-2026-000001' });
  });

  it('machine mail never opens a ticket nor gets a reply', () => {
    expect(decide(facts({ kind: 'auto-reply' }), rules)).toMatchObject({ action: { type: 'none' }, reply: null });
    const cand = [{ ticketId: 7, ref: 'HD-2026-000007', requester: 'anna@c.it', administrationId: 'c', via: 'in-reply-to' as const }];
    expect(decide(facts({ kind: 'auto-reply', threadCandidates: cand }), rules)).toMatchObject({ action: { type: 'append', ticketId: 7, eventType: 'auto-reply' }, reply: null });
  });
});

describe('mayJoinTicket', () => {
  const ticket = { requester: 'anna@c.it', administrationId: 'c' };
  const who = (over: Partial<Requester>): Requester => ({ ...anna, address: 'z@c.it', role: 'user', ...over });
  it('the requester, referents, delegates and the PEC box of the same administration may join', () => {
    expect(mayJoinTicket(ticket, anna, 'unverified')).toBe(true);
    expect(mayJoinTicket(ticket, who({ role: 'referent' }), 'unverified')).toBe(true);
    expect(mayJoinTicket(ticket, who({ role: 'delegate' }), 'unverified')).toBe(true);
    expect(mayJoinTicket(ticket, who({ role: 'pec' }), 'unverified')).toBe(true);
  });
  it('an ordinary user of the same administration only when verified; others never', () => {
    expect(mayJoinTicket(ticket, who({}), 'unverified')).toBe(false);
    expect(mayJoinTicket(ticket, who({}), 'dmarc-pass')).toBe(true);
    expect(mayJoinTicket(ticket, who({ administrationId: 'other', role: 'referent' }), 'pec-certified')).toBe(false);
    expect(mayJoinTicket({ requester: 'anna@c.it', administrationId: null }, who({ administrationId: null, role: 'unknown' }), 'pec-certified')).toBe(false);
  });
});

describe('resolveRequester', () => {
  const facts = {
    address: 'luca@c.it',
    matches: [
      { administrationId: 'c', administrationName: 'C', supportContract: true, role: 'domain-user' as const },
      { administrationId: 'c', administrationName: 'C', supportContract: true, role: 'delegate' as const, name: 'Luca', validFrom: '2026-01-01', validUntil: '2026-12-31' },
    ],
  };
  it('the strongest role wins; a delegation counts only inside its validity (inclusive)', () => {
    expect(resolveRequester(facts, '2026-06-01').role).toBe('delegate');
    expect(resolveRequester(facts, '2026-12-31').role).toBe('delegate');
    expect(resolveRequester(facts, '2027-01-01').role).toBe('user');
    expect(resolveRequester(facts, '2025-12-31').role).toBe('user');
    expect(resolveRequester({ address: 'x@y.it', matches: [] }, '2026-06-01')).toMatchObject({ role: 'unknown', administrationId: null });
  });
});

describe('references', () => {
  it('formats and finds ticket references', () => {
    expect(formatTicketRef(2026, 123)).toBe('HD-2026-000123');
    expect(ticketRefsInSubject('Re: [HD-2026-000123] e HD-2025-000001')).toEqual(['HD-2026-000123', 'HD-2025-000001']);
    expect(ticketRefsInSubject('HD-2026-12345 xHD-2026-000001')).toEqual([]);
  });
  it('reply subjects do not pile up prefixes or references', () => {
    expect(replySubject('Casella bloccata', 'HD-2026-000001')).toBe('Re: Casella bloccata [HD-2026-000001]');
    expect(replySubject('R: RE: Casella bloccata [HD-2026-000001]', 'HD-2026-000001')).toBe('Re: Casella bloccata [HD-2026-000001]');
    expect(replySubject('', 'HD-2026-000001')).toBe('Re: (senza oggetto) [HD-2026-000001]');
  });
});
