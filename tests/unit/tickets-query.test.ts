// tickets list --breached is answered by SQL; it must agree with the rule (sla.isBreached) on
// every shape of ticket: marked or not, taken in time, late, not yet, before and after the clock.
import { describe, expect, it } from 'vitest';
import { isBreached } from '../../src/desk/sla.js';
import { listTickets } from '../../src/store/tickets.js';
import { tempDatabase } from '../support/temp-db.js';

const db = tempDatabase('pecdesk-tq-');

const T = (h: number) => new Date(Date.UTC(2026, 10, 30, h)).toISOString();
const times = [null, T(8), T(10), T(12), T(14)];

describe('the --breached query', () => {
  it('matches isBreached for every combination of deadline, taken and breach marks at several clocks', () => {
    const cols = db.prepare("SELECT name FROM pragma_table_info('tickets') WHERE \"notnull\" = 1 AND dflt_value IS NULL AND pk = 0").pluck().all() as string[];
    let n = 0;
    const shapes: Array<{ due: string | null; taken: string | null; breached: string | null }> = [];
    for (const due of times) for (const taken of times) for (const breached of times) shapes.push({ due, taken, breached });
    const insert = db.prepare(`INSERT INTO tickets (${[...cols, 'take_charge_due_at', 'taken_at', 'breached_at'].join(', ')}) VALUES (${[...cols, 'a', 'b', 'c'].map(() => '?').join(', ')})`);
    for (const sh of shapes) {
      n++;
      const values = cols.map((c) => (c === 'ref' ? `HD-2026-${String(n).padStart(6, '0')}` : c === 'sender_verification_problems' ? '[]' : c === 'authorized' || c === 'on_call' ? 0 : 'x'));
      insert.run(...values, sh.due, sh.taken, sh.breached);
    }
    for (const now of [T(9), T(11), T(13), T(15)]) {
      const bySql = listTickets(db, { breachedAt: now }).map((t) => t.ref);
      const byRule = listTickets(db, {}).filter((t) => isBreached({ takeChargeDueAt: t.take_charge_due_at, takenAt: t.taken_at, breachedAt: t.breached_at }, new Date(now))).map((t) => t.ref);
      expect(bySql, now).toEqual(byRule);
    }
  });
});
