// Real PEC messages from public repositories (../shared/pec-samples, read only when present:
// some are AGPL and may not be copied into the product). Trust store: only the Actalis root
// taken from the system CA bundle.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, Workspace } from './workspace.js';

const samplesDir = path.resolve(repoRoot, '..', 'shared', 'pec-samples');
const bundle = '/etc/ssl/certs/ca-certificates.crt';

function actalisRootPem(): string {
  const pems = readFileSync(bundle, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const pem = pems.find((p) => new X509Certificate(p).subject.includes('CN=Actalis Authentication Root CA'));
  if (!pem) throw new Error('Actalis Authentication Root CA not in the system bundle');
  return `${pem}\n`;
}

// The signatures the README of ../shared/pec-samples marks valid, and the tampered ones.
const VALID_ENVELOPES = [
  'fabioportieri-java-pec-parser/aruba_posta-certificata_busta.eml',
  'oca-l10n-italy/sogei_posta-certificata_sdi-RC.eml',
  'oca-l10n-italy/sogei_posta-certificata_sdi-invio-file.eml',
];
const VALID_RECEIPTS: Array<[string, string]> = [
  ['oca-l10n-italy/aruba_accettazione.eml', 'accettazione'],
  ['oca-l10n-italy/aruba_avvenuta-consegna_completa.eml', 'avvenuta-consegna'],
];
const TAMPERED: Array<[string, string]> = [
  ['oca-l10n-italy/TAMPERED_sogei_posta-certificata_broken-xml.eml', 'pec-signature-invalid'],
  ['oca-l10n-italy/TAMPERED_sogei_posta-certificata_base64-p7m.eml', 'pec-signature-invalid'],
  ['oca-l10n-italy/TAMPERED_sogei_posta-certificata_sdi-MC_no-daticert_crlf.eml', 'pec-no-daticert'],
];
const UNSIGNED_RECEIPTS: Array<[string, string]> = [
  ['biagioT-java-pec-parser/anon_accettazione_nosig.eml', 'accettazione'],
  ['biagioT-java-pec-parser/anon_errore-consegna_nosig.eml', 'errore-consegna'],
];

describe.skipIf(!existsSync(samplesDir) || !existsSync(bundle))('real PEC samples (../shared/pec-samples)', () => {
  let ws: Workspace;
  beforeAll(() => {
    ws = new Workspace((c) => {
      const trust = path.join(c.dataDir, '..', 'trust-actalis');
      mkdirSync(trust, { recursive: true });
      writeFileSync(path.join(trust, 'actalis.pem'), actalisRootPem());
      c.trust = { pecProviders: trust };
    });
  });
  afterAll(() => ws.cleanup());
  const ingest = (f: string) => {
    const r = ws.cli(['ingest', path.join(samplesDir, f), '--mailbox', 'pec', '--json']);
    expect(r.status, r.stderr).toBe(0);
    return r.json.results[0];
  };

  it.each(VALID_ENVELOPES)('%s: pec, pec-certified, sender from the signed daticert, certified time', (f) => {
    const r = ingest(f);
    expect(r.classification).toBe('pec');
    expect(r.sender.verification).toBe('pec-certified');
    const t = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
    expect(t.channel).toBe('pec');
    expect(t.senderVerification).toBe('pec-certified');
    const ev = t.events[0].detail;
    expect(ev.pec.certified).toBe(true);
    expect(r.sender.address).toBe(ev.pec.daticert.mittente);
    expect(t.receivedAt).toBe(ev.pec.daticert.data.iso);
  });

  it.each(VALID_RECEIPTS)('%s: pec-receipt of type %s, certified, no ticket, no reply', (f, tipo) => {
    const r = ingest(f);
    expect(r).toMatchObject({ classification: 'pec-receipt', ticket: null, reply: null, sender: { verification: 'pec-certified' } });
    const n = ws.cli(['pec', 'list', '--json']).json.notices.find((x: any) => x.file.endsWith(path.basename(f)));
    expect(n).toMatchObject({ kind: 'receipt', tipo, certified: true, outboxId: null, applied: false });
  });

  it.each(TAMPERED)('%s: never pec-certified, still registered with the reason (%s)', (f, code) => {
    const r = ingest(f);
    expect(r.classification).toBe('pec');
    expect(r.sender.verification).toBe('unverified');
    expect(r.sender.verificationProblems).toContain(code);
    const t = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
    expect(t.senderVerificationProblems).toContain(code);
    expect(t.senderVerificationNote).toMatch(/^PEC envelope not certified \(pec-[a-z-]+(, pec-[a-z-]+)*\): ./);
  });

  it.each(UNSIGNED_RECEIPTS)('%s: a receipt without signature is %s but not certified', (f, tipo) => {
    const r = ingest(f);
    expect(r).toMatchObject({ classification: 'pec-receipt', ticket: null, reply: null, sender: { verification: 'unverified' } });
    const n = ws.cli(['pec', 'list', '--json']).json.notices.find((x: any) => x.file.endsWith(path.basename(f)));
    expect(n).toMatchObject({ tipo, certified: false });
  });
});

describe.skipIf(!existsSync(samplesDir) || !existsSync(bundle))('real PEC samples against a provider index', () => {
  const example = path.join(repoRoot, 'config', 'trust', 'pec-provider-index.example.yaml');
  const withIndex = (indexText: string) =>
    new Workspace((c) => {
      const trust = path.join(c.dataDir, '..', 'trust-actalis');
      mkdirSync(trust, { recursive: true });
      writeFileSync(path.join(trust, 'actalis.pem'), actalisRootPem());
      const index = path.join(c.dataDir, '..', 'index.yaml');
      writeFileSync(index, indexText);
      c.trust = { pecProviders: trust, pecProviderIndex: index };
    });
  const ingestAll = (ws: Workspace, files: string[]) => {
    const r = ws.cli(['ingest', ...files.map((f) => path.join(samplesDir, f)), '--mailbox', 'pec', '--json']);
    expect(r.status, r.stderr).toBe(0);
    return r.json.results as any[];
  };

  it('the shipped example index certifies the Aruba envelope it lists and no provider it does not', () => {
    const ws = withIndex(readFileSync(example, 'utf8'));
    try {
      const [aruba, sogei] = ingestAll(ws, [VALID_ENVELOPES[0]!, VALID_ENVELOPES[1]!]);
      expect(aruba.sender).toEqual({ address: 'sviluppo@pec.datamanagementitalia.it', verification: 'pec-certified', verificationProblems: [] });
      const t = ws.cli(['tickets', 'show', aruba.ticket.ref, '--json']).json;
      expect(t.senderVerificationNote).toContain('listed in the provider index as ARUBA PEC S.p.A.');
      expect(t.events[0].detail.pec.provider).toMatchObject({ certificateOrganization: 'Aruba PEC S.p.A.', gestoreEmittente: 'ARUBA PEC S.p.A.', indexProvider: 'ARUBA PEC S.p.A.' });
      expect(sogei.sender).toMatchObject({ verification: 'unverified', verificationProblems: ['pec-signer-not-provider'] });
    } finally {
      ws.cleanup();
    }
  });

  it('a listed provider that does not manage the sender\'s domain does not certify it', () => {
    const ws = withIndex(readFileSync(example, 'utf8').replace(/\n\s+- pec\.datamanagementitalia\.it/, ''));
    try {
      const [aruba] = ingestAll(ws, [VALID_ENVELOPES[0]!]);
      expect(aruba.sender).toMatchObject({ verification: 'unverified', verificationProblems: ['pec-domain-not-managed'] });
    } finally {
      ws.cleanup();
    }
  });
});
