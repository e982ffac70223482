// Named service calendars end to end (SPEC §2.2, §4): the hours live in configuration, so
// editing them changes a ticket's take-charge deadline with no code change.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { email, samples, Workspace } from './workspace.js';

const NOW = '2026-11-23T15:00:00+01:00';
const workspaces: Workspace[] = [];
afterEach(() => {
  while (workspaces.length) workspaces.pop()!.cleanup();
});

function workspace(overrides: (cfg: Record<string, any>) => void): Workspace {
  const ws = new Workspace(overrides);
  workspaces.push(ws);
  return ws;
}

function ingest(ws: Workspace, file: string, now = NOW) {
  const r = ws.cli(['ingest', file, '--json', '--now', now]);
  expect(r.status, r.stderr).toBe(0);
  return r.json.results[0];
}

const weekdays = (hours: string[]) => ({ mon: hours, tue: hours, wed: hours, thu: hours, fri: hours });

describe('service calendars in configuration', () => {
  it('editing the default calendar moves takeChargeDueAt of the same message', () => {
    const sample = path.join(samples, '01-casella-bloccata.eml'); // received Monday 23 Nov 2026 09:15:02 CET
    const before = workspace((c) => {
      c.calendars = { sportello: { hours: weekdays(['08:00-17:00']) } };
      c.calendar = { default: 'sportello' };
    });
    const after = workspace((c) => {
      c.calendars = { sportello: { hours: weekdays(['10:00-12:00', '14:00-16:00']) } };
      c.calendar = { default: 'sportello' };
    });
    const a = ingest(before, sample).ticket;
    const b = ingest(after, sample).ticket;
    expect(b.priority).toBe(a.priority); // the class does not depend on the hours
    // Worked out by hand for each class the priority rules may give this message.
    const expected: Record<string, [string, string]> = {
      'P1+': ['2026-11-23T09:15:02.000Z', '2026-11-23T10:00:00.000Z'], // 10:15:02 | opens 10:00 → 11:00
      P1: ['2026-11-23T10:15:02.000Z', '2026-11-23T11:00:00.000Z'], // 11:15:02 | 12:00, the pause
      P2: ['2026-11-23T12:15:02.000Z', '2026-11-23T15:00:00.000Z'], // 13:15:02 | 10-12 + 14-16 → 16:00
      P3: ['2026-11-24T16:00:00.000Z', '2026-11-24T15:00:00.000Z'], // Tuesday 17:00 | 16:00
      P4: ['2026-11-30T16:00:00.000Z', '2026-11-30T15:00:00.000Z'], // 5th working day: Monday 30
    };
    expect(Object.keys(expected)).toContain(a.priority);
    expect([a.takeChargeDueAt, b.takeChargeDueAt]).toEqual(expected[a.priority]);

    // The acknowledgement quotes the edited hours.
    const body = after.query<{ body_text: string }>('SELECT body_text FROM outbox')[0]!.body_text;
    expect(body).toContain('dal lunedì al venerdì 10:00–12:00 e 14:00–16:00, festivi esclusi');
  });

  it('calendar.default picks a shipped calendar by name (standard vs turni, a Thursday at 13:00)', () => {
    const msg = email({
      from: 'anna.rossi@comune.esempio.it',
      subject: 'Casella di posta bloccata',
      body: readBody(path.join(samples, '01-casella-bloccata.eml')),
      messageId: '<cal-thu@comune.esempio.it>',
      date: 'Thu, 26 Nov 2026 13:00:00 +0100',
    });
    const standard = workspace(() => undefined);
    const turni = workspace((c) => {
      c.calendar = { default: 'turni' };
    });
    const file = standard.path('thu.eml');
    writeFileSync(file, msg);
    // The clock just after receipt: a Received date later than the clock would not be believed.
    const s = ingest(standard, file, '2026-11-26T13:05:00+01:00').ticket;
    const t = ingest(turni, file, '2026-11-26T13:05:00+01:00').ticket;
    expect(t.priority).toBe(s.priority);
    const expected: Record<string, [string, string]> = {
      'P1+': ['2026-11-26T13:00:00.000Z', '2026-11-26T14:30:00.000Z'], // 14:00 | pause 13:30-15:00 → 15:30
      P1: ['2026-11-26T14:00:00.000Z', '2026-11-26T15:30:00.000Z'], // 15:00 | 16:30
      P2: ['2026-11-26T16:00:00.000Z', '2026-11-27T08:30:00.000Z'], // 17:00 | Friday 09:30
      P3: ['2026-11-27T16:00:00.000Z', '2026-11-27T12:30:00.000Z'], // Friday 17:00 | Friday 13:30
      P4: ['2026-12-02T16:00:00.000Z', '2026-12-03T17:00:00.000Z'], // Saturday counts | it does not
    };
    expect(Object.keys(expected)).toContain(s.priority);
    expect([s.takeChargeDueAt, t.takeChargeDueAt]).toEqual(expected[s.priority]);
  });
});

describe('contract calendars in the directory', () => {
  const directory = (calendar: string) => ({
    administrations: [
      {
        id: 'comune-turni',
        name: 'Comune dei Turni',
        domains: ['turni.example.it'],
        contract: { support: true, calendar },
        referents: [{ name: 'Rita Neri', email: 'rita.neri@turni.example.it', role: 'technical-referent' }],
      },
    ],
  });

  it('stores a known calendar and refuses an unknown one, naming administration and calendar', () => {
    const ws = workspace((c) => {
      delete c.directory;
    });
    const good = ws.path('good.yaml');
    writeFileSync(good, stringify(directory('turni')));
    expect(ws.cli(['directory', 'import', good]).status).toBe(0);
    const shown = ws.cli(['directory', 'show', '--json']).json.administrations;
    expect(shown).toEqual([expect.objectContaining({ id: 'comune-turni', contract: { support: true, calendar: 'turni' } })]);

    const bad = ws.path('bad.yaml');
    writeFileSync(bad, stringify(directory('notturno')));
    const r = ws.cli(['directory', 'import', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `${bad}: administrations.0.contract.calendar: administration comune-turni names unknown calendar "notturno" (known: standard, pausa-pranzo, turni)`,
    );
    // Refused before anything was written: the stored contract still names turni.
    expect(ws.query('SELECT calendar FROM administrations')).toEqual([{ calendar: 'turni' }]);
  });

  it('a configured directory naming an unknown calendar stops the start', () => {
    const ws = workspace((c) => {
      c.directory = directory('notturno');
    });
    const r = ws.cli(['ingest', path.join(samples, '01-casella-bloccata.eml'), '--json', '--now', NOW]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('directory: administrations.0.contract.calendar: administration comune-turni names unknown calendar "notturno"');
  });
});

/** The body of a sample message (after the blank line ending the headers). */
function readBody(file: string): string {
  const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  return text.slice(text.indexOf('\n\n') + 2);
}
