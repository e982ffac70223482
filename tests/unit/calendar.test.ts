import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import {
  DEFAULT_CALENDAR,
  addBusinessHours,
  calendarFor,
  closeOfNthWorkingDayAfter,
  easterSunday,
  isHoliday,
  isWithinServiceHours,
  isWorkingDay,
  localToInstant,
  nextOpening,
  parseDayHours,
  serviceIntervalsOn,
  takeChargeDeadline,
  toLocal,
  type CalendarConfig,
} from '../../src/desk/calendar.js';
import { unknownCalendarProblems, administrationSchema } from '../../src/directory/model.js';
import { describeServiceHours } from '../../src/outbox/templates.js';
import { calendarsFromConfig } from '../../src/runtime/context.js';

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
      name: 'ny',
      timezone: 'America/New_York',
      hours: { ...cal.hours, sat: [], mon: [{ open: '09:30', close: '12:00' }] },
      extraHolidays: [],
    };
    const fri = localToInstant(ny.timezone, { year: 2026, month: 11, day: 20 }, 16, 0);
    expect(wall(addBusinessHours(ny, fri, 2), ny)).toBe('2026-11-23 10:30');
  });
});


// ---------------------------------------------------------------------------
// Named calendars (SPEC §2.2): the shipped config/calendars.yaml, read through the real loader.

const tmp = mkdtempSync(path.join(tmpdir(), 'pecdesk-cal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let configs = 0;

/** loadConfig on a throw-away file holding `extra` next to a minimal dataDir. */
function configWith(extra: Record<string, unknown>): ReturnType<typeof loadConfig> {
  const file = path.join(tmp, `c${++configs}.yaml`);
  writeFileSync(file, stringify({ dataDir: path.join(tmp, 'data'), ...extra }));
  return loadConfig(file);
}

function configError(extra: Record<string, unknown>): string {
  try {
    configWith(extra);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const shipped = calendarsFromConfig(configWith({}));
const standard = shipped.standard!;
const pausa = shipped['pausa-pranzo']!;
const turni = shipped.turni!;

describe('shipped calendars (config/calendars.yaml)', () => {
  it('defines the three seed calendars, standard equal to the built-in default', () => {
    expect(Object.keys(shipped).sort()).toEqual(['pausa-pranzo', 'standard', 'turni']);
    expect(standard).toEqual(DEFAULT_CALENDAR);
    expect(pausa.hours.wed).toEqual([{ open: '08:00', close: '13:00' }, { open: '14:00', close: '18:30' }]);
    expect(pausa.hours.sat).toEqual([]);
    expect(turni.hours.thu).toEqual([{ open: '09:00', close: '13:30' }, { open: '15:00', close: '18:00' }]);
    expect(turni.hours.fri).toEqual([{ open: '09:00', close: '13:30' }]);
  });

  it('renders the hours in Italian, pauses and split shifts included', () => {
    expect(describeServiceHours(standard)).toBe('dal lunedì al venerdì 08:00–17:00, sabato 08:00–14:00, festivi esclusi');
    expect(describeServiceHours(pausa)).toBe('dal lunedì al venerdì 08:00–13:00 e 14:00–18:30, festivi esclusi');
    expect(describeServiceHours(turni)).toBe(
      'dal lunedì al giovedì 09:00–13:30 e 15:00–18:00, venerdì 09:00–13:30, festivi esclusi',
    );
    const weekend: CalendarConfig = { ...standard, hours: { ...standard.hours, sun: [{ open: '08:00', close: '14:00' }] } };
    expect(describeServiceHours(weekend)).toBe('dal lunedì al venerdì 08:00–17:00, dal sabato alla domenica 08:00–14:00, festivi esclusi');
  });
});

describe('SPEC §4 worked examples on the standard calendar', () => {
  it('Friday 16:30 P2 → Saturday 11:30', () => {
    expect(wall(takeChargeDeadline(standard, 'P2', rome('2026-11-20 16:30')))).toBe('2026-11-21 11:30');
  });
  it('Saturday 13:30 P1+ → Monday 08:30', () => {
    expect(wall(takeChargeDeadline(standard, 'P1+', rome('2026-11-21 13:30')))).toBe('2026-11-23 08:30');
  });
  it('Thursday 24 Dec 16:00 P3 → Monday 28 Dec 17:00', () => {
    expect(wall(takeChargeDeadline(standard, 'P3', rome('2026-12-24 16:00')))).toBe('2026-12-28 17:00');
  });
});

describe('DST weekends (last Sunday of March and of October 2026)', () => {
  it('P1+ and P2 received on the Saturday before the March switch end on CEST Monday', () => {
    const p1 = takeChargeDeadline(standard, 'P1+', rome('2026-03-28 13:30'))!;
    expect(p1.toISOString()).toBe('2026-03-30T06:30:00.000Z'); // Monday 08:30 CEST
    // pausa-pranzo: Friday 17:00 + 1h30 to 18:30, then Monday 08:00 + 2h30.
    const p2 = takeChargeDeadline(pausa, 'P2', rome('2026-03-27 17:00'))!;
    expect(wall(p2)).toBe('2026-03-30 10:30');
    expect(p2.toISOString()).toBe('2026-03-30T08:30:00.000Z');
  });

  it('P1+ and P2 received on the Saturday before the October switch end on CET Monday', () => {
    expect(takeChargeDeadline(standard, 'P1+', rome('2026-10-24 13:30'))!.toISOString()).toBe('2026-10-26T07:30:00.000Z');
    const p2 = takeChargeDeadline(pausa, 'P2', rome('2026-10-23 17:00'))!;
    expect(p2.toISOString()).toBe('2026-10-26T09:30:00.000Z'); // Monday 10:30 CET
  });

  it('an interval across the switch counts real hours (23-hour and 25-hour Sundays)', () => {
    const allDay: CalendarConfig = { ...standard, name: 'h24', hours: { ...standard.hours, sun: [{ open: '00:00', close: '24:00' }] } };
    // 00:00 CET + 4 real hours = 05:00 CEST (02:00-03:00 does not exist).
    expect(wall(takeChargeDeadline(allDay, 'P2', rome('2026-03-29 00:00')), allDay)).toBe('2026-03-29 05:00');
    // 00:00 CEST + 4 real hours = 03:00 CET (02:00-03:00 happens twice).
    expect(takeChargeDeadline(allDay, 'P2', rome('2026-10-25 00:00'))!.toISOString()).toBe('2026-10-25T02:00:00.000Z');
    expect(wall(closeOfNthWorkingDayAfter(allDay, rome('2026-10-24 10:00'), 1), allDay)).toBe('2026-10-26 00:00');
  });
});

describe('Easter Monday 2027 (29 March) is closed', () => {
  it('is a holiday, not a working day, and the clock skips it', () => {
    expect(easterSunday(2027)).toEqual({ year: 2027, month: 3, day: 28 });
    expect(isHoliday(standard, { year: 2027, month: 3, day: 29 })).toBe(true);
    expect(isWorkingDay(standard, { year: 2027, month: 3, day: 29 })).toBe(false);
    expect(serviceIntervalsOn(turni, { year: 2027, month: 3, day: 29 })).toEqual([]);
    expect(isWithinServiceHours(standard, rome('2027-03-29 10:00'))).toBe(false);
    expect(wall(nextOpening(standard, rome('2027-03-27 14:00')))).toBe('2027-03-30 08:00');
    expect(wall(takeChargeDeadline(standard, 'P1+', rome('2027-03-27 13:30')))).toBe('2027-03-30 08:30');
    expect(wall(takeChargeDeadline(standard, 'P3', rome('2027-03-27 10:00')))).toBe('2027-03-30 17:00');
    expect(wall(takeChargeDeadline(turni, 'P3', rome('2027-03-26 10:00')))).toBe('2027-03-30 18:00');
  });
});

describe('split shifts (turni: Mon–Thu 09:00–13:30 + 15:00–18:00, Fri 09:00–13:30)', () => {
  it('Thursday 13:00: the clock stops at 13:30 and resumes at 15:00', () => {
    const thu = rome('2026-11-26 13:00');
    expect(wall(takeChargeDeadline(turni, 'P1+', thu))).toBe('2026-11-26 15:30');
    expect(wall(takeChargeDeadline(turni, 'P1', thu))).toBe('2026-11-26 16:30');
    // 30 min + 3 h (15:00-18:00) leaves 30 min for Friday morning.
    expect(wall(takeChargeDeadline(turni, 'P2', thu))).toBe('2026-11-27 09:30');
  });

  it('Friday 12:00 P2 → Monday (Friday has only the morning shift)', () => {
    expect(wall(takeChargeDeadline(turni, 'P2', rome('2026-11-27 12:00')))).toBe('2026-11-30 11:30');
    expect(wall(takeChargeDeadline(turni, 'P1+', rome('2026-11-27 13:30')))).toBe('2026-11-30 10:00');
  });

  it('a budget ending exactly at the pause returns the pause (not the reopening)', () => {
    expect(wall(addBusinessHours(turni, rome('2026-11-26 12:30'), 1))).toBe('2026-11-26 13:30');
  });

  it('P3 and P4 close at the end of the last shift of the n-th working day, over weekends and holidays', () => {
    expect(wall(takeChargeDeadline(turni, 'P3', rome('2026-11-26 10:00')))).toBe('2026-11-27 13:30'); // Friday
    expect(wall(takeChargeDeadline(turni, 'P3', rome('2026-11-27 10:00')))).toBe('2026-11-30 18:00'); // weekend skipped
    expect(wall(takeChargeDeadline(turni, 'P3', rome('2026-12-24 16:00')))).toBe('2026-12-28 18:00'); // 25, 26 Dec
    // Tue 1 Dec: Wed, Thu, Fri, Mon 7, (Tue 8 Immacolata), Wed 9.
    expect(wall(takeChargeDeadline(turni, 'P4', rome('2026-12-01 10:00')))).toBe('2026-12-09 18:00');
    // On standard Saturday counts: Wed, Thu, Fri, Sat, Mon 7.
    expect(wall(takeChargeDeadline(standard, 'P4', rome('2026-12-01 10:00')))).toBe('2026-12-07 17:00');
  });
});

describe('lunch pause (pausa-pranzo: Mon–Fri 08:00–13:00 + 14:00–18:30)', () => {
  it('13:30 P1+ starts at 14:00 → 15:00', () => {
    expect(wall(takeChargeDeadline(pausa, 'P1+', rome('2026-11-24 13:30')))).toBe('2026-11-24 15:00');
  });

  it('12:30 P1+ runs 30 minutes before the pause and 30 after; 12:00 P2 ends at 17:00', () => {
    expect(wall(takeChargeDeadline(pausa, 'P1+', rome('2026-11-24 12:30')))).toBe('2026-11-24 14:30');
    expect(wall(takeChargeDeadline(pausa, 'P2', rome('2026-11-24 12:00')))).toBe('2026-11-24 17:00');
    expect(wall(takeChargeDeadline(pausa, 'P1+', rome('2026-11-24 12:00')))).toBe('2026-11-24 13:00');
  });

  it('Saturday is closed: P3 from Friday is due on Monday at 18:30', () => {
    expect(wall(takeChargeDeadline(pausa, 'P3', rome('2026-11-20 10:00')))).toBe('2026-11-23 18:30');
  });
});

describe('isWithinServiceHours / nextOpening in a pause', () => {
  it('is closed from the end of the morning interval to the start of the afternoon one', () => {
    expect(isWithinServiceHours(turni, new Date(rome('2026-11-26 13:30').getTime() - 1))).toBe(true);
    expect(isWithinServiceHours(turni, rome('2026-11-26 13:30'))).toBe(false);
    expect(isWithinServiceHours(turni, rome('2026-11-26 14:00'))).toBe(false);
    expect(isWithinServiceHours(turni, rome('2026-11-26 15:00'))).toBe(true);
    expect(isWithinServiceHours(pausa, rome('2026-11-24 13:00'))).toBe(false);
    expect(isWithinServiceHours(pausa, rome('2026-11-24 18:29'))).toBe(true);
  });

  it('the next opening is the afternoon interval, or the next working day after the last one', () => {
    expect(wall(nextOpening(turni, rome('2026-11-26 14:00')))).toBe('2026-11-26 15:00');
    expect(wall(nextOpening(pausa, rome('2026-11-24 13:00')))).toBe('2026-11-24 14:00');
    expect(wall(nextOpening(turni, rome('2026-11-27 13:45')))).toBe('2026-11-30 09:00');
    expect(wall(nextOpening(turni, rome('2026-11-26 18:00')))).toBe('2026-11-27 09:00');
  });

  it('serviceIntervalsOn lists both shifts as instants', () => {
    const iv = serviceIntervalsOn(turni, { year: 2026, month: 11, day: 26 });
    expect(iv.map((p) => `${wall(p.open)}→${wall(p.close).slice(11)}`)).toEqual([
      '2026-11-26 09:00→13:30',
      '2026-11-26 15:00→18:00',
    ]);
  });
});

describe('calendarFor', () => {
  const set = { calendars: shipped, defaultCalendar: 'standard' };
  it('picks the contract calendar, else the default', () => {
    expect(calendarFor(set, 'turni')).toBe(turni);
    expect(calendarFor(set, null)).toBe(standard);
    expect(calendarFor(set, 'no-such-calendar')).toBe(standard);
    expect(calendarFor(set, 'toString')).toBe(standard); // not fooled by Object.prototype
    expect(calendarFor({ calendars: shipped, defaultCalendar: 'turni' }, null)).toBe(turni);
  });
});

describe('parseDayHours', () => {
  it('accepts interval strings, the legacy object and closed days', () => {
    expect(parseDayHours(['08:00-13:00', '14:00 – 18:30'])).toEqual({
      intervals: [{ open: '08:00', close: '13:00' }, { open: '14:00', close: '18:30' }],
      problems: [],
    });
    expect(parseDayHours({ open: '08:00', close: '17:00' }).intervals).toEqual([{ open: '08:00', close: '17:00' }]);
    expect(parseDayHours(null)).toEqual({ intervals: [], problems: [] });
    expect(parseDayHours([])).toEqual({ intervals: [], problems: [] });
    expect(parseDayHours(['09:00-13:00', '13:00-18:00']).problems).toEqual([]); // touching is fine
  });

  it('names the offending interval', () => {
    expect(parseDayHours(['08:00-13:00', '12:00-18:00']).problems).toEqual([
      { index: 1, message: expect.stringContaining('must not overlap') },
    ]);
    expect(parseDayHours(['14:00-18:00', '08:00-12:00']).problems[0]).toMatchObject({ index: 1 });
    expect(parseDayHours(['8:00-13:00']).problems[0]!.message).toContain('invalid opening time "8:00"');
    expect(parseDayHours(['08:00-25:00']).problems[0]!.message).toContain('invalid closing time');
    expect(parseDayHours(['13:00-08:00']).problems[0]!.message).toContain('closing time must be after opening time');
    expect(parseDayHours(['08:00']).problems[0]!.message).toContain('expected "HH:MM-HH:MM"');
  });
});

describe('config: calendars and calendar', () => {
  const week = (v: unknown) => ({ mon: v, tue: v, wed: v, thu: v, fri: v });

  it('defaults to the shipped file and the standard calendar', () => {
    const cfg = configWith({});
    expect(cfg.calendar.default).toBe('standard');
    expect(Object.keys(cfg.calendars).sort()).toEqual(['pausa-pranzo', 'standard', 'turni']);
  });

  it('takes inline calendars; a missing weekday is closed; calendar.default picks one', () => {
    const cfg = configWith({
      calendars: { sportello: { hours: week(['10:00-12:00']) }, altro: { hours: { sat: ['09:00-10:00'] } } },
      calendar: { default: 'sportello' },
    });
    const cals = calendarsFromConfig(cfg);
    expect(cals.sportello!.hours.sat).toEqual([]);
    expect(cals.sportello!.name).toBe('sportello');
    expect(cals.sportello!.timezone).toBe('Europe/Rome');
    expect(wall(takeChargeDeadline(cals.sportello!, 'P1+', rome('2026-11-23 11:30')))).toBe('2026-11-24 10:30');
  });

  it('keeps the legacy calendar.hours (the default calendar) and adds calendar.extraHolidays everywhere', () => {
    const cfg = configWith({
      calendar: {
        hours: { ...week({ open: '09:00', close: '12:00' }), sat: null, sun: null },
        extraHolidays: ['06-24'],
      },
    });
    expect(cfg.calendars.standard!.hours.mon).toEqual([{ open: '09:00', close: '12:00' }]);
    expect(cfg.calendars.standard!.hours.sat).toEqual([]);
    expect(cfg.calendars.turni!.hours.mon).toHaveLength(2); // only the default calendar is redefined
    for (const c of Object.values(cfg.calendars)) expect(c.extraHolidays).toContain('06-24');
  });

  it('reads a calendars file and names it and the key in errors', () => {
    const file = path.join(tmp, 'cals.yaml');
    writeFileSync(file, stringify({ sede: { hours: { mon: ['08:00-13:00', '12:30-17:00'] } } }));
    expect(configError({ calendars: file, calendar: { default: 'sede' } })).toContain(
      `${file}: sede.hours.mon.1: 12:30-17:00 overlaps`,
    );
    writeFileSync(file, stringify({ sede: { hours: { mon: ['08:00-17:00'] } } }));
    expect(Object.keys(configWith({ calendars: file, calendar: { default: 'sede' } }).calendars)).toEqual(['sede']);
    expect(configError({ calendars: path.join(tmp, 'missing.yaml') })).toContain('missing.yaml: cannot read: ENOENT');
  });

  it('refuses overlapping intervals, bad HH:MM, open ≥ close and unknown weekdays, naming the key', () => {
    expect(configError({ calendars: { a: { hours: { tue: ['08:00-13:00', '12:00-18:00'] } } }, calendar: { default: 'a' } })).toMatch(
      /c\d+\.yaml: calendars\.a\.hours\.tue\.1: 12:00-18:00 overlaps or precedes 08:00-13:00/,
    );
    expect(configError({ calendars: { a: { hours: { mon: ['08.00-13:00'] } } } })).toMatch(
      /calendars\.a\.hours\.mon\.0: invalid opening time "08\.00", expected HH:MM/,
    );
    expect(configError({ calendars: { a: { hours: { mon: ['18:00-08:00'] } } } })).toContain('calendars.a.hours.mon.0');
    expect(configError({ calendars: { a: { hours: { lun: ['08:00-13:00'] } } } })).toContain('calendars.a.hours');
    expect(configError({ calendars: { a: { hours: {} } } })).toContain('calendars.a.hours: no service hours on any day');
    expect(configError({ calendars: { 'Sede Centrale': { hours: week(['08:00-13:00']) } } })).toContain(
      'calendars.Sede Centrale: expected a lower-case calendar name',
    );
    expect(configError({ calendar: { hours: { mon: ['25:00-26:00'] } } })).toContain('calendar.hours.mon.0: invalid opening time');
  });

  it('refuses an unknown default calendar, naming calendar.default', () => {
    expect(configError({ calendar: { default: 'notturno' } })).toMatch(
      /c\d+\.yaml: calendar\.default: unknown calendar "notturno" \(known: standard, pausa-pranzo, turni\)/,
    );
  });
});

describe('directory: contract calendar', () => {
  it('names the administration and the calendar when the calendar is unknown', () => {
    const admins = [
      administrationSchema.parse({ id: 'comune-a', name: 'Comune A', contract: { support: true, calendar: 'turni' } }),
      administrationSchema.parse({ id: 'comune-b', name: 'Comune B', contract: { support: true, calendar: 'notte' } }),
      administrationSchema.parse({ id: 'comune-c', name: 'Comune C' }),
    ];
    expect(unknownCalendarProblems(admins, Object.keys(shipped))).toEqual([
      'administrations.1.contract.calendar: administration comune-b names unknown calendar "notte" (known: standard, pausa-pranzo, turni)',
    ]);
    expect(unknownCalendarProblems(admins.slice(0, 1), ['standard'])).toHaveLength(1);
    expect(unknownCalendarProblems([admins[0]!, admins[2]!], Object.keys(shipped))).toEqual([]);
  });
});

describe('toLocal (offsets cached by minute)', () => {
  it('reads every instant as Intl does, across two centuries, odd zones and a DST switch', () => {
    const zones = ['Europe/Rome', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Chatham'];
    const intl = (zone: string, d: Date) => {
      const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
      const o: Record<string, number> = {};
      for (const p of f.formatToParts(d)) if (p.type !== 'literal') o[p.type] = Number(p.value);
      return { year: o.year, month: o.month, day: o.day, hour: o.hour, minute: o.minute, second: o.second };
    };
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const from = Date.UTC(1901, 0, 1);
    const span = Date.UTC(2100, 0, 1) - from;
    const instants = Array.from({ length: 6000 }, () => new Date(from + Math.floor(next() * span)));
    // Every second of the night Rome springs forward, twice (the second pass reads the cache).
    for (let t = Date.UTC(2026, 2, 29, 0, 30); t < Date.UTC(2026, 2, 29, 1, 30); t += 7000) instants.push(new Date(t), new Date(t));
    instants.forEach((d, i) => {
      const zone = i < 6000 ? zones[i % zones.length]! : 'Europe/Rome';
      expect(toLocal(zone, d), `${zone} ${d.toISOString()}`).toEqual(intl(zone, d));
    });
  });
});
