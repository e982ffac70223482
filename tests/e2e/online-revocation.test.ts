// trust.onlineRevocation: the CRL named by the signer certificate's distribution point is
// fetched (from a real HTTP server on loopback), cached, and decides; off by default.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { addSignerVariant, buildCades, buildCrl, buildOcspResponse, TIMES } from '../../fixtures/signatures/generate.mjs';
import { repoRoot, Workspace } from './workspace.js';

const caPem = readFileSync(path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust', 'test-qualified-ca.pem'));
let server: Server;
let requests: number;
let crl: Buffer;
let url: string;
let ocspAnswer: Buffer;
let ocspRequests: number;

beforeEach(async () => {
  requests = 0;
  ocspRequests = 0;
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/ocsp' && req.method === 'POST' && req.headers['content-type'] === 'application/ocsp-request') {
      ocspRequests++;
      req.resume();
      return req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/ocsp-response' }).end(ocspAnswer));
    }
    if (req.url !== '/ca.crl') return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/pkix-crl' }).end(crl);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`;
});
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

function signedByVariant(serial: number): Buffer {
  const name = `online-${serial}`;
  addSignerVariant(name, 'rsa', { crlUrl: url, serial });
  return buildCades({ content: Buffer.from('%PDF-1.4\nContratto\n%%EOF\n'), signer: name, signingTime: TIMES.cadesSigning });
}

function workspace(online: boolean): Workspace {
  return new Workspace((c) => {
    const trust = path.join(c.dataDir, '..', 'trust-no-crl');
    mkdirSync(trust, { recursive: true });
    writeFileSync(path.join(trust, 'ca.pem'), caPem); // anchors only: no CRL file
    c.trust = { signatures: trust, onlineRevocation: online };
  });
}

describe('online revocation', () => {
  it('off (the default): no request is made, the status stays revocation-unknown', async () => {
    crl = buildCrl({ revoked: [{ serial: 0x7701n, date: new Date('2026-03-01T00:00:00Z'), reason: 1 }] });
    const ws = workspace(false);
    try {
      const f = ws.path('doc.p7m');
      writeFileSync(f, signedByVariant(0x7701));
      const r = await ws.cliAsync(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
      expect(r.json).toMatchObject({ valid: true, warnings: expect.arrayContaining(['revocation-unknown']) });
      expect(requests).toBe(0);
    } finally {
      ws.cleanup();
    }
  });

  it('on: the distribution point CRL revokes the signer; the cached copy still decides when the CA is offline', async () => {
    crl = buildCrl({ revoked: [{ serial: 0x7702n, date: new Date('2026-03-01T00:00:00Z'), reason: 1 }] });
    const ws = workspace(true);
    try {
      const f = ws.path('doc.p7m');
      writeFileSync(f, signedByVariant(0x7702));
      const r = await ws.cliAsync(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
      expect(r.status).toBe(1);
      expect(r.json.problems).toEqual(['cert-revoked']);
      expect(requests).toBe(1);
      expect(readdirSync(path.join(ws.config.dataDir, 'crl-cache'))).toHaveLength(1);
      await new Promise<void>((res) => server.close(() => res()));
      const again = await ws.cliAsync(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
      expect(again.json.problems).toEqual(['cert-revoked']);
      server = createServer();
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    } finally {
      ws.cleanup();
    }
  });

  it('on, signer not listed: valid without the revocation-unknown warning', async () => {
    crl = buildCrl({ revoked: [] });
    const ws = workspace(true);
    try {
      const f = ws.path('doc.p7m');
      writeFileSync(f, signedByVariant(0x7703));
      const r = await ws.cliAsync(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
      expect(r.json.valid).toBe(true);
      expect(r.json.warnings).not.toContain('revocation-unknown');
    } finally {
      ws.cleanup();
    }
  });

  it('on, but the CA cannot be reached: still valid with revocation-unknown, and the reason on stderr', async () => {
    crl = buildCrl({ revoked: [] });
    const ws = workspace(true);
    try {
      const f = ws.path('doc.p7m');
      const doc = signedByVariant(0x7704);
      await new Promise<void>((res) => server.close(() => res()));
      writeFileSync(f, doc);
      const r = await ws.cliAsync(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
      expect(r.json).toMatchObject({ valid: true, warnings: expect.arrayContaining(['revocation-unknown']) });
      expect(r.stderr).toContain('revocation:');
      server = createServer();
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    } finally {
      ws.cleanup();
    }
  });

  it('on, with an OCSP responder in the certificate: its answer (signed by the CA) revokes the signer; cached for the next check', async () => {
    const name = 'online-ocsp-7705';
    const base = url.replace('/ca.crl', '');
    addSignerVariant(name, 'rsa', { crlUrl: `${base}/missing.crl`, ocspUrl: `${base}/ocsp`, serial: 0x7705 });
    ocspAnswer = buildOcspResponse({ subject: name, status: 'revoked', revocationTime: new Date('2026-03-01T00:00:00Z'), thisUpdate: new Date('2026-05-30T00:00:00Z'), nextUpdate: new Date('2099-01-01T00:00:00Z') });
    const ws = workspace(true);
    try {
      const f = ws.path('doc.p7m');
      writeFileSync(f, buildCades({ content: Buffer.from('%PDF-1.4\nContratto\n%%EOF\n'), signer: name, signingTime: TIMES.cadesSigning }));
      const r = await ws.cliAsync(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
      expect(r.json.problems, r.stderr).toEqual(['cert-revoked']);
      expect(r.json.signatures[0].details.join(' ')).toContain('OCSP');
      expect(ocspRequests).toBe(1);
      const again = await ws.cliAsync(['verify', f, '--at', '2026-06-01T00:00:00Z', '--json']);
      expect(again.json.problems).toEqual(['cert-revoked']);
      expect(ocspRequests).toBe(1); // answered from the cache
    } finally {
      ws.cleanup();
    }
  });
});
