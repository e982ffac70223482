// Take-charge SLA (SPEC §4, issue 9 rule 7): which waiting tickets are past their deadline or
// about to be, and the compliance report per priority class and per Administration.
// Pure: tickets, a clock and calendars in, decisions and figures out.
import { isWithinServiceHours, localToInstant } from './calendar.js';

/** Whatever calendar the desk's rules carry (the calendar module owns its shape). */
export type SlaCalendar = Parameters<typeof isWithinServiceHours>[0];

/** Ticket event types written by the SLA watch. */
export type SlaEventType = 'sla-breached' | 'sla-reminder';

/** The priority classes in report order (SPEC §4). P7 has no take-charge deadline. */
export const REPORT_CLASSES = ['P1+', 'P1', 'P2', 'P3', 'P4', 'P7'] as const;
const NO_DEADLINE_CLASSES: readonly string[] = ['P7'];

export interface SlaTicket {
  id: number;
  /** ISO instants; null when not (yet) set. */
  takeChargeDueAt: string | null;
  takenAt: string | null;
  breachedAt: string | null;
  remindedAt: string | null;
}

export interface SlaCheckRules<T> {
  /** Remind when the deadline is at most this many minutes away (0: never). */
  reminderMinutes: number;
  /** The service calendar of a ticket (its Administration's contract, else the desk's). */
  calendarFor: (ticket: T) => SlaCalendar;
}

export interface SlaCheckResult<T> {
  /** Not taken in charge and past the deadline, not marked yet: mark and notify once. */
  breached: T[];
  /** Not taken in charge, due within the reminder window, not reminded yet, calendar open now. */
  remind: T[];
}

const MINUTE_MS = 60_000;
const ms = (iso: string) => new Date(iso).getTime();

/** Is the ticket still waiting to be taken in charge at `now`? */
function waiting(t: { takenAt: string | null }, now: Date): boolean {
  return t.takenAt === null || ms(t.takenAt) > now.getTime();
}

/** The SLA watch's decision for one pass. */
export function slaCheck<T extends SlaTicket>(tickets: readonly T[], now: Date, rules: SlaCheckRules<T>): SlaCheckResult<T> {
  const out: SlaCheckResult<T> = { breached: [], remind: [] };
  const at = now.getTime();
  for (const t of tickets) {
    if (t.takeChargeDueAt === null || !waiting(t, now) || t.breachedAt !== null) continue;
    const due = ms(t.takeChargeDueAt);
    if (at > due) {
      out.breached.push(t);
      continue;
    }
    if (
      t.remindedAt === null &&
      rules.reminderMinutes > 0 &&
      due - at <= rules.reminderMinutes * MINUTE_MS &&
      isWithinServiceHours(rules.calendarFor(t), now)
    ) {
      out.remind.push(t);
    }
  }
  return out;
}

export type TakeChargeOutcome = 'no-deadline-taken' | 'no-deadline-waiting' | 'in-time' | 'late' | 'waiting' | 'overdue';

/**
 * Where a ticket stands against its take-charge deadline at `now`: taken in time (at or before
 * the deadline), taken late, waiting (deadline still ahead), overdue (not taken, deadline past).
 */
export function takeChargeOutcome(t: { takeChargeDueAt: string | null; takenAt: string | null }, now: Date): TakeChargeOutcome {
  const isWaiting = waiting(t, now);
  if (t.takeChargeDueAt === null) return isWaiting ? 'no-deadline-waiting' : 'no-deadline-taken';
  const due = ms(t.takeChargeDueAt);
  if (!isWaiting) return ms(t.takenAt!) <= due ? 'in-time' : 'late';
  return now.getTime() > due ? 'overdue' : 'waiting';
}

/** Breached: marked by the watch, or taken late, or not taken and past the deadline. */
export function isBreached(t: { takeChargeDueAt: string | null; takenAt: string | null; breachedAt: string | null }, now: Date): boolean {
  if (t.breachedAt !== null && ms(t.breachedAt) <= now.getTime()) return true;
  const o = takeChargeOutcome(t, now);
  return o === 'late' || o === 'overdue';
}

// ---------------------------------------------------------------------------
// The report.

export interface ReportTicket {
  priority: string;
  administrationId: string | null;
  administrationName: string | null;
  receivedAt: string;
  takeChargeDueAt: string | null;
  takenAt: string | null;
}

export type SlaGroup = 'class' | 'administration' | 'total';

export interface SlaRow {
  group: SlaGroup;
  /** The class (P1+ … P7), the Administration id ('' for none), or 'all'. */
  key: string;
  name: string | null;
  received: number;
  /** Taken in charge by `now` (in time or late; for P7 simply taken). */
  taken: number;
  /** null where no deadline applies (the P7 row). */
  takenInTime: number | null;
  takenLate: number | null;
  /** Taken late, or not taken and past the deadline. */
  breached: number | null;
  /** Not yet taken in charge at `now`. */
  open: number;
  /** Wall-clock minutes from received to taken, median of the taken ones (one decimal); null when none. */
  medianMinutesToTakeCharge: number | null;
}

export interface SlaReport {
  classes: SlaRow[];
  administrations: SlaRow[];
  total: SlaRow;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function row(group: SlaGroup, key: string, name: string | null, tickets: readonly ReportTicket[], now: Date, hasDeadlines: boolean): SlaRow {
  let taken = 0;
  let inTime = 0;
  let late = 0;
  let overdue = 0;
  const minutes: number[] = [];
  for (const t of tickets) {
    const o = takeChargeOutcome(t, now);
    if (o === 'in-time' || o === 'late' || o === 'no-deadline-taken') {
      taken++;
      minutes.push((ms(t.takenAt!) - ms(t.receivedAt)) / MINUTE_MS);
    }
    if (o === 'in-time') inTime++;
    if (o === 'late') late++;
    if (o === 'overdue') overdue++;
  }
  const m = median(minutes);
  return {
    group,
    key,
    name,
    received: tickets.length,
    taken,
    takenInTime: hasDeadlines ? inTime : null,
    takenLate: hasDeadlines ? late : null,
    breached: hasDeadlines ? late + overdue : null,
    open: tickets.length - taken,
    medianMinutesToTakeCharge: m === null ? null : Math.round(m * 10) / 10,
  };
}

/** Figures per class (every class, in SPEC order), per Administration (those with tickets), and in total. */
export function slaReport(tickets: readonly ReportTicket[], now: Date): SlaReport {
  const classKeys: string[] = [...REPORT_CLASSES];
  for (const t of tickets) if (!classKeys.includes(t.priority)) classKeys.push(t.priority);
  const classes = classKeys.map((c) =>
    row('class', c, null, tickets.filter((t) => t.priority === c), now, !NO_DEADLINE_CLASSES.includes(c)),
  );
  const admins = new Map<string, string | null>();
  for (const t of tickets) if (!admins.has(t.administrationId ?? '')) admins.set(t.administrationId ?? '', t.administrationName);
  const adminKeys = [...admins.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0));
  const administrations = adminKeys.map((k) =>
    row('administration', k, admins.get(k) ?? null, tickets.filter((t) => (t.administrationId ?? '') === k), now, true),
  );
  return { classes, administrations, total: row('total', 'all', null, tickets, now, true) };
}

// ---------------------------------------------------------------------------
// The period and the CSV.

export class SlaPeriodError extends Error {}

function parseDay(value: string, option: string): { year: number; month: number; day: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : null;
  const check = d ? new Date(Date.UTC(d.year, d.month - 1, d.day)) : null;
  if (!d || !check || check.getUTCMonth() !== d.month - 1 || check.getUTCDate() !== d.day) {
    throw new SlaPeriodError(`${option}: expected a date like 2026-11-01, got ${JSON.stringify(value)}`);
  }
  return d;
}

const dayString = (d: { year: number; month: number; day: number }) =>
  `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

/**
 * The report period [from, to) as instants: local days (YYYY-MM-DD) in `timezone`, `to`
 * exclusive. Default `from`: the first day of the month of `today`; default `to`: the first
 * day of the month after `from`.
 */
export function reportPeriod(
  timezone: string,
  today: { year: number; month: number },
  from?: string,
  to?: string,
): { from: string; to: string; fromInstant: Date; toInstant: Date } {
  const f = from !== undefined ? parseDay(from, '--from') : { year: today.year, month: today.month, day: 1 };
  const t =
    to !== undefined
      ? parseDay(to, '--to')
      : f.month === 12
        ? { year: f.year + 1, month: 1, day: 1 }
        : { year: f.year, month: f.month + 1, day: 1 };
  const fromInstant = localToInstant(timezone, f, 0, 0);
  const toInstant = localToInstant(timezone, t, 0, 0);
  if (toInstant.getTime() <= fromInstant.getTime()) {
    throw new SlaPeriodError(`--to ${dayString(t)} must be after --from ${dayString(f)} (the period is [from, to), to excluded)`);
  }
  return { from: dayString(f), to: dayString(t), fromInstant, toInstant };
}

export const CSV_COLUMNS = [
  'group', 'key', 'name', 'received', 'taken', 'takenInTime', 'takenLate', 'breached', 'open', 'medianMinutesToTakeCharge',
] as const;

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180: a header row, then the class rows, the Administration rows and the total; CRLF line ends. */
export function slaCsv(report: SlaReport): string {
  const rows = [...report.classes, ...report.administrations, report.total];
  const lines = [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
