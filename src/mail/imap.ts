// An IMAP mailbox as a daemon source (imapflow): IDLE when the server offers it, a cron poll as
// the safety net, UIDVALIDITY/UID checkpoints, each message streamed to the raw store, recorded,
// and only then moved to processedFolder (or flagged \Seen where there is none).
import type { ImapFlow as ImapFlowClient, ImapFlowOptions } from 'imapflow';
import { ImapFlow } from 'imapflow';
import { schedule, type ScheduledTask } from 'node-cron';
import { isLoopbackHost, type ImapConfig, type MailboxConfig, type MailboxName } from '../config/load.js';
import type { Logger } from '../runtime/logger.js';
import { getImapCheckpoint, setImapCheckpoint } from '../store/imap-checkpoints.js';
import { findBySourceUid } from '../store/messages.js';
import type { Db } from '../store/db.js';
import type { RawStore } from '../store/raw-store.js';
import { AccessTokenSource } from './oauth.js';
import { newStatus, setState, type Consume, type MailSource } from './source.js';

/** Where a mailbox's IMAP server is, for messages (never credentials). */
export function imapUrl(imap: ImapConfig, folder?: string): string {
  return `${imap.secure ? 'imaps' : 'imap'}://${imap.host}:${imap.port}${folder ? `/${folder}` : ''}`;
}

/** imapflow options: TLS on by default (STARTTLS required off loopback), our timeouts, no library logs. */
export function imapClientOptions(imap: ImapConfig, auth: { pass?: string; accessToken?: string }): ImapFlowOptions {
  return {
    host: imap.host,
    port: imap.port,
    secure: imap.secure,
    doSTARTTLS: imap.secure ? undefined : isLoopbackHost(imap.host) ? undefined : true,
    auth: auth.accessToken ? { user: imap.user, accessToken: auth.accessToken } : { user: imap.user, pass: auth.pass ?? '' },
    tls: { rejectUnauthorized: imap.rejectUnauthorized },
    logger: false,
    disableAutoIdle: !imap.idle,
    // IDLE soon after each command, so new mail is announced within seconds; renewed before
    // the socket timeout (and NAT boxes) would call a quiet connection dead.
    autoIdleDelay: 500,
    maxIdleTime: Math.max(30_000, imap.socketTimeoutSeconds * 1000 - 60_000),
    connectionTimeout: imap.connectionTimeoutSeconds * 1000,
    greetingTimeout: imap.greetingTimeoutSeconds * 1000,
    socketTimeout: imap.socketTimeoutSeconds * 1000,
    clientInfo: { name: 'pecdesk' },
  };
}

/** A short, credential-free reason for a failed IMAP operation. */
export function imapError(e: unknown): { text: string; authFailed: boolean } {
  const err = e as Error & { authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string; code?: string };
  if (err?.authenticationFailed) return { text: `login refused${err.responseText ? `: ${err.responseText}` : err.serverResponseCode ? ` (${err.serverResponseCode})` : ''}`, authFailed: true };
  const text = err?.responseText ? `${err.message}: ${err.responseText}` : `${err?.code && !String(err.message).includes(err.code) ? `${err.code}: ` : ''}${err?.message ?? String(e)}`;
  return { text, authFailed: false };
}

/** Connect and log in (doctor and the source); the caller logs out. */
export async function connectImap(imap: ImapConfig, tokens: AccessTokenSource | null): Promise<ImapFlowClient> {
  const auth = imap.oauth2 && tokens ? { accessToken: await tokens.token() } : { pass: imap.pass };
  const client = new ImapFlow(imapClientOptions(imap, auth));
  // An error event without a listener would end the process; the caller sees the rejection.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    client.close(); // a refused login leaves the socket open otherwise
    throw e;
  }
  return client;
}

/** Make sure processedFolder exists (created when missing; servers word "already exists" differently). */
export async function ensureFolder(client: ImapFlowClient, folder: string): Promise<void> {
  const exists = await client.status(folder, { messages: true }).then(Boolean, () => false);
  if (!exists) await client.mailboxCreate(folder);
}

/** Reconnect delays: capped exponential backoff with jitter (½ to 1 of the step). */
export function reconnectDelayMs(failures: number, random = Math.random, baseMs = 1000, capMs = 60_000): number {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

export interface ImapSourceDeps {
  db: Db;
  raw: RawStore;
  log: Logger;
  maxMessageBytes: number;
}

export class ImapSource implements MailSource {
  readonly status = newStatus('imap');
  private client: ImapFlowClient | null = null;
  private cron: ScheduledTask | null = null;
  private wake: () => void = () => undefined;
  private readonly tokens: AccessTokenSource | null;
  private readonly imap: ImapConfig;
  private connections = 0;
  /** processedFolder, or null when messages are flagged instead (configured so, or it cannot be created). */
  private moveTo: string | null = null;

  constructor(
    readonly mailbox: MailboxName,
    private readonly cfg: MailboxConfig,
    private readonly deps: ImapSourceDeps,
  ) {
    this.imap = cfg.imap!;
    this.tokens = this.imap.oauth2 ? new AccessTokenSource(this.imap.oauth2, `mailboxes.${mailbox}.imap`) : null;
  }

  /** Where it reads from, for messages. */
  get where(): string {
    return imapUrl(this.imap, this.cfg.folder);
  }

  private get log(): Logger {
    return this.deps.log;
  }

  private async connected(): Promise<ImapFlowClient> {
    if (this.client?.usable && this.client.mailbox) return this.client;
    if (this.client) {
      this.client.close();
      this.client = null;
    }
    setState(this.status, 'connecting');
    let client: ImapFlowClient;
    try {
      client = await connectImap(this.imap, this.tokens);
    } catch (e) {
      const { text, authFailed } = imapError(e);
      setState(this.status, authFailed ? 'auth-failed' : 'disconnected', text);
      throw new Error(`${imapUrl(this.imap)}: ${text}`);
    }
    client.on('exists', () => this.wake());
    client.on('close', () => {
      if (this.client !== null && this.client !== client) return; // an earlier connection, replaced
      if (this.status.state !== 'stopped') setState(this.status, 'disconnected');
      this.wake();
    });
    this.moveTo = this.cfg.processedFolder;
    if (this.moveTo) {
      try {
        await ensureFolder(client, this.moveTo);
      } catch (e) {
        // No folder to move to (no right to create it): flag instead of not reading at all.
        this.log.warn({ mailbox: this.mailbox, folder: this.moveTo, error: imapError(e).text }, 'cannot create processedFolder; processed messages are flagged \\Seen instead');
        this.moveTo = null;
      }
    }
    try {
      await client.mailboxOpen(this.cfg.folder);
    } catch (e) {
      client.close();
      const { text } = imapError(e);
      setState(this.status, 'disconnected', text);
      throw new Error(`${imapUrl(this.imap, this.cfg.folder)}: ${text}`);
    }
    if (this.connections++ > 0) this.status.reconnects++;
    this.status.idle = client.capabilities.has('IDLE');
    this.client = client;
    setState(this.status, 'connected', null);
    this.log.info({ mailbox: this.mailbox, server: imapUrl(this.imap, this.cfg.folder), idle: this.status.idle }, 'IMAP mailbox connected');
    return client;
  }

  private warnedAt = 0;

  /** The refresh token's days left (metric) each pass; a log line at most once a day. */
  private checkRefreshToken(): void {
    const days = this.tokens?.refreshWarning() ?? null;
    this.status.refreshTokenDaysLeft = days;
    if (days !== null && Date.now() - this.warnedAt > 86_400_000) {
      this.warnedAt = Date.now();
      this.log.warn({ mailbox: this.mailbox, daysLeft: days }, 'the OAuth2 refresh token runs out soon: renew it');
    }
  }

  async pass(consume: Consume, shouldStop: () => boolean): Promise<number> {
    const client = await this.connected();
    this.checkRefreshToken();
    setState(this.status, 'polling');
    const box = client.mailbox;
    if (!box) throw new Error(`${imapUrl(this.imap, this.cfg.folder)}: folder not selected`);
    const uidValidity = String(box.uidValidity);
    const folder = this.cfg.folder;
    let cp = getImapCheckpoint(this.deps.db, this.mailbox, folder);
    if (cp && cp.uidvalidity !== uidValidity) {
      // The server renumbered the folder: every UID is new. Bytes already seen come out as duplicates.
      this.log.warn({ mailbox: this.mailbox, folder, was: cp.uidvalidity, now: uidValidity }, 'UIDVALIDITY changed: rescanning the folder');
      cp = undefined;
    }
    const from = (cp?.last_uid ?? 0) + 1;
    // One FETCH for every waiting message's size and arrival (not one per message); "n:*" also
    // matches the highest UID when it is below n: filtered. Read whole before any other command.
    const waiting: Array<{ uid: number; size: number | undefined; arrivedAt: Date | undefined }> = [];
    for await (const m of client.fetch(`${from}:*`, { uid: true, size: true, internalDate: true }, { uid: true })) {
      if (m.uid >= from) waiting.push({ uid: m.uid, size: m.size, arrivedAt: m.internalDate ? new Date(m.internalDate) : undefined });
    }
    waiting.sort((a, b) => a.uid - b.uid);
    let last = cp?.last_uid ?? 0;
    let contiguous = true;
    let handled = 0;
    for (const m of waiting) {
      if (shouldStop()) break;
      const done = await this.processOne(client, m.uid, m.arrivedAt, uidValidity, consume);
      if (done) {
        handled++;
        if (contiguous) last = m.uid;
      } else contiguous = false;
    }
    if (last !== (cp?.last_uid ?? 0) || !cp) setImapCheckpoint(this.deps.db, this.mailbox, folder, uidValidity, last, new Date().toISOString());
    setState(this.status, client.usable ? 'idle' : 'disconnected');
    return handled;
  }

  /** One message: stored, recorded, then acknowledged. False when it must come round again. */
  private async processOne(client: ImapFlowClient, uid: number, arrivedAt: Date | undefined, uidValidity: string, consume: Consume): Promise<boolean> {
    const sourceUid = `${this.cfg.folder}:${uidValidity}:${uid}`;
    const file = `${imapUrl(this.imap, this.cfg.folder)};UID=${uid}`;
    const log = this.log.child({ mailbox: this.mailbox, sourceUid });
    const seen = findBySourceUid(this.deps.db, this.mailbox, 'imap', sourceUid);
    if (!seen || seen.status === 'received') {
      const dl = await client.download(String(uid), undefined, { uid: true, chunkSize: 1024 * 1024 });
      if (!dl.content) return true; // expunged meanwhile by someone else: nothing to do
      // Streamed to disk; held in memory once, and only when within the size limit.
      const stored = await this.deps.raw.putStream(dl.content);
      const base = { mailbox: this.mailbox, source: 'imap' as const, sourceUid, file, arrivedAt };
      if (stored.size > this.deps.maxMessageBytes) log.warn({ size: stored.size, sha256: stored.sha256 }, 'message over limits.maxMessageBytes: quarantined unparsed');
      // One message per commit here: the server round trips, not fsync, set the pace of IMAP.
      const [outcome] = await consume([
        stored.size > this.deps.maxMessageBytes ? { ...base, tooLarge: stored } : { ...base, bytes: this.deps.raw.get(stored.sha256), sha256: stored.sha256 },
      ]);
      if (outcome instanceof Error) {
        log.error({ error: outcome.message }, 'cannot record message; left on the server for the next pass');
        return false;
      }
    }
    await this.acknowledge(client, uid, log);
    return true;
  }

  private async acknowledge(client: ImapFlowClient, uid: number, log: Logger): Promise<void> {
    const target = this.moveTo;
    if (target) {
      const moved = await client.messageMove(String(uid), target, { uid: true });
      if (moved) return;
      log.warn({ folder: target }, 'cannot move the message to processedFolder; flagged \\Seen instead');
    }
    await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
  }

  watch(wake: () => void): void {
    this.wake = wake;
    this.cron = schedule(this.imap.pollCron, () => wake(), { name: `imap-poll-${this.mailbox}`, noOverlap: true });
  }

  async close(): Promise<void> {
    setState(this.status, 'stopped');
    await this.cron?.destroy();
    this.cron = null;
    const c = this.client;
    this.client = null;
    if (!c) return;
    // LOGOUT politely, but never wait on a silent server for long.
    await Promise.race([c.logout().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    c.close();
  }

  /** End the connection now (stop deadline): whatever command is in flight fails. */
  abort(): void {
    this.client?.close();
  }
}
