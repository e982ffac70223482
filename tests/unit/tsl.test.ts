// ETSI TS 119 612 trusted lists (src/signature/tsl.ts) on the generated fixtures
// (fixtures/tsl/generate.mjs): what is read from a signed list, what is refused and why,
// the list of lists, the snapshot round trip, and the status of a chain's CA at a date.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { SignedXml } from 'xml-crypto';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { buildItalianTsl, signXml, tslPki, writeFixtures } from '../../fixtures/tsl/generate.mjs';
import {
  importTrustedLists,
  loadTslSigners,
  loadTslSnapshot,
  qualificationAt,
  TslError,
  writeTslSnapshot,
  type TslProblem,
  type TslSnapshot,
} from '../../src/signature/tsl.js';
import { certInfo, certificatesFromPem, type CertInfo } from '../../src/signature/x509.js';
import { repoRoot } from '../e2e/workspace.js';

const out = path.join(repoRoot, 'fixtures', 'tsl', 'out');
const fx = (name: string) => path.join(out, name);
const pem = (...p: string[]): CertInfo => certInfo(certificatesFromPem(readFileSync(path.join(repoRoot, 'fixtures', ...p), 'latin1'))[0]!);
const NOW = new Date('2026-06-01T00:00:00Z');
const itSigners = loadTslSigners(fx('tsl-signer.pem'));
const lotlSigners = loadTslSigners(fx('lotl-signer.pem'));
const tmp = mkdtempSync(path.join(tmpdir(), 'pecdesk-tsl-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const tmpFile = (name: string, data: string | Buffer) => {
  const f = path.join(tmp, name);
  writeFileSync(f, data);
  return f;
};

const importIt = (files: string[], signers = itSigners, now = NOW) => importTrustedLists(files, signers, { signerSource: 'the test signer', now });

function refusal(fn: () => unknown): { code: TslProblem; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof TslError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a TslError');
}

describe('reading a signed national list', () => {
  const { snapshot, warnings } = importIt([fx('tsl-it.xml')]);
  const svc = (name: string) => snapshot.services.find((s) => s.name === name)!;

  it('reads the scheme information and counts', () => {
    expect(warnings).toEqual([]);
    expect(snapshot.lists).toHaveLength(1);
    const l = snapshot.lists[0]!;
    expect(l).toMatchObject({
      name: 'IT:Trusted list of qualified trust service providers (pecdesk test)',
      operator: 'pecdesk test scheme operator',
      territory: 'IT',
      sequenceNumber: 42,
      versionIdentifier: 5,
      listOfLists: false,
      issued: '2026-05-01T00:00:00.000Z',
      nextUpdate: '2026-11-01T00:00:00.000Z',
      verifiedBy: 'trust.tslSigner',
      counts: { tsps: 3, services: 4, caQc: 2, caQcGranted: 1, tsaQtst: 1 },
    });
    expect(l.signer.subject).toBe('C=IT, O=pecdesk test scheme operator, CN=Test TSL-IT Signer');
    expect(l.sha256).toBe(createHash('sha256').update(readFileSync(fx('tsl-it.xml'))).digest('hex'));
  });

  it('keeps CA/QC and TSA/QTST services only, with identities, qualifiers and history', () => {
    expect(snapshot.services.map((s) => [s.type, s.name, s.tsp])).toEqual([
      ['CA/QC', 'Test Qualified CA', 'pecdesk test Qualified Trust Services S.p.A.'],
      ['TSA/QTST', 'Test Qualified TSA', 'pecdesk test Qualified Trust Services S.p.A.'],
      ['CA/QC', 'Untrusted CA', 'Untrusted Test Services S.r.l.'],
    ]); // the CA/PKC service of the third TSP is counted, not kept
    const qca = svc('Test Qualified CA');
    const caCert = pem('signatures', 'out', 'trust', 'test-qualified-ca.pem');
    expect(qca.identity.certificates).toHaveLength(1);
    expect(qca.identity.certificates[0]).toMatchObject({ sha256: caCert.sha256, ski: caCert.subjectKeyId, subjectDer: caCert.subjectDer.toString('hex') });
    expect(qca).toMatchObject({ status: 'granted', since: '2021-03-01T00:00:00.000Z', statusUri: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted' });
    // Pre-eIDAS "accredited" counts as granted; the raw URI is kept.
    expect(qca.history).toHaveLength(1);
    expect(qca.history[0]).toMatchObject({ status: 'granted', statusUri: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/accredited', since: '2020-01-01T00:00:00.000Z' });
    // A history instance names the key by subject name and SKI only, as real lists do.
    expect(qca.history[0]!.identity).toEqual({ certificates: [], subjectNames: ['CN=Test Qualified CA,O=pecdesk test,C=IT'], skis: [caCert.subjectKeyId] });
    expect(qca.additionalInformation).toEqual(['http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures']);
    expect(qca.qualifications).toEqual([
      { qualifiers: ['QCWithQSCD', 'QCForESig'], otherQualifiers: [], criteria: { assert: 'atLeastOne', keyUsage: [{ bit: 'nonRepudiation', value: true }], policySets: [['0.4.0.194112.1.2']], notRead: [] } },
      { qualifiers: ['NotQualified'], otherQualifiers: [], criteria: { assert: 'atLeastOne', keyUsage: [], policySets: [['0.4.0.2042.1.1']], notRead: [] } },
    ]);
    const untrusted = svc('Untrusted CA');
    expect(untrusted).toMatchObject({ status: 'withdrawn', since: '2026-03-15T00:00:00.000Z' });
    expect(untrusted.history.map((h) => [h.status, h.since])).toEqual([['granted', '2020-01-01T00:00:00.000Z']]);
    expect(svc('Test Qualified TSA')).toMatchObject({ type: 'TSA/QTST', status: 'granted' });
  });

  it('warns, and still imports, when NextUpdate has passed', () => {
    const late = importIt([fx('tsl-it.xml')], itSigners, new Date('2027-01-01T00:00:00Z'));
    expect(late.warnings.map((w) => w.code)).toEqual(['next-update-passed']);
    expect(late.snapshot.services).toHaveLength(3);
  });

  it('counts a status URI outside TS 119 612 as withdrawn, with a warning', () => {
    const f = tmpFile('unknown-status.xml', signXml(buildItalianTsl({ untrustedStatus: 'mysterious' }), tslPki().tslSigner));
    const r = importIt([f]);
    expect(r.warnings.map((w) => w.code)).toEqual(['unknown-status']);
    expect(r.snapshot.services.find((s) => s.name === 'Untrusted CA')).toMatchObject({ status: 'withdrawn', statusUri: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/mysterious' });
  });
});

describe('signature variants', () => {
  it('accepts inclusive c14n and a reference to the root Id', () => {
    const { tslSigner } = tslPki();
    const sig = new SignedXml({ privateKey: tslSigner.keyPem, publicCert: tslSigner.certPem, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', canonicalizationAlgorithm: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315' });
    sig.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha512' });
    sig.computeSignature(buildItalianTsl());
    expect(sig.getSignedXml()).toContain('URI="#tsl-it-test"');
    expect(importIt([tmpFile('inclusive.xml', sig.getSignedXml())]).snapshot.services).toHaveLength(3);
  });

  it.skipIf(spawnSync('openssl', ['version']).status !== 0)('accepts ECDSA P-256 (r||s signature value)', () => {
    const dir = mkdtempSync(path.join(tmp, 'ec-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/C=IT/CN=EC TSL Signer', '-sha256'], { stdio: 'ignore' });
    const uri = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
    const sig = new SignedXml({ privateKey: readFileSync(key), publicCert: readFileSync(cert), signatureAlgorithm: uri, canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
    (sig.SignatureAlgorithms as any)[uri] = class {
      getAlgorithmName = () => uri;
      getSignature = (data: string, k: string) => cryptoSign('sha256', Buffer.from(data), { key: k, dsaEncoding: 'ieee-p1363' }).toString('base64');
      verifySignature = () => false;
    };
    sig.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', uri: '', isEmptyUri: true });
    sig.computeSignature(buildItalianTsl());
    const f = tmpFile('ecdsa.xml', sig.getSignedXml());
    expect(importTrustedLists([f], loadTslSigners(cert), { signerSource: 'ec', now: NOW }).snapshot.lists[0]!.signer.subject).toBe('C=IT, CN=EC TSL Signer');
    expect(refusal(() => importIt([f])).code).toBe('untrusted-signer');
  });
});

describe('refusals', () => {
  it.each([
    ['tsl-it-tampered.xml', 'digest-mismatch', /changed after it was signed/],
    ['tsl-it-wrong-signer.xml', 'untrusted-signer', /signed by C=IT, O=Somebody Else, CN=Rogue TSL Signer .*not by the test signer/],
    ['tsl-it-unsigned.xml', 'no-signature', /not signed/],
    ['tsl-it-doctype.xml', 'doctype', /DOCTYPE/],
  ] as const)('%s → %s', (file, code, message) => {
    const r = refusal(() => importIt([fx(file)]));
    expect(r.code).toBe(code);
    expect(r.message).toMatch(message);
    expect(r.message.startsWith(fx(file))).toBe(true); // names the file
  });

  it('refuses XML that is not a trusted list, malformed XML, and an oversized file', () => {
    expect(refusal(() => importIt([tmpFile('other.xml', '<?xml version="1.0"?><Invoice xmlns="urn:x"/>')])).code).toBe('not-a-tsl');
    expect(refusal(() => importIt([tmpFile('broken.xml', '<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#"><SchemeInformation>')])).code).toBe('malformed');
    const big = tmpFile('big.xml', '');
    truncateSync(big, 60 * 1024 * 1024); // sparse: costs nothing
    expect(refusal(() => importIt([big])).code).toBe('too-large');
  });

  it('refuses a SHA-1 signature, even by the right key', () => {
    const { tslSigner } = tslPki();
    const sig = new SignedXml({ privateKey: tslSigner.keyPem, publicCert: tslSigner.certPem, signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
    sig.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'], digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1', uri: '', isEmptyUri: true });
    sig.computeSignature(buildItalianTsl());
    const r = refusal(() => importIt([tmpFile('sha1.xml', sig.getSignedXml())]));
    expect(r.code).toBe('unsupported-algorithm');
    expect(r.message).toMatch(/rsa-sha1/);
  });

  it('says when the signer file holds no certificate', () => {
    expect(refusal(() => loadTslSigners(tmpFile('empty.pem', 'nothing here'))).code).toBe('no-signer');
    expect(refusal(() => loadTslSigners(path.join(tmp, 'missing.pem'))).code).toBe('no-signer');
  });
});

describe('the EU list of lists', () => {
  it('verifies each national list against the certificates of its pointer', () => {
    const { snapshot } = importIt([fx('eu-lotl.xml'), fx('tsl-it.xml')], lotlSigners);
    expect(snapshot.lists.map((l) => [l.territory, l.listOfLists, l.verifiedBy, l.signer.subject])).toEqual([
      ['EU', true, 'trust.tslSigner', 'C=BE, O=pecdesk test European Commission, CN=Test LOTL Signer'],
      ['IT', false, 'list-of-lists', 'C=IT, O=pecdesk test scheme operator, CN=Test TSL-IT Signer'],
    ]);
    expect(snapshot.lists[0]!.pointers.map((p) => [p.territory, p.mimeType])).toEqual([
      ['IT', 'application/vnd.etsi.tsl+xml'],
      ['IT', 'application/pdf'],
      ['FR', 'application/vnd.etsi.tsl+xml'],
    ]);
    expect(snapshot.services).toHaveLength(3);
  });

  it('refuses a national list signed by another key (the PDF pointer does not count), and one it does not point to', () => {
    const wrong = refusal(() => importIt([fx('eu-lotl.xml'), fx('tsl-it-wrong-signer.xml')], lotlSigners));
    expect(wrong.code).toBe('untrusted-signer');
    expect(wrong.message).toMatch(/names for IT/);
    const de = tmpFile('tsl-de.xml', readFileSync(fx('tsl-it.xml'), 'utf8').replace('<SchemeTerritory>IT</SchemeTerritory>', '<SchemeTerritory>DE</SchemeTerritory>'));
    expect(refusal(() => importIt([fx('eu-lotl.xml'), de], lotlSigners)).code).toBe('not-pointed');
  });

  it('is itself verified against trust.tslSigner', () => {
    expect(refusal(() => importIt([fx('eu-lotl.xml')], itSigners)).code).toBe('untrusted-signer');
  });
});

describe('snapshot', () => {
  const { snapshot } = importIt([fx('tsl-it.xml')]);

  it('round-trips through an atomic write, cached by content', () => {
    const f = path.join(tmp, 'snap', 'tsl.json');
    writeTslSnapshot(f, snapshot);
    expect(readdirSync(path.dirname(f))).toEqual(['tsl.json']); // no temp file left
    const a = loadTslSnapshot(f);
    expect(a).toEqual(snapshot);
    expect(loadTslSnapshot(f)).toBe(a);
    writeTslSnapshot(f, { ...snapshot, importedAt: '2030-01-01T00:00:00.000Z' });
    expect(loadTslSnapshot(f).importedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('names the file and the field of a snapshot it did not write', () => {
    const broken = JSON.parse(JSON.stringify(snapshot)) as TslSnapshot;
    (broken.services[0] as any).status = 'maybe';
    const e = refusal(() => loadTslSnapshot(tmpFile('broken.json', JSON.stringify(broken))));
    expect(e.code).toBe('bad-snapshot');
    expect(e.message).toContain(`${path.join(tmp, 'broken.json')}: services.0.status:`);
    expect(refusal(() => loadTslSnapshot(tmpFile('garbage.json', '{'))).code).toBe('bad-snapshot');
    expect(refusal(() => loadTslSnapshot(path.join(tmp, 'none.json'))).code).toBe('bad-snapshot');
  });
});

describe('qualificationAt', () => {
  const { snapshot } = importIt([fx('tsl-it.xml')]);
  const qca = pem('signatures', 'out', 'trust', 'test-qualified-ca.pem');
  const rossi = pem('signatures', 'out', 'certs', 'rsa-signer.pem');
  const untrustedCa = pem('signatures', 'out', 'untrusted', 'untrusted-ca.pem');
  const galli = pem('signatures', 'out', 'certs', 'untrusted-signer.pem');
  const at = (iso: string) => new Date(iso);

  it('a granted CA: granted since its latest status, the pre-eIDAS one before that, not listed before either', () => {
    expect(qualificationAt(snapshot, [rossi, qca], at('2026-06-01T00:00:00Z'))).toEqual({ status: 'granted', service: 'Test Qualified CA', since: at('2021-03-01T00:00:00Z') });
    expect(qualificationAt(snapshot, [rossi, qca], at('2020-06-01T00:00:00Z'))).toEqual({ status: 'granted', service: 'Test Qualified CA', since: at('2020-01-01T00:00:00Z') });
    expect(qualificationAt(snapshot, [rossi, qca], at('2019-06-01T00:00:00Z'))).toEqual({ status: 'not-listed', service: 'Test Qualified CA', since: null });
  });

  it('a withdrawn CA: granted before the withdrawal, withdrawn from its starting time on', () => {
    expect(qualificationAt(snapshot, [galli, untrustedCa], at('2026-03-14T23:59:59Z'))).toEqual({ status: 'granted', service: 'Untrusted CA', since: at('2020-01-01T00:00:00Z') });
    expect(qualificationAt(snapshot, [galli, untrustedCa], at('2026-03-15T00:00:00Z'))).toEqual({ status: 'withdrawn', service: 'Untrusted CA', since: at('2026-03-15T00:00:00Z') });
    expect(qualificationAt(snapshot, [galli, untrustedCa], at('2026-06-01T00:00:00Z')).status).toBe('withdrawn');
  });

  it('not listed: a CA/PKC service, a chain without its CA, the CA as the signer itself', () => {
    const provider = pem('pec', 'out', 'certs', 'provider.pem');
    const pecRoot = pem('pec', 'out', 'trust', 'test-pec-root.pem');
    const pecCa = pem('pec', 'out', 'certs', 'pec-ca.pem');
    const none = { status: 'not-listed', service: null, since: null };
    expect(qualificationAt(snapshot, [provider, pecCa, pecRoot], NOW)).toEqual(none);
    expect(qualificationAt(snapshot, [rossi], NOW)).toEqual(none);
    expect(qualificationAt(snapshot, [qca], NOW)).toEqual(none);
  });

  it('a look-alike CA (same subject and SKI, another key) is not the listed service', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date('2020-01-01T00:00:00Z');
    cert.validity.notAfter = new Date('2040-01-01T00:00:00Z');
    const utf8 = forge.asn1.Type.UTF8;
    const subject = [{ shortName: 'C', value: 'IT' }, { shortName: 'O', value: 'pecdesk test', valueTagClass: utf8 }, { shortName: 'CN', value: 'Test Qualified CA', valueTagClass: utf8 }];
    cert.setSubject(subject as any);
    cert.setIssuer(subject as any);
    cert.setExtensions([{ name: 'basicConstraints', cA: true }, { id: '2.5.29.14', value: forge.asn1.toDer(forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, Buffer.from(qca.subjectKeyId!, 'hex').toString('binary'))).getBytes() }]);
    cert.sign(key, forge.md.sha256.create());
    const fake = certInfo(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary'));
    expect(fake.subjectDer.equals(qca.subjectDer)).toBe(true);
    expect(fake.subjectKeyId).toBe(qca.subjectKeyId);
    expect(qualificationAt(snapshot, [rossi, fake], NOW).status).toBe('not-listed');
  });
});

describe('fixture generator', () => {
  it('writes fixtures/tsl/out again byte for byte', () => {
    const again = path.join(tmp, 'regenerated');
    writeFixtures(again);
    const digest = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')]));
    const before = digest(out);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(11);
    expect(digest(again)).toEqual(before);
  }, 60_000);
});
