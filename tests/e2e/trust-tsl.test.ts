// `pecdesk trust import-tsl` and the trusted list in `trust show`, through the real CLI, on the
// generated lists of fixtures/tsl: one invocation per behaviour.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, Workspace } from './workspace.js';

const tsl = (name: string) => path.join(repoRoot, 'fixtures', 'tsl', 'out', name);
const NOW = '2026-06-01T00:00:00Z';

let ws: Workspace;
let lotl: Workspace;
beforeAll(() => {
  const trust = (signer: string) => (c: Record<string, any>) => {
    c.trust = { signatures: path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust'), tsl: path.join(c.dataDir, 'trust', 'tsl.json'), tslSigner: tsl(signer) };
  };
  ws = new Workspace(trust('tsl-signer.pem'));
  lotl = new Workspace(trust('lotl-signer.pem'));
});
afterAll(() => {
  ws.cleanup();
  lotl.cleanup();
});

describe('pecdesk trust import-tsl', () => {
  const snapshot = () => path.join(ws.config.dataDir, 'trust', 'tsl.json');

  it('imports the signed national list and prints its summary', () => {
    const r = ws.cli(['trust', 'import-tsl', tsl('tsl-it.xml'), '--now', NOW]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('IT  IT:Trusted list of qualified trust service providers (pecdesk test) — sequence 42, issued 2026-05-01, next update 2026-11-01');
    expect(r.stdout).toContain('signed by C=IT, O=pecdesk test scheme operator, CN=Test TSL-IT Signer');
    expect(r.stdout).toContain('3 TSP(s), 4 service(s): 2 CA/QC (1 granted), 1 TSA/QTST');
    expect(existsSync(snapshot())).toBe(true);
  });

  it('trust show --json adds trustedList with every kept service, the other keys unchanged', () => {
    const r = ws.cli(['trust', 'show', '--json', '--now', NOW]);
    expect(r.status, r.stderr).toBe(0);
    expect(Object.keys(r.json)).toEqual(['pecProviders', 'pecProviderIndex', 'signatures', 'trustedList']);
    expect(r.json.signatures.anchors).toHaveLength(1);
    const t = r.json.trustedList;
    expect(t.error).toBeNull();
    expect(t.lists).toMatchObject([{ territory: 'IT', sequenceNumber: 42, current: true, verifiedBy: 'trust.tslSigner' }]);
    expect(t.counts).toEqual({ caQc: 2, caQcGranted: 1, tsaQtst: 1, tsaQtstGranted: 1 });
    expect(t.services.map((s: any) => [s.type, s.name, s.status, s.since])).toEqual([
      ['CA/QC', 'Test Qualified CA', 'granted', '2021-03-01T00:00:00.000Z'],
      ['TSA/QTST', 'Test Qualified TSA', 'granted', '2021-03-01T00:00:00.000Z'],
      ['CA/QC', 'Untrusted CA', 'withdrawn', '2026-03-15T00:00:00.000Z'],
    ]);
    expect(t.services[0].qualifiers).toContain('QCForESig');
  });

  // Each refusal leaves the snapshot of the first import as it was.
  it.each([
    ['a list altered after signing', 'tsl-it-tampered.xml', /digest-mismatch.*tsl-it-tampered\.xml: digest mismatch: the list was changed after it was signed/],
    ['a list signed by another key', 'tsl-it-wrong-signer.xml', /untrusted-signer.*signed by C=IT, O=Somebody Else, CN=Rogue TSL Signer .*not by the certificate\(s\) in trust\.tslSigner/],
    ['a list with a DOCTYPE', 'tsl-it-doctype.xml', /doctype.*tsl-it-doctype\.xml: contains a DOCTYPE/],
  ])('refuses %s: exit 1, a one-line reason', (_what, file, message) => {
    const before = readFileSync(snapshot());
    const r = ws.cli(['trust', 'import-tsl', tsl(file)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // no stack trace
    expect(readFileSync(snapshot()).equals(before)).toBe(true);
  });

  it('imports the EU list of lists with the national list it points to (--json)', () => {
    const r = lotl.cli(['trust', 'import-tsl', tsl('eu-lotl.xml'), '--with', tsl('tsl-it.xml'), '--now', NOW, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.imported).toBe(true);
    expect(r.json.lists.map((l: any) => [l.territory, l.listOfLists, l.verifiedBy])).toEqual([
      ['EU', true, 'trust.tslSigner'],
      ['IT', false, 'list-of-lists'],
    ]);
    expect(r.json.kept).toEqual({ caQc: 2, tsaQtst: 1 });
    expect(r.json.warnings).toEqual([]);
  });
});

describe('the trusted list in verify', () => {
  const sig = (name: string) => path.join(repoRoot, 'fixtures', 'signatures', 'out', 'cades', name);
  it('a CA withdrawn after a timestamped signature: qualified; the same CA for an untimestamped one judged later: not-qualified', () => {
    const w = new Workspace((c) => {
      c.trust = { signatures: path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust'), tsl: path.join(c.dataDir, 'trust', 'tsl.json'), tslSigner: tsl('tsl-signer.pem') };
    });
    try {
      expect(w.cli(['trust', 'import-tsl', tsl('tsl-it-ca-withdrawn.xml'), '--now', NOW]).status).toBe(0);
      const plain = w.cli(['verify', sig('valid-rsa.pdf.p7m'), '--at', NOW, '--json']);
      expect(plain.json.valid).toBe(true);
      expect(plain.json.warnings).toContain('not-qualified');
      expect(plain.json.signatures[0].details.join(' ')).toContain('withdrawn since 2026-05-01');
      // Timestamped on 2026-04-15, before the withdrawal: granted then.
      const stamped = w.cli(['verify', sig('b-t.pdf.p7m'), '--at', NOW, '--json']);
      expect(stamped.json.valid).toBe(true);
      expect(stamped.json.warnings).not.toContain('not-qualified');
      expect(stamped.json.signatures[0].level).toBe('B-T');
    } finally {
      w.cleanup();
    }
  });
});
