// A migrated SQLite database in a temp directory for a test file, removed after its tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/store/db.js';

export function tempDatabase(prefix: string): Db {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const db = openDatabase(path.join(dir, 'desk.sqlite'));
  migrate(db);
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}
