// Certification path validation (RFC 5280 §6), one implementation for PEC envelopes and
// signed documents: build every path from the signer to a trust anchor out of the
// certificates the signature carries, then judge each at the validation time — signatures,
// validity, CA bit, keyCertSign, pathLen, name constraints, unknown critical extensions and
// revocation (CRLs of the trust store, and the CRLs and OCSP responses a document carries or
// that were fetched online). The first path that holds wins; otherwise the
// problems of the best candidate are reported.
import type { OcspInfo } from './ocsp.js';
import { revocationStatus, type CrlInfo } from './revocation.js';
import type { TrustAnchors, TrustStore } from './trust.js';
import { authorityKeyIdOf, type CertInfo, type GeneralName } from './x509.js';
import { children, readTlv } from './der.js';
import { problemLog } from './problem-log.js';

export type PathProblem = 'untrusted-chain' | 'cert-expired' | 'cert-not-yet-valid' | 'cert-revoked';

export interface PathResult {
  problems: PathProblem[];
  /** Operator-readable reasons behind the codes. */
  details: string[];
  /** Signer first, anchor last (when one was reached). */
  chain: CertInfo[];
  /** Some certificate of the path has no CRL saying whether it was revoked at the time. */
  revocationUnknown: boolean;
}

const MAX_DEPTH = 8;

export const describeCert = (c: CertInfo) => c.x509.subject.replace(/\n/g, ', ');

/**
 * Did `parent`'s key sign `child`, under `parent`'s name? Names are compared as encoded first;
 * OpenSSL's check (which also normalises names) is the fallback. Whether `parent` may act as
 * a CA is judged on the path, so that the reason can be told.
 */
function issuedBy(child: CertInfo, parent: CertInfo): boolean {
  try {
    return (child.issuerDer.equals(parent.subjectDer) || child.x509.checkIssued(parent.x509)) && child.x509.verify(parent.x509.publicKey);
  } catch {
    return false;
  }
}

const selfIssued = (c: CertInfo) => c.issuerDer.equals(c.subjectDer);

/**
 * The anchors that may have issued `child`, looked up in the store's index rather than tried one
 * by one: those named as its issuer (as encoded, or normalised as OpenSSL compares names, which
 * covers every anchor `issuedBy` could accept), else those whose subjectKeyIdentifier is its
 * authorityKeyIdentifier; every anchor when its issuer name cannot be read. Store order.
 */
function anchorIssuers(child: CertInfo, anchors: TrustAnchors): CertInfo[] {
  const named = anchors.withSubject(child.issuerDer);
  if (named === null) return anchors.usable();
  if (named.length) return named;
  const aki = authorityKeyIdOf(child.der);
  return aki ? anchors.withSubjectKeyId(aki) : [];
}

/** Every candidate path from `signer` to an anchor (signer first), shortest first. */
function candidatePaths(signer: CertInfo, pool: CertInfo[], anchors: TrustAnchors): CertInfo[][] {
  const found: CertInfo[][] = [];
  const walk = (path: CertInfo[]) => {
    if (found.length >= 16 || path.length > MAX_DEPTH) return;
    const current = path[path.length - 1]!;
    // The certificate itself is an anchor (a directly trusted provider certificate).
    if (anchors.includes(current)) {
      found.push(path);
      return;
    }
    for (const a of anchorIssuers(current, anchors)) if (issuedBy(current, a)) found.push([...path, a]);
    for (const c of pool) {
      if (path.some((p) => p.sha256 === c.sha256) || anchors.includes(c)) continue;
      if (issuedBy(current, c)) walk([...path, c]);
    }
  };
  walk([signer]);
  return found.sort((a, b) => a.length - b.length);
}

// ---------------------------------------------------------------------------------------
// Name constraints (RFC 5280 §4.2.1.10)

function emailMatches(email: string, constraint: string): boolean {
  const c = constraint.toLowerCase();
  const host = email.slice(email.lastIndexOf('@') + 1);
  if (c.includes('@')) return email === c;
  if (c.startsWith('.')) return host.endsWith(c);
  return host === c;
}

function dnsMatches(name: string, constraint: string): boolean {
  const c = constraint.toLowerCase().replace(/^\./, '');
  return c === '' || name === c || name.endsWith(`.${c}`);
}

/** RDN sequence of a DER Name, each RDN as bytes. */
function rdns(nameDer: Buffer): Buffer[] {
  return children(nameDer, readTlv(nameDer, 0)).map((r) => Buffer.from(nameDer.subarray(r.start, r.end)));
}

function directoryMatches(nameDer: Buffer, constraintDer: Buffer): boolean {
  const n = rdns(nameDer);
  const c = rdns(constraintDer);
  return c.length <= n.length && c.every((r, i) => r.equals(n[i]!));
}

function matches(name: GeneralName, constraint: GeneralName): boolean | null {
  if (name.kind === 'email' && constraint.kind === 'email') return emailMatches(name.value, constraint.value);
  if (name.kind === 'dns' && constraint.kind === 'dns') return dnsMatches(name.value, constraint.value);
  if (name.kind === 'directory' && constraint.kind === 'directory') return directoryMatches(name.der, constraint.der);
  if (name.kind === 'other' && constraint.kind === 'other' && name.tag === constraint.tag) return null; // cannot judge
  return false;
}

const sameKind = (a: GeneralName, b: GeneralName) => a.kind === b.kind && (a.kind !== 'other' || (b.kind === 'other' && a.tag === b.tag));

/** The names a CA's constraints apply to: SAN entries, subject emailAddress, the subject DN. */
function namesOf(c: CertInfo): GeneralName[] {
  const names: GeneralName[] = [...c.altNames, ...c.subjectEmails.map((value) => ({ kind: 'email' as const, value }))];
  if (rdns(c.subjectDer).length > 0) names.push({ kind: 'directory', der: c.subjectDer });
  return names;
}

function nameViolation(c: CertInfo, nc: NonNullable<CertInfo['nameConstraints']>): string | null {
  for (const name of namesOf(c)) {
    const label = name.kind === 'email' || name.kind === 'dns' ? name.value : name.kind === 'directory' ? 'its subject name' : `a name of type [${name.tag & 0x1f}]`;
    for (const ex of nc.excluded) {
      if (!sameKind(name, ex)) continue;
      const m = matches(name, ex);
      if (m !== false) return `${label} falls in an excluded subtree`;
    }
    const permitted = nc.permitted.filter((p) => sameKind(name, p));
    if (permitted.length === 0) continue;
    if (!permitted.some((p) => matches(name, p) === true)) return `${label} is outside the permitted subtrees`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------

/** Judge one path (signer first, anchor last) at `at`. */
function judgePath(path: CertInfo[], crls: CrlInfo[], ocsps: OcspInfo[], at: Date): PathResult {
  const { problems, details, add } = problemLog<PathProblem>();
  let revocationUnknown = false;
  for (const c of path) {
    if (at.getTime() > new Date(c.x509.validTo).getTime()) {
      add('cert-expired', `certificate "${describeCert(c)}" expired on ${new Date(c.x509.validTo).toISOString()} (validation time ${at.toISOString()})`);
    } else if (at.getTime() < new Date(c.x509.validFrom).getTime()) {
      add('cert-not-yet-valid', `certificate "${describeCert(c)}" not valid before ${new Date(c.x509.validFrom).toISOString()} (validation time ${at.toISOString()})`);
    }
    if (c.unknownCriticalExtensions.length) {
      add('untrusted-chain', `certificate "${describeCert(c)}" has critical extensions this validator does not understand: ${c.unknownCriticalExtensions.join(', ')}`);
    }
  }
  // Every issuer in the path (intermediates and the anchor) must be a CA allowed to sign certificates.
  for (let j = 1; j < path.length; j++) {
    const issuer = path[j]!;
    const isAnchor = j === path.length - 1;
    const bc = issuer.basicConstraints;
    // An anchor without basicConstraints (v1) is trusted as configured; anything else must say cA.
    const isCa = bc ? bc.ca : isAnchor;
    if (!isCa) {
      add('untrusted-chain', `"${describeCert(issuer)}" issued "${describeCert(path[j - 1]!)}" but is not a CA certificate (basicConstraints cA)`);
    }
    if (issuer.keyUsage && !issuer.keyUsage.has('keyCertSign')) {
      add('untrusted-chain', `"${describeCert(issuer)}" issued "${describeCert(path[j - 1]!)}" but its keyUsage lacks keyCertSign`);
    }
    // pathLen: CA certificates (not self-issued) strictly between the signer and this issuer.
    if (bc?.pathLen !== null && bc?.pathLen !== undefined) {
      const below = path.slice(1, j).filter((c) => !selfIssued(c)).length;
      if (below > bc.pathLen) {
        add('untrusted-chain', `"${describeCert(issuer)}" allows ${bc.pathLen} intermediate CA(s) below it (pathLenConstraint) and the path has ${below}`);
      }
    }
    if (issuer.nameConstraints) {
      for (let k = 0; k < j; k++) {
        const c = path[k]!;
        if (k > 0 && selfIssued(c)) continue;
        const why = nameViolation(c, issuer.nameConstraints);
        if (why) add('untrusted-chain', `certificate "${describeCert(c)}" violates the name constraints of "${describeCert(issuer)}": ${why}`);
      }
    }
  }
  // Revocation of every certificate below the anchor, by CRLs its issuer signed.
  for (let i = 0; i < path.length - 1; i++) {
    const st = revocationStatus(path[i]!, path[i + 1]!, crls, at, ocsps);
    if (st.status === 'revoked') add('cert-revoked', `certificate "${describeCert(path[i]!)}" revoked on ${st.at.toISOString()} (${st.crl})`);
    else if (st.status === 'unknown') revocationUnknown = true;
  }
  return { problems, details, chain: path, revocationUnknown };
}

/**
 * Validate the signer certificate at `at` against the trust store, with `pool` (the
 * certificates carried by the signature) as candidate intermediates.
 */
export function validatePath(signer: CertInfo, pool: CertInfo[], trust: TrustStore, at: Date): PathResult {
  const paths = candidatePaths(signer, pool, trust.anchors);
  if (paths.length === 0) {
    return {
      problems: ['untrusted-chain'],
      details: [`no chain from "${describeCert(signer)}" to a certificate in ${trust.source}`],
      chain: [signer],
      revocationUnknown: false,
    };
  }
  const judged = paths.map((p) => judgePath(p, trust.crls, trust.ocsps ?? [], at));
  return judged.find((r) => r.problems.length === 0) ?? judged.sort((a, b) => a.problems.length - b.problems.length)[0]!;
}
