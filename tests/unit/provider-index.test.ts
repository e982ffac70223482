// The PEC provider index (RFC 6109 §5): the AgID LDIF export and the YAML form, and the
// errors an operator sees for a malformed file (file: line N: what is wrong).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { managesDomain, parseCertificateHash, parseProviderIndex, providerOf, ProviderIndexError } from '../../src/pec/provider-index.js';
import { certInfo, certificatesFromPem } from '../../src/signature/x509.js';
import { repoRoot } from '../e2e/workspace.js';

const actalisDer = certificatesFromPem(readFileSync(path.join(repoRoot, 'config', 'trust', 'pec-providers', 'Actalis_Authentication_Root_CA.pem'), 'latin1'))[0]!;
const actalis = certInfo(actalisDer);
const fold = (line: string) => line.match(/.{1,76}/g)!.join('\n ');

function fails(text: string, file = 'idx'): string {
  try {
    parseProviderIndex(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ProviderIndexError);
    return (e as Error).message;
  }
  throw new Error('expected the index to be refused');
}

describe('certificate hashes', () => {
  it.each([
    [`sha256:${'ab'.repeat(32)}`, 'sha256'],
    [`SHA-256#${'AB:'.repeat(31)}AB`, 'sha256'],
    [`sha1:${'0f'.repeat(20)}`, 'sha1'],
    ['0F'.repeat(20), 'sha1'],
    ['ab'.repeat(32), 'sha256'],
    [Buffer.alloc(32, 7).toString('base64'), 'sha256'],
    [`SHA1 ${Buffer.alloc(20, 9).toString('base64')}`, 'sha1'],
  ])('%s is a %s fingerprint', (v, alg) => expect(parseCertificateHash(v)?.algorithm).toBe(alg));
  it.each([`sha1:${'ab'.repeat(32)}`, 'ab'.repeat(10), 'not-a-hash', `sha512:${'ab'.repeat(64)}`])('%s is refused', (v) =>
    expect(parseCertificateHash(v)).toBeNull());
});

describe('LDIF (the AgID export, RFC 6109 attributes)', () => {
  const ldif = [
    'version: 1',
    '# Indice dei gestori PEC',
    '',
    'dn: o=postacert',
    'objectclass: organization',
    'o: postacert',
    '',
    'dn: providerName=Gestore Uno,o=postacert',
    'objectclass: top',
    'objectclass: provider',
    'providerName: Gestore Uno',
    `providerCertificateHash: ${actalis.sha1.toUpperCase().match(/../g)!.join(':')}`,
    'managedDomains: pec.uno.example',
    'managedDomains: PEC.Comune.Example.',
    '',
    'dn: providerName=Gestore Due,o=postacert',
    'objectClass: provider',
    'providerName: Gestore Due',
    fold(`providerCertificate;binary:: ${actalisDer.toString('base64')}`),
    'managedDomains: pec.due.example',
    '',
  ].join('\r\n');

  it('reads providers, folded base64 certificates and multi-valued domains; other entries are skipped', () => {
    const ix = parseProviderIndex(ldif, 'agid.ldif');
    expect(ix.format).toBe('ldif');
    expect(ix.providers.map((p) => p.name)).toEqual(['Gestore Uno', 'Gestore Due']);
    expect([...ix.providers[0]!.managedDomains]).toEqual(['pec.uno.example', 'pec.comune.example']);
    expect(ix.providers[1]!.certificates[0]!.sha256).toBe(actalis.sha256);
    // The same certificate is found by its SHA-1 in the first entry.
    expect(providerOf(ix, actalis)?.name).toBe('Gestore Uno');
  });

  it('reads an ldapsearch export with its trailer; a "*." domain covers the subdomains only', () => {
    const exported = `${ldif.replace('managedDomains: pec.uno.example', 'managedDomains: *.pec.uno.example')}\r\n# search result\r\nsearch: 2\r\nresult: 0 Success\r\n`;
    const p = parseProviderIndex(exported, 'agid.ldif').providers[0]!;
    expect(['casella.pec.uno.example', 'a.b.pec.uno.example', 'pec.uno.example', 'altro.example'].map((d) => managesDomain(p, d))).toEqual([true, true, false, false]);
    expect(managesDomain(p, 'PEC.COMUNE.EXAMPLE')).toBe(true);
  });

  it.each([
    [ldif.replace('managedDomains: pec.uno.example', 'managedDomains: not a domain!'), /^agid\.ldif: line 13: manageddomains: "not"/],
    [ldif.replace(/providerCertificateHash: .*/, 'providerCertificateHash: 12:34'), /^agid\.ldif: line 12: providercertificatehash: certificate hash "12:34" is not a SHA-256/],
    [ldif.replace('objectclass: top', 'this line has no colon'), /^agid\.ldif: line 9: expected "attribute: value"/],
    [ldif.replace('dn: providerName=Gestore Due,o=postacert', 'providerShort: due'), /^agid\.ldif: line 16: an LDIF entry must start with "dn:"/],
    [ldif.replace(/providerCertificate;binary:: [^\r]*(\r\n [^\r]*)*/, 'providerCertificate:: AAAA'), /^agid\.ldif: line 19: providercertificate: not a certificate/],
    ['version: 1\r\n\r\ndn: o=postacert\r\no: postacert\r\n', /^agid\.ldif: line 1: no provider in the index/],
  ])('a malformed file names file, line and what is wrong (%#)', (text, message) => {
    expect(fails(text, 'agid.ldif')).toMatch(message);
  });
});

describe('YAML form', () => {
  const yaml = [
    '# comment',
    'providers:',
    '  - name: Gestore Uno',
    '    certificateHashes:',
    `      - sha256:${actalis.sha256}`,
    '    managedDomains: [pec.uno.example]',
    '  - name: Gestore Due',
    '    certificates:',
    '      - |',
    ...readFileSync(path.join(repoRoot, 'config', 'trust', 'pec-providers', 'Actalis_Authentication_Root_CA.pem'), 'latin1').trim().split('\n').map((l) => `        ${l}`),
    '    managedDomains: [pec.due.example]',
    '',
  ].join('\n');

  it('reads names, hashes, PEM certificates and domains', () => {
    const ix = parseProviderIndex(yaml, 'i.yaml');
    expect(ix.format).toBe('yaml');
    expect(ix.providers.map((p) => [p.name, p.sha256.size, p.certificates.length, [...p.managedDomains]])).toEqual([
      ['Gestore Uno', 1, 0, ['pec.uno.example']],
      ['Gestore Due', 0, 1, ['pec.due.example']],
    ]);
  });

  it('the shipped example parses', () => {
    const file = path.join(repoRoot, 'config', 'trust', 'pec-provider-index.example.yaml');
    expect(parseProviderIndex(readFileSync(file, 'utf8'), file).providers[0]!.name).toBe('ARUBA PEC S.p.A.');
  });

  it.each([
    [yaml.replace('managedDomains: [pec.uno.example]', 'domains: [pec.uno.example]'), /^i\.yaml: line 6: providers\[0\]\.domains: unknown key/],
    [yaml.replace(`sha256:${actalis.sha256}`, 'sha256:abc'), /^i\.yaml: line 5: providers\[0\]\.certificateHashes: certificate hash "sha256:abc"/],
    [yaml.replace('    managedDomains: [pec.due.example]\n', ''), /^i\.yaml: line 7: providers\[1\]\.managedDomains: required/],
    [yaml.replace('  - name: Gestore Uno', '  - name: ""'), /^i\.yaml: line 3: providers\[0\]\.name: required/],
    ['providers: nope\n', /^i\.yaml: line 1: providers: expected a list/],
    ['providers:\n  - name: [unclosed\n', /^i\.yaml: line \d+: invalid YAML/],
    ['gestori: []\n', /^i\.yaml: line 1: gestori: unknown key/],
  ])('a malformed file names file, line and what is wrong (%#)', (text, message) => {
    expect(fails(text, 'i.yaml')).toMatch(message);
  });
});
