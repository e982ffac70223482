// XOAUTH2 access tokens for IMAP and SMTP (Microsoft 365, Google): printed by a configured
// command (run without a shell, e.g. an OAuth helper holding the refresh token) or read from a
// file another process keeps fresh. Cached until shortly before they expire.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { OAuthConfig } from '../config/load.js';

export class TokenError extends Error {}

export interface AccessToken {
  token: string;
  expiresAt: Date | null;
  /** When the refresh token behind it runs out, if the helper says. */
  refreshTokenExpiresAt: Date | null;
}

/** Tokens are renewed this long before they expire. */
const RENEW_MARGIN_MS = 60_000;
/** A token of unknown lifetime is re-read after this long. */
const UNKNOWN_LIFETIME_MS = 10 * 60_000;

function instant(v: unknown): Date | null {
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v > 1e12 ? v : v * 1000); // ms or s since epoch
  if (typeof v === 'string' && v.trim()) {
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return null;
}

/** A bare token, or JSON { access_token | accessToken, expires_in | expires_at | expiresAt, refresh_token_expires_at }. */
export function parseTokenOutput(text: string, now: Date, where: string): AccessToken {
  const trimmed = text.trim();
  if (!trimmed) throw new TokenError(`${where}: no access token (empty output)`);
  if (!trimmed.startsWith('{')) {
    if (/\s/.test(trimmed)) throw new TokenError(`${where}: expected one access token or a JSON object`);
    return { token: trimmed, expiresAt: null, refreshTokenExpiresAt: null };
  }
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw new TokenError(`${where}: output starts with "{" but is not JSON`);
  }
  const token = o.access_token ?? o.accessToken;
  if (typeof token !== 'string' || !token) throw new TokenError(`${where}: JSON without access_token`);
  const expiresIn = typeof o.expires_in === 'number' ? new Date(now.getTime() + o.expires_in * 1000) : null;
  return {
    token,
    expiresAt: expiresIn ?? instant(o.expires_at ?? o.expiresAt),
    refreshTokenExpiresAt: instant(o.refresh_token_expires_at ?? o.refreshTokenExpiresAt),
  };
}

export class AccessTokenSource {
  private current: AccessToken | null = null;
  private readAt = 0;

  constructor(
    private readonly cfg: OAuthConfig,
    /** For messages: which mailbox/server this is for (never the token). */
    readonly label: string,
  ) {}

  get refreshTokenExpiresAt(): Date | null {
    return this.current?.refreshTokenExpiresAt ?? null;
  }

  /** A valid token, renewed when it is about to expire. */
  async token(now = new Date()): Promise<string> {
    const c = this.current;
    const fresh = c && (c.expiresAt ? c.expiresAt.getTime() - RENEW_MARGIN_MS > now.getTime() : now.getTime() - this.readAt < UNKNOWN_LIFETIME_MS);
    if (c && fresh) return c.token;
    this.current = await this.read(now);
    this.readAt = now.getTime();
    return this.current.token;
  }

  /** Days left on the refresh token when within the warning window, else null. */
  refreshWarning(now = new Date()): number | null {
    const at = this.refreshTokenExpiresAt;
    if (!at) return null;
    const days = (at.getTime() - now.getTime()) / 86_400_000;
    return days <= this.cfg.refreshWarnDays ? Math.max(0, Math.round(days * 10) / 10) : null;
  }

  private async read(now: Date): Promise<AccessToken> {
    if (this.cfg.tokenFile) {
      let text: string;
      try {
        text = await readFile(this.cfg.tokenFile, 'utf8');
      } catch (e) {
        throw new TokenError(`${this.label}: oauth2.tokenFile ${this.cfg.tokenFile}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      return parseTokenOutput(text, now, `${this.label}: oauth2.tokenFile`);
    }
    const [cmd, ...args] = this.cfg.tokenCommand!;
    const text = await new Promise<string>((resolve, reject) => {
      execFile(cmd!, args, { timeout: 30_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `failed (${err.killed ? 'timed out' : `exit ${err.code}`})`;
          // The helper's own words, first line only: never its stdout (that would be the token).
          const said = String(stderr).split('\n')[0]?.slice(0, 200);
          reject(new TokenError(`${this.label}: oauth2.tokenCommand ${cmd} ${why}${said ? `: ${said}` : ''}`));
        } else resolve(String(stdout));
      });
    });
    return parseTokenOutput(text, now, `${this.label}: oauth2.tokenCommand`);
  }
}
