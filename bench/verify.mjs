// npm run bench (part): verifying a signed 1 MB PDF with pecdesk vs `openssl cms -verify` on
// the same signature and bytes. Measured, never asserted.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPdf, pdfSignatures, signPdf } from '../fixtures/signatures/generate.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { verifyDocument } = await import(path.join(root, 'dist', 'signature', 'verify.js'));
const { loadTrustStore } = await import(path.join(root, 'dist', 'signature', 'trust.js'));

const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-bench-verify-'));
// ~1 MB of page text: a long contract.
const text = Array.from({ length: 3000 }, (_, i) => `Articolo ${i + 1}: il fornitore eroga i servizi del Piano dei Fabbisogni.`).join('\n');
const pdf = signPdf(buildPdf({ text }), { signer: 'rsa', time: new Date('2026-04-15T09:30:00Z') });
const file = path.join(dir, 'signed.pdf');
writeFileSync(file, pdf);
const trustDir = path.join(root, 'fixtures', 'signatures', 'out', 'trust');
const trust = loadTrustStore(trustDir);
const at = new Date('2026-06-01T00:00:00Z');

const N = 20;
verifyDocument(file, pdf, trust, at); // warm-up
let t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const r = verifyDocument(file, pdf, trust, at);
  if (!r.valid) throw new Error(`bench file did not verify: ${r.problems}`);
}
const oursMs = Number(process.hrtime.bigint() - t0) / 1e6 / N;

// The same check with openssl: the CMS from /Contents over the bytes of the /ByteRange.
const sig = pdfSignatures(pdf)[0];
writeFileSync(path.join(dir, 'sig.der'), sig.cms);
writeFileSync(path.join(dir, 'signed-bytes'), sig.signedBytes);
const ossl = ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-content', path.join(dir, 'signed-bytes'),
  '-CAfile', path.join(trustDir, 'test-qualified-ca.pem'), '-purpose', 'any', '-attime', String(Math.floor(at.getTime() / 1000)), '-out', '/dev/null'];
let opensslMs = NaN;
if (spawnSync('openssl', ['version']).status === 0) {
  execFileSync('openssl', ossl, { stdio: 'ignore' });
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) execFileSync('openssl', ossl, { stdio: 'ignore' });
  opensslMs = Number(process.hrtime.bigint() - t0) / 1e6 / N;
}
// The whole CLI, process start included.
const cfg = path.join(dir, 'c.yaml');
writeFileSync(cfg, `dataDir: ${dir}/data\ntrust: { signatures: ${trustDir} }\nmailboxes:\n  pec: { address: p@x.it, maildir: ${dir}/m1, outboxDir: ${dir}/o }\n  support: { address: s@x.it, maildir: ${dir}/m2, outboxDir: ${dir}/o }\n`);
t0 = process.hrtime.bigint();
for (let i = 0; i < 5; i++) execFileSync(process.execPath, [path.join(root, 'bin', 'pecdesk.js'), '--config', cfg, 'verify', file, '--at', at.toISOString()], { stdio: 'ignore' });
const cliMs = Number(process.hrtime.bigint() - t0) / 1e6 / 5;

console.log(`verify signed PDF (${(pdf.length / 1048576).toFixed(2)} MB): pecdesk in-process ${oursMs.toFixed(1)} ms, openssl cms -verify ${opensslMs.toFixed(1)} ms (process included), ratio ${(oursMs / opensslMs).toFixed(2)}; pecdesk CLI ${cliMs.toFixed(0)} ms (process included)`);
rmSync(dir, { recursive: true, force: true });
