// OCSP responses (RFC 6960) carried by documents — PDF DSS /OCSPs, CAdES revocation values —
// or fetched online. A response counts only when it is signed by the certificate's issuer or
// by a responder the issuer delegated (a certificate it issued with id-kp-OCSPSigning).
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { bytesOf, children, contentOf, oid, readTlv, time, type Tlv } from './der.js';
import { DIGEST_NAMES } from './cms.js';
import { SIG_DIGEST } from './revocation.js';
import { certInfo, type CertInfo } from './x509.js';

const OID_BASIC = '1.3.6.1.5.5.7.48.1.1';
const KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

export interface OcspSingleResponse {
  hash: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serialHex: string;
  status: 'good' | 'revoked' | 'unknown';
  revocationTime: Date | null;
  thisUpdate: Date;
  nextUpdate: Date | null;
}

export interface OcspInfo {
  source: string;
  producedAt: Date;
  responderName: Buffer | null;
  responderKeyHash: Buffer | null;
  responses: OcspSingleResponse[];
  certs: CertInfo[];
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
}

export class OcspError extends Error {}

/** An OCSPResponse (status successful, basic) or a bare BasicOCSPResponse. */
export function parseOcspResponse(input: Buffer, source: string): OcspInfo {
  try {
    let der = input;
    let top = children(der, readTlv(der, 0));
    if (top[0]?.tag === 0x0a) {
      // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT … }
      const status = contentOf(der, top[0])[0];
      if (status !== 0) throw new OcspError(`the OCSP response status is ${status} (not successful)`);
      const rb = children(der, children(der, top[1]!)[0]!);
      if (oid(der, rb[0]!) !== OID_BASIC) throw new OcspError('not a basic OCSP response');
      der = contentOf(der, rb[1]!);
      top = children(der, readTlv(der, 0));
    }
    const [tbsT, algT, sigT, certsT] = top;
    const tbsFields = children(der, tbsT!);
    let i = tbsFields[0]?.tag === 0xa0 ? 1 : 0; // version
    const rid = tbsFields[i++]!;
    const ridInner = children(der, rid)[0]!;
    const producedAt = time(der, tbsFields[i++]!);
    const responses = children(der, tbsFields[i]!).map((r) => singleResponse(der, r));
    const certs: CertInfo[] = [];
    if (certsT?.tag === 0xa0) {
      for (const c of children(der, children(der, certsT)[0]!)) {
        try {
          certs.push(certInfo(bytesOf(der, c)));
        } catch {
          /* an unreadable responder certificate: the signature check decides */
        }
      }
    }
    return {
      source,
      producedAt,
      responderName: rid.tag === 0xa1 ? bytesOf(der, ridInner) : null,
      responderKeyHash: rid.tag === 0xa2 ? contentOf(der, ridInner) : null,
      responses,
      certs,
      tbs: bytesOf(der, tbsT!),
      signatureAlgorithm: oid(der, children(der, algT!)[0]!),
      signature: contentOf(der, sigT!).subarray(1),
    };
  } catch (e) {
    if (e instanceof OcspError) throw e;
    throw new OcspError(`unreadable OCSP response: ${(e as Error).message}`);
  }
}

function singleResponse(der: Buffer, t: Tlv): OcspSingleResponse {
  const [certId, statusT, thisT, ...rest] = children(der, t);
  const [alg, nameHash, keyHash, serial] = children(der, certId!);
  const hashOid = oid(der, children(der, alg!)[0]!);
  let status: OcspSingleResponse['status'] = 'unknown';
  let revocationTime: Date | null = null;
  if (statusT!.tag === 0x80) status = 'good';
  else if (statusT!.tag === 0xa1) {
    status = 'revoked';
    revocationTime = time(der, children(der, statusT!)[0]!);
  }
  const next = rest.find((x) => x.tag === 0xa0);
  return {
    hash: DIGEST_NAMES[hashOid] ?? hashOid,
    issuerNameHash: contentOf(der, nameHash!),
    issuerKeyHash: contentOf(der, keyHash!),
    serialHex: contentOf(der, serial!).toString('hex').replace(/^(00)+(?=.)/, ''),
    status,
    revocationTime,
    thisUpdate: time(der, thisT!),
    nextUpdate: next ? time(der, children(der, next)[0]!) : null,
  };
}

/** The issuer's subjectPublicKey bits (what CertID's issuerKeyHash and byKey hash). */
function publicKeyBits(c: CertInfo): Buffer {
  const spki = c.x509.publicKey.export({ type: 'spki', format: 'der' });
  const [, bits] = children(spki, readTlv(spki, 0));
  return contentOf(spki, bits!).subarray(1);
}

const hashOf = (alg: string, b: Buffer) => createHash(alg).update(b).digest();

function signedBy(info: OcspInfo, signer: CertInfo): boolean {
  const digest = SIG_DIGEST[info.signatureAlgorithm];
  if (digest === undefined) return false;
  try {
    return cryptoVerify(digest, info.tbs, signer.x509.publicKey, info.signature);
  } catch {
    return false;
  }
}

/** Did `issuer`, or a responder it authorised, sign this response? */
function trustedResponse(info: OcspInfo, issuer: CertInfo): boolean {
  if (signedBy(info, issuer)) return true;
  return info.certs.some((r) => {
    if (!r.issuerDer.equals(issuer.subjectDer) || !(r.extKeyUsage ?? []).includes(KP_OCSP_SIGNING)) return false;
    try {
      if (!r.x509.verify(issuer.x509.publicKey)) return false;
    } catch {
      return false;
    }
    return signedBy(info, r);
  });
}

export type OcspStatus = { status: 'good'; source: string } | { status: 'revoked'; at: Date; source: string } | { status: 'unknown' };

/**
 * What the responses say of `cert` at `at`: revoked when a trusted response dates its
 * revocation at or before `at`; good when a trusted response says good (or revoked only
 * later) and was current at `at` — produced after it, or still within its nextUpdate.
 */
export function ocspStatus(cert: CertInfo, issuer: CertInfo, ocsps: OcspInfo[], at: Date): OcspStatus {
  let keyBits: Buffer | null = null;
  for (const info of ocsps) {
    for (const r of info.responses) {
      if (r.serialHex !== cert.serialHex || !['sha1', 'sha256', 'sha384', 'sha512'].includes(r.hash)) continue;
      keyBits ??= publicKeyBits(issuer);
      if (!hashOf(r.hash, issuer.subjectDer).equals(r.issuerNameHash) || !hashOf(r.hash, keyBits).equals(r.issuerKeyHash)) continue;
      if (!trustedResponse(info, issuer)) continue;
      if (r.status === 'revoked' && r.revocationTime && r.revocationTime.getTime() <= at.getTime()) return { status: 'revoked', at: r.revocationTime, source: info.source };
      if (r.status === 'unknown') continue;
      const current = r.thisUpdate.getTime() >= at.getTime() || (r.nextUpdate !== null && r.nextUpdate.getTime() >= at.getTime());
      if (current) return { status: 'good', source: info.source };
    }
  }
  return { status: 'unknown' };
}

// ---------------------------------------------------------------------------------------
// Requests (online checking)

function derTlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

/** An OCSPRequest for `cert` (CertID with SHA-1, as responders universally accept). */
export function ocspRequest(cert: CertInfo, issuer: CertInfo): Buffer {
  let serial = Buffer.from(cert.serialHex.length % 2 ? `0${cert.serialHex}` : cert.serialHex, 'hex');
  if (serial[0]! & 0x80) serial = Buffer.concat([Buffer.from([0]), serial]);
  const sha1 = derTlv(0x30, derTlv(0x06, Buffer.from('2b0e03021a', 'hex')), Buffer.from([0x05, 0x00]));
  const certId = derTlv(0x30, sha1, derTlv(0x04, hashOf('sha1', issuer.subjectDer)), derTlv(0x04, hashOf('sha1', publicKeyBits(issuer))), derTlv(0x02, serial));
  return derTlv(0x30, derTlv(0x30, derTlv(0x30, derTlv(0x30, certId))));
}
