// Revocation from CRL files in the trust store (SPEC §7). A CRL counts only when its
// signature verifies with the certificate of its issuer.
import { verify as cryptoVerify } from 'node:crypto';
import { bytesOf, children, contentOf, oid, readTlv, time, type Tlv } from './der.js';
import { ocspStatus, type OcspInfo } from './ocsp.js';
import type { CertInfo } from './x509.js';

export interface CrlInfo {
  source: string;
  der: Buffer;
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  revoked: Map<string, Date>; // serial (hex, no leading zeros) → revocation date
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
}

/** Signature algorithm → the digest node:crypto verifies with (null: EdDSA, no prehash). CRLs and OCSP responses. */
export const SIG_DIGEST: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

const isTime = (t: Tlv | undefined) => t !== undefined && (t.tag === 0x17 || t.tag === 0x18);

export function parseCrl(der: Buffer, source: string): CrlInfo {
  const list = readTlv(der, 0);
  const [tbsT, algT, sigT] = children(der, list);
  const f = children(der, tbsT!);
  let i = 0;
  if (f[0]!.tag === 0x02) i++; // version
  const issuer = f[i + 1]!;
  const thisUpdate = time(der, f[i + 2]!);
  let k = i + 3;
  let nextUpdate: Date | null = null;
  if (isTime(f[k])) nextUpdate = time(der, f[k++]!);
  const revoked = new Map<string, Date>();
  if (f[k] && f[k]!.tag === 0x30) {
    for (const entry of children(der, f[k]!)) {
      const [serial, date] = children(der, entry);
      revoked.set(contentOf(der, serial!).toString('hex').replace(/^(00)+(?=.)/, ''), time(der, date!));
    }
  }
  const bits = contentOf(der, sigT!);
  return {
    source,
    der,
    issuerDer: bytesOf(der, issuer),
    thisUpdate,
    nextUpdate,
    revoked,
    tbs: bytesOf(der, tbsT!),
    signatureAlgorithm: oid(der, children(der, algT!)[0]!),
    signature: bits.subarray(1), // BIT STRING: skip the unused-bits octet
  };
}

export function crlsFromPem(text: string): Buffer[] {
  return [...text.matchAll(/-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

export type RevocationStatus = { status: 'good'; crl: string } | { status: 'revoked'; at: Date; crl: string } | { status: 'unknown' };

/** Is `cert` revoked at `at` according to an OCSP response or a CRL signed by `issuer` (or its responder)? */
export function revocationStatus(cert: CertInfo, issuer: CertInfo | null, crls: CrlInfo[], at: Date, ocsps: OcspInfo[] = []): RevocationStatus {
  if (!issuer) return { status: 'unknown' };
  const o = ocsps.length ? ocspStatus(cert, issuer, ocsps, at) : { status: 'unknown' as const };
  if (o.status === 'revoked') return { status: 'revoked', at: o.at, crl: `OCSP ${o.source}` };
  if (o.status === 'good') return { status: 'good', crl: `OCSP ${o.source}` };
  for (const crl of crls) {
    if (!crl.issuerDer.equals(cert.issuerDer)) continue;
    const digest = SIG_DIGEST[crl.signatureAlgorithm];
    if (digest === undefined) continue;
    let ok = false;
    try {
      ok = cryptoVerify(digest, crl.tbs, issuer.x509.publicKey, crl.signature);
    } catch {
      ok = false;
    }
    if (!ok) continue;
    const when = crl.revoked.get(cert.serialHex);
    if (when && when.getTime() <= at.getTime()) return { status: 'revoked', at: when, crl: crl.source };
    if (when) return { status: 'good', crl: crl.source }; // revoked only after the validation time
    // Not listed: that proves something only if the CRL was current at the validation time.
    const current = crl.thisUpdate.getTime() >= at.getTime() || crl.nextUpdate === null || crl.nextUpdate.getTime() >= at.getTime();
    if (current) return { status: 'good', crl: crl.source };
  }
  return { status: 'unknown' };
}
