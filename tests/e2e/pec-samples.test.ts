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
const TAMPERED = [
  'oca-l10n-italy/TAMPERED_sogei_posta-certificata_broken-xml.eml',
  'oca-l10n-italy/TAMPERED_sogei_posta-certificata_base64-p7m.eml',
  'oca-l10n-italy/TAMPERED_sogei_posta-certificata_sdi-MC_no-daticert_crlf.eml',
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

  it.each(TAMPERED)('%s: never pec-certified, still registered with the reason', (f) => {
    const r = ingest(f);
    expect(r.classification).toBe('pec');
    expect(r.sender.verification).toBe('unverified');
    const t = ws.cli(['tickets', 'show', r.ticket.ref, '--json']).json;
    expect(t.senderVerificationNote).toMatch(/^PEC envelope not certified: /);
  });

  it.each(UNSIGNED_RECEIPTS)('%s: a receipt without signature is %s but not certified', (f, tipo) => {
    const r = ingest(f);
    expect(r).toMatchObject({ classification: 'pec-receipt', ticket: null, reply: null, sender: { verification: 'unverified' } });
    const n = ws.cli(['pec', 'list', '--json']).json.notices.find((x: any) => x.file.endsWith(path.basename(f)));
    expect(n).toMatchObject({ tipo, certified: false });
  });
});
