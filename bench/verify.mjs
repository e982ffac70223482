// Signature verification against `openssl cms -verify`: the openssl side of workload (b) of
// `npm run bench` (the same signed Pianos the daemon path verifies), and workload (h): a signed
// 1 MB PDF verified by `pecdesk verify` and in process, beside openssl on the same signature
// and bytes, with the test trust store (one CA) and with a store the size of the Italian
// trusted list (1,000 anchors: the test CA among 999 generated ones; openssl gets the same
// certificates as its CAfile). Measured, never asserted.
import { spawnSync } from 'node:child_process';
import { checkPrimeSync, createHash, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildPdf, pdfSignatures, signPdf } from '../fixtures/signatures/generate.mjs';
import { fmtMiB, fmtMs, measureOk, medianRuns, pecdeskBin, root } from './lib/measure.mjs';

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
export function writeBenchAnchors(dir, count) {
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
// openssl, the bare component

export const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
export const TEST_SIGNATURE_TRUST = path.join(root, 'fixtures', 'signatures', 'out', 'trust');
export const TEST_SIGNATURE_CA = path.join(TEST_SIGNATURE_TRUST, 'test-qualified-ca.pem');

/** `openssl cms -verify` of a DER CMS (attached, or detached over `content`) at `at`, against `caFile`. */
export function opensslVerifyArgs({ cms, content, caFile, at }) {
  return ['cms', '-verify', '-binary', '-inform', 'DER', '-in', cms, ...(content ? ['-content', content] : []),
    '-CAfile', caFile, '-purpose', 'any', '-attime', String(Math.floor(at.getTime() / 1000)), '-out', '/dev/null'];
}

/**
 * One openssl process per argument list, one after the other from a shell script (no Node spawn
 * cost counted), measured as a whole: ms per verification, and the peak RSS of any of them (GNU
 * time's %M covers the script's children). The first failure fails the measurement.
 */
export async function opensslEach(argLists, dir) {
  const quote = (a) => `'${a.replace(/'/g, "'\\''")}'`;
  const script = path.join(dir, `openssl-${argLists.length}-${Date.now()}.sh`);
  writeFileSync(script, `set -e\n${argLists.map((args) => `openssl ${args.map(quote).join(' ')}`).join('\n')}\n`);
  const r = await measureOk('/bin/sh', [script], { stdout: 'ignore' });
  return { seconds: r.seconds, perRunMs: (r.seconds * 1000) / argLists.length, peakKiB: r.peakKiB };
}

// ---------------------------------------------------------------------------------------
// Workload (h)

const AT = new Date('2026-06-01T00:00:00Z');

async function verifyRow(ctx, { id, label, file, pdf, trustDir, caFile, sig, n }) {
  const { verifyDocument } = await import(path.join(root, 'dist', 'signature', 'verify.js'));
  const { loadTrustStore } = await import(path.join(root, 'dist', 'signature', 'trust.js'));
  // In process, the store loaded once (as the daemon has it); then what an unchanged reload costs.
  let t0 = performance.now();
  const trust = loadTrustStore(trustDir);
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  loadTrustStore(trustDir);
  const reloadMs = performance.now() - t0;
  const problems = [];
  const check = verifyDocument(file, pdf, trust, AT);
  if (!check.valid) problems.push(`did not verify: ${check.problems.join(',')}`);
  t0 = performance.now();
  for (let i = 0; i < n; i++) verifyDocument(file, pdf, trust, AT);
  const inProcessMs = (performance.now() - t0) / n;
  // The whole CLI, process start included: the store parsed afresh every time.
  const cfg = path.join(ctx.tmp, `c-${id}.yaml`);
  writeFileSync(cfg, `dataDir: ${ctx.tmp}/data\ntrust: { signatures: ${trustDir} }\n`);
  const cli = await medianRuns(process.execPath, [pecdeskBin, '--config', cfg, 'verify', file, '--at', AT.toISOString()], 7);
  const ossl = haveOpenssl ? await opensslEach(Array.from({ length: n }, () => opensslVerifyArgs({ cms: sig.cms, content: sig.content, caFile, at: AT })), ctx.tmp) : null;
  if (!ossl) problems.push('no openssl');
  const cliMs = cli.seconds * 1000;
  return {
    id,
    workload: `verify a signed ${(pdf.length / 1048576).toFixed(2)} MB PDF (PAdES), ${label}, pecdesk verify`,
    pecdesk: `${fmtMs(cliMs)} ms`,
    bare: ossl ? `openssl cms -verify ${fmtMs(ossl.perRunMs)} ms` : '—',
    ratio: ossl ? cliMs / ossl.perRunMs : NaN,
    rss: `${fmtMiB(cli.peakKiB)} / ${ossl ? fmtMiB(ossl.peakKiB) : '—'}`,
    notes: [...(problems.length ? [`PROBLEM: ${problems.join(', ')}`] : []),
      `in process ${fmtMs(inProcessMs)} ms${ossl ? ` (${(inProcessMs / ossl.perRunMs).toFixed(2)}× openssl)` : ''}, store load ${fmtMs(loadMs)} ms first, ${fmtMs(reloadMs)} ms unchanged; CLI and openssl include process start`].join('; '),
    problems,
    data: {
      input: { pdfBytes: pdf.length, anchors: readdirSync(trustDir).filter((f) => f.endsWith('.pem')).length, sha256: createHash('sha256').update(pdf).digest('hex'), caFileSha256: createHash('sha256').update(readFileSync(caFile)).digest('hex') },
      pecdesk: { command: 'pecdesk verify FILE --at …', medianMs: cliMs, runsMs: cli.runs.map((r) => r.seconds * 1000), peakRssMiB: cli.peakKiB / 1024, inProcessMs, storeLoadMs: loadMs, storeReloadMs: reloadMs },
      bare: ossl && { component: 'openssl cms -verify -CAfile (same anchors), one process per run', msPerRun: ossl.perRunMs, runs: n, peakRssMiB: ossl.peakKiB / 1024 },
    },
  };
}

export const workloads = [
  {
    id: 'h',
    async run(ctx) {
      // ~1 MB of page text: a long contract.
      const text = Array.from({ length: 3000 }, (_, i) => `Articolo ${i + 1}: il fornitore eroga i servizi del Piano dei Fabbisogni.`).join('\n');
      const pdf = signPdf(buildPdf({ text }), { signer: 'rsa', time: new Date('2026-04-15T09:30:00Z') });
      const file = path.join(ctx.tmp, 'signed.pdf');
      writeFileSync(file, pdf);
      // openssl gets the CMS from /Contents and the bytes of the /ByteRange.
      const s = pdfSignatures(pdf)[0];
      const sig = { cms: path.join(ctx.tmp, 'sig.der'), content: path.join(ctx.tmp, 'signed-bytes') };
      writeFileSync(sig.cms, s.cms);
      writeFileSync(sig.content, s.signedBytes);
      const bigTrust = path.join(ctx.tmp, 'trust-1000');
      mkdirSync(bigTrust);
      ctx.log('999 generated anchors…');
      writeBenchAnchors(bigTrust, 999);
      for (const f of readdirSync(TEST_SIGNATURE_TRUST)) copyFileSync(path.join(TEST_SIGNATURE_TRUST, f), path.join(bigTrust, f));
      const caFile = path.join(ctx.tmp, 'cafile-1000.pem');
      writeFileSync(caFile, readdirSync(bigTrust).filter((f) => f.endsWith('.pem')).sort().map((f) => readFileSync(path.join(bigTrust, f), 'latin1')).join(''));
      const common = { file, pdf, sig };
      const rows = [await verifyRow(ctx, { ...common, id: 'h1', label: '1 anchor', trustDir: TEST_SIGNATURE_TRUST, caFile: TEST_SIGNATURE_CA, n: 20 })];
      ctx.log('1,000 anchors…');
      rows.push(await verifyRow(ctx, { ...common, id: 'h2', label: '1,000 anchors', trustDir: bigTrust, caFile, n: 10 }));
      return rows;
    },
  },
];
