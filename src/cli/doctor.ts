// pecdesk doctor: is this installation able to run? Config, database, trust stores, every
// mailbox's IMAP (or Maildir) and SMTP (or outbox directory) with login — one verdict line
// each; exit 1 when any check fails. Never a stack trace, never a secret.
import { accessSync, constants as fsConstants, existsSync, mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, isLoopbackHost, loadConfig, MAILBOX_NAMES, type Config, type MailboxName } from '../config/load.js';
import { AccessTokenSource } from '../mail/oauth.js';
import { loadProviderIndex } from '../pec/provider-index.js';
import { openDesk, type Desk } from '../runtime/context.js';
import { createLogger } from '../runtime/logger.js';
import { loadTrustStore } from '../signature/trust.js';
import { probeWrite } from '../store/metrics.js';
import { isJson, type GlobalOptions } from './common.js';
import { NegativeOutcome, printJson } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export interface DoctorCheck {
  name: string;
  level: 'ok' | 'warn' | 'fail';
  detail: string;
}

const VERDICT: Record<DoctorCheck['level'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL' };

/** A check's own failure becomes its verdict line (message only). */
async function check(name: string, fn: () => Promise<Omit<DoctorCheck, 'name'>> | Omit<DoctorCheck, 'name'>): Promise<DoctorCheck> {
  try {
    return { name, ...(await fn()) };
  } catch (e) {
    return { name, level: 'fail', detail: (e as Error).message };
  }
}

function writableDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  accessSync(dir, fsConstants.W_OK);
}

function trustChecks(cfg: Config, now: Date): Promise<DoctorCheck>[] {
  const store = (name: string, dir: string | undefined) =>
    check(name, () => {
      if (!dir) return { level: 'warn', detail: 'not configured' };
      const s = loadTrustStore(dir);
      const anchors = s.anchors.all();
      const current = anchors.filter((a) => new Date(a.x509.validFrom) <= now && now <= new Date(a.x509.validTo)).length;
      const expired = anchors.length - current;
      const level = anchors.length === 0 ? 'fail' : expired ? 'warn' : 'ok';
      return { level, detail: `${dir}: ${anchors.length} anchors (${current} valid now${expired ? `, ${expired} expired` : ''}), ${s.crls.length} CRLs` };
    });
  const checks = [store('trust signatures', cfg.trust.signatures), store('trust pec', cfg.trust.pecProviders)];
  checks.push(
    check('trust pec-index', () => {
      if (!cfg.trust.pecProviderIndex) return { level: 'warn', detail: 'trust.pecProviderIndex not set: any provider certificate under the PEC anchors is accepted' };
      const idx = loadProviderIndex(cfg.trust.pecProviderIndex);
      return { level: idx.providers.length ? 'ok' : 'fail', detail: `${idx.source}: ${idx.providers.length} providers` };
    }),
  );
  return checks;
}

async function imapCheck(cfg: Config, mb: MailboxName): Promise<DoctorCheck> {
  const m = cfg.mailboxes[mb];
  if (!m.imap) {
    return check(`maildir ${mb}`, () => {
      for (const sub of ['new', 'cur', 'tmp']) writableDir(`${m.maildir}/${sub}`);
      return { level: 'ok', detail: `${m.maildir} writable` };
    });
  }
  const imap = m.imap;
  // Loaded when used: the CLI's other commands start without imapflow and nodemailer.
  const { connectImap, imapError, imapUrl } = await import('../mail/imap.js');
  const who = `${imap.user}@${imap.host}:${imap.port}`;
  return check(`imap ${mb}`, async () => {
    let client;
    try {
      client = await connectImap(imap, imap.oauth2 ? new AccessTokenSource(imap.oauth2, `mailboxes.${mb}.imap`) : null);
    } catch (e) {
      throw new Error(`${imapUrl(imap)} as ${who}: ${imapError(e).text}`);
    }
    try {
      const st = await client.status(m.folder, { messages: true, uidValidity: true }).catch(() => false as const);
      if (!st) return { level: 'fail', detail: `${who}: logged in, but folder ${JSON.stringify(m.folder)} does not exist` };
      const processed = m.processedFolder ? await client.status(m.processedFolder, { messages: true }).catch(() => false as const) : null;
      const tls = client.secureConnection ? 'TLS' : 'no TLS';
      const idle = client.capabilities.has('IDLE') ? 'IDLE' : 'no IDLE (polling)';
      const move = m.processedFolder ? (processed ? `processed → ${m.processedFolder}` : `processed → ${m.processedFolder} (created at first run)`) : 'processed: flagged \\Seen';
      const level = client.secureConnection || isLoopbackHost(imap.host) ? 'ok' : 'warn';
      return { level, detail: `${imapUrl(imap, m.folder)} as ${who}: ${st.messages ?? 0} waiting; ${tls}, ${idle}, ${move}` };
    } finally {
      await Promise.race([client.logout().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      client.close();
    }
  });
}

async function smtpCheck(cfg: Config, mb: MailboxName): Promise<DoctorCheck> {
  const m = cfg.mailboxes[mb];
  if (!m.smtp) {
    return check(`outbox ${mb}`, () => {
      writableDir(m.outboxDir!);
      return { level: 'ok', detail: `replies written to ${m.outboxDir}` };
    });
  }
  const smtp = m.smtp;
  const { default: nodemailer } = await import('nodemailer');
  const { smtpAuth, smtpError, smtpTransportOptions } = await import('../outbox/worker.js');
  const where = `smtp://${smtp.host}:${smtp.port}${smtp.user ? ` as ${smtp.user}` : ''}`;
  return check(`smtp ${mb}`, async () => {
    const auth = await smtpAuth(smtp, smtp.oauth2 ? new AccessTokenSource(smtp.oauth2, `mailboxes.${mb}.smtp`) : null);
    const transport = nodemailer.createTransport(smtpTransportOptions(smtp, auth));
    try {
      await transport.verify();
    } catch (e) {
      throw new Error(`${where}: ${smtpError(e).text}`);
    } finally {
      transport.close();
    }
    return { level: 'ok', detail: `${where}: ${auth ? 'login accepted' : 'connected (no login configured)'}` };
  });
}

function databaseChecks(desk: Desk): DoctorCheck[] {
  const err = probeWrite(desk.db);
  const holder = desk.db.prepare('SELECT pid, host, heartbeat_at FROM daemon_lease WHERE id = 1').get() as { pid: number; host: string; heartbeat_at: string } | undefined;
  return [
    { name: 'database', level: err ? 'fail' : 'ok', detail: err ?? `${desk.cfg.dataDir}: migrated, writable` },
    { name: 'daemon', level: 'ok', detail: holder ? `lease held by pid ${holder.pid} on ${holder.host}, last alive ${holder.heartbeat_at}` : 'not running' },
  ];
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(COMMAND_SUMMARIES.doctor)
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const checks: DoctorCheck[] = [];
      let cfg: Config | null = null;
      try {
        cfg = loadConfig(g.config);
        checks.push({ name: 'config', level: 'ok', detail: cfg.source });
      } catch (e) {
        checks.push({ name: 'config', level: 'fail', detail: e instanceof ConfigError ? e.message : (e as Error).message });
      }
      if (cfg) {
        const now = new Date();
        let desk: Desk | null = null;
        try {
          desk = openDesk(cfg, { log: createLogger('error'), syncDirectory: false });
          checks.push(...databaseChecks(desk));
        } catch (e) {
          // The rule tables and the provider index are read when the desk opens.
          checks.push({ name: e instanceof ConfigError ? 'config' : 'database', level: 'fail', detail: (e as Error).message });
        } finally {
          desk?.close();
        }
        // The servers are checked side by side: one slow server costs its own timeout only.
        checks.push(...(await Promise.all([...trustChecks(cfg, now), ...MAILBOX_NAMES.flatMap((mb) => [imapCheck(cfg!, mb), smtpCheck(cfg!, mb)])])));
      }
      const failed = checks.filter((c) => c.level === 'fail').length;
      if (isJson(cmd)) printJson({ ok: failed === 0, checks: checks.map((c) => ({ ...c, ok: c.level !== 'fail' })) });
      else {
        const width = Math.max(...checks.map((c) => c.name.length));
        for (const c of checks) process.stdout.write(`${VERDICT[c.level].padEnd(5)} ${c.name.padEnd(width)}  ${c.detail}\n`);
        process.stdout.write(failed ? `\n${failed} check(s) failed.\n` : '\nAll checks passed.\n');
      }
      if (failed) throw new NegativeOutcome('');
    });
}
