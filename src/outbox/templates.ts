// Italian reply templates: config/templates/<name>.txt (or the configured templatesDir, which
// overrides file by file). `{{name}}` placeholders; a missing value is an error, never a blank.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CalendarConfig, Weekday } from '../desk/calendar.js';

export class TemplateError extends Error {}

export function templatePath(name: string, dirs: string[]): string {
  for (const dir of dirs) {
    const p = path.join(dir, `${name}.txt`);
    if (existsSync(p)) return p;
  }
  throw new TemplateError(`template ${name}: no ${name}.txt in ${dirs.join(' or ')}`);
}

export function renderTemplate(name: string, dirs: string[], vars: Record<string, string>): string {
  const file = templatePath(name, dirs);
  const text = readFileSync(file, 'utf8');
  return text.replace(/\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g, (_m, key: string) => {
    const v = vars[key];
    if (v === undefined) throw new TemplateError(`${file}: unknown placeholder {{${key}}}`);
    return v;
  });
}

/** "lunedì 23 novembre 2026, ore 17:00" in the desk's time zone. */
export function formatItalianDateTime(at: Date, timezone: string): string {
  const day = new Intl.DateTimeFormat('it-IT', {
    timeZone: timezone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(at);
  const time = new Intl.DateTimeFormat('it-IT', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  return `${day}, ore ${time}`;
}

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'lunedì', tue: 'martedì', wed: 'mercoledì', thu: 'giovedì', fri: 'venerdì', sat: 'sabato', sun: 'domenica',
};
const ORDER: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "dal lunedì al venerdì 08:00–17:00, sabato 08:00–14:00, festivi esclusi". */
export function describeServiceHours(cal: CalendarConfig): string {
  const groups: Array<{ from: Weekday; to: Weekday; span: string }> = [];
  for (const d of ORDER) {
    const h = cal.hours[d];
    if (!h) continue;
    const span = `${h.open}–${h.close}`;
    const last = groups[groups.length - 1];
    if (last && last.span === span && ORDER.indexOf(last.to) === ORDER.indexOf(d) - 1) last.to = d;
    else groups.push({ from: d, to: d, span });
  }
  const parts = groups.map((g) =>
    g.from === g.to ? `${DAY_NAMES[g.from]} ${g.span}` : `dal ${DAY_NAMES[g.from]} al ${DAY_NAMES[g.to]} ${g.span}`,
  );
  return `${parts.join(', ')}, festivi esclusi`;
}
