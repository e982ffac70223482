// What a mailbox source hands the daemon: one message at a time, acknowledged at the source
// (Maildir: new/ → cur/; IMAP: moved or flagged) only after `consume` has committed it.
import type { MailboxName } from '../config/load.js';
import type { IngestResult } from '../intake/result.js';

interface SourceMessageBase {
  mailbox: MailboxName;
  source: 'maildir' | 'imap';
  /** The message's identity at the source: the same value means the same message. */
  sourceUid: string;
  /** A path an operator can find it by (Maildir file, imap://host/folder;UID=n). */
  file: string;
  arrivedAt?: Date;
}

export type SourceMessage =
  /** `sha256` when the source already stored the bytes in the raw store. */
  | (SourceMessageBase & { bytes: Buffer; sha256?: string })
  /** Over limits.maxMessageBytes: already in the raw store, to be quarantined unparsed. */
  | (SourceMessageBase & { tooLarge: { sha256: string; size: number } });

/**
 * Records and processes a batch of messages in one group commit. Per message, in order: its
 * result, or the error that kept it from being recorded (that one is not acknowledged).
 */
export type Consume = (batch: SourceMessage[]) => Promise<Array<IngestResult | Error>>;

/** How many messages, and how many bytes of them, one group commit takes at most. */
export interface BatchLimits {
  maxMessages: number;
  maxBytes: number;
}

export type SourceState = 'starting' | 'connecting' | 'connected' | 'idle' | 'polling' | 'disconnected' | 'auth-failed' | 'stopped';

/** A source's condition for /healthz, /metrics and the logs. */
export interface SourceStatus {
  kind: 'maildir' | 'imap';
  state: SourceState;
  since: Date;
  /** Connections made after the first (IMAP). */
  reconnects: number;
  lastError: string | null;
  /** Whether the server offered IDLE (IMAP, once connected). */
  idle: boolean | null;
  /** Days left on an OAuth2 refresh token within its warning window. */
  refreshTokenDaysLeft: number | null;
}

export interface MailSource {
  readonly mailbox: MailboxName;
  readonly status: SourceStatus;
  /**
   * Process every message waiting now; returns how many were acknowledged. Throws when the
   * source itself fails (server down, login refused): the daemon backs off and tries again.
   */
  pass(consume: Consume, shouldStop: () => boolean): Promise<number>;
  /** Start telling `wake` when new mail may be there (fs.watch, IDLE, a cron schedule). */
  watch(wake: () => void): void;
  /** Release sockets and watchers. */
  close(): Promise<void>;
}

export function newStatus(kind: SourceStatus['kind']): SourceStatus {
  return { kind, state: 'starting', since: new Date(), reconnects: 0, lastError: null, idle: null, refreshTokenDaysLeft: null };
}

export function setState(status: SourceStatus, state: SourceState, error?: string | null): void {
  if (status.state !== state) {
    status.state = state;
    status.since = new Date();
  }
  if (error !== undefined) status.lastError = error;
}
