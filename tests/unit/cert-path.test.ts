// Certification path validation (RFC 5280 §6) and the PEC provider profile, as pure functions
// on the fixture certificates (fixtures/pec/generate.mjs): each attack class is refused for
// its own reason, and the genuine paths hold.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProvider } from '../../src/pec/provider-trust.js';
import { parseProviderIndex } from '../../src/pec/provider-index.js';
import { validatePath } from '../../src/signature/path.js';
import { loadTrustStore } from '../../src/signature/trust.js';
import { certInfo, certificatesFromPem, type CertInfo } from '../../src/signature/x509.js';
import { repoRoot } from '../e2e/workspace.js';

const out = path.join(repoRoot, 'fixtures', 'pec', 'out');
const cert = (name: string): CertInfo => certInfo(certificatesFromPem(readFileSync(path.join(out, 'certs', `${name}.pem`), 'latin1'))[0]!);
const trust = loadTrustStore(path.join(out, 'trust'));
const AT = new Date('2026-11-23T10:00:00Z');
const daticert = (mittente: string) => ({ tipo: 'posta-certificata', mittente, consegna: null, gestoreEmittente: 'Test Provider S.p.A.' }) as any;

describe('validatePath', () => {
  it('a provider directly under the root, and one under an intermediate within its name constraints, hold', () => {
    expect(validatePath(cert('provider'), [], trust, AT)).toMatchObject({ problems: [], revocationUnknown: false });
    const r = validatePath(cert('unlisted-provider'), [cert('pec-ca')], trust, AT);
    expect(r.problems).toEqual([]);
    expect(r.chain.map((c) => c.subject.commonName)).toEqual(['Posta Certificata Altro Gestore', 'Test PEC CA1', 'Test PEC Root CA']);
  });

  it.each([
    ['pathlen-provider', ['rogue-ca', 'pec-ca'], /allows 0 intermediate CA\(s\) below it \(pathLenConstraint\) and the path has 1/],
    ['nc-provider', ['pec-ca'], /posta-certificata@pec\.fuori-vincoli\.example is outside the permitted subtrees/],
    ['leaf-issued-provider', ['tls-server'], /is not a CA certificate \(basicConstraints cA\)/],
  ])('%s: untrusted-chain, saying why', (leaf, pool, why) => {
    const r = validatePath(cert(leaf), pool.map(cert), trust, AT);
    expect(r.problems).toEqual(['untrusted-chain']);
    expect(r.details.join('\n')).toMatch(why);
  });

  it('revocation is judged at the validation time', () => {
    const revoked = cert('revoked-provider');
    expect(validatePath(revoked, [], trust, AT).problems).toEqual(['cert-revoked']);
    expect(validatePath(revoked, [], trust, new Date('2026-05-15T10:00:00Z')).problems).toEqual([]);
  });

  it('expiry is judged at the validation time', () => {
    expect(validatePath(cert('expired-provider'), [], trust, new Date('2021-11-23T09:00:00Z')).problems).toEqual([]);
    expect(validatePath(cert('expired-provider'), [], trust, AT).problems).toEqual(['cert-expired']);
  });

  it('without a CRL from the issuer, revocation is unknown, not good', () => {
    const noCrl = { ...trust, crls: [] };
    expect(validatePath(cert('provider'), [], noCrl, AT)).toMatchObject({ problems: [], revocationUnknown: true });
  });
});

describe('checkProvider (who may sign an envelope)', () => {
  const from = 'posta-certificata@pec.testprovider.it';
  it('the genuine provider certificate passes', () => {
    expect(checkProvider(cert('provider'), from, daticert('anna.rossi@pec.comune.esempio.it'), null).problems).toEqual([]);
  });

  it.each([
    ['smime-lookalike', /lacks the PEC provider policy 1\.3\.76\.16\.3\.1\.1/],
    ['tls-server', /not for e-mail protection/],
  ])('%s is not a provider certificate', (name, why) => {
    const v = checkProvider(cert(name), from, daticert('anna.rossi@pec.comune.esempio.it'), null);
    expect(v.problems).toEqual(['pec-signer-not-provider']);
    expect(v.details.join('\n')).toMatch(why);
  });

  it('the envelope From must be the certificate\'s own address', () => {
    const v = checkProvider(cert('provider'), 'posta-certificata@pec.altroprovider.example', daticert('a@pec.comune.esempio.it'), null);
    expect(v.problems).toEqual(['pec-signer-not-provider']);
    expect(checkProvider(cert('provider'), null, null, null).problems).toEqual(['pec-signer-not-provider']);
  });

  it('with an index: the certificate must be listed and the sender\'s domain managed; receipts pass by sender or recipient', () => {
    const index = parseProviderIndex(readFileSync(path.join(out, 'index', 'providers.yaml'), 'utf8'), 'providers.yaml');
    expect(checkProvider(cert('provider'), from, daticert('anna.rossi@pec.comune.esempio.it'), index)).toMatchObject({ problems: [], facts: { indexProvider: 'Test Provider S.p.A.' } });
    expect(checkProvider(cert('provider'), from, daticert('mario@pec.dominio-non-gestito.example'), index).problems).toEqual(['pec-domain-not-managed']);
    expect(checkProvider(cert('unlisted-provider'), 'posta-certificata@pec.altroprovider.example', daticert('a@pec.comune.esempio.it'), index).problems).toEqual(['pec-signer-not-provider']);
    const receipt = { tipo: 'avvenuta-consegna', mittente: 'someone@pec.elsewhere.example', consegna: 'protocollo@pec.comune.esempio.it', gestoreEmittente: null } as any;
    expect(checkProvider(cert('provider'), from, receipt, index).problems).toEqual([]);
    expect(checkProvider(cert('provider'), from, { ...receipt, consegna: 'x@pec.elsewhere.example' }, index).problems).toEqual(['pec-domain-not-managed']);
  });
});
