// Yearly reference counters; call inside the transaction that uses the number.
import type { Db } from './db.js';

export function nextNumber(db: Db, series: string, year: number): number {
  const row = db
    .prepare(
      `INSERT INTO counters (series, year, value) VALUES (?, ?, 1)
       ON CONFLICT (series, year) DO UPDATE SET value = value + 1 RETURNING value`,
    )
    .get(series, year) as { value: number };
  return row.value;
}
