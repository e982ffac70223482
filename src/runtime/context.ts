// Wiring shared by the CLI and the daemon: config → database (migrated) → raw store → rules.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ConfigError, deskAddresses, type Config, type MailboxName } from '../config/load.js';
import { loadProviderIndex, ProviderIndexError } from '../pec/provider-index.js';
import { DEFAULT_CALENDAR, type CalendarConfig } from '../desk/calendar.js';
import type { DeskRules } from '../desk/decide.js';
import { parseDirectory, readDirectoryFile } from '../directory/load.js';
import { databasePath, migrate, openDatabase, type Db } from '../store/db.js';
import { importAdministrations } from '../store/directory.js';
import { RawStore } from '../store/raw-store.js';
import { createLogger, type Logger } from './logger.js';

export interface Desk {
  cfg: Config;
  db: Db;
  raw: RawStore;
  log: Logger;
  rules: DeskRules;
  templateDirs: string[];
  deskAddresses: string[];
  close(): void;
}

export function calendarFromConfig(cfg: Config): CalendarConfig {
  return {
    timezone: cfg.timezone,
    hours: cfg.calendar.hours ?? DEFAULT_CALENDAR.hours,
    extraHolidays: cfg.calendar.extraHolidays,
  };
}

/** A Message-ID for mail the desk sends from `fromAddress` (receipts and replies cite it). */
export function deskMessageId(desk: Desk, fromAddress: string): string {
  return `<${randomUUID()}@${desk.cfg.desk.messageIdDomain ?? fromAddress.split('@')[1]}>`;
}

export function channelOf(mailbox: MailboxName): 'pec' | 'email' {
  return mailbox === 'pec' ? 'pec' : 'email';
}

/** Open the desk: migrate the database and, when the config names a directory, import it. */
export function openDesk(cfg: Config, opts: { log?: Logger; now?: Date; syncDirectory?: boolean } = {}): Desk {
  const log = opts.log ?? createLogger();
  // A malformed provider index stops the start (file: line: what), rather than leaving every
  // PEC envelope unverified later.
  if (cfg.trust.pecProviderIndex) {
    try {
      loadProviderIndex(cfg.trust.pecProviderIndex);
    } catch (e) {
      throw e instanceof ProviderIndexError ? new ConfigError(`${cfg.source}: trust.pecProviderIndex: ${e.message}`) : e;
    }
  }
  const db = openDatabase(databasePath(cfg.dataDir));
  try {
    const applied = migrate(db, opts.now ?? new Date());
    if (applied.length) log.info({ applied }, 'database migrated');
    if (cfg.directory && opts.syncDirectory !== false) {
      const dir =
        typeof cfg.directory === 'string' ? readDirectoryFile(cfg.directory) : parseDirectory(cfg.directory, `${cfg.source}: directory`);
      importAdministrations(db, dir.administrations, (opts.now ?? new Date()).toISOString());
    }
  } catch (e) {
    db.close();
    throw e;
  }
  const templateDirs = [cfg.templatesDir, path.join(cfg.configRoot, 'templates')].filter((d): d is string => Boolean(d));
  return {
    cfg,
    db,
    raw: new RawStore(path.join(cfg.dataDir, 'raw')),
    log,
    rules: {
      calendar: calendarFromConfig(cfg),
      priority: { defaultClass: cfg.priority.default },
      repliesPerSenderPerHour: cfg.limits.repliesPerSenderPerHour,
    },
    templateDirs,
    deskAddresses: deskAddresses(cfg),
    close: () => db.close(),
  };
}
