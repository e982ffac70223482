// RFC 3161 time-stamp tokens: signature timestamps (CAdES/PAdES unsigned attribute over the
// signature value) and PDF document timestamps (ETSI.RFC3161 over the byte ranges). A token
// is a CMS SignedData whose content is a TSTInfo; it proves that the stamped bytes existed at
// its genTime when its imprint matches, its signature verifies and its signer is a
// time-stamping authority chaining to the timestamping anchors.
import { createHash } from 'node:crypto';
import { children, contentOf, oid, readTlv, time } from './der.js';
import { CmsError, DIGEST_NAMES, parseSignedData, verifySignedData, type ProblemCode } from './cms.js';
import type { TrustStore } from './trust.js';
import { problemLog } from './problem-log.js';

export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export interface TimestampReport {
  /** signature: over one signature's value; document: a PDF document timestamp. */
  kind: 'signature' | 'document';
  /** The TSA's genTime (ISO), null when unreadable. */
  time: string | null;
  valid: boolean;
  /** The time-stamping authority's common name. */
  tsa: string | null;
  problems: ProblemCode[];
  details: string[];
}

export interface TstInfo {
  policy: string;
  digest: string;
  imprint: Buffer;
  serialHex: string;
  genTime: Date;
}

/** TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, … } */
export function parseTstInfo(der: Buffer): TstInfo {
  const f = children(der, readTlv(der, 0));
  const [, policy, imprint, serial, gen] = f;
  if (!policy || !imprint || !serial || !gen) throw new CmsError('TSTInfo is incomplete');
  const [alg, hash] = children(der, imprint);
  const digestOid = oid(der, children(der, alg!)[0]!);
  return {
    policy: oid(der, policy),
    digest: DIGEST_NAMES[digestOid] ?? digestOid,
    imprint: contentOf(der, hash!),
    serialHex: contentOf(der, serial).toString('hex'),
    genTime: time(der, gen),
  };
}

/**
 * Verify a time-stamp token over `stamped` (the bytes whose hash it must carry), judging the
 * TSA's certificate at `at`.
 */
export function verifyTimestampToken(token: Buffer, stamped: Buffer, kind: TimestampReport['kind'], trust: TrustStore, at: Date): TimestampReport & { genTime: Date | null } {
  const { problems, details, add: fail } = problemLog<ProblemCode>();
  let genTime: Date | null = null;
  let tsa: string | null = null;
  try {
    const sd = parseSignedData(token);
    if (sd.eContentType !== OID_TST_INFO || !sd.eContent) throw new CmsError('the token does not hold a TSTInfo');
    const info = parseTstInfo(sd.eContent);
    genTime = info.genTime;
    if (!Object.values(DIGEST_NAMES).includes(info.digest)) fail('malformed', `the timestamp's imprint uses an unsupported digest ${info.digest}`);
    else if (!createHash(info.digest).update(stamped).digest().equals(info.imprint)) {
      fail('digest-mismatch', `the timestamp's message imprint is not the ${info.digest} of the ${kind === 'document' ? 'document' : 'signature value'} it claims to stamp`);
    }
    const v = verifySignedData(sd, { trust, validationTime: () => at })[0];
    if (!v) fail('malformed', 'the timestamp token has no signer');
    else {
      tsa = v.certificate?.subject.commonName ?? null;
      for (let i = 0; i < v.problems.length; i++) if (!problems.includes(v.problems[i]!)) problems.push(v.problems[i]!);
      details.push(...v.details);
      // RFC 3161 §2.3: the TSA's certificate is for time-stamping (and only that).
      if (v.certificate && !(v.certificate.extKeyUsage ?? []).includes(KP_TIME_STAMPING)) {
        fail('untrusted-chain', `"${tsa ?? 'the signer'}" is not a time-stamping authority certificate (extendedKeyUsage timeStamping)`);
      }
    }
    if (sd.signers.length !== 1) fail('malformed', 'a timestamp token has exactly one signer');
  } catch (e) {
    fail('malformed', `unreadable timestamp token: ${(e as Error).message}`);
  }
  return { kind, time: genTime?.toISOString() ?? null, valid: problems.length === 0, tsa, problems, details, genTime };
}
