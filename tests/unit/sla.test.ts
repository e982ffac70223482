// Take-charge SLA rules (issue 9 rule 7): the watch's decision, breaches, the report, its CSV.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CALENDAR } from '../../src/desk/calendar.js';
import {
  isBreached, median, reportPeriod, SlaPeriodError, slaCheck, slaCsv, slaReport, takeChargeOutcome, type ReportTicket, type SlaTicket,
} from '../../src/desk/sla.js';

// Monday 23 Nov 2026, Europe/Rome (UTC+1): 10:00 local, inside service hours.
const NOW = new Date('2026-11-23T09:00:00Z');
const local = (hhmm: string, day = '2026-11-23') => new Date(`${day}T${hhmm}:00+01:00`).toISOString();

let nextId = 1;
const ticket = (o: Partial<SlaTicket> & { cal?: 'desk' | 'closed-today' } = {}): SlaTicket & { cal: string } => ({
  id: nextId++, takeChargeDueAt: null, takenAt: null, breachedAt: null, remindedAt: null, cal: 'desk', ...o,
});
const CLOSED_TODAY = { ...DEFAULT_CALENDAR, extraHolidays: ['2026-11-23'] };
const rules = (reminderMinutes = 30) => ({
  reminderMinutes,
  calendarFor: (t: { cal: string }) => (t.cal === 'closed-today' ? CLOSED_TODAY : DEFAULT_CALENDAR),
});
const ids = (ts: Array<{ id: number }>) => ts.map((t) => t.id);

describe('slaCheck: what the watch does at one instant', () => {
  const pastDue = ticket({ takeChargeDueAt: local('09:30') });
  const dueAtNow = ticket({ takeChargeDueAt: local('10:00') });
  const dueIn20 = ticket({ takeChargeDueAt: local('10:20') });
  const dueIn30 = ticket({ takeChargeDueAt: local('10:30') });
  const dueIn31 = ticket({ takeChargeDueAt: local('10:31') });
  const taken = ticket({ takeChargeDueAt: local('09:00'), takenAt: local('09:45') });
  const takenLater = ticket({ takeChargeDueAt: local('09:00'), takenAt: local('11:00') }); // not yet, at NOW
  const alreadyBreached = ticket({ takeChargeDueAt: local('08:30'), breachedAt: local('08:31') });
  const alreadyReminded = ticket({ takeChargeDueAt: local('10:10'), remindedAt: local('09:40') });
  const noDeadline = ticket();
  const otherCalendarDue = ticket({ takeChargeDueAt: local('10:15'), cal: 'closed-today' });
  const otherCalendarPast = ticket({ takeChargeDueAt: local('09:15'), cal: 'closed-today' });
  const all = [pastDue, dueAtNow, dueIn20, dueIn30, dueIn31, taken, takenLater, alreadyBreached, alreadyReminded, noDeadline, otherCalendarDue, otherCalendarPast];

  it('marks past-due untaken tickets once; reminds those due within the window while their calendar is open', () => {
    const r = slaCheck(all, NOW, rules());
    expect(ids(r.breached)).toEqual(ids([pastDue, takenLater, otherCalendarPast]));
    // Due exactly now is not past due yet: it is reminded. The ticket whose calendar is closed
    // today gets no reminder, though its breach is found all the same.
    expect(ids(r.remind)).toEqual(ids([dueAtNow, dueIn20, dueIn30]));
  });

  it('outside service hours: breaches still found, no reminders', () => {
    const sunday = new Date('2026-11-22T09:00:00Z');
    const t1 = ticket({ takeChargeDueAt: '2026-11-22T08:00:00.000Z' });
    const t2 = ticket({ takeChargeDueAt: '2026-11-22T09:10:00.000Z' });
    const r = slaCheck([t1, t2], sunday, rules());
    expect(ids(r.breached)).toEqual([t1.id]);
    expect(r.remind).toEqual([]);
  });

  it('reminderMinutes 0 sends no reminders', () => {
    expect(slaCheck(all, NOW, rules(0)).remind).toEqual([]);
  });
});

describe('takeChargeOutcome and isBreached', () => {
  const due = local('12:00');
  it.each([
    [{ takeChargeDueAt: due, takenAt: local('12:00') }, 'in-time', false],
    [{ takeChargeDueAt: due, takenAt: local('12:01') }, 'late', true],
    [{ takeChargeDueAt: due, takenAt: null }, 'overdue', true],
    [{ takeChargeDueAt: local('18:00'), takenAt: null }, 'waiting', false],
    [{ takeChargeDueAt: null, takenAt: local('12:00') }, 'no-deadline-taken', false],
    [{ takeChargeDueAt: null, takenAt: null }, 'no-deadline-waiting', false],
  ] as const)('%o → %s', (t, outcome, breached) => {
    const at = new Date(local('13:00'));
    expect(takeChargeOutcome(t, at)).toBe(outcome);
    expect(isBreached({ ...t, breachedAt: null }, at)).toBe(breached);
  });

  it('a ticket the watch marked stays breached once taken', () => {
    expect(isBreached({ takeChargeDueAt: local('09:00'), takenAt: local('08:59'), breachedAt: local('09:01') }, new Date(local('13:00')))).toBe(true);
  });
});

describe('slaReport', () => {
  const R = (o: Partial<ReportTicket> & { priority: string; received: string; due: string | null; taken?: string }): ReportTicket => ({
    priority: o.priority,
    administrationId: o.administrationId ?? null,
    administrationName: o.administrationName ?? null,
    receivedAt: local(o.received),
    takeChargeDueAt: o.due ? local(o.due) : null,
    takenAt: o.taken ? local(o.taken) : null,
  });
  const A = { administrationId: 'comune-esempio', administrationName: 'Comune di Esempio' };
  const U = { administrationId: 'universita-demo', administrationName: 'Università, "Demo"' };
  const at = new Date(local('16:00'));
  const tickets = [
    R({ ...A, priority: 'P2', received: '09:00', due: '13:00', taken: '09:30' }), // in time, 30 min
    R({ ...A, priority: 'P2', received: '09:10', due: '13:10', taken: '14:10' }), // late, 300 min
    R({ ...A, priority: 'P2', received: '10:00', due: '14:00' }), // overdue
    R({ ...U, priority: 'P2', received: '11:00', due: '15:00', taken: '12:00' }), // in time, 60 min
    R({ ...U, priority: 'P3', received: '11:00', due: '17:00' }), // waiting
    R({ priority: 'P4', received: '12:00', due: '17:00', taken: '12:45' }), // no administration, in time, 45 min
    R({ ...U, priority: 'P7', received: '12:00', due: null, taken: '13:00' }), // 60 min
    R({ ...U, priority: 'P7', received: '12:30', due: null }),
    R({ ...A, priority: 'P2', received: '12:00', due: '16:00', taken: '17:00' }), // taken after `at`: still open at 16:00, not past due
  ];
  const r = slaReport(tickets, at);

  it('per class: every class listed, P7 without deadline figures', () => {
    const byKey = Object.fromEntries(r.classes.map((c) => [c.key, c]));
    expect(r.classes.map((c) => c.key)).toEqual(['P1+', 'P1', 'P2', 'P3', 'P4', 'P7']);
    expect(byKey['P1+']).toEqual({ group: 'class', key: 'P1+', name: null, received: 0, taken: 0, takenInTime: 0, takenLate: 0, breached: 0, open: 0, medianMinutesToTakeCharge: null });
    // P2: taken 30, 300, 60 → median 60; open: the overdue one and the one taken after `at`.
    expect(byKey.P2).toEqual({ group: 'class', key: 'P2', name: null, received: 5, taken: 3, takenInTime: 2, takenLate: 1, breached: 2, open: 2, medianMinutesToTakeCharge: 60 });
    expect(byKey.P3).toMatchObject({ received: 1, taken: 0, takenInTime: 0, breached: 0, open: 1, medianMinutesToTakeCharge: null });
    expect(byKey.P4).toMatchObject({ received: 1, taken: 1, takenInTime: 1, takenLate: 0, breached: 0, open: 0, medianMinutesToTakeCharge: 45 });
    expect(byKey.P7).toEqual({ group: 'class', key: 'P7', name: null, received: 2, taken: 1, takenInTime: null, takenLate: null, breached: null, open: 1, medianMinutesToTakeCharge: 60 });
  });

  it('per administration (sorted, none last) and in total', () => {
    expect(r.administrations.map((a) => [a.key, a.name, a.received, a.taken, a.takenInTime, a.takenLate, a.breached, a.open, a.medianMinutesToTakeCharge])).toEqual([
      ['comune-esempio', 'Comune di Esempio', 4, 2, 1, 1, 2, 2, 165],
      ['universita-demo', 'Università, "Demo"', 4, 2, 1, 0, 0, 2, 60],
      ['', null, 1, 1, 1, 0, 0, 0, 45],
    ]);
    expect(r.total).toEqual({ group: 'total', key: 'all', name: null, received: 9, taken: 5, takenInTime: 3, takenLate: 1, breached: 2, open: 4, medianMinutesToTakeCharge: 60 });
  });

  it('CSV: RFC 4180, header, one row per class, per administration, and the total', () => {
    const csv = slaCsv(r);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('group,key,name,received,taken,takenInTime,takenLate,breached,open,medianMinutesToTakeCharge');
    expect(lines).toContain('class,P2,,5,3,2,1,2,2,60');
    expect(lines).toContain('class,P7,,2,1,,,,1,60');
    expect(lines).toContain('class,P1+,,0,0,0,0,0,0,');
    expect(lines).toContain('administration,universita-demo,"Università, ""Demo""",4,2,1,0,0,2,60');
    expect(lines).toContain('administration,,,1,1,1,0,0,0,45');
    expect(lines[lines.length - 2]).toBe('total,all,,9,5,3,1,2,4,60');
    expect(lines).toHaveLength(1 + 6 + 3 + 1 + 1); // header, classes, administrations, total, trailing ''
  });

  it('the median of an even count is the mean of the middle two, to one decimal', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const r2 = slaReport([R({ priority: 'P4', received: '09:00', due: '17:00', taken: '09:00' }), R({ priority: 'P4', received: '09:00', due: '17:00', taken: '09:01' })], at);
    expect(r2.total.medianMinutesToTakeCharge).toBe(0.5);
    const odd = { ...R({ priority: 'P4', received: '09:00', due: '17:00' }), takenAt: new Date(new Date(local('09:00')).getTime() + 20_000).toISOString() };
    expect(slaReport([odd], at).total.medianMinutesToTakeCharge).toBe(0.3);
  });
});

describe('reportPeriod', () => {
  const today = { year: 2026, month: 11 };
  it('defaults to the current month, local midnights', () => {
    expect(reportPeriod('Europe/Rome', today)).toEqual({
      from: '2026-11-01', to: '2026-12-01', fromInstant: new Date('2026-10-31T23:00:00Z'), toInstant: new Date('2026-11-30T23:00:00Z'),
    });
  });
  it('--to defaults to the month after --from (December rolls over)', () => {
    expect(reportPeriod('Europe/Rome', today, '2026-12-05')).toMatchObject({ from: '2026-12-05', to: '2027-01-01' });
  });
  it('local midnight across the DST change', () => {
    const p = reportPeriod('Europe/Rome', today, '2026-03-01', '2026-04-01');
    expect(p.fromInstant.toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(p.toInstant.toISOString()).toBe('2026-03-31T22:00:00.000Z');
  });
  it('refuses malformed or impossible dates and empty periods', () => {
    expect(() => reportPeriod('Europe/Rome', today, '2026-02-30')).toThrow(SlaPeriodError);
    expect(() => reportPeriod('Europe/Rome', today, '1/11/2026')).toThrow('--from: expected a date like 2026-11-01');
    expect(() => reportPeriod('Europe/Rome', today, '2026-11-10', '2026-11-10')).toThrow('--to 2026-11-10 must be after --from 2026-11-10');
  });
});
