// The CLI contract (SPEC §8.1): global options anywhere, exit codes, clear errors, config.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bin, readSample, repoRoot, samples, Workspace } from './workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.cleanup());

function raw(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: ws.dir, encoding: 'utf8', env: { ...process.env, PECDESK_LOG_LEVEL: 'warn', ...env } });
}

describe('global options', () => {
  it('--config and --json work before or after the command', () => {
    const f = path.join(samples, '01-casella-bloccata.eml');
    const a = raw(['--config', ws.configPath, '--json', 'ingest', f, '--now', '2026-11-23T15:00:00+01:00']);
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).results[0].classification).toBe('email');
    const b = raw(['ingest', f, '--now', '2026-11-23T15:00:00+01:00', '--json', '--config', ws.configPath]);
    expect(b.status, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).results[0].classification).toBe('duplicate');
    const c = raw(['tickets', '--config', ws.configPath, 'list', '--json']);
    expect(JSON.parse(c.stdout).tickets).toHaveLength(1);
  });

  it('logs go to stderr, JSON alone to stdout', () => {
    const r = raw(['--config', ws.configPath, 'ingest', path.join(samples, '01-casella-bloccata.eml'), '--json'], { PECDESK_LOG_LEVEL: 'info' });
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toContain('"msg":"database migrated"');
  });
});

describe('exit codes and errors', () => {
  it('usage errors exit 2 with one clear line, no stack trace', () => {
    for (const args of [['nonsense'], ['ingest'], ['ingest', 'missing.eml'], ['ingest', path.join(samples, '01-casella-bloccata.eml'), '--mailbox', 'fax'], ['ingest', path.join(samples, '01-casella-bloccata.eml'), '--now', 'yesterday'], ['tickets', 'show', 'HD-2026-999999'], ['quarantine', 'show', 'x']]) {
      const r = ws.cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    expect(ws.cli(['ingest', 'missing.eml']).stderr).toContain('missing.eml: cannot read: ENOENT');
    expect(ws.cli(['ingest', path.join(samples, '01-casella-bloccata.eml'), '--mailbox', 'fax']).stderr).toContain('--mailbox: expected pec or support');
  });

  it('`npx pecdesk` runs the CLI from the repository', () => {
    const r = spawnSync('npx', ['pecdesk', '--help'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: pecdesk');
  });

  it('--help exits 0', () => {
    expect(raw(['--help']).status).toBe(0);
    expect(raw(['tickets', '--help']).stdout).toContain('list');
  });

  it('the everyday commands start without the PDF and mail libraries (a command loads its own module only)', () => {
    const heavy = ['pdfjs-dist', 'pdf-lib', 'mailparser', 'nodemailer', 'imapflow', 'node-forge'];
    const packagesLoadedBy = (args: string[]) => {
      const record = ws.path(`imports-${args.filter((a) => !a.includes('/')).join('-')}.txt`);
      const r = spawnSync(process.execPath, ['--import', path.join(repoRoot, 'tests', 'support', 'record-imports.mjs'), bin, ...args], {
        cwd: ws.dir,
        encoding: 'utf8',
        env: { ...process.env, PECDESK_LOG_LEVEL: 'warn', PECDESK_RECORD_IMPORTS: record },
      });
      expect(r.status, r.stderr).toBe(0);
      return new Set(readFileSync(record, 'utf8').split('\n').filter(Boolean).map((s) => s.split('/')[0]!));
    };
    const help = packagesLoadedBy(['--help']);
    expect([...help]).toEqual(['commander']);
    for (const args of [['tickets', 'list'], ['outbox', 'list'], ['quarantine', 'list']]) {
      const loaded = packagesLoadedBy(['--config', ws.configPath, ...args]);
      expect(loaded.has('better-sqlite3'), args.join(' ')).toBe(true);
      expect(heavy.filter((p) => loaded.has(p)), args.join(' ')).toEqual([]);
    }
    // The recorder sees the heavy libraries when a command does load them.
    expect(packagesLoadedBy(['--config', ws.configPath, 'ingest', path.join(samples, '01-casella-bloccata.eml')]).has('mailparser')).toBe(true);
  });
});

describe('configuration', () => {
  const badConfig = (text: string) => {
    const f = ws.path('bad.yaml');
    writeFileSync(f, text);
    return { file: f, r: raw(['--config', f, 'tickets', 'list']) };
  };

  it('a bad config fails at start with `file: key: what is wrong`', () => {
    const unknown = badConfig(`dataDir: ./d\nmailboxes:\n  pec: { address: a@b.it, maildir: ./m, outboxDir: ./o }\n  support: { address: s@b.it, maildir: ./n, outboxDir: ./o }\nbogus: 1\n`);
    expect(unknown.r.status).toBe(2);
    expect(unknown.r.stderr).toMatch(new RegExp(`${unknown.file}: \\(root\\): .*bogus`));

    const empty = badConfig(`dataDir: ./d\nmailboxes:\n  pec: { address: a@b.it, maildir: "", outboxDir: ./o }\n`);
    expect(empty.r.status).toBe(2);
    expect(empty.r.stderr).toContain(`${empty.file}: mailboxes.pec.maildir:`);

    const noDataDir = badConfig(`timezone: Europe/Rome\n`);
    expect(noDataDir.r.stderr).toContain(`${noDataDir.file}: dataDir:`);

    const badAddr = badConfig(`dataDir: ./d\nmailboxes:\n  pec: { address: not-an-address, maildir: ./m, outboxDir: ./o }\n  support: { address: s@b.it, maildir: ./n, outboxDir: ./o }\n`);
    expect(badAddr.r.stderr).toContain(`${badAddr.file}: mailboxes.pec.address: expected an e-mail address`);

    const noHost = badConfig(`dataDir: ./d\nmailboxes:\n  pec: { address: a@b.it, maildir: ./m, smtp: { port: 25 } }\n`);
    expect(noHost.r.stderr).toContain('mailboxes.pec.smtp.host:');

    const badIndex = ws.path('index.yaml');
    writeFileSync(badIndex, 'providers:\n  - name: Gestore\n    certificateHashes: [sha256:12]\n    managedDomains: [pec.gestore.example]\n');
    const index = badConfig(`dataDir: ./d\ntrust:\n  pecProviderIndex: ${badIndex}\n`);
    expect(index.r.status).toBe(2);
    expect(index.r.stderr).toContain(`${index.file}: trust.pecProviderIndex: ${badIndex}: line 3: providers[0].certificateHashes: certificate hash "sha256:12"`);
    expect(index.r.stderr).not.toMatch(/\n\s+at /);

    const yaml = badConfig(`dataDir: [unclosed\n`);
    expect(yaml.r.status).toBe(2);
    expect(yaml.r.stderr).toContain(`${yaml.file}: invalid YAML`);

    const tz = badConfig(`dataDir: ./d\ntimezone: Mars/Base\nmailboxes:\n  pec: { address: a@b.it, maildir: ./m, outboxDir: ./o }\n  support: { address: s@b.it, maildir: ./n, outboxDir: ./o }\n`);
    expect(tz.r.stderr).toContain('timezone: unknown time zone');

    const missingFile = raw(['--config', ws.path('nope.yaml'), 'tickets', 'list']);
    expect(missingFile.status).toBe(2);
    expect(missingFile.stderr).toContain('nope.yaml: cannot read: ENOENT');
  });

  it('${VAR} is read from the environment; a missing variable names the key; secrets are never logged', () => {
    const f = ws.path('env.yaml');
    writeFileSync(
      f,
      `dataDir: \${PD_DATA}\nmailboxes:\n  pec: { address: a@b.it, maildir: ./m, outboxDir: ./o }\n  support:\n    address: s@b.it\n    maildir: ./n\n    smtp: { host: 127.0.0.1, port: 1, user: desk, pass: "\${PD_SMTP_PASS}" }\n`,
    );
    const missing = raw(['--config', f, 'tickets', 'list'], { PD_DATA: ws.path('envdata') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`${f}: mailboxes.support.smtp.pass: environment variable PD_SMTP_PASS is not set`);
    const secret = 'S3cr3t-never-logged';
    const ok = raw(['--config', f, 'run', '--once'], { PD_DATA: ws.path('envdata'), PD_SMTP_PASS: secret, PECDESK_LOG_LEVEL: 'debug' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(secret);
    expect(existsSync(ws.path('envdata', 'pecdesk.sqlite'))).toBe(true);
  });

  it('a config that sets only dataDir and trust works for ingest, run and verify (every other key has its default)', () => {
    const f = ws.path('minimal.yaml');
    const data = ws.path('minimal-data');
    writeFileSync(
      f,
      [
        `dataDir: ${data}`,
        'trust:',
        `  pecProviders: ${path.join(repoRoot, 'fixtures', 'pec', 'out', 'trust')}`,
        `  signatures: ${path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust')}`,
        '',
      ].join('\n'),
    );
    const envelope = path.join(repoRoot, 'fixtures', 'pec', 'out', 'envelope-valid.eml');
    const ingested = raw(['--config', f, 'ingest', envelope, '--mailbox', 'pec', '--json', '--now', '2026-11-25T10:00:00+01:00']);
    expect(ingested.status, ingested.stderr).toBe(0);
    expect(JSON.parse(ingested.stdout).results[0]).toMatchObject({ classification: 'pec', sender: { verification: 'pec-certified', verificationProblems: [] }, reply: { template: 'acknowledgement' } });
    // The default Maildirs are under dataDir; a message dropped there is picked up by run.
    mkdirSync(path.join(data, 'maildir', 'support', 'new'), { recursive: true });
    writeFileSync(path.join(data, 'maildir', 'support', 'new', '1.eml'), readSample('01-casella-bloccata.eml'));
    const ran = raw(['--config', f, 'run', '--once', '--json']);
    expect(ran.status, ran.stderr).toBe(0);
    // Replies of both mailboxes went to the default outbox directory.
    expect(readdirSync(path.join(data, 'outbox')).filter((n) => n.endsWith('.eml'))).toHaveLength(2);
    const verified = raw(['--config', f, 'verify', path.join(repoRoot, 'fixtures', 'signatures', 'out', 'cades', 'valid-rsa.pdf.p7m'), '--at', '2026-06-01T00:00:00Z']);
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  });

  it('the embedded default config is valid and needs no server', () => {
    const r = spawnSync(process.execPath, [bin, '--config', path.join(repoRoot, 'config', 'default.yaml'), 'migrate', '--json'], {
      cwd: ws.dir,
      encoding: 'utf8',
      env: { ...process.env, PECDESK_LOG_LEVEL: 'warn' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).migrations.map((m: any) => m.name)).toContain('0001_init');
  });
});

describe('migrate', () => {
  it('records applied migrations and is idempotent', () => {
    const a = ws.cli(['migrate', '--json']);
    expect(a.status).toBe(0);
    const b = ws.cli(['migrate', '--json']);
    expect(b.json.migrations).toEqual(a.json.migrations);
    expect(ws.count('SELECT count(*) FROM schema_migrations')).toBe(a.json.migrations.length);
    for (const t of ['messages', 'tickets', 'ticket_events', 'outbox', 'quarantine', 'administrations', 'people', 'delegations', 'orders', 'order_events']) {
      expect(ws.count(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, t), t).toBe(1);
    }
    expect(ws.query<{ journal_mode: string }>('PRAGMA journal_mode')[0]!.journal_mode).toBe('wal');
  });
});

describe('directory', () => {
  it('imports a directory file and shows it', () => {
    const f = ws.path('dir.yaml');
    writeFileSync(
      f,
      `administrations:\n  - id: regione-test\n    name: Regione Test\n    fiscalCode: "80000000001"\n    domains: [regione.test.it]\n    pec: [protocollo@pec.regione.test.it]\n    contract: { support: true }\n    referents:\n      - { name: Paola Neri, email: paola.neri@regione.test.it, role: technical-referent }\n    delegates:\n      - { name: Ugo Blu, email: ugo.blu@regione.test.it, delegatedBy: paola.neri@regione.test.it, validFrom: 2026-01-01, validUntil: 2026-06-30 }\n`,
    );
    const r = ws.cli(['directory', 'import', f, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.imported[0]).toMatchObject({ id: 'regione-test', referents: 1, delegates: 1 });
    const show = ws.cli(['directory', 'show', '--json']).json.administrations;
    const reg = show.find((a: any) => a.id === 'regione-test');
    expect(reg).toMatchObject({ contract: { support: true }, domains: ['regione.test.it'], delegates: [{ validFrom: '2026-01-01', validUntil: '2026-06-30' }] });
  });

  it('a bad directory file names the file, the entry and the field', () => {
    const f = ws.path('bad-dir.yaml');
    writeFileSync(f, `administrations:\n  - id: x\n    name: X\n    referents:\n      - { name: A, email: not-an-email }\n`);
    const r = ws.cli(['directory', 'import', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${f}: administrations.0.referents.0.email: expected an e-mail address`);
  });

  it('requesters resolve to their administration by address or domain', () => {
    const r = ws.cli(['ingest', path.join(samples, '03-rubrica.eml'), path.join(samples, '05-sconosciuto.eml'), '--json']).json.results;
    const t1 = ws.cli(['tickets', 'show', r[0].ticket.ref, '--json']).json;
    const t2 = ws.cli(['tickets', 'show', r[1].ticket.ref, '--json']).json;
    expect(t1.administration).toBe('comune-esempio'); // by domain
    expect(t2.administration).toBeNull();
    expect(ws.cli(['tickets', 'list', '--admin', 'comune-esempio', '--json']).json.tickets).toHaveLength(1);
    expect(ws.cli(['tickets', 'list', '--status', 'new', '--json']).json.tickets).toHaveLength(2);
    expect(ws.cli(['tickets', 'list', '--status', 'closed', '--json']).json.tickets).toHaveLength(0);
  });
});
