// Pure parts of the production daemon: reconnect backoff, OAuth2 token handling, mailbox config.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, withDerivedDefaults } from '../../src/config/load.js';
import { reconnectDelayMs } from '../../src/mail/imap.js';
import { AccessTokenSource, parseTokenOutput, TokenError } from '../../src/mail/oauth.js';

describe('reconnect backoff', () => {
  it('doubles from 1 s, capped at 60 s, with jitter between half and all of the step', () => {
    expect([1, 2, 3, 4, 7, 8, 30].map((n) => reconnectDelayMs(n, () => 1))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
    expect(reconnectDelayMs(3, () => 0)).toBe(2000);
    const seen = new Set(Array.from({ length: 50 }, () => reconnectDelayMs(5)));
    expect([...seen].every((d) => d >= 8000 && d <= 16_000)).toBe(true);
    expect(seen.size).toBeGreaterThan(10); // clients restarted together do not reconnect in step
  });
});

describe('OAuth2 access tokens', () => {
  const now = new Date('2026-11-30T10:00:00Z');
  it('reads a bare token or the JSON of an OAuth helper', () => {
    expect(parseTokenOutput('ya29.abc\n', now, 'x')).toEqual({ token: 'ya29.abc', expiresAt: null, refreshTokenExpiresAt: null });
    const j = parseTokenOutput(JSON.stringify({ access_token: 't', expires_in: 3600, refresh_token_expires_at: '2026-12-03T10:00:00Z' }), now, 'x');
    expect(j).toEqual({ token: 't', expiresAt: new Date('2026-11-30T11:00:00Z'), refreshTokenExpiresAt: new Date('2026-12-03T10:00:00Z') });
    expect(parseTokenOutput('{"accessToken":"t","expiresAt":1796036400}', now, 'x').expiresAt).toEqual(new Date(1796036400_000));
    for (const bad of ['', '{"expires_in":1}', '{not json', 'two words']) expect(() => parseTokenOutput(bad, now, 'cfg')).toThrow(TokenError);
  });

  it('runs the token command again only when the token is about to expire; warns before the refresh token runs out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-oauth-'));
    const counter = path.join(dir, 'n');
    writeFileSync(counter, '0');
    const helper = path.join(dir, 'token.mjs');
    writeFileSync(
      helper,
      `import fs from 'node:fs'; const n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1; fs.writeFileSync(${JSON.stringify(counter)}, String(n));
       console.log(JSON.stringify({ access_token: 'tok' + n, expires_in: 120, refresh_token_expires_at: '2026-12-02T10:00:00Z' }));`,
    );
    chmodSync(helper, 0o755);
    const src = new AccessTokenSource({ tokenCommand: [process.execPath, helper], refreshWarnDays: 7 }, 'mailboxes.support.imap');
    expect(await src.token(now)).toBe('tok1');
    expect(await src.token(new Date(now.getTime() + 30_000))).toBe('tok1');
    expect(await src.token(new Date(now.getTime() + 90_000))).toBe('tok2'); // within a minute of expiry
    expect(src.refreshWarning(now)).toBe(2);
    const failing = new AccessTokenSource({ tokenCommand: [path.join(dir, 'missing')], refreshWarnDays: 7 }, 'mailboxes.pec.smtp');
    await expect(failing.token(now)).rejects.toThrow(/^mailboxes\.pec\.smtp: oauth2\.tokenCommand .*missing not found/);
  });
});

describe('mailbox configuration', () => {
  const parse = (mailboxes: Record<string, unknown>) => configSchema.safeParse(withDerivedDefaults({ dataDir: '/srv/pecdesk', mailboxes }));
  it('IMAP defaults: TLS on port 993, INBOX → Processed, a 30-second safety poll; the Maildir default only without imap', () => {
    const r = parse({ support: { imap: { host: 'imap.example.it', user: 'desk', pass: 's' } } });
    expect(r.success).toBe(true);
    const m = r.data!.mailboxes.support;
    expect(m).toMatchObject({ folder: 'INBOX', processedFolder: 'Processed', imap: { port: 993, secure: true, idle: true, pollCron: '*/30 * * * * *' } });
    expect(m.maildir).toBeUndefined();
    expect(r.data!.mailboxes.pec.maildir).toBe('/srv/pecdesk/maildir/pec');
  });
  it('refuses ambiguous sources and logins, naming the key', () => {
    const issues = (mb: Record<string, unknown>) => {
      const r = parse({ support: mb });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ maildir: '/m', imap: { host: 'h', user: 'u', pass: 'p' } })).toEqual(['mailboxes.support: exactly one of imap or maildir is required (where mail is read)']);
    expect(issues({ imap: { host: 'h', user: 'u' } })).toEqual(['mailboxes.support.imap: exactly one of pass or oauth2 is required']);
    expect(issues({ imap: { host: 'h', user: 'u', oauth2: { tokenFile: '/t', tokenCommand: ['x'] } } })[0]).toMatch(/oauth2: exactly one of tokenCommand or tokenFile/);
    expect(issues({ imap: { host: 'h', user: 'u', pass: 'p', pollCron: 'every minute' } })[0]).toMatch(/^mailboxes\.support\.imap\.pollCron: expected a cron expression/);
  });
});
