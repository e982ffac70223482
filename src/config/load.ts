// Configuration: YAML file → ${ENV} interpolation → zod validation → typed Config.
// Errors name the file and the key ("config/x.yaml: mailboxes.pec.maildir: required").
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');
const dayHours = z.union([z.null(), z.object({ open: hhmm, close: hhmm }).strict()]);
const address = z.string().regex(/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/, 'expected an e-mail address');

const smtpSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z.boolean().default(false),
    user: z.string().optional(),
    pass: z.string().optional(),
  })
  .strict();

const mailboxSchema = z
  .object({
    address,
    // IMAP (`imap:`, `folder`, `processedFolder`) joins here with the IMAP source.
    maildir: z.string().min(1),
    smtp: smtpSchema.optional(),
    outboxDir: z.string().min(1).optional(),
  })
  .strict()
  .refine((m) => Boolean(m.smtp) || Boolean(m.outboxDir), {
    message: 'one of smtp or outboxDir is required (where replies go)',
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
        authservIds: z.array(z.string()).default([]),
        // Fetch CRLs from certificates' distribution points (network access): off by default.
        onlineRevocation: z.boolean().default(false),
        crlCacheDir: z.string().optional(),
      })
      .strict()
      .default({ authservIds: [], onlineRevocation: false }),
    mailboxes: z
      .object({ pec: mailboxSchema, support: mailboxSchema })
      .strict(),
    calendar: z
      .object({
        hours: z
          .object({
            mon: dayHours, tue: dayHours, wed: dayHours, thu: dayHours,
            fri: dayHours, sat: dayHours, sun: dayHours,
          })
          .strict()
          .optional(),
        extraHolidays: z
          .array(z.string().regex(/^(\d{4}-)?\d{2}-\d{2}$/, 'expected YYYY-MM-DD or MM-DD'))
          .default([]),
      })
      .strict()
      .default({ extraHolidays: [] }),
    priority: z
      .object({ default: z.enum(['P1+', 'P1', 'P2', 'P3', 'P4', 'P7']).default('P4') })
      .strict()
      .default({ default: 'P4' }),
    onCall: z.object({ address: address.optional() }).strict().default({}),
    secondLevel: z.object({ address: address.optional() }).strict().default({}),
    limits: z
      .object({
        maxMessageBytes: z.number().int().positive().default(50 * 1024 * 1024),
        repliesPerSenderPerHour: z.number().int().min(0).default(5),
      })
      .strict()
      .default({ maxMessageBytes: 50 * 1024 * 1024, repliesPerSenderPerHour: 5 }),
    daemon: z
      .object({
        pollSeconds: z.number().positive().default(5),
        outboxRetryBaseSeconds: z.number().positive().default(60),
        outboxMaxAttempts: z.number().int().positive().default(10),
      })
      .strict()
      .default({ pollSeconds: 5, outboxRetryBaseSeconds: 60, outboxMaxAttempts: 10 }),
    http: z.object({ listen: z.string().optional() }).strict().default({}),
    templatesDir: z.string().optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema> & {
  /** The file this configuration came from (for messages). */
  source: string;
  /** Where the shipped config/ folder lives (templates, default rules). */
  configRoot: string;
};
export type MailboxName = 'pec' | 'support';
export type MailboxConfig = Config['mailboxes']['pec'];

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
        maildir: path.join(dataDir, 'maildir', name),
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
  return { ...cfg, source, configRoot: path.join(projectRoot, 'config') };
}

/** Every address that belongs to the desk itself. */
export function deskAddresses(cfg: Config): string[] {
  return [cfg.mailboxes.pec.address, cfg.mailboxes.support.address, ...cfg.desk.ownAddresses].map((a) =>
    a.toLowerCase(),
  );
}
