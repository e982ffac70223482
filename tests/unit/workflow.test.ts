// The operator workflow of a ticket (issue 9 rule 6): the transition table and reopen-on-reply.
import { describe, expect, it } from 'vitest';
import { shouldReopenOnReply, TICKET_ACTIONS, TICKET_STATUSES, transition, type TicketAction, type TicketStatus } from '../../src/desk/workflow.js';

// The whole table, written out by hand: every (status, action) pair, legal ones with their target.
const LEGAL: Record<TicketStatus, Partial<Record<TicketAction, TicketStatus>>> = {
  new: { take: 'in-charge' },
  'in-charge': { escalate: 'escalated', resolve: 'resolved' },
  escalated: { take: 'in-charge', resolve: 'resolved' },
  resolved: { close: 'closed', reopen: 'reopened' },
  closed: { reopen: 'reopened' },
  reopened: { take: 'in-charge' },
};

describe('transition table', () => {
  for (const status of TICKET_STATUSES) {
    for (const action of TICKET_ACTIONS) {
      const to = LEGAL[status][action];
      it(`${action} from ${status} → ${to ?? 'refused'}`, () => {
        const r = transition(status, action);
        if (to) expect(r).toEqual({ ok: true, to, event: expect.any(String) });
        else {
          expect(r.ok).toBe(false);
          // One line naming the action and the current status.
          if (!r.ok) {
            expect(r.code).toBe('not-allowed-from');
            expect(r.reason).toContain(`cannot ${action} a ticket that is ${status}`);
            expect(r.reason).not.toContain('\n');
          }
        }
      });
    }
  }

  it('the event types are the past of the actions', () => {
    expect(TICKET_ACTIONS.map((a) => [a, (transition(Object.entries(LEGAL).find(([, m]) => m[a])![0], a) as { event: string }).event])).toEqual([
      ['take', 'taken'], ['escalate', 'escalated'], ['resolve', 'resolved'], ['close', 'closed'], ['reopen', 'reopened'],
    ]);
  });

  it('names the statuses an action is allowed from', () => {
    expect(transition('new', 'resolve')).toEqual({ ok: false, code: 'not-allowed-from', reason: 'cannot resolve a ticket that is new (resolve is allowed from: in-charge, escalated)' });
  });

  it('refuses an unknown stored status rather than guessing', () => {
    expect(transition('in-progress', 'take')).toEqual({ ok: false, code: 'unknown-status', reason: 'cannot take: unknown ticket status "in-progress"' });
  });

  it('walks the whole life of a ticket', () => {
    let s: TicketStatus = 'new';
    for (const a of ['take', 'escalate', 'resolve', 'close', 'reopen', 'take', 'resolve'] as TicketAction[]) {
      const r = transition(s, a);
      expect(r.ok, `${a} from ${s}`).toBe(true);
      if (r.ok) s = r.to;
    }
    expect(s).toBe('resolved');
  });
});

describe('shouldReopenOnReply', () => {
  const resolved = new Date('2026-11-10T10:00:00Z');
  const days = (n: number) => new Date(resolved.getTime() + n * 86_400_000);

  it('reopens a resolved ticket when the reply comes within the period, the last instant included', () => {
    expect(shouldReopenOnReply('resolved', resolved, days(1), 10)).toBe(true);
    expect(shouldReopenOnReply('resolved', resolved, days(10), 10)).toBe(true);
    expect(shouldReopenOnReply('resolved', resolved.toISOString(), days(10), 10)).toBe(true);
  });

  it('not after the period', () => {
    expect(shouldReopenOnReply('resolved', resolved, new Date(days(10).getTime() + 1), 10)).toBe(false);
    expect(shouldReopenOnReply('resolved', resolved, days(3), 2)).toBe(false);
  });

  it('a reply written before the resolution was recorded still reopens', () => {
    expect(shouldReopenOnReply('resolved', resolved, days(-1), 10)).toBe(true);
  });

  it('never for a ticket that is not resolved, nor without a resolution time', () => {
    for (const s of TICKET_STATUSES.filter((x) => x !== 'resolved')) expect(shouldReopenOnReply(s, resolved, days(1), 10), s).toBe(false);
    expect(shouldReopenOnReply('resolved', null, days(1), 10)).toBe(false);
  });

  it('a period of 0 days reopens only on a reply at the resolution instant or before', () => {
    expect(shouldReopenOnReply('resolved', resolved, resolved, 0)).toBe(true);
    expect(shouldReopenOnReply('resolved', resolved, days(0.01), 0)).toBe(false);
  });

  it('refuses a negative period', () => {
    expect(() => shouldReopenOnReply('resolved', resolved, days(1), -1)).toThrow(RangeError);
  });
});
