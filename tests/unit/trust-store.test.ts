// Trust stores: reused while the files' contents are unchanged (whatever their mtimes say), and
// anchors found for path building through the index by issuer name — including an issuer name
// encoded differently from the anchor's subject (OpenSSL's name comparison) — without parsing
// the anchors no path needs.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validatePath } from '../../src/signature/path.js';
import { loadTrustStore, TrustAnchors, TrustStoreError } from '../../src/signature/trust.js';
import { certInfo, certificatesFromPem, nameKey } from '../../src/signature/x509.js';
import { repoRoot } from '../e2e/workspace.js';

// --- a few certificates, Ed25519 (fixed-size, deterministic signatures) -------------------------

const len = (n: number) => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]));
const tlv = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const SEQ = (...p: Buffer[]) => tlv(0x30, ...p);
const SET = (...p: Buffer[]) => tlv(0x31, ...p);
const OID = (hex: string) => tlv(0x06, Buffer.from(hex, 'hex'));
const PRINTABLE = (s: string) => tlv(0x13, Buffer.from(s, 'latin1'));
const UTF8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const INT = (hex: string) => tlv(0x02, Buffer.from(hex, 'hex'));
const UTC = (s: string) => tlv(0x17, Buffer.from(s, 'latin1'));
const OCTET = (b: Buffer) => tlv(0x04, b);
const BITS = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const C = '550406';
const O = '55040a';
const CN = '550403';
const ED25519 = SEQ(OID('2b6570'));

type Str = (s: string) => Buffer;
const name = (str: Str, org: string, cn: string) => SEQ(SET(SEQ(OID(C), PRINTABLE('IT'))), SET(SEQ(OID(O), str(org))), SET(SEQ(OID(CN), str(cn))));

const newKey = () => generateKeyPairSync('ed25519');

const keyId = (key: KeyObject) => createHash('sha1').update(key.export({ type: 'spki', format: 'der' })).digest();

function cert(o: { serial: string; issuer: Buffer; subject: Buffer; key: KeyObject; signKey: KeyObject; ca: boolean; badSignatureBits?: boolean }): Buffer {
  const exts = o.ca
    ? [
        SEQ(OID('551d13'), tlv(0x01, Buffer.from([0xff])), OCTET(SEQ(tlv(0x01, Buffer.from([0xff]))))), // basicConstraints cA
        SEQ(OID('551d0f'), tlv(0x01, Buffer.from([0xff])), OCTET(BITS(Buffer.from([0x06]), 1))), // keyCertSign, cRLSign
        SEQ(OID('551d0e'), OCTET(OCTET(keyId(o.key)))), // subjectKeyIdentifier
      ]
    : [SEQ(OID('551d0f'), tlv(0x01, Buffer.from([0xff])), OCTET(BITS(Buffer.from([0x80]), 7)))]; // digitalSignature
  const tbs = SEQ(
    tlv(0xa0, INT('02')), INT(o.serial), ED25519, o.issuer, SEQ(UTC('250101000000Z'), UTC('350101000000Z')), o.subject,
    o.key.export({ type: 'spki', format: 'der' }), tlv(0xa3, SEQ(...exts)),
  );
  const signature = sign(null, tbs, o.signKey);
  // Unused bits 8 in the signature BIT STRING: readable up to the subject, refused by OpenSSL.
  return SEQ(tbs, ED25519, o.badSignatureBits ? BITS(signature, 8) : BITS(signature));
}

const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;

const tmp = mkdtempSync(path.join(tmpdir(), 'pecdesk-trust-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const newDir = () => mkdtempSync(path.join(tmp, 'store-'));

describe('loadTrustStore cache', () => {
  const fixtureTrust = path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust');

  it('returns the same store while the contents are unchanged, and reads it again when a file changes under the same mtime and size', () => {
    const dir = newDir();
    for (const f of ['test-qualified-ca.pem', 'test-qualified-ca.crl']) copyFileSync(path.join(fixtureTrust, f), path.join(dir, f));
    // Two CAs that differ only in the serial number: same size, different contents.
    const key = newKey();
    const subject = name(UTF8, 'Ente Esempio', 'Esempio Root CA');
    const v1 = pem(cert({ serial: '1001', issuer: subject, subject, key: key.publicKey, signKey: key.privateKey, ca: true }));
    const v2 = pem(cert({ serial: '1002', issuer: subject, subject, key: key.publicKey, signKey: key.privateKey, ca: true }));
    expect(v1.length).toBe(v2.length);
    expect(v1).not.toBe(v2);
    const file = path.join(dir, 'esempio.pem');
    writeFileSync(file, v1);
    const stamp = new Date('2026-01-02T03:04:05Z');
    utimesSync(file, stamp, stamp);
    const before = statSync(file);

    const s1 = loadTrustStore(dir);
    expect(s1.anchors.size).toBe(2);
    expect(s1.crls).toHaveLength(1);
    const qualifiedCa = s1.anchors.all().find((a) => a.subject.commonName === 'Test Qualified CA')!;
    expect(loadTrustStore(dir)).toBe(s1);

    writeFileSync(file, v2);
    utimesSync(file, stamp, stamp); // as `touch -d` would: the same mtime again
    const after = statSync(file);
    expect([after.mtimeMs, after.size]).toEqual([before.mtimeMs, before.size]);

    const s2 = loadTrustStore(dir);
    expect(s2).not.toBe(s1);
    expect(s2.anchors.all().map((a) => a.serialHex).sort()).toEqual(['1002', '7e57ca0001']);
    // The unchanged file is not parsed again: its anchor is the very same object.
    expect(s2.anchors.all()).toContain(qualifiedCa);
    expect(loadTrustStore(dir)).toBe(s2);

    // A new file, a removed one: read again.
    writeFileSync(path.join(dir, 'other.pem'), v1);
    const s3 = loadTrustStore(dir);
    expect(s3).not.toBe(s2);
    expect(s3.anchors.size).toBe(3);
    rmSync(path.join(dir, 'other.pem'));
    expect(loadTrustStore(dir).anchors.size).toBe(2);
  });

  it('a file that is not a certificate makes the store unreadable, naming it', () => {
    const dir = newDir();
    writeFileSync(path.join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => loadTrustStore(dir)).toThrow(TrustStoreError);
    expect(() => loadTrustStore(dir)).toThrow(/broken\.pem: not a certificate/);
  });
});

describe('path building through the anchor index', () => {
  const AT = new Date('2026-06-01T00:00:00Z');
  const root = newKey();
  // The anchor's subject in PrintableString; its subordinate names the issuer in UTF8String,
  // upper-case and with doubled spaces: the same name to OpenSSL (X509_NAME_cmp normalises).
  const anchorSubject = name(PRINTABLE, 'Ente Certificatore Esempio', 'Esempio Qualified Root CA');
  const issuerAsWritten = name(UTF8, 'ENTE CERTIFICATORE  ESEMPIO', ' Esempio  Qualified Root CA ');
  const anchorDer = cert({ serial: '01', issuer: anchorSubject, subject: anchorSubject, key: root.publicKey, signKey: root.privateKey, ca: true });
  const leafKey = newKey();
  const leafDer = cert({
    serial: '0a', issuer: issuerAsWritten, subject: name(UTF8, 'Comune di Esempio', 'Anna Rossi'), key: leafKey.publicKey, signKey: root.privateKey, ca: false,
  });
  const dir = newDir();
  // 200 other CAs first (file order), one of which node:crypto cannot parse.
  const other = newKey();
  for (let i = 0; i < 200; i++) {
    const s = name(i % 2 ? UTF8 : PRINTABLE, `Certificatore ${i}`, `CA ${i}`);
    const der = cert({ serial: (0x100 + i).toString(16).padStart(4, '0'), issuer: s, subject: s, key: other.publicKey, signKey: other.privateKey, ca: true, badSignatureBits: i === 7 });
    writeFileSync(path.join(dir, `a-${String(i).padStart(3, '0')}.pem`), pem(der));
  }
  writeFileSync(path.join(dir, 'z-esempio-root.pem'), pem(anchorDer));

  it('the two encodings differ as bytes and share the name key', () => {
    expect(anchorSubject.equals(issuerAsWritten)).toBe(false);
    expect(nameKey(anchorSubject)).toBe(nameKey(issuerAsWritten));
    expect(nameKey(anchorSubject)).not.toBe(nameKey(name(PRINTABLE, 'Ente Certificatore Esempio', 'Esempio Qualified Root CA 2')));
    // What the index stands for: OpenSSL agrees the anchor issued the leaf.
    expect(certInfo(leafDer).x509.checkIssued(certInfo(anchorDer).x509)).toBe(true);
  });

  it('finds the anchor by the normalised issuer name, without parsing the other anchors', () => {
    const trust = loadTrustStore(dir);
    expect(trust.anchors.size).toBe(201);
    const r = validatePath(certInfo(leafDer), [], trust, AT);
    expect(r.problems).toEqual([]);
    expect(r.chain.map((c) => c.subject.commonName)).toEqual(['Anna Rossi', 'Esempio Qualified Root CA']);
    // The unparseable anchor was never a candidate; listing every anchor reports it.
    expect(() => trust.anchors.all()).toThrow(/a-007\.pem: not a certificate/);
    expect(trust.anchors.usable()).toHaveLength(200);
  });

  it('an anchor as signer is directly trusted; a certificate the index has no issuer for is not', () => {
    const trust = loadTrustStore(dir);
    expect(trust.anchors.includes(certInfo(anchorDer))).toBe(true);
    expect(validatePath(certInfo(anchorDer), [], trust, AT).chain).toHaveLength(1);
    const stranger = newKey();
    const s = name(UTF8, 'Nessuno', 'Unknown CA');
    const orphan = cert({ serial: '0b', issuer: s, subject: name(UTF8, 'Comune di Esempio', 'Mario Bianchi'), key: leafKey.publicKey, signKey: stranger.privateKey, ca: false });
    expect(validatePath(certInfo(orphan), [], trust, AT).problems).toEqual(['untrusted-chain']);
  });

  it('an intermediate from the signature pool leads to the anchor by name', () => {
    const trust = loadTrustStore(dir);
    const midKey = newKey();
    const midSubject = name(UTF8, 'Ente Certificatore Esempio', 'Esempio Qualified CA 1');
    const mid = cert({ serial: '02', issuer: anchorSubject, subject: midSubject, key: midKey.publicKey, signKey: root.privateKey, ca: true });
    const leaf = cert({ serial: '0c', issuer: midSubject, subject: name(UTF8, 'Comune di Esempio', 'Giulia Verdi'), key: leafKey.publicKey, signKey: midKey.privateKey, ca: false });
    const r = validatePath(certInfo(leaf), [certInfo(mid)], trust, AT);
    expect(r.problems).toEqual([]);
    expect(r.chain.map((c) => c.subject.commonName)).toEqual(['Giulia Verdi', 'Esempio Qualified CA 1', 'Esempio Qualified Root CA']);
  });

  it('an in-memory store (TrustAnchors.of) answers the same lookups, by name and by key identifier', () => {
    const anchor = certInfo(anchorDer);
    const anchors = TrustAnchors.of([anchor]);
    expect(anchors.withSubject(issuerAsWritten)).toEqual([anchor]);
    expect(anchors.withSubjectKeyId(keyId(root.publicKey).toString('hex').toUpperCase())).toEqual([anchor]);
    expect(anchors.withSubjectKeyId('00')).toEqual([]);
    expect(anchors.withSubject(Buffer.from('0500', 'hex'))).toBeNull(); // not a Name
    expect(validatePath(certInfo(leafDer), [], { source: 'memory', anchors, crls: [] }, AT).problems).toEqual([]);
  });

  it('the fixtures: a signer of the test CA chains to it', () => {
    const trust = loadTrustStore(path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust'));
    const signer = certInfo(certificatesFromPem(readFileSync(path.join(repoRoot, 'fixtures', 'signatures', 'out', 'certs', 'rsa-signer.pem'), 'latin1'))[0]!);
    const r = validatePath(signer, [], trust, AT);
    expect(r.problems).toEqual([]);
    expect(r.chain.map((c) => c.subject.commonName)).toEqual(['ANNA ROSSI', 'Test Qualified CA']);
  });
});
