// CMS SignedData (RFC 5652) verification: the S/MIME signature of PEC envelopes now, CAdES
// documents next. Parsing keeps the bytes as received; node:crypto does the maths (RSA
// PKCS#1 v1.5, RSA-PSS, ECDSA, EdDSA). Each signer gets a structured status, the boolean derives from it.
import { constants, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { Asn1Error, bytesOf, children, contentOf, octets, oid, readTlv, time, type Tlv } from './der.js';
import { validatePath } from './path.js';
import { parseOcspResponse, type OcspInfo } from './ocsp.js';
import { parseCrl, revocationStatus, type CrlInfo } from './revocation.js';
import { verifyTimestampToken, type TimestampReport } from './timestamp.js';
import { qualificationAt } from './tsl-snapshot.js';
import { algorithmFindings } from './algorithms.js';
import type { TrustStore } from './trust.js';
import { certInfo, type CertInfo } from './x509.js';
import { problemLog } from './problem-log.js';

export type ProblemCode =
  | 'no-signature'
  | 'malformed'
  | 'digest-mismatch'
  | 'bad-signature'
  | 'signing-certificate-mismatch'
  | 'untrusted-chain'
  | 'cert-expired'
  | 'cert-not-yet-valid'
  | 'cert-revoked'
  | 'no-non-repudiation'
  | 'byte-range-invalid'
  | 'modified-after-signing'
  | 'broken-algorithm';

export type WarningCode = 'revocation-unknown' | 'not-qualified' | 'weak-algorithm' | 'no-signing-certificate-attribute' | 'timestamp-invalid';

const OID = {
  essSigningCertificate: '1.2.840.113549.1.9.16.2.12',
  essSigningCertificateV2: '1.2.840.113549.1.9.16.2.47',
  qcCompliance: '0.4.0.1862.1.1',
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  rsaPss: '1.2.840.113549.1.1.10',
  // CAdES unsigned attributes (ETSI EN 319 122-1): what makes a signature B-T and B-LT.
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  certificateValues: '1.2.840.113549.1.9.16.2.23',
  revocationValues: '1.2.840.113549.1.9.16.2.24',
};

const DIGESTS: Record<string, string> = {
  '1.2.840.113549.2.5': 'md5',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.8': 'sha3-256',
  '2.16.840.1.101.3.4.2.9': 'sha3-384',
  '2.16.840.1.101.3.4.2.10': 'sha3-512',
};

/** Digest algorithm OID → node name. */
export const DIGEST_NAMES: Readonly<Record<string, string>> = DIGESTS;

/** Signature algorithms: the digest they imply (when they name one) and the key family. */
const SIGNATURES: Record<string, { digest?: string; family: 'rsa' | 'ecdsa' | 'pss' | 'eddsa' }> = {
  '1.2.840.113549.1.1.1': { family: 'rsa' },
  '1.2.840.113549.1.1.4': { digest: 'md5', family: 'rsa' },
  '1.2.840.113549.1.1.5': { digest: 'sha1', family: 'rsa' },
  '1.2.840.113549.1.1.11': { digest: 'sha256', family: 'rsa' },
  '1.2.840.113549.1.1.12': { digest: 'sha384', family: 'rsa' },
  '1.2.840.113549.1.1.13': { digest: 'sha512', family: 'rsa' },
  '1.2.840.113549.1.1.14': { digest: 'sha224', family: 'rsa' },
  '1.2.840.113549.1.1.10': { family: 'pss' },
  '1.2.840.10045.2.1': { family: 'ecdsa' },
  '1.2.840.10045.4.1': { digest: 'sha1', family: 'ecdsa' },
  '1.2.840.10045.4.3.2': { digest: 'sha256', family: 'ecdsa' },
  '1.2.840.10045.4.3.3': { digest: 'sha384', family: 'ecdsa' },
  '1.2.840.10045.4.3.4': { digest: 'sha512', family: 'ecdsa' },
  '2.16.840.1.101.3.4.3.14': { digest: 'sha3-256', family: 'rsa' },
  '2.16.840.1.101.3.4.3.15': { digest: 'sha3-384', family: 'rsa' },
  '2.16.840.1.101.3.4.3.16': { digest: 'sha3-512', family: 'rsa' },
  '2.16.840.1.101.3.4.3.10': { digest: 'sha3-256', family: 'ecdsa' },
  '2.16.840.1.101.3.4.3.11': { digest: 'sha3-384', family: 'ecdsa' },
  '2.16.840.1.101.3.4.3.12': { digest: 'sha3-512', family: 'ecdsa' },
  // RFC 8419: pure EdDSA over the signed attributes (Ed25519 with SHA-512 message digests).
  '1.3.101.112': { family: 'eddsa' },
  '1.3.101.113': { family: 'eddsa' },
};

export interface SignerInfoParsed {
  sid: { issuerDer: Buffer; serialHex: string } | { subjectKeyId: string };
  digestAlgorithm: string; // node name (sha256…) or the OID when unknown
  signedAttrs: Tlv | null;
  attributes: Map<string, Tlv[]>; // attribute OID → its values
  unsignedAttributes: Map<string, Tlv[]>;
  signatureAlgorithm: string;
  signatureParams: Tlv | null;
  signature: Buffer;
}

export interface SignedDataParsed {
  der: Buffer;
  eContentType: string;
  eContent: Buffer | null;
  certificates: Buffer[];
  signers: SignerInfoParsed[];
}

export class CmsError extends Error {}

/** Parse a DER/BER ContentInfo holding SignedData. Throws CmsError on malformed input. */
export function parseSignedData(input: Buffer): SignedDataParsed {
  try {
    const der = input;
    const ci = readTlv(der, 0);
    const [ctype, wrapped] = children(der, ci);
    if (!ctype || oid(der, ctype) !== OID.signedData) throw new CmsError('not a CMS SignedData');
    if (!wrapped || wrapped.tag !== 0xa0) throw new CmsError('SignedData content missing');
    const sd = children(der, wrapped)[0]!;
    const f = children(der, sd);
    const encap = children(der, f[2]!);
    const eContentType = oid(der, encap[0]!);
    const eContent = encap[1] ? octets(der, children(der, encap[1])[0]!) : null;
    let k = 3;
    const certificates: Buffer[] = [];
    if (f[k]?.tag === 0xa0) {
      for (const c of children(der, f[k]!)) if (c.tag === 0x30) certificates.push(bytesOf(der, c));
      k++;
    }
    if (f[k]?.tag === 0xa1) k++; // CRLs: read with revocation checking
    const signerSet = f[k];
    if (!signerSet || signerSet.tag !== 0x31) throw new CmsError('SignerInfos missing');
    const signers = children(der, signerSet).map((si) => parseSignerInfo(der, si));
    return { der, eContentType, eContent, certificates, signers };
  } catch (e) {
    if (e instanceof CmsError) throw e;
    if (e instanceof Asn1Error || e instanceof TypeError) throw new CmsError(`malformed SignedData: ${e.message}`);
    throw e;
  }
}

function algorithm(der: Buffer, t: Tlv): { id: string; params: Tlv | null } {
  const parts = children(der, t);
  return { id: oid(der, parts[0]!), params: parts[1] && parts[1].tag !== 0x05 ? parts[1] : null };
}

function parseSignerInfo(der: Buffer, si: Tlv): SignerInfoParsed {
  const f = children(der, si);
  const sidTlv = f[1]!;
  let sid: SignerInfoParsed['sid'];
  if (sidTlv.tag === 0x30) {
    const [issuer, serial] = children(der, sidTlv);
    sid = { issuerDer: bytesOf(der, issuer!), serialHex: contentOf(der, serial!).toString('hex').replace(/^(00)+(?=.)/, '') };
  } else {
    sid = { subjectKeyId: contentOf(der, sidTlv).toString('hex') };
  }
  const digestId = algorithm(der, f[2]!).id;
  let k = 3;
  let signedAttrs: Tlv | null = null;
  const attributes = new Map<string, Tlv[]>();
  const readAttributes = (set: Tlv, into: Map<string, Tlv[]>) => {
    for (const attr of children(der, set)) {
      const [type, values] = children(der, attr);
      const id = oid(der, type!);
      into.set(id, [...(into.get(id) ?? []), ...children(der, values!)]);
    }
  };
  if (f[k]?.tag === 0xa0) {
    signedAttrs = f[k]!;
    readAttributes(signedAttrs, attributes);
    k++;
  }
  const sigAlg = algorithm(der, f[k]!);
  const signature = contentOf(der, f[k + 1]!);
  const unsignedAttributes = new Map<string, Tlv[]>();
  if (f[k + 2]?.tag === 0xa1) readAttributes(f[k + 2]!, unsignedAttributes);
  return {
    sid,
    digestAlgorithm: DIGESTS[digestId] ?? digestId,
    signedAttrs,
    attributes,
    unsignedAttributes,
    signatureAlgorithm: sigAlg.id,
    signatureParams: sigAlg.params,
    signature,
  };
}

export interface SignerVerification {
  certificate: CertInfo | null;
  /** The certification path judged (signer first, anchor last when one was reached). */
  chain: CertInfo[];
  warnings: WarningCode[];
  signingTime: Date | null;
  digestAlgorithm: string;
  /** The time the certificate chain was judged at. */
  validationTime: Date;
  problems: ProblemCode[];
  /** Human detail for each problem, for operators. */
  details: string[];
  valid: boolean;
  /** Signature timestamps (unsigned attribute), each verified. */
  timestamps: TimestampReport[];
  /** Revocation data carried by the document (CAdES revocation values, PDF DSS) answers for every certificate below the anchor. */
  embeddedRevocation: boolean;
}

/** Validation data a document carries: PDF DSS, or CAdES certificate and revocation values. */
export interface EmbeddedValidationData {
  certs: CertInfo[];
  crls: CrlInfo[];
  ocsps: OcspInfo[];
}

export interface VerifyOptions {
  /** The signed content when the signature is detached (else eContent is used). */
  detachedContent?: Buffer;
  trust: TrustStore;
  /** The validation time for a signer; given the signer's own signingTime claim. */
  validationTime: (signingTime: Date | null) => Date;
  /**
   * A document signature (CAdES/PAdES) rather than a transport one: also require the ESS
   * signing-certificate binding and nonRepudiation, check revocation, and warn on SHA-1 and
   * on certificates that are not qualified.
   */
  document?: boolean;
  /**
   * Whether a document signature without the ESS signing-certificate attribute is a problem
   * (CAdES, PAdES ETSI.CAdES.detached: default) or only a warning (PAdES adbe.pkcs7.detached,
   * which Adobe, poppler and pyHanko accept without it).
   */
  essRequired?: boolean;
  /** The earliest time a trusted document timestamp proves the signature existed at. */
  proofOfExistence?: Date | null;
  /** Validation data the document carries beside this signature (PDF DSS). */
  embedded?: EmbeddedValidationData;
}

function findCertificate(certs: CertInfo[], sid: SignerInfoParsed['sid']): CertInfo | null {
  if ('subjectKeyId' in sid) return certs.find((c) => c.subjectKeyId === sid.subjectKeyId) ?? null;
  return certs.find((c) => c.serialHex === sid.serialHex && c.issuerDer.equals(sid.issuerDer)) ?? null;
}

function verifySignatureValue(s: SignerInfoParsed, data: Buffer, cert: CertInfo, der: Buffer): boolean {
  const alg = SIGNATURES[s.signatureAlgorithm];
  if (!alg) return false;
  if (alg.family === 'pss') {
    let hash = 'sha1';
    let saltLength = 20;
    if (s.signatureParams) {
      for (const p of children(der, s.signatureParams)) {
        const inner = children(der, p)[0]!;
        if (p.tag === 0xa0) hash = DIGESTS[algorithm(der, inner).id] ?? hash;
        if (p.tag === 0xa2) saltLength = contentOf(der, inner).readUIntBE(0, Math.min(6, inner.contentEnd - inner.contentStart));
      }
    }
    return cryptoVerify(hash, data, { key: cert.x509.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, s.signature);
  }
  if (alg.family === 'eddsa') return cryptoVerify(null, data, cert.x509.publicKey, s.signature);
  const digest = alg.digest ?? s.digestAlgorithm;
  return cryptoVerify(digest, data, cert.x509.publicKey, s.signature);
}

export function verifySignedData(sd: SignedDataParsed, opts: VerifyOptions): SignerVerification[] {
  const der = sd.der;
  const certs: CertInfo[] = [];
  for (const c of sd.certificates) {
    try {
      certs.push(certInfo(c));
    } catch {
      /* an unreadable extra certificate does not spoil the others */
    }
  }
  const content = opts.detachedContent ?? sd.eContent;
  const verifyOne = (s: SignerInfoParsed): SignerVerification => {
    const { problems, details, add, merge } = problemLog<ProblemCode>();
    const warnings: WarningCode[] = [];
    const signingTimeAttr = s.attributes.get(OID.signingTime)?.[0];
    let signingTime: Date | null = null;
    try {
      signingTime = signingTimeAttr ? time(der, signingTimeAttr) : null;
    } catch {
      add('malformed', 'unreadable signingTime attribute');
    }
    const requestedTime = opts.validationTime(signingTime);
    // Validation data and signature timestamps the signature carries (document signatures only).
    const embedded: EmbeddedValidationData = opts.document ? embeddedData(der, s, opts.embedded) : { certs: [], crls: [], ocsps: [] };
    const timestamps = opts.document
      ? (s.unsignedAttributes.get(OID.signatureTimeStampToken) ?? []).map((t) => verifyTimestampToken(bytesOf(der, t), s.signature, 'signature', opts.trust.timestamping ?? opts.trust, requestedTime))
      : [];
    for (const t of timestamps) {
      if (!t.valid && !warnings.includes('timestamp-invalid')) warnings.push('timestamp-invalid');
      if (!t.valid) details.push(...t.details.map((d) => `signature timestamp: ${d}`));
    }
    // The earliest trusted timestamp proves the signature existed then: judge the certificates at that time.
    const proofs = [...timestamps.flatMap((t) => (t.valid && t.genTime ? [t.genTime] : [])), ...(opts.proofOfExistence ? [opts.proofOfExistence] : [])];
    const proof = proofs.length ? new Date(Math.min(...proofs.map((d) => d.getTime()))) : null;
    const validationTime = proof && proof.getTime() < requestedTime.getTime() ? proof : requestedTime;
    const cert = findCertificate([...certs, ...embedded.certs], s.sid);
    let chain: CertInfo[] = [];
    let embeddedRevocation = false;
    const result = (c: CertInfo | null): SignerVerification => ({
      certificate: c, chain, warnings, signingTime, digestAlgorithm: s.digestAlgorithm, validationTime, problems, details, valid: problems.length === 0,
      timestamps: timestamps.map(({ genTime: _g, ...t }) => t), embeddedRevocation,
    });
    if (!cert) {
      add('malformed', 'the signer certificate is not in the signature');
      return result(null);
    }
    if (!content) {
      add('malformed', 'no signed content (detached signature without its content)');
      return result(cert);
    }
    if (!Object.values(DIGESTS).includes(s.digestAlgorithm)) {
      add('malformed', `unsupported digest algorithm ${s.digestAlgorithm}`);
      return result(cert);
    }
    const digest = createHash(s.digestAlgorithm).update(content).digest();
    let signedBytes: Buffer;
    if (s.signedAttrs) {
      const ct = s.attributes.get(OID.contentType) ?? [];
      const md = s.attributes.get(OID.messageDigest) ?? [];
      if (ct.length !== 1 || oid(der, ct[0]!) !== sd.eContentType) add('malformed', 'content-type attribute missing, repeated, or not the content type');
      if (md.length !== 1) add('malformed', 'message-digest attribute missing or repeated');
      else if (!contentOf(der, md[0]!).equals(digest)) add('digest-mismatch', `the content's ${s.digestAlgorithm} digest differs from the signed message-digest: the content was altered`);
      // The signature covers the attributes as received, re-tagged [0] IMPLICIT → SET OF.
      signedBytes = Buffer.from(bytesOf(der, s.signedAttrs));
      signedBytes[0] = 0x31;
    } else {
      signedBytes = content;
    }
    let ok = false;
    try {
      ok = verifySignatureValue(s, signedBytes, cert, der);
    } catch (e) {
      details.push(`signature check error: ${(e as Error).message}`);
    }
    if (!ok) add('bad-signature', `the signature does not verify with the signer's key (${SIGNATURES[s.signatureAlgorithm] ? s.signatureAlgorithm : `unsupported algorithm ${s.signatureAlgorithm}`})`);
    const trust = embedded.crls.length || embedded.ocsps.length
      ? { ...opts.trust, crls: [...opts.trust.crls, ...embedded.crls], ocsps: [...(opts.trust.ocsps ?? []), ...embedded.ocsps] }
      : opts.trust;
    const path = validatePath(cert, [...certs, ...embedded.certs], trust, validationTime);
    merge(path.problems, path.details);
    chain = path.chain;
    embeddedRevocation = embedded.crls.length + embedded.ocsps.length > 0 && chain.length > 1 &&
      chain.slice(0, -1).every((c, i) => revocationStatus(c, chain[i + 1]!, embedded.crls, validationTime, embedded.ocsps).status !== 'unknown');
    if (opts.document) {
      documentChecks(der, s, cert, add, warnings, details, opts.essRequired !== false, validationTime);
      // With a trusted list, "qualified" also needs the issuing CA granted as CA/QC at the time.
      if (opts.trust.tsl && chain.length > 1 && cert.qcStatements.includes(OID.qcCompliance)) {
        const q = qualificationAt(opts.trust.tsl, chain, validationTime);
        if (q.status !== 'granted') {
          if (!warnings.includes('not-qualified')) warnings.push('not-qualified');
          details.push(q.status === 'withdrawn'
            ? `the trusted list shows the issuing CA service "${q.service}" withdrawn since ${q.since?.toISOString()} (at ${validationTime.toISOString()})`
            : `the trusted list has no qualified CA service for the issuer at ${validationTime.toISOString()}`);
        }
      }
      if (path.revocationUnknown && !warnings.includes('revocation-unknown')) warnings.push('revocation-unknown');
    }
    return result(cert);
  };
  // Attribute values are read only here, after parsing: one that is not what its type says
  // (bad lengths, missing fields) makes that signer malformed, as parseSignedData would.
  return sd.signers.map((s): SignerVerification => {
    try {
      return verifyOne(s);
    } catch (e) {
      if (!(e instanceof Asn1Error || e instanceof TypeError)) throw e;
      return {
        certificate: null, chain: [], warnings: [], signingTime: null, digestAlgorithm: s.digestAlgorithm, validationTime: opts.validationTime(null),
        problems: ['malformed'], details: [`unreadable signer information: ${e.message}`], valid: false, timestamps: [], embeddedRevocation: false,
      };
    }
  });
}

/** CAdES certificate-values and revocation-values (CRLs) of a signer, with what the caller adds. */
function embeddedData(der: Buffer, s: SignerInfoParsed, extra: EmbeddedValidationData | undefined): EmbeddedValidationData {
  const certs = [...(extra?.certs ?? [])];
  const crls = [...(extra?.crls ?? [])];
  const ocsps = [...(extra?.ocsps ?? [])];
  for (const v of s.unsignedAttributes.get(OID.certificateValues) ?? []) {
    for (const c of children(der, v)) {
      try {
        certs.push(certInfo(bytesOf(der, c)));
      } catch {
        /* an unreadable certificate value helps nobody; the path decides */
      }
    }
  }
  for (const v of s.unsignedAttributes.get(OID.revocationValues) ?? []) {
    // RevocationValues ::= SEQUENCE { crlVals [0] SEQUENCE OF CertificateList, ocspVals [1] SEQUENCE OF BasicOCSPResponse, … }
    for (const choice of children(der, v)) {
      if (choice.tag !== 0xa0 && choice.tag !== 0xa1) continue;
      for (const list of children(der, choice)) {
        for (const item of children(der, list)) {
          try {
            if (choice.tag === 0xa0) crls.push(parseCrl(bytesOf(der, item), 'CAdES revocation values'));
            else ocsps.push(parseOcspResponse(bytesOf(der, item), 'CAdES revocation values'));
          } catch {
            /* idem */
          }
        }
      }
    }
  }
  return { certs, crls, ocsps };
}

/** The ESS certificate binding: which certificate the signer meant to sign with. */
function essCertHashes(der: Buffer, s: SignerInfoParsed): { version: 1 | 2; hashes: Array<{ digest: string; hash: Buffer }> } | null {
  const v2 = s.attributes.get(OID.essSigningCertificateV2);
  const v1 = s.attributes.get(OID.essSigningCertificate);
  const value = v2?.[0] ?? v1?.[0];
  if (!value) return null;
  const certIds = children(der, children(der, value)[0]!);
  return {
    version: v2 ? 2 : 1,
    hashes: certIds.map((id) => {
      const f = children(der, id);
      if (!v2) return { digest: 'sha1', hash: contentOf(der, f[0]!) };
      // ESSCertIDv2: hashAlgorithm DEFAULT sha256, then certHash.
      if (f[0]!.tag === 0x30) return { digest: DIGESTS[algorithm(der, f[0]!).id] ?? 'unknown', hash: contentOf(der, f[1]!) };
      return { digest: 'sha256', hash: contentOf(der, f[0]!) };
    }),
  };
}

function documentChecks(
  der: Buffer, s: SignerInfoParsed, cert: CertInfo, add: (p: ProblemCode, d: string) => void, warnings: WarningCode[], details: string[], essRequired: boolean, signedAt: Date,
): void {
  const warn = (w: WarningCode) => {
    if (!warnings.includes(w)) warnings.push(w);
  };
  const ess = essCertHashes(der, s);
  const attrCount = (s.attributes.get(OID.essSigningCertificateV2)?.length ?? 0) + (s.attributes.get(OID.essSigningCertificate)?.length ?? 0);
  if (!ess) {
    if (essRequired) add('signing-certificate-mismatch', 'no ESS signing-certificate attribute binds the signer certificate');
    else warn('no-signing-certificate-attribute');
  }
  else if (attrCount > 1) add('signing-certificate-mismatch', 'more than one ESS signing-certificate attribute');
  else {
    const first = ess.hashes[0];
    if (!first || first.digest === 'unknown' || !createHash(first.digest).update(cert.der).digest().equals(first.hash)) {
      add('signing-certificate-mismatch', 'the ESS signing-certificate hash is not the hash of the signer certificate');
    }
    if (ess.version === 1) warn('weak-algorithm');
  }
  if (!cert.keyUsage || !cert.keyUsage.has('nonRepudiation')) {
    add('no-non-repudiation', 'the signer certificate is not for non-repudiation (keyUsage)');
  }
  if (!cert.qcStatements.includes(OID.qcCompliance)) warn('not-qualified');
  // The algorithm policy, judged at the time the signature provably existed. A key OpenSSL
  // cannot decode has already failed the signature check (bad-signature): nothing to judge.
  let key: KeyObject;
  try {
    key = cert.x509.publicKey;
  } catch {
    return;
  }
  const sigDigest = SIGNATURES[s.signatureAlgorithm]?.digest;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? (key.asymmetricKeyDetails?.namedCurve ? curveBits(key.asymmetricKeyDetails.namedCurve) : null);
  for (const digest of new Set([s.digestAlgorithm, ...(sigDigest ? [sigDigest] : [])])) {
    for (const f of algorithmFindings({ digest, keyType: key.asymmetricKeyType, keyBits: bits }, signedAt)) {
      if (f.severity === 'broken') add('broken-algorithm', f.reason);
      else {
        warn('weak-algorithm');
        details.push(f.reason);
      }
    }
  }
}

function curveBits(curve: string): number | null {
  const m = /(\d{3})/.exec(curve);
  return m ? Number(m[1]) : null;
}
