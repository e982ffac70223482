// The daemon's ops listener (config `http.listen`): GET /healthz (JSON; 503 when unhealthy) and
// GET /metrics (Prometheus text format 0.0.4). node:http only; every answer is computed from
// SQLite aggregates and the daemon's in-memory poll times, never from a request's input.
import { accessSync, constants as fsConstants } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { MAILBOX_NAMES, type HttpListen, type MailboxName } from '../config/load.js';
import type { SourceStatus } from '../mail/source.js';
import type { Desk } from '../runtime/context.js';
import { deskCounts, outboxBacklog, probeWrite } from '../store/metrics.js';


/** Each mailbox's last successful poll (its new/ listed), kept by the daemon loop. */
export type LastPolls = Partial<Record<MailboxName, Date>>;

export interface HealthSources {
  desk: Desk;
  lastPolls: LastPolls;
  /** Each mailbox source's condition (IMAP connection state, reconnects). */
  sources?: Partial<Record<MailboxName, SourceStatus>>;
  /** When the daemon started: a mailbox not polled yet is as old as the daemon. */
  startedAt: Date;
  /** Wall clock (not the desk's --now clock: ages are about this process). */
  now?: () => Date;
}

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Health {
  status: 'ok' | 'unhealthy';
  database: { writable: boolean; error?: string };
  mailboxes: Record<MailboxName, { lastPollAt: string | null; lastPollAgeSeconds: number; maxAgeSeconds: number; source?: 'maildir' | 'imap'; state?: string; lastError?: string | null }>;
  outbox: { queued: number; failed: number; oldestQueuedAgeSeconds: number | null };
  checks: HealthCheck[];
}

/** A mailbox is stale after max(60 s, 10 polls) without a successful poll. */
export function maxPollAgeSeconds(pollSeconds: number): number {
  return Math.max(60, 10 * pollSeconds);
}

const ageSeconds = (from: Date, now: Date) => Math.max(0, Math.round((now.getTime() - from.getTime()) / 100) / 10);

function databaseCheck(desk: Desk): string | null {
  try {
    accessSync(desk.cfg.dataDir, fsConstants.W_OK);
  } catch (e) {
    return `dataDir not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  return probeWrite(desk.db);
}

export function health(src: HealthSources): Health {
  const now = (src.now ?? (() => new Date()))();
  const checks: HealthCheck[] = [];
  const dbError = databaseCheck(src.desk);
  checks.push({ name: 'database', ok: dbError === null, detail: dbError ?? 'writable' });
  const maxAge = maxPollAgeSeconds(src.desk.cfg.daemon.pollSeconds);
  const mailboxes = {} as Health['mailboxes'];
  for (const mb of MAILBOX_NAMES) {
    const last = src.lastPolls[mb];
    const age = ageSeconds(last ?? src.startedAt, now);
    const st = src.sources?.[mb];
    mailboxes[mb] = {
      lastPollAt: last ? last.toISOString() : null, lastPollAgeSeconds: age, maxAgeSeconds: maxAge,
      ...(st ? { source: st.kind, state: st.state, lastError: st.lastError } : {}),
    };
    const authFailed = st?.state === 'auth-failed';
    // An IMAP connection alive in IDLE is as good as a poll (IDLE is renewed within the socket
    // timeout, so a dead one is noticed); the cron poll may be rarer than maxAge.
    const live = st?.kind === 'imap' && ['idle', 'connected', 'polling'].includes(st.state);
    const ok = (age <= maxAge || live) && !authFailed;
    const why = st?.lastError && (!ok || st.state === 'disconnected') ? `; ${st.state}: ${st.lastError}` : '';
    checks.push({
      name: `mailbox.${mb}`,
      ok,
      detail: (last
        ? `last successful poll ${age} s ago${age <= maxAge ? '' : live ? ' (connected, in IDLE)' : ` (more than ${maxAge} s)`}`
        : `not polled successfully since the start ${age} s ago${age <= maxAge ? '' : ` (more than ${maxAge} s)`}`) + why,
    });
  }
  let outbox: Health['outbox'];
  try {
    const b = outboxBacklog(src.desk.db);
    outbox = { queued: b.queued, failed: b.failed, oldestQueuedAgeSeconds: b.oldestQueuedAt ? ageSeconds(new Date(b.oldestQueuedAt), now) : null };
  } catch (e) {
    // Unreadable database: already unhealthy through its own check; say why here too.
    checks.push({ name: 'outbox', ok: false, detail: `cannot read the outbox: ${(e as Error).message}` });
    outbox = { queued: 0, failed: 0, oldestQueuedAgeSeconds: null };
  }
  return {
    status: checks.every((c) => c.ok) ? 'ok' : 'unhealthy',
    database: dbError === null ? { writable: true } : { writable: false, error: dbError },
    mailboxes,
    outbox,
    checks,
  };
}

// --- Prometheus text exposition format 0.0.4 ---------------------------------------------

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const formatValue = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

export function formatMetrics(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${f.name}${l} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function metrics(src: HealthSources): string {
  const now = (src.now ?? (() => new Date()))();
  const c = deskCounts(src.desk.db);
  const outboxStatuses = new Map<string, number>([['queued', 0], ['sent', 0], ['failed', 0]]);
  for (const r of c.outboxByStatus) outboxStatuses.set(r.status, r.count);
  return formatMetrics([
    { name: 'pecdesk_up', help: 'The daemon is running and answering.', type: 'gauge', samples: [{ value: 1 }] },
    {
      name: 'pecdesk_messages_total',
      help: 'Messages recorded, by classification (unclassified: recorded, not processed yet).',
      type: 'counter',
      samples: c.messagesByClassification.map((r) => ({ labels: { classification: r.classification }, value: r.count })),
    },
    {
      name: 'pecdesk_tickets',
      help: 'Tickets by priority class and status.',
      type: 'gauge',
      samples: c.ticketsByPriorityStatus.map((r) => ({ labels: { priority: r.priority, status: r.status }, value: r.count })),
    },
    { name: 'pecdesk_sla_breaches_total', help: 'Tickets found past their take-charge deadline.', type: 'counter', samples: [{ value: c.slaBreaches }] },
    {
      name: 'pecdesk_outbox_entries',
      help: 'Outbox entries by status.',
      type: 'gauge',
      samples: [...outboxStatuses].map(([status, value]) => ({ labels: { status }, value })),
    },
    { name: 'pecdesk_outbox_failures_total', help: 'Failed outbox send attempts.', type: 'counter', samples: [{ value: c.outboxFailures }] },
    {
      name: 'pecdesk_mailbox_last_poll_age_seconds',
      help: 'Seconds since the mailbox was last polled successfully (since the daemon started when not yet).',
      type: 'gauge',
      samples: MAILBOX_NAMES.map((mb) => ({ labels: { mailbox: mb }, value: ageSeconds(src.lastPolls[mb] ?? src.startedAt, now) })),
    },
    ...sourceFamilies(src),
  ]);
}

const SOURCE_STATES = ['connecting', 'connected', 'idle', 'polling', 'disconnected', 'auth-failed'] as const;

/** IMAP connection state (one-hot), reconnects and OAuth2 refresh-token warnings. */
function sourceFamilies(src: HealthSources): Family[] {
  const imap = MAILBOX_NAMES.flatMap((mb) => (src.sources?.[mb]?.kind === 'imap' ? [[mb, src.sources[mb]!] as const] : []));
  if (!imap.length) return [];
  return [
    {
      name: 'pecdesk_imap_connected',
      help: 'Whether the mailbox has a usable IMAP connection (1) or not (0).',
      type: 'gauge',
      samples: imap.map(([mb, st]) => ({ labels: { mailbox: mb }, value: ['connected', 'idle', 'polling'].includes(st.state) ? 1 : 0 })),
    },
    {
      name: 'pecdesk_imap_state',
      help: 'The IMAP source state, one series per state (1 for the current one).',
      type: 'gauge',
      samples: imap.flatMap(([mb, st]) => SOURCE_STATES.map((state) => ({ labels: { mailbox: mb, state }, value: st.state === state ? 1 : 0 }))),
    },
    {
      name: 'pecdesk_imap_reconnects_total',
      help: 'IMAP connections made after the first since the daemon started.',
      type: 'counter',
      samples: imap.map(([mb, st]) => ({ labels: { mailbox: mb }, value: st.reconnects })),
    },
    {
      name: 'pecdesk_oauth_refresh_token_days_left',
      help: 'Days left on an OAuth2 refresh token that runs out within its warning window.',
      type: 'gauge',
      samples: imap.flatMap(([mb, st]) => (st.refreshTokenDaysLeft === null ? [] : [{ labels: { mailbox: mb }, value: st.refreshTokenDaysLeft }])),
    },
  ];
}

// --- The listener ------------------------------------------------------------------------

export interface HttpListener {
  /** The bound address (the port actually in use). */
  address: { host: string; port: number };
  /** Stop accepting, close every open socket, resolve when the server is closed. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function handle(src: HealthSources, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const known = path === '/healthz' || path === '/metrics';
  if (!known) return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz or /metrics\n');
  if (req.method !== 'GET') {
    return send(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed: GET only\n`, { Allow: 'GET', Connection: 'close' });
  }
  try {
    if (path === '/healthz') {
      const h = health(src);
      return send(res, h.status === 'ok' ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(h)}\n`);
    }
    return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', metrics(src));
  } catch (e) {
    src.desk.log.error({ path, error: (e as Error).message }, 'http request failed');
    return send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
  }
}

/** Listen on `listen`; rejects (with the address in the message) when it cannot bind. */
export async function startHttpListener(listen: HttpListen, src: HealthSources): Promise<HttpListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => handle(src, req, res));
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const shown = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new Error(`http.listen: cannot listen on ${shown}: ${e.code ?? e.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: listen.host, port: listen.port, exclusive: true });
  });
  server.on('error', (e) => src.desk.log.error({ error: e.message }, 'http listener error'));
  // The daemon loop keeps the process alive, not the listener: an unexpected exit path never hangs on it.
  server.unref();
  const bound = server.address();
  const address = { host: listen.host, port: typeof bound === 'object' && bound ? bound.port : listen.port };
  src.desk.log.info({ listen: shown }, 'http listener started (/healthz, /metrics)');
  let closing: Promise<void> | null = null;
  return {
    address,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      })),
  };
}
