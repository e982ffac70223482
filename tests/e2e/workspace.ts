// A throw-away pecdesk installation for end-to-end tests: its own config, data and Maildirs
// in a temp directory, driven through the real CLI (node bin/pecdesk.js).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = path.join(repoRoot, 'bin', 'pecdesk.js');
export const samples = path.join(repoRoot, 'fixtures', 'mail', 'samples');
export const malformed = path.join(repoRoot, 'fixtures', 'mail', 'malformed');
export const directoryFile = path.join(repoRoot, 'fixtures', 'directory.yaml');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

export class Workspace {
  readonly dir: string;
  readonly configPath: string;
  readonly config: Record<string, any>;

  constructor(overrides: (cfg: Record<string, any>) => void = () => undefined) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-test-'));
    this.config = {
      dataDir: path.join(this.dir, 'data'),
      timezone: 'Europe/Rome',
      directory: directoryFile,
      mailboxes: {
        pec: { address: 'pec@pec.cloudpa-desk.example.it', maildir: path.join(this.dir, 'maildir', 'pec'), outboxDir: path.join(this.dir, 'outbox') },
        support: { address: 'helpdesk@cloudpa-desk.example.it', maildir: path.join(this.dir, 'maildir', 'support'), outboxDir: path.join(this.dir, 'outbox') },
      },
      daemon: { pollSeconds: 0.2 },
    };
    overrides(this.config);
    this.configPath = path.join(this.dir, 'pecdesk.yaml');
    writeFileSync(this.configPath, stringify(this.config));
  }

  path(...p: string[]): string {
    return path.join(this.dir, ...p);
  }

  /** Run the CLI synchronously with this workspace's config. */
  cli(args: string[], opts: { env?: Record<string, string>; config?: boolean } = {}): CliResult {
    const full = opts.config === false ? args : ['--config', this.configPath, ...args];
    const r = spawnSync(process.execPath, [bin, ...full], {
      cwd: this.dir,
      encoding: 'utf8',
      env: { ...process.env, PECDESK_LOG_LEVEL: 'warn', ...opts.env },
      timeout: 120_000,
    });
    let json: any = undefined;
    if (args.includes('--json')) {
      try {
        json = JSON.parse(r.stdout);
      } catch {
        json = undefined;
      }
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
  }

  /**
   * Run the CLI without blocking this process: needed when the test itself serves the
   * other end (an in-process SMTP server cannot answer while spawnSync blocks).
   */
  cliAsync(args: string[]): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, '--config', this.configPath, ...args], {
        cwd: this.dir,
        env: { ...process.env, PECDESK_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status) => {
        let json: any = undefined;
        if (args.includes('--json')) {
          try {
            json = JSON.parse(stdout);
          } catch {
            json = undefined;
          }
        }
        resolve({ status, stdout, stderr, json });
      });
    });
  }

  /** Start the daemon in the background. */
  spawnDaemon(args: string[] = []): ChildProcess {
    return spawn(process.execPath, [bin, '--config', this.configPath, 'run', ...args], {
      cwd: this.dir,
      env: { ...process.env, PECDESK_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Read-only look at the database, for counting what was recorded. */
  query<T = any>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(path.join(this.config.dataDir, 'pecdesk.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  count(sql: string, ...params: unknown[]): number {
    const row = this.query<Record<string, number>>(sql, ...params)[0]!;
    return Number(Object.values(row)[0]);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A minimal RFC 5322 message with CRLF line endings. */
export function email(o: {
  from: string;
  subject: string;
  body?: string;
  messageId: string;
  date?: string;
  headers?: Record<string, string>;
  to?: string;
}): Buffer {
  const date = o.date ?? 'Mon, 23 Nov 2026 10:00:00 +0100';
  const lines = [
    `Received: from mx.example.it by mx.cloudpa-desk.example.it with ESMTPS; ${date}`,
    `From: ${o.from}`,
    `To: ${o.to ?? 'helpdesk@cloudpa-desk.example.it'}`,
    `Subject: ${o.subject}`,
    `Date: ${date}`,
    `Message-ID: ${o.messageId}`,
    ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    o.body ?? 'Buongiorno, vi scrivo per una richiesta di assistenza.',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

export function readSample(name: string): Buffer {
  return readFileSync(path.join(samples, name));
}
