// `pecdesk verify` on every generated signature fixture (fixtures/signatures), through the
// real CLI, against the expectations in the generator's manifest; and openssl agreeing on
// every CAdES fixture when openssl is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { signPdf } from '../../fixtures/signatures/generate.mjs';
import { loadTrustStore } from '../../src/signature/trust.js';
import { verifyDocument } from '../../src/signature/verify.js';
import { repoRoot, Workspace } from './workspace.js';

const out = path.join(repoRoot, 'fixtures', 'signatures', 'out');
interface Entry {
  file: string;
  format: 'cades' | 'pades' | 'none';
  expect: { valid: boolean; problems: string[]; warnings: string[]; acceptAlso?: string[] };
  acceptAlso?: string[];
  mayWarn?: string[];
  signers: Array<{ commonName: string; givenName: string; surname: string; fiscalCode: string; organization: string }>;
  validAt: string;
  signingTime?: string;
  alternatives?: Array<{ validAt: string; expect: { valid: boolean; problems: string[]; warnings: string[] } }>;
  /** PAdES: per signature, what the report must say of coverage and modification level. */
  report?: { signatures: Array<Record<string, unknown>> };
}
const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Entry[];

let ws: Workspace;
beforeAll(() => {
  ws = new Workspace((c) => (c.trust = { signatures: path.join(out, 'trust') }));
});
afterAll(() => ws.cleanup());

function verify(file: string, at: string) {
  const r = ws.cli(['verify', path.join(out, file), '--at', at, '--json']);
  return { status: r.status, json: r.json, stderr: r.stderr };
}

// The manifest is checked in process (the same verifyDocument the CLI calls, its JSON round
// trip included): one CLI start per fixture cost a minute of the suite. The CLI itself is
// checked against this on one fixture of each kind below.
const fixtureTrust = loadTrustStore(path.join(out, 'trust'));
function verifyInProcess(file: string, at: string) {
  const report = verifyDocument(file, readFileSync(path.join(out, file)), fixtureTrust, new Date(at));
  return { status: report.valid ? 0 : 1, json: JSON.parse(JSON.stringify(report)), stderr: '' };
}

describe('pecdesk verify on every signature fixture', () => {
  it.each(manifest.map((m) => [m.file, m] as const))('%s', (_f, m) => {
    const r = verifyInProcess(m.file, m.validAt);
    expect(r.status, r.stderr).toBe(m.expect.valid ? 0 : 1);
    expect(r.json.valid).toBe(m.expect.valid);
    if (m.format !== 'none') expect(r.json.format).toBe(m.format === 'pades' && m.file.endsWith('no-signature.pdf') ? 'none' : m.format);
    const allowed = new Set([...m.expect.problems, ...(m.acceptAlso ?? m.expect.acceptAlso ?? [])]);
    if (!m.expect.valid) expect(r.json.problems.some((p: string) => allowed.has(p)), JSON.stringify(r.json.problems)).toBe(true);
    for (const p of r.json.problems) expect(allowed, `unexpected problem ${p}`).toContain(p);
    const warnOk = new Set([...m.expect.warnings, ...(m.mayWarn ?? []), 'revocation-unknown']);
    for (const w of m.expect.warnings) expect(r.json.warnings).toContain(w);
    for (const w of r.json.warnings) expect(warnOk, `unexpected warning ${w}`).toContain(w);
    if (m.expect.valid) {
      expect(r.json.signatures.map((s: any) => s.signer)).toEqual(m.signers);
    }
    if (m.report) {
      // Only the keys the manifest names: coverage, modificationLevel, level, timestamps (kind, time, valid).
      const seen = r.json.signatures.map((s: any, i: number) => Object.fromEntries(Object.keys(m.report!.signatures[i] ?? {}).map((k) => [
        k, k === 'timestamps' ? s.timestamps?.map((t: any) => ({ kind: t.kind, time: t.time, valid: t.valid })) : s[k],
      ])));
      expect(seen, JSON.stringify(r.json.signatures.map((s: any) => s.details))).toEqual(m.report.signatures);
    }
    for (const alt of m.alternatives ?? []) {
      const a = verifyInProcess(m.file, alt.validAt);
      expect(a.json.valid, `${m.file} at ${alt.validAt}`).toBe(alt.expect.valid);
    }
  });

  it('prints the signer, the codice fiscale and the problem codes in plain text', () => {
    const ok = ws.cli(['verify', path.join(out, 'cades', 'valid-rsa.pdf.p7m'), '--at', '2026-06-01T00:00:00Z']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('VALID');
    expect(ok.stdout).toContain('ANNA ROSSI');
    expect(ok.stdout).toContain('codice fiscale RSSNNA80A41H501L');
    const bad = ws.cli(['verify', path.join(out, 'cades', 'digest-mismatch.pdf.p7m'), '--at', '2026-06-01T00:00:00Z']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('digest-mismatch');
  });

  it('a document timestamp added after signing (ETSI.RFC3161 update) keeps the signature valid', () => {
    const signed = readFileSync(path.join(out, 'pades', 'valid.pdf'));
    const stamped = signPdf(signed, { signer: 'rsa2', subFilter: 'ETSI.RFC3161', time: new Date('2026-04-25T08:00:00Z') });
    const f = ws.path('stamped.pdf');
    writeFileSync(f, stamped);
    const r = ws.cli(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
    expect(r.json.valid, JSON.stringify(r.json.problems)).toBe(true);
    expect(r.json.signatures).toHaveLength(1); // the timestamp is not a signer
    expect(r.json.signatures[0].coversWholeDocument).toBe(false);
  });

  it('a missing file is a usage error (exit 2)', () => {
    const r = ws.cli(['verify', ws.path('nope.p7m')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('nope.p7m: cannot read: ENOENT');
  });

  it('the CLI prints the same report as the validator, exit code included (CAdES B-T, PAdES B-LTA, an attack)', () => {
    for (const file of ['cades/b-t.pdf.p7m', 'pades/b-lta.pdf', 'pades/sneaky-signature.pdf']) {
      const cli = verify(file, '2026-06-01T00:00:00Z');
      const direct = verifyInProcess(file, '2026-06-01T00:00:00Z');
      expect({ ...cli.json, file: direct.json.file }, cli.stderr).toEqual(direct.json);
      expect(cli.status).toBe(direct.status);
    }
  });

  it('timestamps are judged against trust.timestamping: a TSA outside it proves nothing (CAdES and PAdES)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-tsa-'));
    try {
      writeFileSync(path.join(dir, 'other.pem'), readFileSync(path.join(out, 'untrusted', 'untrusted-ca.pem')));
      const other = new Workspace((c) => (c.trust = { signatures: path.join(out, 'trust'), timestamping: dir }));
      try {
        for (const file of ['cades/b-t.pdf.p7m', 'pades/b-lta.pdf']) {
          const r = other.cli(['verify', path.join(out, file), '--at', '2026-06-01T00:00:00Z', '--json']).json;
          expect(r.valid, file).toBe(true);
          expect(r.warnings, file).toContain('timestamp-invalid');
          expect(r.signatures[0].level, file).toBe('B-B');
        }
      } finally {
        other.cleanup();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CRL decides: revoked after its revocation date, fine before it', () => {
    const before = verify('cades/cert-revoked.pdf.p7m', '2026-02-01T00:00:00Z');
    expect(before.json.problems).not.toContain('cert-revoked');
    const after = verify('cades/cert-revoked.pdf.p7m', '2026-06-01T00:00:00Z');
    expect(after.json.problems).toContain('cert-revoked');
  });

  it('a trust store without CRLs: valid with the warning revocation-unknown, never silently', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-trust-'));
    try {
      writeFileSync(path.join(dir, 'ca.pem'), readFileSync(path.join(out, 'trust', 'test-qualified-ca.pem')));
      const other = new Workspace((c) => (c.trust = { signatures: dir }));
      try {
        const r = other.cli(['verify', path.join(out, 'cades', 'valid-rsa.pdf.p7m'), '--at', '2026-06-01T00:00:00Z', '--json']);
        expect(r.json.valid).toBe(true);
        expect(r.json.warnings).toContain('revocation-unknown');
      } finally {
        other.cleanup();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!hasOpenssl)('openssl cms -verify agrees on every CAdES fixture', () => {
  const cades = manifest.filter((m) => m.format === 'cades');
  it.each(cades.map((m) => [m.file, m] as const))('%s', (_f, m) => {
    const ours = verifyInProcess(m.file, m.validAt).json;
    const tmp = mkdtempSync(path.join(tmpdir(), 'pecdesk-ossl-'));
    try {
      // openssl takes DER: decode what pecdesk decodes by content (PEM, base64, twice).
      let der = readFileSync(path.join(out, m.file));
      for (let i = 0; i < 2 && der[0] !== 0x30; i++) {
        const text = der.toString('latin1');
        const pem = /-----BEGIN PKCS7-----([\s\S]*?)-----END PKCS7-----/.exec(text);
        der = Buffer.from((pem ? pem[1]! : text).replace(/\s+/g, ''), 'base64');
      }
      const input = path.join(tmp, 'in.p7m');
      writeFileSync(input, der);
      const bundle = path.join(tmp, 'ca.pem');
      writeFileSync(bundle, readFileSync(path.join(out, 'trust', 'test-qualified-ca.pem')));
      const at = String(Math.floor(new Date(m.validAt).getTime() / 1000));
      const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', input, '-CAfile', bundle, '-purpose', 'any', '-attime', at, '-out', path.join(tmp, 'content')]);
      const opensslOk = r.status === 0;
      if (/ed25519/.test(m.file)) {
        // OpenSSL's CMS cannot verify RFC 8419 EdDSA signatures at all (openssl/openssl#11915,
        // #32248: it hands the pure-EdDSA key a digest and fails with "invalid digest"); the
        // fixture generator checks the raw Ed25519 signature with node:crypto instead.
        expect(r.stderr.toString()).toMatch(/invalid digest/);
        expect(ours.valid).toBe(m.expect.valid);
        return;
      }
      // openssl checks integrity, signature and chain; it does not require nonRepudiation,
      // the ESS binding (without -cades), QC statements or revocation (without a CRL).
      const cryptographic = ours.problems.filter((p: string) => ['digest-mismatch', 'bad-signature', 'untrusted-chain', 'cert-expired', 'cert-not-yet-valid', 'malformed'].includes(p));
      expect(opensslOk, `${m.file}: openssl ${opensslOk ? 'ok' : r.stderr.toString().split('\n')[0]}; pecdesk ${JSON.stringify(ours.problems)}`).toBe(cryptographic.length === 0);
      if (opensslOk && ours.content) {
        const content = readFileSync(path.join(tmp, 'content'));
        // For nested p7m, openssl unwraps one layer: compare with the innermost only when flat.
        if (!ours.signatures.some((s: any) => s.layer > 1)) {
          expect(execFileSync('sha256sum', [path.join(tmp, 'content')]).toString().slice(0, 64)).toBe(ours.content.sha256);
        } else expect(content.length).toBeGreaterThan(0);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
