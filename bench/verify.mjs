// npm run bench (part): verifying a signed 1 MB PDF with pecdesk vs `openssl cms -verify` on
// the same signature and bytes, with the test trust store (one CA) and with a store the size of
// the Italian trusted list (1,000 anchors: the test CA among 999 generated ones; openssl gets
// the same certificates as its CAfile). Measured, never asserted.
import { execFileSync, spawnSync } from 'node:child_process';
import { checkPrimeSync, createHash, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPdf, pdfSignatures, signPdf } from '../fixtures/signatures/generate.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { verifyDocument } = await import(path.join(root, 'dist', 'signature', 'verify.js'));
const { loadTrustStore } = await import(path.join(root, 'dist', 'signature', 'trust.js'));

// ---------------------------------------------------------------------------------------
// 999 CA certificates, the same bytes every run: one seeded RSA-2048 key (a key per CA would
// take minutes to generate and change nothing measured here), a subject, serial and subject key
// identifier of their own, the extensions of a qualified CA (basicConstraints, keyUsage, SKI,
// certificatePolicies, CRL distribution point), PrintableString or UTF8String names as in the list.

const sha = (alg, b) => createHash(alg).update(b).digest();
const derLen = (n) => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]));
const tlv = (tag, ...parts) => {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
  return Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
};
const SEQ = (...p) => tlv(0x30, ...p);
const SET = (...p) => tlv(0x31, ...p);
const CTX = (n, ...p) => tlv(0xa0 | n, ...p);
const UTF8 = (s) => tlv(0x0c, Buffer.from(s, 'utf8'));
const PRINTABLE = (s) => tlv(0x13, s);
const BOOL_TRUE = tlv(0x01, Buffer.from([0xff]));
const OCTET = (b) => tlv(0x04, b);
const BITS = (b, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const hexOf = (x) => (x.toString(16).length % 2 ? '0' : '') + x.toString(16);
const INT = (v) => {
  const b = Buffer.from(hexOf(BigInt(v)), 'hex');
  return tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
};
function OID(s) {
  const a = s.split('.').map(Number);
  const out = [a[0] * 40 + a[1]];
  for (const v of a.slice(2)) {
    const bytes = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) bytes.unshift((x & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}
const b64u = (x) => Buffer.from(hexOf(x), 'hex').toString('base64url');
function modInv(a, m) {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

function seededRsaKey(seed) {
  let counter = 0;
  const prime = () => {
    const b = Buffer.concat(Array.from({ length: 4 }, () => sha('sha256', `${seed}#${counter++}`)));
    b[0] |= 0xc0;
    b[b.length - 1] |= 1;
    for (let c = BigInt(`0x${b.toString('hex')}`); ; c += 2n) if (c % 65537n !== 1n && checkPrimeSync(c, { checks: 24 })) return c;
  };
  let [p, q] = [prime(), prime()];
  if (p < q) [p, q] = [q, p];
  const [e, n] = [65537n, p * q];
  const d = modInv(e, (p - 1n) * (q - 1n));
  const jwk = { kty: 'RSA', n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q), dp: b64u(d % (p - 1n)), dq: b64u(d % (q - 1n)), qi: b64u(modInv(q, p)) };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return { privateKey, spki: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }) };
}

const pem = (der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;

/** `count` self-signed CA certificates as PEM files in `dir`. */
function writeBenchAnchors(dir, count) {
  const key = seededRsaKey('pecdesk-bench-trust-anchors-v1');
  const sigAlg = SEQ(OID('1.2.840.113549.1.1.11'), Buffer.from([5, 0]));
  const utc = (s) => tlv(0x17, s);
  for (let i = 0; i < count; i++) {
    const n = String(i + 1).padStart(4, '0');
    const str = i % 3 === 0 ? PRINTABLE : UTF8;
    const subject = SEQ(
      SET(SEQ(OID('2.5.4.6'), PRINTABLE('IT'))),
      SET(SEQ(OID('2.5.4.10'), str(`Certificatore Accreditato ${n} S.p.A.`))),
      SET(SEQ(OID('2.5.4.11'), str('Servizi di Certificazione'))),
      SET(SEQ(OID('2.5.4.97'), str(`VATIT-0${n}${n}${n.slice(0, 2)}`))),
      SET(SEQ(OID('2.5.4.3'), str(`Certificatore ${n} Qualified Electronic Signature CA G${(i % 4) + 1}`))),
    );
    const extensions = [
      SEQ(OID('2.5.29.19'), BOOL_TRUE, OCTET(SEQ(BOOL_TRUE))),
      SEQ(OID('2.5.29.15'), BOOL_TRUE, OCTET(BITS(Buffer.from([0x06]), 1))),
      SEQ(OID('2.5.29.14'), OCTET(OCTET(sha('sha1', subject)))),
      SEQ(OID('2.5.29.32'), OCTET(SEQ(SEQ(OID('2.5.29.32.0'), SEQ(SEQ(OID('1.3.6.1.5.5.7.2.1'), tlv(0x16, `https://ca${n}.example.it/cps`))))))),
      SEQ(OID('2.5.29.31'), OCTET(SEQ(SEQ(CTX(0, CTX(0, tlv(0x86, `http://crl.ca${n}.example.it/root.crl`))))))),
    ];
    const tbs = SEQ(CTX(0, INT(2)), INT(0x10000n + BigInt(i) * 7919n), sigAlg, subject, SEQ(utc('150101000000Z'), utc('450101000000Z')), subject, key.spki, CTX(3, SEQ(...extensions)));
    writeFileSync(path.join(dir, `bench-ca-${n}.pem`), pem(SEQ(tbs, sigAlg, BITS(cryptoSign('sha256', tbs, key.privateKey)))));
  }
}

// ---------------------------------------------------------------------------------------

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-bench-verify-'));
// ~1 MB of page text: a long contract.
const text = Array.from({ length: 3000 }, (_, i) => `Articolo ${i + 1}: il fornitore eroga i servizi del Piano dei Fabbisogni.`).join('\n');
const pdf = signPdf(buildPdf({ text }), { signer: 'rsa', time: new Date('2026-04-15T09:30:00Z') });
const file = path.join(dir, 'signed.pdf');
writeFileSync(file, pdf);
const testTrust = path.join(root, 'fixtures', 'signatures', 'out', 'trust');
const bigTrust = path.join(dir, 'trust-1000');
mkdirSync(bigTrust);
writeBenchAnchors(bigTrust, 999);
for (const f of readdirSync(testTrust)) copyFileSync(path.join(testTrust, f), path.join(bigTrust, f));
const caFile = path.join(dir, 'cafile-1000.pem');
writeFileSync(caFile, readdirSync(bigTrust).filter((f) => f.endsWith('.pem')).sort().map((f) => readFileSync(path.join(bigTrust, f), 'latin1')).join(''));
const at = new Date('2026-06-01T00:00:00Z');
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

// The same check with openssl: the CMS from /Contents over the bytes of the /ByteRange.
const sig = pdfSignatures(pdf)[0];
writeFileSync(path.join(dir, 'sig.der'), sig.cms);
writeFileSync(path.join(dir, 'signed-bytes'), sig.signedBytes);
const ossl = (ca) => ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-content', path.join(dir, 'signed-bytes'),
  '-CAfile', ca, '-purpose', 'any', '-attime', String(Math.floor(at.getTime() / 1000)), '-out', '/dev/null'];

function measure(trustDir, ca, n) {
  // In process, the store loaded once (as the daemon has it).
  let t0 = process.hrtime.bigint();
  const trust = loadTrustStore(trustDir);
  const loadMs = ms(t0);
  t0 = process.hrtime.bigint();
  loadTrustStore(trustDir); // unchanged: what every later call costs
  const reloadMs = ms(t0);
  verifyDocument(file, pdf, trust, at); // warm-up
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = verifyDocument(file, pdf, trust, at);
    if (!r.valid) throw new Error(`bench file did not verify: ${r.problems}`);
  }
  const inProcessMs = ms(t0) / n;
  let opensslMs = NaN;
  if (haveOpenssl) {
    execFileSync('openssl', ossl(ca), { stdio: 'ignore' });
    t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) execFileSync('openssl', ossl(ca), { stdio: 'ignore' });
    opensslMs = ms(t0) / n;
  }
  // The whole CLI, process start included: the store parsed afresh every time.
  const cfg = path.join(dir, `c-${path.basename(trustDir)}.yaml`);
  writeFileSync(cfg, `dataDir: ${dir}/data\ntrust: { signatures: ${trustDir} }\nmailboxes:\n  pec: { address: p@x.it, maildir: ${dir}/m1, outboxDir: ${dir}/o }\n  support: { address: s@x.it, maildir: ${dir}/m2, outboxDir: ${dir}/o }\n`);
  const cli = () => execFileSync(process.execPath, [path.join(root, 'bin', 'pecdesk.js'), '--config', cfg, 'verify', file, '--at', at.toISOString()], { stdio: 'ignore' });
  cli();
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 5; i++) cli();
  const cliMs = ms(t0) / 5;
  return { loadMs, reloadMs, inProcessMs, opensslMs, cliMs };
}

const mb = (pdf.length / 1048576).toFixed(2);
const small = measure(testTrust, path.join(testTrust, 'test-qualified-ca.pem'), 20);
console.log(`verify signed PDF (${mb} MB), 1 anchor: pecdesk in-process ${small.inProcessMs.toFixed(1)} ms, openssl cms -verify ${small.opensslMs.toFixed(1)} ms (process included), ratio ${(small.inProcessMs / small.opensslMs).toFixed(2)}; pecdesk CLI ${small.cliMs.toFixed(0)} ms (process included), ratio ${(small.cliMs / small.opensslMs).toFixed(2)}`);
const big = measure(bigTrust, caFile, 10);
console.log(`verify signed PDF (${mb} MB), 1,000 anchors: pecdesk in-process ${big.inProcessMs.toFixed(1)} ms, openssl cms -verify ${big.opensslMs.toFixed(1)} ms (process included, same 1,000 as -CAfile), ratio ${(big.inProcessMs / big.opensslMs).toFixed(2)}; pecdesk CLI ${big.cliMs.toFixed(0)} ms (process included), ratio ${(big.cliMs / big.opensslMs).toFixed(2)}, ${(big.cliMs - small.cliMs).toFixed(0)} ms over 1 anchor; store load ${big.loadMs.toFixed(1)} ms first, ${big.reloadMs.toFixed(1)} ms unchanged`);
rmSync(dir, { recursive: true, force: true });
