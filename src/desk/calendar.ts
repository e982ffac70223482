/**
 * Service calendars of the help desk: opening hours, Italian national holidays
 * and the take-charge deadlines derived from them.
 *
 * A calendar is named (contracts refer to it by name) and gives each weekday a
 * list of service intervals, so lunch pauses and split shifts are plain data.
 *
 * Pure module: every function depends only on its arguments (no clock reads,
 * no I/O). Instants are `Date`s; wall-clock reasoning happens in `cal.timezone`
 * through `Intl.DateTimeFormat`, so DST changes are handled by the ICU data.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** One service interval [open, close) of a day, local wall time 'HH:MM' ('24:00' allowed as close). */
export interface ServiceInterval {
  open: string;
  close: string;
}

export interface CalendarConfig {
  name: string; // what contracts and config call it, e.g. 'standard'
  timezone: string; // IANA, e.g. 'Europe/Rome'
  /** Each weekday's intervals, sorted and non-overlapping; an empty list = closed. */
  hours: Record<Weekday, ServiceInterval[]>;
  extraHolidays: string[]; // 'YYYY-MM-DD' (that year only) or 'MM-DD' (every year)
}

export type PriorityClass = 'P1+' | 'P1' | 'P2' | 'P3' | 'P4' | 'P7';

export interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

export const WEEKDAY_ORDER: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const weekdays = (f: (d: Weekday) => ServiceInterval[]): Record<Weekday, ServiceInterval[]> =>
  Object.fromEntries(WEEKDAY_ORDER.map((d) => [d, f(d)])) as Record<Weekday, ServiceInterval[]>;

/** Seed 001: Monday–Friday 08:00–17:00, Saturday 08:00–14:00 (SPEC §2.2, the default calendar). */
export const DEFAULT_CALENDAR: CalendarConfig = {
  name: 'standard',
  timezone: 'Europe/Rome',
  hours: weekdays((d) =>
    d === 'sun' ? [] : d === 'sat' ? [{ open: '08:00', close: '14:00' }] : [{ open: '08:00', close: '17:00' }],
  ),
  extraHolidays: [],
};

/** The desk's named calendars and which one applies when a contract names none. */
export interface CalendarSet {
  calendars: Record<string, CalendarConfig>;
  defaultCalendar: string;
}

/**
 * The calendar an Administration's contract names; null or a name not (or no longer) in
 * the set falls back to the desk's default, so a stale directory entry never stops a ticket.
 */
export function calendarFor(rules: CalendarSet, calendarName: string | null): CalendarConfig {
  const named = calendarName !== null && Object.hasOwn(rules.calendars, calendarName) ? rules.calendars[calendarName] : undefined;
  const cal = named ?? rules.calendars[rules.defaultCalendar];
  if (!cal) throw new Error(`default calendar ${JSON.stringify(rules.defaultCalendar)} is not among the calendars`);
  return cal;
}

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
  const seconds = Math.floor(at.getTime() / 1000) * 1000; // Intl drops milliseconds
  const wall = new Date(seconds + zoneOffset(timezone, seconds));
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
  };
}

/** Intl's reading (formatToParts: ~10 µs a call, most of the deadline arithmetic before the cache). */
function intlLocal(timezone: string, at: Date): LocalDateTime {
  const out: Record<string, number> = {};
  for (const p of formatterFor(timezone).formatToParts(at)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour!, minute: out.minute!, second: out.second! };
}

function intlOffset(timezone: string, t: number): number {
  const l = intlLocal(timezone, new Date(t));
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(t / 1000) * 1000;
}

/** Offsets by zone and UTC minute: zones change offset on minute boundaries, and only rarely. */
const offsetsByMinute = new Map<string, Map<number, number>>();

/** Offset (ms) of `timezone` from UTC at instant `t` (e.g. +3_600_000 for CET). */
function zoneOffset(timezone: string, t: number): number {
  let zone = offsetsByMinute.get(timezone);
  if (!zone) offsetsByMinute.set(timezone, (zone = new Map()));
  const minute = Math.floor(t / 60_000);
  const known = zone.get(minute);
  if (known !== undefined) return known;
  const offset = intlOffset(timezone, minute * 60_000);
  // Cached only when the whole minute has one offset (a historical change at an odd second is not).
  if (intlOffset(timezone, minute * 60_000 + 59_000) !== offset) return intlOffset(timezone, t);
  if (zone.size >= 100_000) zone.clear();
  zone.set(minute, offset);
  return offset;
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
// Service hours as written in config: parsing and validation (pure, so the
// config loader and the tests share one definition of a valid day).

/** 'HH:MM' → minutes after midnight, or null when malformed ('24:00' only when `asClose`). */
function minutesOf(s: string, asClose: boolean): number | null {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(s.trim());
  if (!m) return null;
  const v = Number(m[1]) * 60 + Number(m[2]);
  if (v > 24 * 60 || (v === 24 * 60 && !asClose)) return null;
  return v;
}

export interface DayHoursProblem {
  /** Position of the offending interval in the day's list, when one is to blame. */
  index?: number;
  message: string;
}

/**
 * One weekday's hours as written in config: a list of "HH:MM-HH:MM" strings (an en dash
 * works too), or the legacy `{ open, close }` object (alone or in the list); `null`, `[]` or
 * nothing = closed. Intervals must be well-formed, open < close, sorted and non-overlapping
 * (touching is fine: 13:00-14:00 then 14:00-18:30).
 */
export function parseDayHours(value: unknown): { intervals: ServiceInterval[]; problems: DayHoursProblem[] } {
  if (value === null || value === undefined) return { intervals: [], problems: [] };
  const items = Array.isArray(value) ? value : [value];
  const intervals: ServiceInterval[] = [];
  const problems: DayHoursProblem[] = [];
  let prevClose = -1;
  items.forEach((item, i) => {
    const index = Array.isArray(value) ? i : undefined;
    const at = (message: string): void => {
      problems.push(index === undefined ? { message } : { index, message });
    };
    let open: string;
    let close: string;
    if (typeof item === 'string') {
      const m = /^\s*(\S+?)\s*[-–]\s*(\S+)\s*$/.exec(item);
      if (!m) return at(`expected "HH:MM-HH:MM", got ${JSON.stringify(item)}`);
      [open, close] = [m[1]!, m[2]!];
    } else if (item && typeof item === 'object' && !Array.isArray(item)) {
      const o = item as Record<string, unknown>;
      const extra = Object.keys(o).filter((k) => k !== 'open' && k !== 'close');
      if (typeof o.open !== 'string' || typeof o.close !== 'string' || extra.length) {
        return at('expected { open: "HH:MM", close: "HH:MM" }');
      }
      [open, close] = [o.open, o.close];
    } else {
      return at(`expected "HH:MM-HH:MM", got ${JSON.stringify(item)}`);
    }
    const o = minutesOf(open, false);
    const c = minutesOf(close, true);
    if (o === null) return at(`invalid opening time ${JSON.stringify(open)}, expected HH:MM`);
    if (c === null) return at(`invalid closing time ${JSON.stringify(close)}, expected HH:MM`);
    if (c <= o) return at(`${open}-${close}: closing time must be after opening time`);
    if (o < prevClose) {
      const prev = intervals[intervals.length - 1]!;
      return at(`${open}-${close} overlaps or precedes ${prev.open}-${prev.close}: intervals must be sorted and must not overlap`);
    }
    prevClose = c;
    intervals.push({ open: open.trim(), close: close.trim() });
  });
  return { intervals, problems };
}

/** Consecutive weekdays with the same intervals, in week order (for rendering the hours). */
export function weeklySchedule(cal: CalendarConfig): Array<{ from: Weekday; to: Weekday; intervals: ServiceInterval[] }> {
  const key = (iv: ServiceInterval[]) => iv.map((i) => `${i.open}-${i.close}`).join(',');
  const groups: Array<{ from: Weekday; to: Weekday; intervals: ServiceInterval[] }> = [];
  let prev: Weekday | null = null;
  for (const d of WEEKDAY_ORDER) {
    const iv = cal.hours[d];
    const last = groups[groups.length - 1];
    if (iv.length && last && last.to === prev && key(last.intervals) === key(iv)) last.to = d;
    else if (iv.length) groups.push({ from: d, to: d, intervals: iv });
    prev = d;
  }
  return groups;
}

// ---------------------------------------------------------------------------
// Service periods.

function parseHHMM(s: string, asClose: boolean): [number, number] {
  const v = minutesOf(s, asClose);
  if (v === null) throw new Error(`invalid time "${s}", expected HH:MM`);
  return [Math.floor(v / 60), v % 60];
}

/** A service interval of a given day, as instants [open, close). */
export interface ServicePeriod {
  open: Date;
  close: Date;
}

/**
 * The service intervals of a local day as instants, in order; [] on closed days and
 * holidays. An interval swallowed by a spring-forward gap (02:00-03:00 on the switch
 * night) has no real time and is dropped.
 */
export function serviceIntervalsOn(cal: CalendarConfig, localDate: LocalDate): ServicePeriod[] {
  const intervals = cal.hours[weekdayOf(localDate)];
  if (!intervals.length || isHoliday(cal, localDate)) return [];
  const out: ServicePeriod[] = [];
  for (const iv of intervals) {
    const open = localToInstant(cal.timezone, localDate, ...parseHHMM(iv.open, false));
    const close = localToInstant(cal.timezone, localDate, ...parseHHMM(iv.close, true));
    if (close.getTime() > open.getTime()) out.push({ open, close });
  }
  return out;
}

/** A working day has at least one service interval and is not a holiday (Saturday counts). */
export function isWorkingDay(cal: CalendarConfig, localDate: LocalDate): boolean {
  return serviceIntervalsOn(cal, localDate).length > 0;
}

function localDateOf(cal: CalendarConfig, at: Date): LocalDate {
  const { year, month, day } = toLocal(cal.timezone, at);
  return { year, month, day };
}

/** Intervals are [open, close): exactly at closing time (or at a pause) the desk is closed. */
export function isWithinServiceHours(cal: CalendarConfig, at: Date): boolean {
  return serviceIntervalsOn(cal, localDateOf(cal, at)).some((p) => at >= p.open && at < p.close);
}

/** The service period containing `at`, or else the next one to open. */
function currentOrNextPeriod(cal: CalendarConfig, at: Date): ServicePeriod {
  let d = localDateOf(cal, at);
  for (let i = 0; i < MAX_SCAN_DAYS; i++, d = addDays(d, 1)) {
    const p = serviceIntervalsOn(cal, d).find((q) => at < q.close);
    if (p) return p;
  }
  throw new Error(`calendar ${cal.name}: no service period within ${MAX_SCAN_DAYS} days of ${at.toISOString()}`);
}

/** `at` itself if inside service hours, else the start of the next service interval. */
export function nextOpening(cal: CalendarConfig, at: Date): Date {
  const p = currentOrNextPeriod(cal, at);
  return at >= p.open ? at : p.open;
}

/**
 * Adds `hours` of service time to `start`: the clock only runs inside service
 * intervals (so it stops across pauses, closed days, holidays), and a start outside
 * them begins at the next opening. A budget that ends exactly at a closing time
 * returns that closing instant (not the next opening).
 */
export function addBusinessHours(cal: CalendarConfig, start: Date, hours: number): Date {
  if (!Number.isFinite(hours) || hours < 0) throw new RangeError(`invalid hours: ${hours}`);
  let remaining = hours * HOUR_MS;
  let t = start;
  for (;;) {
    const p = currentOrNextPeriod(cal, t);
    if (t < p.open) t = p.open;
    // Instants, not wall times: a DST switch inside a period is counted in real hours.
    const available = p.close.getTime() - t.getTime();
    if (remaining <= available) return new Date(t.getTime() + remaining);
    remaining -= available;
    t = p.close;
  }
}

/**
 * Close (end of the last interval) of the n-th working day strictly after the local
 * calendar day of `at` (working day: see `isWorkingDay`).
 */
export function closeOfNthWorkingDayAfter(cal: CalendarConfig, at: Date, n: number): Date {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  let d = localDateOf(cal, at);
  let found = 0;
  for (let i = 0; i < MAX_SCAN_DAYS * n; i++) {
    d = addDays(d, 1);
    const periods = serviceIntervalsOn(cal, d);
    if (periods.length && ++found === n) return periods[periods.length - 1]!.close;
  }
  throw new Error(`calendar ${cal.name}: no ${n}-th working day found after ${at.toISOString()}`);
}

/**
 * Take-charge deadline for a message of the given priority class (SPEC §4).
 * Hour classes (P1+ 1, P1 2, P2 4) count business hours, or real hours when on call;
 * day classes end at the close of the n-th working day after the day of receipt
 * (P3 the 1st, P4 the 5th); P7 is best effort (null).
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
