// Configuration: YAML file → ${ENV} interpolation → zod validation → typed Config.
// Errors name the file and the key ("config/x.yaml: mailboxes.pec.maildir: required").
import { readFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { validate as validateCron } from 'node-cron';
import { parseDayHours, WEEKDAY_ORDER, type ServiceInterval, type Weekday } from '../desk/calendar.js';
import { DEFAULT_PDF_LIMITS } from '../pdf/limits.js';
import { ConfigError } from './errors.js';

export { ConfigError };

// One weekday: ["08:00-13:00", "14:00-18:30"], the legacy { open, close }, or null/[] = closed.
const dayHours = z
  .unknown()
  .transform((v, ctx) => {
    const r = parseDayHours(v);
    for (const p of r.problems) ctx.addIssue({ code: 'custom', message: p.message, path: p.index === undefined ? [] : [p.index] });
    return r.intervals;
  })
  .optional();
// A week: a weekday left out is closed; a week with no interval at all is a mistake.
const weekHours = z
  .object({ mon: dayHours, tue: dayHours, wed: dayHours, thu: dayHours, fri: dayHours, sat: dayHours, sun: dayHours })
  .strict()
  .transform((w) => Object.fromEntries(WEEKDAY_ORDER.map((d) => [d, w[d] ?? []])) as Record<Weekday, ServiceInterval[]>)
  .refine((w) => WEEKDAY_ORDER.some((d) => w[d].length > 0), { message: 'no service hours on any day' });
const holidays = z.array(z.string().regex(/^(\d{4}-)?\d{2}-\d{2}$/, 'expected YYYY-MM-DD or MM-DD'));
const calendarName = /^[a-z0-9][a-z0-9._-]*$/;
/** `calendars`: name → { hours, extraHolidays } (inline in the config or the whole of a calendars file). */
const calendarsSchema = z
  .record(z.string(), z.object({ hours: weekHours, extraHolidays: holidays.default([]) }).strict())
  .superRefine((m, ctx) => {
    for (const name of Object.keys(m)) {
      if (!calendarName.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'expected a lower-case calendar name (letters, digits, . _ -)' });
      }
    }
    if (!Object.keys(m).length) ctx.addIssue({ code: 'custom', message: 'at least one calendar is required' });
  });
export type CalendarDefinition = z.infer<typeof calendarsSchema>[string];
const address = z.string().regex(/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/, 'expected an e-mail address');

/**
 * OAuth2 (XOAUTH2) access tokens: printed by `tokenCommand` (run without a shell) or read from
 * `tokenFile`; either a bare token or JSON { access_token, expires_in | expires_at,
 * refresh_token_expires_at }. Re-read when the token expires.
 */
const oauthSchema = z
  .object({
    tokenCommand: z.array(z.string().min(1)).min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    // Warn (log and metric) this many days before the refresh token runs out.
    refreshWarnDays: z.number().min(0).default(7),
  })
  .strict()
  .refine((o) => Boolean(o.tokenCommand) !== Boolean(o.tokenFile), { message: 'exactly one of tokenCommand or tokenFile is required' });
export type OAuthConfig = z.infer<typeof oauthSchema>;

const seconds = (d: number) => z.number().positive().max(3600).default(d);

const smtpSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z.boolean().default(false),
    user: z.string().optional(),
    pass: z.string().optional(),
    oauth2: oauthSchema.optional(),
    // A server that accepts TCP and never greets must not hold a reply (or the daemon) for long.
    connectionTimeoutSeconds: seconds(10),
    greetingTimeoutSeconds: seconds(10),
    socketTimeoutSeconds: seconds(60),
    // Certificate checks stay on unless a test or a private CA needs otherwise.
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .refine((s) => !(s.pass !== undefined && s.oauth2), { message: 'give pass or oauth2, not both' });
export type SmtpConfig = z.infer<typeof smtpSchema>;

const imapSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(993),
    // TLS from the first byte (IMAPS). false: STARTTLS, required except towards loopback (tests).
    secure: z.boolean().default(true),
    user: z.string().min(1),
    pass: z.string().optional(),
    oauth2: oauthSchema.optional(),
    // The safety-net poll (IDLE does the real work when the server offers it); seconds allowed.
    pollCron: z.string().refine((e) => validateCron(e), 'expected a cron expression, e.g. "*/30 * * * * *"').default('*/30 * * * * *'),
    idle: z.boolean().default(true),
    connectionTimeoutSeconds: seconds(20),
    greetingTimeoutSeconds: seconds(15),
    socketTimeoutSeconds: seconds(300),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .refine((i) => Boolean(i.pass !== undefined) !== Boolean(i.oauth2), { message: 'exactly one of pass or oauth2 is required' });
export type ImapConfig = z.infer<typeof imapSchema>;

const mailboxSchema = z
  .object({
    address,
    // Where mail is read: an IMAP server or a Maildir (exactly one).
    imap: imapSchema.optional(),
    maildir: z.string().min(1).optional(),
    // IMAP: the folder read, and where a processed message is moved (null: flagged \Seen and left).
    folder: z.string().min(1).default('INBOX'),
    processedFolder: z.string().min(1).nullable().default('Processed'),
    smtp: smtpSchema.optional(),
    outboxDir: z.string().min(1).optional(),
  })
  .strict()
  .refine((m) => Boolean(m.imap) !== Boolean(m.maildir), { message: 'exactly one of imap or maildir is required (where mail is read)' })
  .refine((m) => Boolean(m.smtp) || Boolean(m.outboxDir), {
    message: 'one of smtp or outboxDir is required (where replies go)',
  });

/** A loopback host: the only place plain-text IMAP/SMTP (tests, a local relay) is allowed. */
export function isLoopbackHost(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i.test(host);
}

/** Where the HTTP listener binds: `http.listen` parsed. */
export interface HttpListen {
  host: string;
  port: number;
}
/**
 * `http.listen`: a bare port means loopback (127.0.0.1); any other address, IPv4 or bracketed
 * IPv6 (`[::1]:9464`), must be written out, so the listener never leaves loopback by accident.
 */
export function parseHttpListen(value: string | number): HttpListen | string {
  const text = String(value).trim();
  const port = (p: string): number | null => (/^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535 ? Number(p) : null);
  const bad = `expected PORT, IPV4:PORT or [IPV6]:PORT (e.g. "127.0.0.1:9464"), got ${JSON.stringify(value)}`;
  if (/^\d+$/.test(text)) return port(text) === null ? `port out of range 1-65535: ${JSON.stringify(value)}` : { host: '127.0.0.1', port: port(text)! };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return bad;
  const host = m[1]!;
  const version = m[0].startsWith('[') ? 6 : 4;
  if (isIP(host) !== version) return `${JSON.stringify(host)} is not an IPv${version} address (${bad})`;
  const p = port(m[2]!);
  return p === null ? `port out of range 1-65535: ${JSON.stringify(value)}` : { host, port: p };
}
const httpListen = z.union([z.string(), z.number()]).transform((v, ctx): HttpListen => {
  const r = parseHttpListen(v);
  if (typeof r === 'string') {
    ctx.addIssue({ code: 'custom', message: r });
    return z.NEVER;
  }
  return r;
});

export const configSchema = z
  .object({
    dataDir: z.string().min(1),
    timezone: z.string().default('Europe/Rome'),
    desk: z
      .object({
        name: z.string().default('Help Desk Cloud PA'),
        // Other addresses of the desk itself: never auto-reply to them (loops).
        ownAddresses: z.array(address).default([]),
        messageIdDomain: z.string().optional(),
        // The supply portal, sent with the countersigned contract (SPEC §2.1 step 5).
        portalUrl: z.string().url().default('https://portale.cloudpa-desk.example.it'),
      })
      .strict()
      .default({ name: 'Help Desk Cloud PA', ownAddresses: [], portalUrl: 'https://portale.cloudpa-desk.example.it' }),
    directory: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    trust: z
      .object({
        signatures: z.string().optional(),
        pecProviders: z.string().optional(),
        // The AgID PEC provider index (LDIF or YAML): listed certificates and managed domains.
        pecProviderIndex: z.string().optional(),
        // Anchors for time-stamping authorities (signature and document timestamps); default: trust.signatures.
        timestamping: z.string().optional(),
        authservIds: z.array(z.string()).default([]),
        // Fetch CRLs from certificates' distribution points (network access): off by default.
        onlineRevocation: z.boolean().default(false),
        crlCacheDir: z.string().optional(),
        // The trusted-list snapshot `trust import-tsl` writes (JSON) and the validator reads.
        tsl: z.string().min(1).optional(),
        // Who signs the imported list: a PEM/DER certificate file or a directory of them
        // (for the EU list of lists, the Commission's signers published in the OJEU).
        tslSigner: z.string().min(1).optional(),
      })
      .strict()
      .default({ authservIds: [], onlineRevocation: false }),
    mailboxes: z
      .object({ pec: mailboxSchema, support: mailboxSchema })
      .strict(),
    calendar: z
      .object({
        // The desk's calendar: for administrations whose contract names none.
        default: z.string().min(1).default('standard'),
        // Legacy: when given, the default calendar's hours.
        hours: weekHours.optional(),
        // Closures of the desk: added to every calendar.
        extraHolidays: holidays.default([]),
      })
      .strict()
      .default({ default: 'standard', extraHolidays: [] }),
    // Named service calendars: a YAML file (default: the shipped config/calendars.yaml) or inline.
    calendars: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    // The priority rule table (default: the shipped config/priority.yaml); `default` overrides its default class.
    priority: z
      .object({ rules: z.string().min(1).optional(), default: z.enum(['P1+', 'P1', 'P2', 'P3', 'P4', 'P7']).optional() })
      .strict()
      .default({}),
    // The change-request category table (default: the shipped config/categories.yaml).
    categories: z.object({ rules: z.string().min(1).optional() }).strict().default({}),
    onCall: z.object({ address: address.optional() }).strict().default({}),
    secondLevel: z.object({ address: address.optional() }).strict().default({}),
    // Operator workflow: a requester's reply within reopenDays of the resolution reopens the ticket.
    workflow: z.object({ reopenDays: z.number().min(0).default(10) }).strict().default({ reopenDays: 10 }),
    // Take-charge SLA watch (daemon): when it runs, how early it reminds, and whom (default: secondLevel.address).
    sla: z
      .object({
        checkCron: z.string().refine((e) => validateCron(e), 'expected a cron expression, e.g. "* * * * *"').default('* * * * *'),
        reminderMinutes: z.number().int().min(0).default(30),
        reminderAddress: address.optional(),
      })
      .strict()
      .default({ checkCron: '* * * * *', reminderMinutes: 30 }),
    limits: z
      .object({
        maxMessageBytes: z.number().int().positive().default(50 * 1024 * 1024),
        // Body parts of every level (leaves included) and multipart nesting, checked before parsing.
        maxMimeParts: z.number().int().positive().default(200),
        maxMimeDepth: z.number().int().positive().default(100),
        repliesPerSenderPerHour: z.number().int().min(0).default(5),
        // An attachment larger than this is streamed to the raw store as it is decoded and read
        // back only when needed (a Piano's PDF): memory is bounded by it, not by the attachment.
        attachmentMemoryBytes: z.number().int().min(64 * 1024).default(4 * 1024 * 1024),
        // Checked between the stages of a message (parse, envelope, documents): past it, the
        // message is quarantined (processing-timeout) instead of acted on.
        maxProcessingSeconds: z.number().positive().default(60),
        // A PDF read as a Piano (intake, `extract`): over these it is not parsed and the order is
        // refused (pdf-too-large, -many-pages, -many-objects). A real Piano is a few pages and well
        // under 1 MB; the defaults leave room for bulky annexes and still bound both readers.
        maxPdfBytes: z.number().int().positive().default(DEFAULT_PDF_LIMITS.maxPdfBytes),
        maxPdfPages: z.number().int().positive().default(DEFAULT_PDF_LIMITS.maxPdfPages),
        maxPdfObjects: z.number().int().positive().default(DEFAULT_PDF_LIMITS.maxPdfObjects),
      })
      .strict()
      // prefault: an absent block is parsed as {}, so each key's own default applies.
      .prefault({}),
    daemon: z
      .object({
        pollSeconds: z.number().positive().default(5),
        outboxRetryBaseSeconds: z.number().positive().default(60),
        outboxMaxAttempts: z.number().int().positive().default(10),
        // SIGTERM: in-flight work gets this long to finish; then sockets are closed and the run ends.
        stopSeconds: z.number().positive().max(600).default(10),
        // A PEC reply whose send a crash interrupted is re-sent only if no accettazione for it
        // arrives within this wait (every re-send is another certified delivery).
        pecUncertainWaitMinutes: z.number().min(0).default(60),
        // Group commit: a Maildir backlog is recorded this many messages (or bytes) per
        // transaction and fsync round; a batch's messages are held in memory together.
        batchMessages: z.number().int().min(1).max(1000).default(50),
        batchBytes: z.number().int().min(1).default(16 * 1024 * 1024),
      })
      .strict()
      .default({
        pollSeconds: 5, outboxRetryBaseSeconds: 60, outboxMaxAttempts: 10, stopSeconds: 10, pecUncertainWaitMinutes: 60, batchMessages: 50, batchBytes: 16 * 1024 * 1024,
      }),
    // The ops listener (/healthz, /metrics): PORT (127.0.0.1), HOST:PORT or [IPV6]:PORT; off when absent.
    http: z.object({ listen: httpListen.optional() }).strict().default({}),
    templatesDir: z.string().optional(),
  })
  .strict();

export type Config = Omit<z.infer<typeof configSchema>, 'calendars'> & {
  /** Every named calendar, resolved: `calendar.hours` and `calendar.extraHolidays` applied. */
  calendars: Record<string, CalendarDefinition>;
  /** The file this configuration came from (for messages). */
  source: string;
  /** Where the shipped config/ folder lives (templates, default rules). */
  configRoot: string;
};
export type MailboxName = 'pec' | 'support';
export type MailboxConfig = Config['mailboxes']['pec'];
export const MAILBOX_NAMES: readonly MailboxName[] = ['pec', 'support'];

/** Replace ${VAR} with the environment's value; a missing variable is a config error. */
export function interpolateEnv(value: unknown, file: string, keyPath: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = process.env[name];
      if (v === undefined) {
        throw new ConfigError(`${file}: ${keyPath.join('.') || '(root)'}: environment variable ${name} is not set`);
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, file, [...keyPath, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, file, [...keyPath, k])]),
    );
  }
  return value;
}

/** The project root: where config/ and migrations/ ship (two levels above dist/config). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function defaultConfigPath(cwd = process.cwd()): string {
  const local = path.join(cwd, 'config', 'pecdesk.yaml');
  if (existsSync(local)) return local;
  const cwdDefault = path.join(cwd, 'config', 'default.yaml');
  if (existsSync(cwdDefault)) return cwdDefault;
  return path.join(projectRoot, 'config', 'default.yaml');
}

export function formatZodIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${file}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}

/** Read and parse a YAML file; failures become `file: what is wrong` errors of the caller's kind. */
export function readYamlFile(file: string, fail: (message: string) => Error): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw fail(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : (e as Error).message;
    throw fail(`${file}: invalid YAML: ${msg}`);
  }
}

/** The desk's addresses when the configuration names none (the embedded default's). */
export const DEFAULT_MAILBOX_ADDRESS: Record<MailboxName, string> = {
  pec: 'pec@pec.cloudpa-desk.example.it',
  support: 'helpdesk@cloudpa-desk.example.it',
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Defaults that depend on other keys (README "Configuration"): each mailbox gets the default
 * address, a Maildir under dataDir/maildir/<name> and, unless it names an SMTP server, replies
 * written to dataDir/outbox; the trust stores default to the shipped config/trust folders.
 */
export function withDerivedDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const dataDir = typeof raw.dataDir === 'string' && raw.dataDir ? raw.dataDir : null;
  if (!dataDir) return raw;
  const out = { ...raw };
  const given = out.mailboxes === undefined || out.mailboxes === null ? {} : out.mailboxes;
  if (isPlainObject(given)) {
    const mailboxes: Record<string, unknown> = { ...given };
    for (const name of ['pec', 'support'] as const) {
      const m = mailboxes[name] === undefined || mailboxes[name] === null ? {} : mailboxes[name];
      if (!isPlainObject(m)) continue;
      mailboxes[name] = {
        address: DEFAULT_MAILBOX_ADDRESS[name],
        ...(m.imap === undefined && m.maildir === undefined ? { maildir: path.join(dataDir, 'maildir', name) } : {}),
        ...(m.smtp === undefined && m.outboxDir === undefined ? { outboxDir: path.join(dataDir, 'outbox') } : {}),
        ...m,
      };
    }
    out.mailboxes = mailboxes;
  }
  const trust = out.trust === undefined || out.trust === null ? {} : out.trust;
  if (isPlainObject(trust)) {
    out.trust = {
      signatures: path.join(projectRoot, 'config', 'trust', 'signatures'),
      pecProviders: path.join(projectRoot, 'config', 'trust', 'pec-providers'),
      ...trust,
    };
  }
  return out;
}

/** Load, interpolate and validate a config file. Relative paths resolve against the cwd. */
export function loadConfig(file?: string): Config {
  const source = file ?? defaultConfigPath();
  const raw = readYamlFile(source, (m) => new ConfigError(m));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${source}: (root): expected a mapping of configuration keys`);
  }
  const interpolated = withDerivedDefaults(interpolateEnv(raw, source) as Record<string, unknown>);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) throw new ConfigError(formatZodIssues(source, parsed.error));
  const cfg = parsed.data;
  try {
    new Intl.DateTimeFormat('en', { timeZone: cfg.timezone });
  } catch {
    throw new ConfigError(`${source}: timezone: unknown time zone ${JSON.stringify(cfg.timezone)}`);
  }
  const calendars = resolveCalendars(cfg, source);
  return { ...cfg, calendars, source, configRoot: path.join(projectRoot, 'config') };
}

/**
 * The named calendars (from `calendars`: a file or an inline mapping), with the legacy
 * `calendar.hours` as the default calendar's hours and `calendar.extraHolidays` (the desk's
 * closures) added to every calendar; `calendar.default` must name one of them.
 */
function resolveCalendars(cfg: z.infer<typeof configSchema>, source: string): Record<string, CalendarDefinition> {
  const given = cfg.calendars ?? path.join(projectRoot, 'config', 'calendars.yaml');
  const [where, raw] =
    typeof given === 'string'
      ? [given, readYamlFile(given, (m) => new ConfigError(`${m} (config ${source}: calendars)`))]
      : [source, given];
  const parsed = calendarsSchema.safeParse(raw);
  if (!parsed.success) {
    // Issues inside a calendars file are named by their key in that file, inline ones under `calendars`.
    const prefix = typeof given === 'string' ? [] : ['calendars'];
    throw new ConfigError(
      parsed.error.issues
        .map((i) => `${where}: ${[...prefix, ...i.path.map(String)].join('.') || '(root)'}: ${i.message}`)
        .join('\n'),
    );
  }
  const calendars = parsed.data;
  const name = cfg.calendar.default;
  if (!Object.hasOwn(calendars, name)) {
    throw new ConfigError(
      `${source}: calendar.default: unknown calendar ${JSON.stringify(name)} (known: ${Object.keys(calendars).join(', ')})`,
    );
  }
  if (cfg.calendar.hours) calendars[name] = { ...calendars[name]!, hours: cfg.calendar.hours };
  return Object.fromEntries(
    Object.entries(calendars).map(([n, c]) => [n, { ...c, extraHolidays: [...c.extraHolidays, ...cfg.calendar.extraHolidays] }]),
  );
}

/** Every address that belongs to the desk itself. */
export function deskAddresses(cfg: Config): string[] {
  return [cfg.mailboxes.pec.address, cfg.mailboxes.support.address, ...cfg.desk.ownAddresses].map((a) =>
    a.toLowerCase(),
  );
}
