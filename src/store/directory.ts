// Directory tables: import (replace each administration's entries) and sender look-up.
import { DirectoryError } from '../directory/load.js';
import { unknownCalendarProblems, type Administration, type SenderFacts } from '../directory/model.js';
import type { Db } from './db.js';

/**
 * Every import (config sync and `directory import`) passes here, so this is where a contract
 * naming a calendar the config does not define is refused — before anything is written.
 */
export function importAdministrations(
  db: Db,
  admins: Administration[],
  at: string,
  opts: { calendars: readonly string[]; source?: string },
): void {
  const problems = unknownCalendarProblems(admins, opts.calendars);
  if (problems.length) throw new DirectoryError(problems.map((p) => (opts.source ? `${opts.source}: ${p}` : p)).join('\n'));
  db.transaction(() => {
    for (const a of admins) {
      db.prepare(
        `INSERT INTO administrations (id, name, fiscal_code, ipa_code, support_contract, calendar, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, fiscal_code = excluded.fiscal_code,
           ipa_code = excluded.ipa_code, support_contract = excluded.support_contract, calendar = excluded.calendar,
           updated_at = excluded.updated_at`,
      ).run(a.id, a.name, a.fiscalCode ?? null, a.ipaCode ?? null, a.contract.support ? 1 : 0, a.contract.calendar ?? null, at);
      for (const t of ['administration_domains', 'administration_pecs', 'people', 'delegations']) {
        db.prepare(`DELETE FROM ${t} WHERE administration_id = ?`).run(a.id);
      }
      // A domain or PEC box belongs to one administration: the latest import wins.
      for (const d of a.domains) {
        db.prepare('INSERT OR REPLACE INTO administration_domains (domain, administration_id) VALUES (?, ?)').run(d, a.id);
      }
      for (const p of a.pec) {
        db.prepare('INSERT OR REPLACE INTO administration_pecs (address, administration_id) VALUES (?, ?)').run(p, a.id);
      }
      for (const r of a.referents) {
        db.prepare('INSERT INTO people (administration_id, name, email, pec, role) VALUES (?, ?, ?, ?, ?)').run(
          a.id, r.name, r.email ?? null, r.pec ?? null, r.role,
        );
      }
      for (const d of a.delegates) {
        db.prepare(
          `INSERT INTO delegations (administration_id, name, email, pec, delegated_by, valid_from, valid_until)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(a.id, d.name, d.email ?? null, d.pec ?? null, d.delegatedBy, d.validFrom, d.validUntil);
      }
    }
  })();
}

interface AdminRow {
  id: string;
  name: string;
  fiscal_code: string | null;
  ipa_code: string | null;
  support_contract: number;
  calendar: string | null;
}

/** The calendar an Administration's contract names (null: the desk's default). */
export function administrationCalendar(db: Db, administrationId: string | null): string | null {
  if (!administrationId) return null;
  return (db.prepare('SELECT calendar FROM administrations WHERE id = ?').pluck().get(administrationId) as string | null | undefined) ?? null;
}

/** Stored administrations whose contract names a calendar not in `known` (config changed since import). */
export function administrationsWithUnknownCalendar(db: Db, known: readonly string[]): Array<{ id: string; calendar: string }> {
  const rows = db.prepare('SELECT id, calendar FROM administrations WHERE calendar IS NOT NULL ORDER BY id').all() as Array<{ id: string; calendar: string }>;
  return rows.filter((r) => !known.includes(r.calendar));
}

export function senderFacts(db: Db, address: string): SenderFacts {
  const a = address.toLowerCase();
  const admin = (id: string) => db.prepare('SELECT * FROM administrations WHERE id = ?').get(id) as AdminRow;
  const matches: SenderFacts['matches'] = [];
  const push = (id: string, role: SenderFacts['matches'][number]['role'], extra: Partial<SenderFacts['matches'][number]> = {}) => {
    const row = admin(id);
    matches.push({
      administrationId: id,
      administrationName: row.name,
      supportContract: row.support_contract === 1,
      calendar: row.calendar,
      role,
      ...extra,
    });
  };
  for (const p of db.prepare('SELECT * FROM people WHERE email = ? OR pec = ?').all(a, a) as Array<{ administration_id: string; name: string; role: string }>) {
    push(p.administration_id, p.role === 'technical-referent' ? 'technical-referent' : 'referent', { name: p.name });
  }
  for (const d of db.prepare('SELECT * FROM delegations WHERE email = ? OR pec = ?').all(a, a) as Array<{
    administration_id: string; name: string; valid_from: string; valid_until: string;
  }>) {
    push(d.administration_id, 'delegate', { name: d.name, validFrom: d.valid_from, validUntil: d.valid_until });
  }
  const pec = db.prepare('SELECT administration_id FROM administration_pecs WHERE address = ?').pluck().get(a) as string | undefined;
  if (pec) push(pec, 'pec');
  // The sender's domain or any parent domain (studenti.unidemo.it → unidemo.it).
  const domain = a.split('@')[1] ?? '';
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const d = labels.slice(i).join('.');
    const owner = db.prepare('SELECT administration_id FROM administration_domains WHERE domain = ?').pluck().get(d) as string | undefined;
    if (owner) {
      push(owner, 'domain-user');
      break;
    }
  }
  return { address: a, matches };
}

export interface DirectoryDump {
  administrations: Array<{
    id: string;
    name: string;
    fiscalCode: string | null;
    ipaCode: string | null;
    domains: string[];
    pec: string[];
    contract: { support: boolean; calendar?: string };
    referents: Array<{ name: string; email: string | null; pec: string | null; role: string }>;
    delegates: Array<{ name: string; email: string | null; pec: string | null; delegatedBy: string; validFrom: string; validUntil: string }>;
  }>;
}

export function dumpDirectory(db: Db): DirectoryDump {
  const admins = db.prepare('SELECT * FROM administrations ORDER BY id').all() as AdminRow[];
  return {
    administrations: admins.map((a) => ({
      id: a.id,
      name: a.name,
      fiscalCode: a.fiscal_code,
      ipaCode: a.ipa_code,
      domains: db.prepare('SELECT domain FROM administration_domains WHERE administration_id = ? ORDER BY domain').pluck().all(a.id) as string[],
      pec: db.prepare('SELECT address FROM administration_pecs WHERE administration_id = ? ORDER BY address').pluck().all(a.id) as string[],
      // calendar only when set, so a dump can be imported back as a directory file.
      contract: a.calendar === null ? { support: a.support_contract === 1 } : { support: a.support_contract === 1, calendar: a.calendar },
      referents: db.prepare('SELECT name, email, pec, role FROM people WHERE administration_id = ? ORDER BY id').all(a.id) as DirectoryDump['administrations'][number]['referents'],
      delegates: (db.prepare('SELECT * FROM delegations WHERE administration_id = ? ORDER BY id').all(a.id) as Array<Record<string, string | null>>).map((d) => ({
        name: d.name!, email: d.email ?? null, pec: d.pec ?? null, delegatedBy: d.delegated_by!, validFrom: d.valid_from!, validUntil: d.valid_until!,
      })),
    })),
  };
}

/** The Administration a Piano belongs to: by the form's fiscal code, else by the PEC box it came from. */
export function findAdministrationForPiano(db: Db, keys: { fiscalCode: string | null; pecSender: string | null }): { id: string; name: string } | null {
  const byCf = keys.fiscalCode ? (db.prepare('SELECT id, name FROM administrations WHERE fiscal_code = ?').get(keys.fiscalCode) as { id: string; name: string } | undefined) : undefined;
  if (byCf) return byCf;
  const byPec = keys.pecSender
    ? (db.prepare('SELECT a.id, a.name FROM administration_pecs p JOIN administrations a ON a.id = p.administration_id WHERE p.address = ?').get(keys.pecSender) as
        | { id: string; name: string }
        | undefined)
    : undefined;
  return byPec ?? null;
}

/** The first free Administration id: `baseId`, or `baseId-2`… when taken. */
export function freeAdministrationId(db: Db, baseId: string): string {
  let id = baseId;
  for (let i = 2; db.prepare('SELECT 1 FROM administrations WHERE id = ?').get(id); i++) id = `${baseId}-${i}`;
  return id;
}

/** A new Administration from a Piano's fields, under the id chosen (freeAdministrationId). */
export function insertAdministrationFromPiano(
  db: Db, a: { id: string; name: string; fiscalCode: string | null; ipaCode: string | null; pec: string | null; at: string },
): void {
  db.prepare('INSERT INTO administrations (id, name, fiscal_code, ipa_code, support_contract, updated_at) VALUES (?, ?, ?, ?, 0, ?)').run(a.id, a.name, a.fiscalCode, a.ipaCode, a.at);
  if (a.pec) db.prepare('INSERT OR IGNORE INTO administration_pecs (address, administration_id) VALUES (?, ?)').run(a.pec, a.id);
}

/** A new Administration from a Piano's fields; the id is `baseId`, or `baseId-2`… when taken. */
export function createAdministrationFromPiano(
  db: Db, a: { baseId: string; name: string; fiscalCode: string | null; ipaCode: string | null; pec: string | null; at: string },
): { id: string; name: string } {
  const id = freeAdministrationId(db, a.baseId);
  insertAdministrationFromPiano(db, { id, name: a.name, fiscalCode: a.fiscalCode, ipaCode: a.ipaCode, pec: a.pec, at: a.at });
  return { id, name: a.name };
}

/** An Administration's id and name. */
export function administrationName(db: Db, id: string): { id: string; name: string } | undefined {
  return db.prepare('SELECT id, name FROM administrations WHERE id = ?').get(id) as { id: string; name: string } | undefined;
}
