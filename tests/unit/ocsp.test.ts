// OCSP responses: what they say counts only when the certificate's issuer signed them, for
// that certificate (CertID), and while current.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { buildOcspResponse } from '../../fixtures/signatures/generate.mjs';
import { ocspStatus, parseOcspResponse } from '../../src/signature/ocsp.js';
import { certInfo, certificatesFromPem } from '../../src/signature/x509.js';

const out = path.join(__dirname, '..', '..', 'fixtures', 'signatures', 'out');
const pem = (f: string) => certInfo(certificatesFromPem(readFileSync(path.join(out, f), 'latin1'))[0]!);
const ca = pem('trust/test-qualified-ca.pem');
const rossi = pem('certs/rsa-signer.pem');
const bianchi = pem('certs/rsa2-signer.pem');
const at = new Date('2026-06-01T00:00:00Z');
const revoked = (extra: Record<string, unknown> = {}) =>
  parseOcspResponse(buildOcspResponse({ subject: 'rsa', status: 'revoked', revocationTime: new Date('2026-03-01T00:00:00Z'), thisUpdate: new Date('2026-06-02T00:00:00Z'), ...extra }), 'test');

describe('ocspStatus', () => {
  it('a CA-signed answer about the certificate decides', () => {
    expect(ocspStatus(rossi, ca, [revoked()], at)).toMatchObject({ status: 'revoked' });
    expect(ocspStatus(rossi, ca, [parseOcspResponse(buildOcspResponse({ subject: 'rsa', thisUpdate: at }), 'test')], at)).toMatchObject({ status: 'good' });
  });
  it('an answer signed by another key, or about another certificate, or stale, says nothing', () => {
    expect(ocspStatus(rossi, ca, [revoked({ signedBy: 'rsa2' })], at)).toEqual({ status: 'unknown' });
    expect(ocspStatus(bianchi, ca, [revoked()], at)).toEqual({ status: 'unknown' });
    const stale = parseOcspResponse(buildOcspResponse({ subject: 'rsa', thisUpdate: new Date('2026-01-01T00:00:00Z'), nextUpdate: new Date('2026-01-08T00:00:00Z') }), 'test');
    expect(ocspStatus(rossi, ca, [stale], at)).toEqual({ status: 'unknown' });
  });
  it('the bare BasicOCSPResponse (CAdES revocation values) reads the same', () => {
    const basic = parseOcspResponse(buildOcspResponse({ subject: 'rsa', thisUpdate: at, basic: true }), 'test');
    expect(ocspStatus(rossi, ca, [basic], at)).toMatchObject({ status: 'good' });
  });
});
