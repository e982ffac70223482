// Algorithm policy for document signatures, after ETSI TS 119 312 (and TS 102 176-1 before
// it): an algorithm broken outright fails the signature; one past its end date for new
// signatures is a warning — unless the signature provably existed before that date (the time
// given is the earliest trusted timestamp when there is one). Pure: data and a time in.

export interface AlgorithmUse {
  /** Message digest (node name: md5, sha1, sha256…). */
  digest: string;
  /** Key type of the signer's key (rsa, rsa-pss, ec, ed25519…). */
  keyType: string | undefined;
  /** RSA modulus or EC curve size in bits, when known. */
  keyBits: number | null;
}

export interface AlgorithmFinding {
  severity: 'broken' | 'weak';
  reason: string;
}

/** Last day an algorithm was fit for new signatures (exclusive end). */
const SHA1_END = new Date('2010-01-01T00:00:00Z'); // TS 102 176-1: SHA-1 not for signatures after 2009
const RSA_1024_END = new Date('2011-01-01T00:00:00Z'); // RSA below 2048 bits: not after 2010
const EC_SMALL_END = new Date('2011-01-01T00:00:00Z'); // EC below 256 bits: idem

export function algorithmFindings(use: AlgorithmUse, signedAt: Date): AlgorithmFinding[] {
  const out: AlgorithmFinding[] = [];
  const after = (end: Date) => signedAt.getTime() >= end.getTime();
  if (use.digest === 'md5' || use.digest === 'md2') out.push({ severity: 'broken', reason: `${use.digest.toUpperCase()} digests can be forged (collisions are practical)` });
  else if (use.digest === 'sha1' && after(SHA1_END)) out.push({ severity: 'weak', reason: `SHA-1 is not fit for signatures made after 2009 (this one: ${signedAt.toISOString()})` });
  const bits = use.keyBits;
  if (bits !== null && use.keyType?.startsWith('rsa')) {
    if (bits < 1024) out.push({ severity: 'broken', reason: `an RSA key of ${bits} bits can be factored` });
    else if (bits < 2048 && after(RSA_1024_END)) out.push({ severity: 'weak', reason: `an RSA key of ${bits} bits is not fit for signatures made after 2010` });
  }
  if (bits !== null && use.keyType === 'ec' && bits < 256 && after(EC_SMALL_END)) out.push({ severity: 'weak', reason: `an EC key of ${bits} bits is not fit for signatures made after 2010` });
  return out;
}
