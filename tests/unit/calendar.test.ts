import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CALENDAR,
  addBusinessHours,
  closeOfNthWorkingDayAfter,
  easterSunday,
  isHoliday,
  isWithinServiceHours,
  localToInstant,
  nextOpening,
  takeChargeDeadline,
  toLocal,
  type CalendarConfig,
} from '../../src/desk/calendar.js';

const cal = DEFAULT_CALENDAR;

/** Instant for a Europe/Rome wall time, e.g. rome('2026-11-20 16:30'). */
function rome(s: string, c: CalendarConfig = cal): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(s)!;
  return localToInstant(c.timezone, { year: +m[1]!, month: +m[2]!, day: +m[3]! }, +m[4]!, +m[5]!);
}

/** Europe/Rome wall time of an instant, formatted like rome()'s input. */
function wall(d: Date | null, c: CalendarConfig = cal): string {
  if (!d) return 'null';
  const l = toLocal(c.timezone, d);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${l.year}-${p(l.month)}-${p(l.day)} ${p(l.hour)}:${p(l.minute)}`;
}

const withExtra = (...extra: string[]): CalendarConfig => ({ ...cal, extraHolidays: extra });

describe('timezone conversion', () => {
  it('maps Rome wall time to the right UTC instant in winter and summer', () => {
    expect(rome('2026-11-21 08:00').toISOString()).toBe('2026-11-21T07:00:00.000Z');
    expect(rome('2026-06-20 08:00').toISOString()).toBe('2026-06-20T06:00:00.000Z');
    // Around the switches themselves.
    expect(rome('2026-03-29 03:00').toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(rome('2026-03-29 01:59').toISOString()).toBe('2026-03-29T00:59:00.000Z');
    expect(rome('2026-10-25 04:00').toISOString()).toBe('2026-10-25T03:00:00.000Z');
  });
});

describe('easterSunday / isHoliday', () => {
  it('computes Gregorian Easter', () => {
    expect(easterSunday(2024)).toEqual({ year: 2024, month: 3, day: 31 });
    expect(easterSunday(2025)).toEqual({ year: 2025, month: 4, day: 20 });
    expect(easterSunday(2026)).toEqual({ year: 2026, month: 4, day: 5 });
    expect(easterSunday(2027)).toEqual({ year: 2027, month: 3, day: 28 });
    expect(easterSunday(2038)).toEqual({ year: 2038, month: 4, day: 25 }); // latest possible date
    expect(easterSunday(2285)).toEqual({ year: 2285, month: 3, day: 22 }); // earliest possible date
  });

  it('knows Easter Monday and the fixed national holidays', () => {
    expect(isHoliday(cal, { year: 2026, month: 4, day: 6 })).toBe(true); // Easter Monday
    expect(isHoliday(cal, { year: 2026, month: 4, day: 7 })).toBe(false);
    expect(isHoliday(cal, { year: 2024, month: 4, day: 1 })).toBe(true); // Easter Monday 2024
    for (const [month, day] of [
      [1, 1], [1, 6], [4, 25], [5, 1], [6, 2], [8, 15], [11, 1], [12, 8], [12, 25], [12, 26],
    ] as const) {
      expect(isHoliday(cal, { year: 2026, month, day })).toBe(true);
    }
    expect(isHoliday(cal, { year: 2026, month: 11, day: 23 })).toBe(false);
  });

  it('applies extra holidays: YYYY-MM-DD for one year, MM-DD every year', () => {
    const c = withExtra('2026-11-23', '11-03');
    expect(isHoliday(c, { year: 2026, month: 11, day: 23 })).toBe(true);
    expect(isHoliday(c, { year: 2027, month: 11, day: 23 })).toBe(false);
    expect(isHoliday(c, { year: 2026, month: 11, day: 3 })).toBe(true);
    expect(isHoliday(c, { year: 2031, month: 11, day: 3 })).toBe(true);
  });
});

describe('isWithinServiceHours / nextOpening', () => {
  it('is open exactly at opening and closed exactly at closing', () => {
    expect(isWithinServiceHours(cal, rome('2026-11-23 08:00'))).toBe(true);
    expect(isWithinServiceHours(cal, new Date(rome('2026-11-23 08:00').getTime() - 1))).toBe(false);
    expect(isWithinServiceHours(cal, new Date(rome('2026-11-23 17:00').getTime() - 1))).toBe(true);
    expect(isWithinServiceHours(cal, rome('2026-11-23 17:00'))).toBe(false);
    expect(isWithinServiceHours(cal, rome('2026-11-21 13:59'))).toBe(true); // Saturday
    expect(isWithinServiceHours(cal, rome('2026-11-21 14:00'))).toBe(false);
  });

  it('is closed on Sundays and holidays', () => {
    expect(isWithinServiceHours(cal, rome('2026-11-22 10:00'))).toBe(false); // Sunday
    expect(isWithinServiceHours(cal, rome('2026-12-08 10:00'))).toBe(false); // Immacolata (Tue)
    expect(isWithinServiceHours(cal, rome('2026-04-06 10:00'))).toBe(false); // Easter Monday
  });

  it('returns the instant itself when open, else the next opening', () => {
    const open = rome('2026-11-23 10:15');
    expect(nextOpening(cal, open)).toEqual(open);
    expect(wall(nextOpening(cal, rome('2026-11-23 07:00')))).toBe('2026-11-23 08:00');
    expect(wall(nextOpening(cal, rome('2026-11-21 14:00')))).toBe('2026-11-23 08:00');
    expect(wall(nextOpening(cal, rome('2026-12-24 17:30')))).toBe('2026-12-28 08:00');
  });
});

describe('addBusinessHours', () => {
  it('runs the clock only inside service hours', () => {
    expect(wall(addBusinessHours(cal, rome('2026-11-23 09:00'), 3))).toBe('2026-11-23 12:00');
    expect(wall(addBusinessHours(cal, rome('2026-11-23 16:00'), 2))).toBe('2026-11-24 09:00');
  });

  it('ends exactly at closing time when the budget runs out there', () => {
    expect(wall(addBusinessHours(cal, rome('2026-11-21 13:00'), 1))).toBe('2026-11-21 14:00');
  });

  it('rejects negative budgets', () => {
    expect(() => addBusinessHours(cal, rome('2026-11-23 09:00'), -1)).toThrow(RangeError);
  });
});

describe('closeOfNthWorkingDayAfter', () => {
  it('counts working days strictly after the local day, Saturday included', () => {
    expect(wall(closeOfNthWorkingDayAfter(cal, rome('2026-11-20 09:00'), 1))).toBe('2026-11-21 14:00');
    expect(wall(closeOfNthWorkingDayAfter(cal, rome('2026-11-21 09:00'), 1))).toBe('2026-11-23 17:00');
  });

  it('uses the local calendar day, not the UTC one', () => {
    // 00:30 Rome on Tuesday is still Monday 23:30Z: the day of receipt is Tuesday.
    const at = rome('2026-11-24 00:30');
    expect(at.getUTCDate()).toBe(23);
    expect(wall(closeOfNthWorkingDayAfter(cal, at, 1))).toBe('2026-11-25 17:00');
  });
});

describe('takeChargeDeadline (required examples)', () => {
  it('Friday 16:30 P2 → Saturday 11:30', () => {
    expect(wall(takeChargeDeadline(cal, 'P2', rome('2026-11-20 16:30')))).toBe('2026-11-21 11:30');
  });

  it('Saturday 13:30 P1+ → Monday 08:30', () => {
    expect(wall(takeChargeDeadline(cal, 'P1+', rome('2026-11-21 13:30')))).toBe('2026-11-23 08:30');
  });

  it('P1 counts 2 business hours', () => {
    expect(wall(takeChargeDeadline(cal, 'P1', rome('2026-11-23 16:00')))).toBe('2026-11-24 09:00');
  });

  it('Thursday 24 Dec 16:00 P3 → Monday 28 Dec 17:00', () => {
    expect(wall(takeChargeDeadline(cal, 'P3', rome('2026-12-24 16:00')))).toBe('2026-12-28 17:00');
  });

  it('P4 Monday 23 Nov 10:00 → Saturday 28 Nov 14:00', () => {
    expect(wall(takeChargeDeadline(cal, 'P4', rome('2026-11-23 10:00')))).toBe('2026-11-28 14:00');
  });

  it('Sunday 03:00 P2 → Monday 12:00', () => {
    expect(wall(takeChargeDeadline(cal, 'P2', rome('2026-11-22 03:00')))).toBe('2026-11-23 12:00');
  });

  it('across the March DST change: Saturday 28 Mar 13:00 P2 → Monday 30 Mar 11:00 (09:00Z)', () => {
    const d = takeChargeDeadline(cal, 'P2', rome('2026-03-28 13:00'))!;
    expect(rome('2026-03-28 13:00').toISOString()).toBe('2026-03-28T12:00:00.000Z'); // still CET
    expect(wall(d)).toBe('2026-03-30 11:00');
    expect(d.toISOString()).toBe('2026-03-30T09:00:00.000Z'); // CEST
  });

  it('across the October DST change: Saturday 24 Oct 13:00 P2 → Monday 26 Oct 11:00 (10:00Z)', () => {
    const d = takeChargeDeadline(cal, 'P2', rome('2026-10-24 13:00'))!;
    expect(d.toISOString()).toBe('2026-10-26T10:00:00.000Z');
  });

  it('extra holidays from config shift deadlines', () => {
    // Monday 23 Nov closed for a one-off closure.
    const closure = withExtra('2026-11-23');
    expect(wall(takeChargeDeadline(closure, 'P1+', rome('2026-11-21 13:30')))).toBe('2026-11-24 08:30');
    expect(wall(takeChargeDeadline(closure, 'P3', rome('2026-11-21 10:00')))).toBe('2026-11-24 17:00');
    // Recurring patron saint day on 3 Nov (a Tuesday in 2026, a Wednesday in 2027).
    const patron = withExtra('11-03');
    expect(wall(takeChargeDeadline(cal, 'P3', rome('2026-11-02 10:00')))).toBe('2026-11-03 17:00');
    expect(wall(takeChargeDeadline(patron, 'P3', rome('2026-11-02 10:00')))).toBe('2026-11-04 17:00');
    expect(wall(takeChargeDeadline(patron, 'P2', rome('2027-11-02 15:00')))).toBe('2027-11-04 10:00');
  });

  it('onCall: hour classes run 24/7, day classes are unaffected', () => {
    const sunday = rome('2026-11-22 03:00');
    expect(wall(takeChargeDeadline(cal, 'P1+', sunday, { onCall: true }))).toBe('2026-11-22 04:00');
    expect(wall(takeChargeDeadline(cal, 'P2', sunday, { onCall: true }))).toBe('2026-11-22 07:00');
    expect(wall(takeChargeDeadline(cal, 'P3', sunday, { onCall: true }))).toBe('2026-11-23 17:00');
    expect(wall(takeChargeDeadline(cal, 'P3', sunday))).toBe('2026-11-23 17:00');
  });

  it('onCall counts real hours even across the DST switch night', () => {
    // 01:30 CET + 1 real hour = 03:30 CEST (02:00-03:00 does not exist).
    const d = takeChargeDeadline(cal, 'P1+', rome('2026-03-29 01:30'), { onCall: true });
    expect(wall(d)).toBe('2026-03-29 03:30');
  });

  it('P7 has no deadline', () => {
    expect(takeChargeDeadline(cal, 'P7', rome('2026-11-23 10:00'))).toBeNull();
  });
});

describe('custom calendar', () => {
  it('honours another timezone and custom hours', () => {
    const ny: CalendarConfig = {
      timezone: 'America/New_York',
      hours: { ...cal.hours, sat: null, mon: { open: '09:30', close: '12:00' } },
      extraHolidays: [],
    };
    const fri = localToInstant(ny.timezone, { year: 2026, month: 11, day: 20 }, 16, 0);
    expect(wall(addBusinessHours(ny, fri, 2), ny)).toBe('2026-11-23 10:30');
  });
});
