// Printing: one JSON document on stdout with --json, else readable tables.
export class UsageError extends Error {}

/** Exit code 1: the command worked and the answer is negative (SPEC §8.1). */
export class NegativeOutcome extends Error {}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function width(s: string): number {
  return [...s].length;
}

export function table(rows: Array<Record<string, string>>, columns: Array<{ key: string; title: string; max?: number }>): string {
  if (rows.length === 0) return '(none)\n';
  const cell = (r: Record<string, string>, c: { key: string; max?: number }) => {
    const v = (r[c.key] ?? '').replace(/\s+/g, ' ');
    return c.max && width(v) > c.max ? `${[...v].slice(0, c.max - 1).join('')}…` : v;
  };
  const widths = columns.map((c) => Math.max(width(c.title), ...rows.map((r) => width(cell(r, c)))));
  const line = (vals: string[]) => vals.map((v, i) => v + ' '.repeat(widths[i]! - width(v))).join('  ').trimEnd();
  return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r, c))))].join('\n') + '\n';
}

const tableTimeFormatters = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-23 17:00" in the desk's zone, for tables (one formatter per zone: tickets list --all formats millions). */
export function localTime(iso: string | null, timezone: string): string {
  if (!iso) return '—';
  let f = tableTimeFormatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', {
      timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
    tableTimeFormatters.set(timezone, f);
  }
  return f.format(new Date(iso));
}

export function parseInstant(value: string, option: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) {
    throw new UsageError(`${option}: expected an ISO date-time like 2026-11-23T09:30:00+01:00, got ${JSON.stringify(value)}`);
  }
  return d;
}

export function parseId(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${what}: expected a number, got ${JSON.stringify(value)}`);
  return Number(value);
}
