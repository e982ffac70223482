// Italian reply templates: config/templates/<name>.txt (or the configured templatesDir, which
// overrides file by file). `{{name}}` placeholders; a missing value is an error, never a blank.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { weeklySchedule, type CalendarConfig, type Weekday } from '../desk/calendar.js';

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

// Building an Intl formatter costs far more than using one: one pair per time zone.
const italianFormatters = new Map<string, { day: Intl.DateTimeFormat; time: Intl.DateTimeFormat }>();

/** "lunedì 23 novembre 2026, ore 17:00" in the desk's time zone. */
export function formatItalianDateTime(at: Date, timezone: string): string {
  let f = italianFormatters.get(timezone);
  if (!f) {
    f = {
      day: new Intl.DateTimeFormat('it-IT', { timeZone: timezone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }),
      time: new Intl.DateTimeFormat('it-IT', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    };
    italianFormatters.set(timezone, f);
  }
  return `${f.day.format(at)}, ore ${f.time.format(at)}`;
}

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'lunedì', tue: 'martedì', wed: 'mercoledì', thu: 'giovedì', fri: 'venerdì', sat: 'sabato', sun: 'domenica',
};

/**
 * "dal lunedì al giovedì 09:00–13:30 e 15:00–18:00, venerdì 09:00–13:30, festivi esclusi":
 * consecutive days with the same intervals are grouped (`weeklySchedule`).
 */
export function describeServiceHours(cal: CalendarConfig): string {
  const groups = weeklySchedule(cal);
  if (!groups.length) return 'nessun orario di servizio';
  const parts = groups.map((g) => {
    const spans = g.intervals.map((i) => `${i.open}–${i.close}`).join(' e ');
    if (g.from === g.to) return `${DAY_NAMES[g.from]} ${spans}`;
    // Every weekday name is masculine except domenica ("al sabato", "alla domenica").
    return `dal ${DAY_NAMES[g.from]} ${g.to === 'sun' ? 'alla' : 'al'} ${DAY_NAMES[g.to]} ${spans}`;
  });
  return `${parts.join(', ')}, festivi esclusi`;
}
