// Envelope verification on real provider bytes: the signing time decides, not now.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalCrlf, decodeBody, readMimeTree } from '../../src/mail/mime-tree.js';
import { parseSignedData, verifySignedData } from '../../src/signature/cms.js';
import { loadTrustStore } from '../../src/signature/trust.js';
import { repoRoot } from '../e2e/workspace.js';

const sample = path.join(repoRoot, 'fixtures', 'mail', 'pec-real', 'aruba_posta-certificata_busta.eml');
const actalis = path.join(repoRoot, 'config', 'trust', 'pec-providers');

function verifyAt(raw: Buffer, when: (signingTime: Date | null) => Date) {
  const root = readMimeTree(raw);
  const signed = root.children[0]!;
  const sig = root.children.find((p) => p.contentType.endsWith('pkcs7-signature'))!;
  const sd = parseSignedData(decodeBody(raw, sig));
  return verifySignedData(sd, {
    detachedContent: canonicalCrlf(raw.subarray(signed.start, signed.end)),
    trust: loadTrustStore(actalis),
    validationTime: when,
  })[0]!;
}

describe.skipIf(!existsSync(sample))('PEC envelope signature (real Aruba sample, Apache-2.0)', () => {
  const raw = readFileSync(sample);

  it('verifies at its own signing time, chaining through AgID CA1 to the Actalis root', () => {
    const v = verifyAt(raw, (t) => t!);
    expect(v.problems).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.signingTime).not.toBeNull();
    expect(v.certificate!.x509.subject).toContain('ARUBA PEC');
  });

  it('fails at now: the provider certificate has expired since', () => {
    const v = verifyAt(raw, () => new Date('2030-01-01T00:00:00Z'));
    expect(v.valid).toBe(false);
    expect(v.problems).toContain('cert-expired');
  });

  it('one changed byte in the signed part is a digest mismatch', () => {
    const text = raw.toString('latin1');
    const at = text.indexOf('Content-Type: application/xml');
    const altered = Buffer.from(text.slice(0, at) + text.slice(at).replace(/ml/, 'mL'), 'latin1');
    const v = verifyAt(altered, (t) => t!);
    expect(v.problems).toContain('digest-mismatch');
  });

  it('LF-only storage verifies too: the digest is over the CRLF-canonical form', () => {
    const lf = Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    expect(verifyAt(lf, (t) => t!).valid).toBe(true);
  });
});

describe('canonicalCrlf', () => {
  it('gives every bare LF its CR and leaves CRLF, lone CR and other bytes as they are (as the regex did)', () => {
    const byRegex = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    let seed = 3;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const alphabet = [0x0a, 0x0d, 0x41, 0x00, 0xff, 0x20];
    for (let n = 0; n < 2000; n++) {
      const b = Buffer.from(Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length]!));
      expect(canonicalCrlf(b).equals(byRegex(b)), JSON.stringify([...b])).toBe(true);
    }
    const crlf = Buffer.from('a\r\nb\r\n');
    expect(canonicalCrlf(crlf)).toBe(crlf);
  });
});
