// The directory and the public IndicePA dump: creating and updating Administrations from it
// (name, fiscal code, IPA code, PEC addresses only: referents, delegates, contracts and domains
// are never touched), and what the directory says about the Administration a Piano names.
import type { IpaFinding, IpaRow } from '../directory/ipa.js';
import { administrationIdFromIpaCode } from '../directory/ipa.js';
import type { DirectoryAdministration, PianoDirectoryFacts } from '../pdf/piano-check.js';
import type { Db } from './db.js';

export type IpaField = 'name' | 'fiscalCode' | 'ipaCode' | 'pec';

export interface IpaChange {
  line: number;
  id: string;
  ipaCode: string;
  action: 'created' | 'updated';
  /** What changed (all of them for a new Administration). */
  fields: IpaField[];
  /** PEC addresses newly associated with it. */
  pecAdded: string[];
}

export interface IpaImportResult {
  created: number;
  updated: number;
  unchanged: number;
  changes: IpaChange[];
  warnings: IpaFinding[];
}

interface AdminRow {
  id: string;
  name: string;
  fiscal_code: string | null;
  ipa_code: string | null;
}

/**
 * Create or update one Administration per row, in one transaction. A row matches the
 * Administration with its IPA code, else one with its fiscal code and no other IPA code; else it
 * creates one whose id is the IPA code. PEC addresses are added (the dump does not list every
 * PEC box of an ente, e.g. those of its AOO), never removed; an address the directory had under
 * another Administration moves to this one.
 */
export function importIpaRows(db: Db, rows: IpaRow[], at: string): IpaImportResult {
  const insertAdmin = db.prepare(
    'INSERT INTO administrations (id, name, fiscal_code, ipa_code, support_contract, updated_at) VALUES (?, ?, ?, ?, 0, ?)',
  );
  const updateAdmin = db.prepare('UPDATE administrations SET name = ?, fiscal_code = ?, ipa_code = ?, updated_at = ? WHERE id = ?');
  const touchAdmin = db.prepare('UPDATE administrations SET updated_at = ? WHERE id = ?');
  const upsertPec = db.prepare(
    `INSERT INTO administration_pecs (address, administration_id) VALUES (?, ?)
     ON CONFLICT (address) DO UPDATE SET administration_id = excluded.administration_id`,
  );

  return db.transaction((): IpaImportResult => {
    const result: IpaImportResult = { created: 0, updated: 0, unchanged: 0, changes: [], warnings: [] };
    // The whole directory in memory: 25,000 rows are matched without one query each.
    const byId = new Map<string, AdminRow>();
    const byIpa = new Map<string, string>();
    const byFiscalCode = new Map<string, string[]>();
    const addFiscalCode = (cf: string | null, id: string) => {
      if (cf) byFiscalCode.set(cf, [...(byFiscalCode.get(cf) ?? []), id]);
    };
    for (const a of db.prepare('SELECT id, name, fiscal_code, ipa_code FROM administrations ORDER BY id').all() as AdminRow[]) {
      byId.set(a.id, a);
      const ipa = a.ipa_code?.toLowerCase();
      if (ipa && !byIpa.has(ipa)) byIpa.set(ipa, a.id);
      addFiscalCode(a.fiscal_code, a.id);
    }
    const pecOwner = new Map<string, string>(
      (db.prepare('SELECT address, administration_id FROM administration_pecs').all() as Array<{ address: string; administration_id: string }>).map(
        (p) => [p.address, p.administration_id],
      ),
    );

    for (const row of rows) {
      let target = byIpa.get(row.ipaCode);
      if (!target && row.fiscalCode) {
        target = (byFiscalCode.get(row.fiscalCode) ?? []).find((id) => !byId.get(id)!.ipa_code);
      }
      const fields: IpaField[] = [];
      let admin: AdminRow;
      if (!target) {
        const base = administrationIdFromIpaCode(row.ipaCode);
        let id = base;
        for (let i = 2; byId.has(id); i++) id = `${base}-${i}`;
        admin = { id, name: row.name, fiscal_code: row.fiscalCode, ipa_code: row.ipaCode };
        insertAdmin.run(id, row.name, row.fiscalCode, row.ipaCode, at);
        byId.set(id, admin);
        byIpa.set(row.ipaCode, id);
        addFiscalCode(row.fiscalCode, id);
        fields.push('name', 'ipaCode', ...(row.fiscalCode ? (['fiscalCode'] as const) : []));
      } else {
        admin = byId.get(target)!;
        const fiscalCode = row.fiscalCode ?? admin.fiscal_code;
        if (admin.name !== row.name) fields.push('name');
        if (admin.fiscal_code !== fiscalCode) fields.push('fiscalCode');
        if (admin.ipa_code !== row.ipaCode) fields.push('ipaCode');
        if (fields.length) {
          updateAdmin.run(row.name, fiscalCode, row.ipaCode, at, admin.id);
          if (fields.includes('fiscalCode')) {
            if (admin.fiscal_code) byFiscalCode.set(admin.fiscal_code, (byFiscalCode.get(admin.fiscal_code) ?? []).filter((id) => id !== admin.id));
            addFiscalCode(fiscalCode, admin.id);
          }
          byIpa.set(row.ipaCode, admin.id);
          Object.assign(admin, { name: row.name, fiscal_code: fiscalCode, ipa_code: row.ipaCode });
        }
      }
      if (row.fiscalCode) {
        const other = (byFiscalCode.get(row.fiscalCode) ?? []).find((id) => id !== admin.id);
        if (other) result.warnings.push({ line: row.line, code: 'fiscal-code-elsewhere', value: row.fiscalCode, other });
      }
      const pecAdded: string[] = [];
      for (const address of row.pec) {
        const owner = pecOwner.get(address);
        if (owner === admin.id) continue;
        if (owner) result.warnings.push({ line: row.line, code: 'pec-address-moved', value: address, other: owner });
        upsertPec.run(address, admin.id);
        pecOwner.set(address, admin.id);
        pecAdded.push(address);
      }
      if (pecAdded.length) {
        fields.push('pec');
        if (target && fields.length === 1) touchAdmin.run(at, admin.id);
      }
      if (!target) {
        result.created++;
        result.changes.push({ line: row.line, id: admin.id, ipaCode: row.ipaCode, action: 'created', fields, pecAdded });
      } else if (fields.length) {
        result.updated++;
        result.changes.push({ line: row.line, id: admin.id, ipaCode: row.ipaCode, action: 'updated', fields, pecAdded });
      } else result.unchanged++;
    }
    return result;
  })();
}

function administration(db: Db, row: AdminRow | undefined): DirectoryAdministration | null {
  if (!row) return null;
  // The Administration's PEC boxes and its referents' PEC boxes: both are its addresses.
  const pec = db
    .prepare(
      `SELECT address FROM administration_pecs WHERE administration_id = ?
       UNION SELECT pec FROM people WHERE administration_id = ? AND pec IS NOT NULL ORDER BY 1`,
    )
    .pluck()
    .all(row.id, row.id) as string[];
  return { id: row.id, name: row.name, fiscalCode: row.fiscal_code, ipaCode: row.ipa_code, pec };
}

/** What the directory knows of the Administration a Piano names by IPA code and fiscal code. */
export function pianoDirectoryFacts(db: Db, keys: { ipaCode: string | null; fiscalCode: string | null }): PianoDirectoryFacts {
  const byIpa = keys.ipaCode
    ? (db.prepare('SELECT id, name, fiscal_code, ipa_code FROM administrations WHERE lower(ipa_code) = lower(?) ORDER BY id LIMIT 1').get(keys.ipaCode) as
        | AdminRow
        | undefined)
    : undefined;
  // Several Administrations with one fiscal code: the one the IPA code names, if it is one of them.
  const byFiscalCode = keys.fiscalCode
    ? (db
        .prepare('SELECT id, name, fiscal_code, ipa_code FROM administrations WHERE fiscal_code = ? ORDER BY id = ? DESC, id LIMIT 1')
        .get(keys.fiscalCode, byIpa?.id ?? '') as AdminRow | undefined)
    : undefined;
  return { byIpaCode: administration(db, byIpa), byFiscalCode: administration(db, byFiscalCode) };
}
