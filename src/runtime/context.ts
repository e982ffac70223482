// Wiring shared by the CLI and the daemon: config → database (migrated) → raw store → rules.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ConfigError, deskAddresses, type Config, type MailboxName } from '../config/load.js';
import { loadCategoryRules, loadPriorityRules } from '../config/rules.js';
import { loadProviderIndex, ProviderIndexError } from '../pec/provider-index.js';
import type { CalendarConfig } from '../desk/calendar.js';
import type { DeskRules } from '../desk/decide.js';
import { parseDirectory, readDirectoryFile } from '../directory/load.js';
import { databasePath, migrate, openDatabase, type Db } from '../store/db.js';
import { administrationsWithUnknownCalendar, importAdministrations } from '../store/directory.js';
import { RawStore } from '../store/raw-store.js';
import { createLogger, type Logger } from './logger.js';
import type { AttachmentSpill } from '../mail/parse.js';

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

/** Big attachments go to the raw store while a message is parsed (limits.attachmentMemoryBytes). */
export function attachmentSpill(desk: Desk): AttachmentSpill {
  return { aboveBytes: desk.cfg.limits.attachmentMemoryBytes, putStream: (s) => desk.raw.putStream(s), get: (sha) => desk.raw.get(sha) };
}

/** Every named calendar of the config, in the desk's time zone. */
export function calendarsFromConfig(cfg: Config): Record<string, CalendarConfig> {
  return Object.fromEntries(
    Object.entries(cfg.calendars).map(([name, c]) => [
      name,
      { name, timezone: cfg.timezone, hours: c.hours, extraHolidays: c.extraHolidays },
    ]),
  );
}

/** The desk's default calendar (`calendar.default`). */
export function calendarFromConfig(cfg: Config): CalendarConfig {
  const cal = calendarsFromConfig(cfg)[cfg.calendar.default];
  // loadConfig refuses an unknown default; this guards hand-built configs.
  if (!cal) throw new ConfigError(`${cfg.source}: calendar.default: unknown calendar ${JSON.stringify(cfg.calendar.default)}`);
  return cal;
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
  // The rule tables are read before anything else is opened: a mistake stops the start.
  const priority = loadPriorityRules(cfg.priority.rules ?? path.join(cfg.configRoot, 'priority.yaml'), cfg.priority.default);
  const categories = loadCategoryRules(cfg.categories.rules ?? path.join(cfg.configRoot, 'categories.yaml'));
  const calendars = calendarsFromConfig(cfg);
  const db = openDatabase(databasePath(cfg.dataDir));
  try {
    const applied = migrate(db, opts.now ?? new Date());
    if (applied.length) log.info({ applied }, 'database migrated');
    if (cfg.directory && opts.syncDirectory !== false) {
      const dir =
        typeof cfg.directory === 'string' ? readDirectoryFile(cfg.directory) : parseDirectory(cfg.directory, `${cfg.source}: directory`);
      const source = typeof cfg.directory === 'string' ? cfg.directory : `${cfg.source}: directory`;
      importAdministrations(db, dir.administrations, (opts.now ?? new Date()).toISOString(), {
        calendars: Object.keys(calendars),
        source,
      });
    }
    // Administrations imported under an earlier config may name a calendar since removed:
    // their tickets fall back to the default calendar (calendarFor), which the operator should know.
    for (const a of administrationsWithUnknownCalendar(db, Object.keys(calendars))) {
      log.warn({ administration: a.id, calendar: a.calendar, default: cfg.calendar.default }, 'contract names an unknown calendar: default calendar used');
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
      calendars,
      defaultCalendar: cfg.calendar.default,
      priority,
      categories,
      repliesPerSenderPerHour: cfg.limits.repliesPerSenderPerHour,
    },
    templateDirs,
    deskAddresses: deskAddresses(cfg),
    close: () => db.close(),
  };
}
