// SQLite (better-sqlite3, WAL) and the migration runner: migrations/NNNN_name.sql applied in
// order, each in its own transaction, recorded in schema_migrations.
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/load.js';

export type Db = Database.Database;

export const migrationsDir = path.join(projectRoot, 'migrations');

export function openDatabase(file: string): Db {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL: a committed transaction survives power loss, not only a process crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  cacheStatements(db);
  return db;
}

/** Statements kept per connection; the SQL texts are the program's own, so they are few. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Prepare each SQL text once per connection (preparing on every call cost ~7 % of intake). A
 * cached statement is handed out in its default modes, since .pluck()/.raw()/.expand() change
 * the statement itself; one still iterating (busy) is not shared: a fresh one is prepared.
 */
function cacheStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const cached = cache.get(sql);
    if (cached && !cached.busy) {
      if (cached.reader) cached.pluck(false).raw(false).expand(false);
      return cached;
    }
    const fresh = prepare(sql);
    if (!cached) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sql, fresh);
    }
    return fresh;
  }) as Db['prepare'];
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 4)),
      name: f.replace(/\.sql$/, ''),
      sql: readFileSync(path.join(dir, f), 'utf8'),
    }));
}

/** Apply pending migrations; returns the names applied now. */
export function migrate(db: Db, now: Date = new Date(), dir = migrationsDir): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[],
  );
  const done: string[] = [];
  for (const m of listMigrations(dir)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        now.toISOString(),
      );
    })();
    done.push(m.name);
  }
  return done;
}

export function databasePath(dataDir: string): string {
  return path.join(dataDir, 'pecdesk.sqlite');
}
