// Who may certify a PEC sender, through the real CLI: forged envelopes signed by certificates
// that chain to the providers' anchor but are not a PEC provider's (an ordinary S/MIME or TLS
// certificate, a leaf acting as CA, a sub-CA below a pathLen 0 CA, a host outside the name
// constraints, a revoked provider), and — with the AgID provider index — unlisted providers
// and senders outside a provider's domains. Fixtures: fixtures/pec/generate.mjs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { repoRoot, Workspace } from './workspace.js';

vi.setConfig({ testTimeout: 120_000 });

const out = path.join(repoRoot, 'fixtures', 'pec', 'out');
const NOW = '2026-11-25T10:00:00+01:00';

type Expect = { verification: 'pec-certified' } | { verification: 'unverified'; code: string };
const certified: Expect = { verification: 'pec-certified' };
const refused = (code: string): Expect => ({ verification: 'unverified', code });

// Every envelope fixture and what each desk must make of it: [file, without index, with index].
const ENVELOPES: Array<[string, Expect, Expect]> = [
  ['envelope-valid.eml', certified, certified],
  ['envelope-valid-sha1.eml', certified, certified],
  ['envelope-expired-provider.eml', certified, certified],
  ['envelope-revoked-provider-before.eml', certified, certified],
  ['envelope-forged-smime-lookalike.eml', refused('pec-signer-not-provider'), refused('pec-signer-not-provider')],
  ['envelope-forged-tls-cert.eml', refused('pec-signer-not-provider'), refused('pec-signer-not-provider')],
  ['envelope-from-not-signer.eml', refused('pec-signer-not-provider'), refused('pec-signer-not-provider')],
  ['envelope-issued-by-leaf.eml', refused('pec-untrusted-chain'), refused('pec-untrusted-chain')],
  ['envelope-pathlen-violation.eml', refused('pec-untrusted-chain'), refused('pec-untrusted-chain')],
  ['envelope-name-constraints-violation.eml', refused('pec-untrusted-chain'), refused('pec-untrusted-chain')],
  ['envelope-revoked-provider.eml', refused('pec-cert-revoked'), refused('pec-cert-revoked')],
  ['envelope-untrusted-provider.eml', refused('pec-untrusted-chain'), refused('pec-untrusted-chain')],
  ['envelope-altered-inner.eml', refused('pec-signature-invalid'), refused('pec-signature-invalid')],
  ['envelope-no-signature.eml', refused('pec-not-signed'), refused('pec-not-signed')],
  // Genuine profile, but the index does not list the certificate / the sender's domain.
  ['envelope-provider-not-in-index.eml', certified, refused('pec-signer-not-provider')],
  ['envelope-domain-not-managed.eml', certified, refused('pec-domain-not-managed')],
];

function desk(index: string | null): Workspace {
  return new Workspace((c) => {
    c.trust = { pecProviders: path.join(out, 'trust'), ...(index ? { pecProviderIndex: index } : {}) };
  });
}

function ingestAll(ws: Workspace): Map<string, any> {
  const r = ws.cli(['ingest', ...ENVELOPES.map(([f]) => path.join(out, f)), '--mailbox', 'pec', '--json', '--now', NOW]);
  expect(r.status, r.stderr).toBe(0);
  return new Map(r.json.results.map((x: any) => [path.basename(x.file), x]));
}

function expectVerdict(result: any, e: Expect, file: string) {
  expect(result.classification, file).toBe('pec');
  expect(result.sender.verification, file).toBe(e.verification);
  if (e.verification === 'pec-certified') expect(result.sender.verificationProblems, file).toEqual([]);
  else expect(result.sender.verificationProblems, file).toContain(e.code);
}

describe('without a provider index: the certificate must be a PEC provider\'s', () => {
  let ws: Workspace;
  let results: Map<string, any>;
  beforeAll(() => {
    ws = desk(null);
    results = ingestAll(ws);
  });
  afterAll(() => ws.cleanup());

  it.each(ENVELOPES.map(([f, e]) => [f, e] as const))('%s → %j', (file, e) => expectVerdict(results.get(file), e, file));

  it('the ticket keeps the codes and the reasons; the forged sender is told how to resend properly, in Italian', async () => {
    const r = results.get('envelope-forged-smime-lookalike.eml');
    const t = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
    expect(t.senderVerification).toBe('unverified');
    expect(t.senderVerificationProblems).toEqual(['pec-signer-not-provider']);
    expect(t.senderVerificationNote).toContain('1.3.76.16.3.1.1');
    expect(t.events[0].detail.pec).toMatchObject({ certified: false, problems: ['pec-signer-not-provider'] });
    expect(r.reply).toMatchObject({ template: 'unverified-sender' });
    const entry = ws.cli(['outbox', 'list', '--json']).json.entries.find((e: any) => e.ticket === r.ticket.ref);
    expect(ws.cli(['run', '--once']).status).toBe(0);
    const sent = ws.cli(['outbox', 'list', '--json']).json.entries.find((e: any) => e.id === entry.id);
    const body = (await simpleParser(readFileSync(sent.sentTo))).text ?? '';
    expect(body).toContain('la busta non è firmata da un gestore PEC accreditato');
    expect(body).toContain("Indice dei gestori di Posta Elettronica Certificata");
    expect(body).not.toContain('pec-signer-not-provider');
    // A genuine envelope keeps the ordinary acknowledgement.
    expect(results.get('envelope-valid.eml').reply).toMatchObject({ template: 'acknowledgement' });
  });

  it('the revoked provider certificate still certifies what it signed before its revocation', () => {
    const t = ws.cli(['tickets', 'show', results.get('envelope-revoked-provider.eml').ticket.ref, '--json']).json;
    expect(t.senderVerificationNote).toMatch(/revoked on 2026-06-01/);
    expect(results.get('envelope-revoked-provider-before.eml').sender.verification).toBe('pec-certified');
  });

  it('a receipt signed by a look-alike certificate changes nothing and is listed with its code', () => {
    const f = path.join(out, 'receipt-forged-smime-lookalike.eml');
    const r = ws.cli(['ingest', f, '--mailbox', 'pec', '--json', '--now', NOW]).json.results[0];
    expect(r).toMatchObject({ classification: 'pec-receipt', sender: { verification: 'unverified', verificationProblems: ['pec-signer-not-provider'] } });
    const n = ws.cli(['pec', 'list', '--json']).json.notices.find((x: any) => x.file === f);
    expect(n).toMatchObject({ certified: false, applied: false, problems: ['pec-signer-not-provider'] });
    expect(n.details.join(' ')).toContain('1.3.76.16.3.1.1');
    expect(ws.cli(['pec', 'list']).stdout).toContain('NO (pec-signer-not-provider)');
  });
});

describe.each([
  ['YAML', path.join(out, 'index', 'providers.yaml')],
  ['LDIF', path.join(out, 'index', 'providers.ldif')],
])('with the provider index (%s form)', (_form, index) => {
  let ws: Workspace;
  let results: Map<string, any>;
  beforeAll(() => {
    ws = desk(index);
    results = ingestAll(ws);
  });
  afterAll(() => ws.cleanup());

  it('every envelope gets the verdict of a desk that knows the providers and their domains', () => {
    for (const [file, , e] of ENVELOPES) expectVerdict(results.get(file), e, file);
    const t = ws.cli(['tickets', 'show', results.get('envelope-valid.eml').ticket.ref, '--json']).json;
    expect(t.senderVerificationNote).toContain('listed in the provider index as Test Provider S.p.A.');
  });

  it('certified receipts about the desk\'s own domain and a managed recipient still count', () => {
    const files = ['receipt-accettazione.eml', 'receipt-avvenuta-consegna.eml'].map((f) => path.join(out, f));
    const r = ws.cli(['ingest', ...files, '--mailbox', 'pec', '--json', '--now', NOW]).json.results;
    expect(r.map((x: any) => x.sender.verification)).toEqual(['pec-certified', 'pec-certified']);
  });

  it('trust show lists the anchors, the CRL and each provider with its certificates and domains', () => {
    const v = ws.cli(['trust', 'show', '--json', '--now', NOW]).json;
    expect(v.pecProviders.anchors.map((a: any) => a.subject)).toContain('C=IT, O=pecdesk test, CN=Test PEC Root CA');
    expect(v.pecProviders.crls).toEqual([expect.objectContaining({ revoked: 1, current: true })]);
    const tp = v.pecProviderIndex.providers.find((p: any) => p.name === 'Test Provider S.p.A.');
    expect(tp.managedDomains).toEqual(['pec.cloudpa-desk.example.it', 'pec.comune.esempio.it', 'pec.testprovider.it']);
    expect(tp.certificateHashes.length + tp.certificates.length).toBe(3);
    const human = ws.cli(['trust', 'show', '--now', NOW]).stdout;
    expect(human).toContain('Test Provider S.p.A.');
    expect(human).toContain('Test PEC Root CA');
  });
});
