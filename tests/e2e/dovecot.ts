// A real Dovecot IMAP server for tests (Debian dovecot-imapd), on a free loopback port with a
// temporary config and users (../shared/spec/TESTING.md). Without Dovecot the IMAP tests say
// so loudly and skip; with CI=true they fail instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

const DOVECOT = ['/usr/sbin/dovecot', '/usr/bin/dovecot'].find((p) => existsSync(p)) ?? null;

/** Whether IMAP tests can run; says why not (and fails under CI=true). */
export function dovecotAvailable(): boolean {
  const why = !DOVECOT
    ? 'dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)'
    : process.getuid?.() !== 0
      ? 'dovecot tests need root (the package runs imap-login as dovenull)'
      : null;
  if (!why) return true;
  if (process.env.CI === 'true') throw new Error(`IMAP tests cannot run: ${why}`);
  process.stderr.write(`\n*** SKIPPING the IMAP tests against Dovecot: ${why} ***\n\n`);
  return false;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Dovecot {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-dovecot-'));
  port = 0;
  readonly users: Record<string, string> = { desk: 'secret', pec: 'pecsecret' };
  /** XOAUTH2 access tokens Dovecot accepts (checked through the introspection endpoint below), token → user. */
  readonly oauthTokens = new Map<string, string>();
  private introspection: Server | null = null;

  /** The token introspection endpoint Dovecot's oauth2 passdb asks (RFC 7662 style), in this process. */
  private async introspectionUrl(): Promise<string> {
    if (!this.introspection) {
      this.introspection = createHttpServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const token = new URLSearchParams(body).get('token') ?? (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
          const user = this.oauthTokens.get(token);
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(user ? { active: true, username: user } : { active: false }));
        });
      });
      await new Promise<void>((r) => this.introspection!.listen(0, '127.0.0.1', r));
    }
    return `http://127.0.0.1:${(this.introspection.address() as AddressInfo).port}/introspect`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const T = this.dir;
    writeFileSync(
      path.join(T, 'oauth2.conf'),
      `introspection_mode = post\nintrospection_url = ${await this.introspectionUrl()}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n`,
    );
    for (const d of ['run', 'mail', 'log']) mkdirSync(path.join(T, d), { recursive: true });
    chmodSync(T, 0o755);
    writeFileSync(
      path.join(T, 'dovecot.conf'),
      `base_dir = ${T}/run
state_dir = ${T}/run
log_path = ${T}/log/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 1
auth_failure_delay = 0
mail_location = maildir:${T}/mail/%u
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${T}/oauth2.conf
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u ${T}/users
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${T}/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${this.port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
  # no auth penalty: a wrong-password test must not slow the logins after it
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`,
    );
    writeFileSync(path.join(T, 'users'), Object.entries(this.users).map(([u, p]) => `${u}:{PLAIN}${p}::::::\n`).join(''));
    execFileSync('chown', ['-R', 'dovecot:dovecot', path.join(T, 'mail')]);
    // It daemonizes: its children would hold a stdout/stderr pipe open (and spawnSync waiting).
    const r = spawnSync(DOVECOT!, ['-c', path.join(T, 'dovecot.conf')], { stdio: 'ignore', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`dovecot did not start (exit ${r.status})${this.log()}`);
    // Ready when it accepts a login.
    for (let i = 0; i < 100; i++) {
      try {
        const c = await this.client('desk');
        await c.logout();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`dovecot did not answer on 127.0.0.1:${this.port}${this.log()}`);
  }

  private pid(): number | null {
    const f = path.join(this.dir, 'run', 'master.pid');
    return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : null;
  }

  /** Every process below the master (login, imap, auth…): a real restart drops their connections too. */
  private descendants(pid: number): number[] {
    const r = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
    const children = new Map<number, number[]>();
    for (const line of r.stdout.split('\n')) {
      const [p, pp] = line.trim().split(/\s+/).map(Number);
      if (p && pp) children.set(pp, [...(children.get(pp) ?? []), p]);
    }
    const out: number[] = [];
    const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
    walk(pid);
    return out;
  }

  /** Alive and not a zombie (a container's init may never reap the daemonized master). */
  private static alive(pid: number): boolean {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }

  /** The server goes away at once, as in a crash or a hard restart: every connection drops. */
  async stop(): Promise<void> {
    const pid = this.pid();
    if (!pid) return;
    const all = [pid, ...this.descendants(pid)];
    for (const p of all) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 400 && all.some((p) => Dovecot.alive(p)); i++) await sleep(25);
    rmSync(path.join(this.dir, 'run', 'master.pid'), { force: true });
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs) await sleep(downMs);
    await this.start();
  }

  log(): string {
    const f = path.join(this.dir, 'log', 'dovecot.log');
    return existsSync(f) ? `\n--- dovecot.log ---\n${readFileSync(f, 'utf8').split('\n').slice(-20).join('\n')}` : '';
  }

  /** The mailbox config pecdesk reads this server with. */
  imapConfig(user: string, pass = this.users[user]!): Record<string, unknown> {
    return { host: '127.0.0.1', port: this.port, secure: false, user, pass, pollCron: '*/30 * * * * *' };
  }

  async client(user: string): Promise<ImapFlow> {
    const c = new ImapFlow({ host: '127.0.0.1', port: this.port, secure: false, auth: { user, pass: this.users[user]! }, logger: false, disableAutoIdle: true });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  /** APPEND messages as an MTA delivering them would. */
  async append(user: string, messages: Buffer[], folder = 'INBOX'): Promise<void> {
    const c = await this.client(user);
    try {
      for (const m of messages) await c.append(folder, m);
    } finally {
      await c.logout();
    }
  }

  /** How many messages a folder holds (0 when it does not exist). */
  async count(user: string, folder: string): Promise<number> {
    const c = await this.client(user);
    try {
      const st = await c.status(folder, { messages: true }).catch(() => false as const);
      return st ? (st.messages ?? 0) : 0;
    } finally {
      await c.logout();
    }
  }

  /** The Message-ID header of every message in a folder. */
  async messageIds(user: string, folder: string): Promise<string[]> {
    const c = await this.client(user);
    try {
      await c.mailboxOpen(folder);
      const ids: string[] = [];
      for await (const m of c.fetch('1:*', { envelope: true })) ids.push(m.envelope?.messageId ?? '');
      return ids;
    } catch {
      return [];
    } finally {
      await c.logout();
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.introspection?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
