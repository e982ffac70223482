/**
 * Service calendar of the help desk: opening hours, Italian national holidays
 * and the take-charge deadlines derived from them.
 *
 * Pure module: every function depends only on its arguments (no clock reads,
 * no I/O). Instants are `Date`s; wall-clock reasoning happens in `cal.timezone`
 * through `Intl.DateTimeFormat`, so DST changes are handled by the ICU data.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface CalendarConfig {
  timezone: string; // IANA, e.g. 'Europe/Rome'
  hours: Record<Weekday, { open: string; close: string } | null>; // 'HH:MM' local, null = closed
  extraHolidays: string[]; // 'YYYY-MM-DD' (that year only) or 'MM-DD' (every year)
}

export type PriorityClass = 'P1+' | 'P1' | 'P2' | 'P3' | 'P4' | 'P7';

export interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

export const DEFAULT_CALENDAR: CalendarConfig = {
  timezone: 'Europe/Rome',
  hours: {
    mon: { open: '08:00', close: '17:00' },
    tue: { open: '08:00', close: '17:00' },
    wed: { open: '08:00', close: '17:00' },
    thu: { open: '08:00', close: '17:00' },
    fri: { open: '08:00', close: '17:00' },
    sat: { open: '08:00', close: '14:00' },
    sun: null,
  },
  extraHolidays: [],
};

/** Fixed-date national holidays (MM-DD); Easter Monday is computed. */
const NATIONAL_HOLIDAYS = new Set([
  '01-01', // Capodanno
  '01-06', // Epifania
  '04-25', // Liberazione
  '05-01', // Festa del lavoro
  '06-02', // Festa della Repubblica
  '08-15', // Ferragosto
  '11-01', // Ognissanti
  '12-08', // Immacolata
  '12-25', // Natale
  '12-26', // Santo Stefano
]);

/** Business-hour budget of the hour-based priority classes. */
const HOUR_CLASSES: Partial<Record<PriorityClass, number>> = { 'P1+': 1, P1: 2, P2: 4 };
/** Working-day offset of the day-based priority classes. */
const DAY_CLASSES: Partial<Record<PriorityClass, number>> = { P3: 1, P4: 5 };

const HOUR_MS = 3_600_000;
/** How far ahead we look for an open day before declaring the calendar broken. */
const MAX_SCAN_DAYS = 400;
const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']; // Date#getUTCDay order

// ---------------------------------------------------------------------------
// Plain calendar-date helpers (no timezone involved: dates are handled as UTC
// midnights purely for arithmetic).

const pad2 = (n: number): string => String(n).padStart(2, '0');

function addDays(d: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

function weekdayOf(d: LocalDate): Weekday {
  return WEEKDAYS[new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay()]!;
}

/** Easter Sunday (Gregorian calendar), anonymous Gregorian / Meeus-Jones-Butcher algorithm. */
export function easterSunday(year: number): LocalDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return { year, month, day };
}

export function isHoliday(cal: CalendarConfig, localDate: LocalDate): boolean {
  const { year, month, day } = localDate;
  const mmdd = `${pad2(month)}-${pad2(day)}`;
  const iso = `${year}-${mmdd}`;
  if (NATIONAL_HOLIDAYS.has(mmdd)) return true;
  const easterMonday = addDays(easterSunday(year), 1);
  if (easterMonday.month === month && easterMonday.day === day) return true;
  return cal.extraHolidays.some((h) => {
    const s = h.trim();
    return s === iso || s === mmdd;
  });
}

// ---------------------------------------------------------------------------
// Timezone conversion via Intl.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    // hourCycle h23 avoids the "24:00" midnight rendering of hour12:false.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

interface LocalDateTime extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

/** Wall-clock reading of `at` in `timezone`. */
export function toLocal(timezone: string, at: Date): LocalDateTime {
  const out: Record<string, number> = {};
  for (const p of formatterFor(timezone).formatToParts(at)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: out.year!,
    month: out.month!,
    day: out.day!,
    hour: out.hour!,
    minute: out.minute!,
    second: out.second!,
  };
}

/** Offset (ms) of `timezone` from UTC at instant `t` (e.g. +3_600_000 for CET). */
function zoneOffset(timezone: string, t: number): number {
  const l = toLocal(timezone, new Date(t));
  const wallAsUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return wallAsUtc - Math.floor(t / 1000) * 1000; // Intl drops milliseconds
}

/**
 * Instant at which the wall clock in `timezone` reads the given local time.
 * Guess "wall time as UTC", correct by the offset there, then re-check with the
 * offset at the corrected instant (they differ only near a DST switch).
 * For a wall time inside a spring-forward gap the result lands just past it.
 */
export function localToInstant(
  timezone: string,
  d: LocalDate,
  hour: number,
  minute: number,
): Date {
  const wallAsUtc = Date.UTC(d.year, d.month - 1, d.day, hour, minute);
  const off1 = zoneOffset(timezone, wallAsUtc);
  let t = wallAsUtc - off1;
  const off2 = zoneOffset(timezone, t);
  if (off2 !== off1) t = wallAsUtc - off2;
  return new Date(t);
}

// ---------------------------------------------------------------------------
// Service periods.

function parseHHMM(s: string): [number, number] {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m) throw new Error(`invalid time "${s}", expected HH:MM`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 24 || min > 59 || (h === 24 && min > 0)) throw new Error(`invalid time "${s}"`);
  return [h, min];
}

/** Service period [open, close) of a local day, or null if the desk is closed that day. */
function servicePeriod(cal: CalendarConfig, d: LocalDate): { open: Date; close: Date } | null {
  const hours = cal.hours[weekdayOf(d)];
  if (!hours || isHoliday(cal, d)) return null;
  const open = localToInstant(cal.timezone, d, ...parseHHMM(hours.open));
  const close = localToInstant(cal.timezone, d, ...parseHHMM(hours.close));
  if (close.getTime() <= open.getTime()) {
    throw new Error(`close ${hours.close} must be after open ${hours.open} (${weekdayOf(d)})`);
  }
  return { open, close };
}

function localDateOf(cal: CalendarConfig, at: Date): LocalDate {
  const { year, month, day } = toLocal(cal.timezone, at);
  return { year, month, day };
}

/** Opening hours are [open, close): exactly at closing time the desk is closed. */
export function isWithinServiceHours(cal: CalendarConfig, at: Date): boolean {
  const p = servicePeriod(cal, localDateOf(cal, at));
  return p !== null && at >= p.open && at < p.close;
}

/** `at` itself if inside service hours, else the start of the next service period. */
export function nextOpening(cal: CalendarConfig, at: Date): Date {
  let d = localDateOf(cal, at);
  for (let i = 0; i < MAX_SCAN_DAYS; i++, d = addDays(d, 1)) {
    const p = servicePeriod(cal, d);
    if (!p || at >= p.close) continue;
    return at >= p.open ? at : p.open;
  }
  throw new Error(`no service period within ${MAX_SCAN_DAYS} days of ${at.toISOString()}`);
}

/**
 * Adds `hours` of service time to `start`: the clock only runs inside service
 * periods, and a start outside them begins at the next opening. A budget that
 * ends exactly at closing time returns the closing instant (not the next opening).
 */
export function addBusinessHours(cal: CalendarConfig, start: Date, hours: number): Date {
  if (!Number.isFinite(hours) || hours < 0) throw new RangeError(`invalid hours: ${hours}`);
  let remaining = hours * HOUR_MS;
  let t = nextOpening(cal, start);
  for (;;) {
    // t is inside a service period: find its close (same local day by construction).
    const close = servicePeriod(cal, localDateOf(cal, t))!.close;
    const available = close.getTime() - t.getTime();
    if (remaining <= available) return new Date(t.getTime() + remaining);
    remaining -= available;
    t = nextOpening(cal, close);
  }
}

/**
 * Close time of the n-th working day strictly after the local calendar day of
 * `at` (working day = has service hours and is not a holiday; Saturday counts).
 */
export function closeOfNthWorkingDayAfter(cal: CalendarConfig, at: Date, n: number): Date {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  let d = localDateOf(cal, at);
  let found = 0;
  for (let i = 0; i < MAX_SCAN_DAYS * n; i++) {
    d = addDays(d, 1);
    const p = servicePeriod(cal, d);
    if (p && ++found === n) return p.close;
  }
  throw new Error(`no ${n}-th working day found after ${at.toISOString()}`);
}

/**
 * Take-charge deadline for a message of the given priority class.
 * Hour classes (P1+/P1/P2) count business hours, or real hours when on call;
 * day classes (P3/P4) end at the close of the n-th following working day;
 * P7 is best effort (null).
 */
export function takeChargeDeadline(
  cal: CalendarConfig,
  priority: PriorityClass,
  receivedAt: Date,
  opts?: { onCall?: boolean },
): Date | null {
  const hours = HOUR_CLASSES[priority];
  if (hours !== undefined) {
    return opts?.onCall === true
      ? new Date(receivedAt.getTime() + hours * HOUR_MS)
      : addBusinessHours(cal, receivedAt, hours);
  }
  const days = DAY_CLASSES[priority];
  if (days !== undefined) return closeOfNthWorkingDayAfter(cal, receivedAt, days);
  return null; // P7: best effort
}

/** The local calendar day of an instant in `timezone`, as YYYY-MM-DD. */
export function localDay(timezone: string, at: Date): string {
  const l = toLocal(timezone, at);
  return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}
