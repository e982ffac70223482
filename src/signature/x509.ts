// Certificate facts node:crypto does not expose (issuer bytes, serial, SKI, keyUsage bits),
// read from the DER; node:crypto's X509Certificate does the rest (any key type, EC included).
import { createHash, X509Certificate } from 'node:crypto';
import { isValidPersonalFiscalCode } from '../desk/fiscal-code.js';
import { bytesOf, children, contentOf, oid, readTlv, type Tlv } from './der.js';

export interface CertInfo {
  x509: X509Certificate;
  der: Buffer;
  serialHex: string;
  issuerDer: Buffer;
  subjectDer: Buffer;
  subjectKeyId: string | null;
  /** keyUsage bits by name, or null when the extension is absent. */
  keyUsage: Set<string> | null;
  /** QCStatements statement ids (1.3.6.1.5.5.7.1.3), empty when absent. */
  qcStatements: string[];
  /** CRL distribution point URIs. */
  crlDistributionPoints: string[];
  /** OCSP responder URIs (authorityInfoAccess id-ad-ocsp). */
  ocspUrls: string[];
  subject: Identity;
  /** basicConstraints: null when the extension is absent. */
  basicConstraints: { ca: boolean; pathLen: number | null } | null;
  /** Extended key usage OIDs, or null when the extension is absent. */
  extKeyUsage: string[] | null;
  /** certificatePolicies policy identifiers (empty when absent). */
  policies: string[];
  /** subjectAltName entries of the kinds path validation and PEC care about. */
  altNames: GeneralName[];
  /** emailAddress attributes of the subject DN (lower-case). */
  subjectEmails: string[];
  nameConstraints: { permitted: GeneralName[]; excluded: GeneralName[] } | null;
  /** Critical extensions this code does not understand (RFC 5280: such a certificate is rejected). */
  unknownCriticalExtensions: string[];
  /** The certificate's own SHA-1 and SHA-256 fingerprints (lower-case hex). */
  sha1: string;
  sha256: string;
}

/** The GeneralName forms read here; others are kept by kind only. */
export type GeneralName =
  | { kind: 'email'; value: string }
  | { kind: 'dns'; value: string }
  | { kind: 'directory'; der: Buffer }
  | { kind: 'other'; tag: number };

export interface Identity {
  commonName: string | null;
  givenName: string | null;
  surname: string | null;
  /** The codice fiscale from serialNumber (`TINIT-`, `IT:` and the other forms), else null. */
  fiscalCode: string | null;
  serialNumber: string | null;
  organization: string | null;
  country: string | null;
}

const NAME_OIDS: Record<string, keyof Identity> = {
  '2.5.4.3': 'commonName',
  '2.5.4.42': 'givenName',
  '2.5.4.4': 'surname',
  '2.5.4.5': 'serialNumber',
  '2.5.4.10': 'organization',
  '2.5.4.6': 'country',
};

const EMAIL_ADDRESS_OID = '1.2.840.113549.1.9.1';

/**
 * Extensions this code reads, or may pass over, when they are marked critical. The policy
 * extensions (mappings, constraints, inhibitAnyPolicy — RFC 5280 makes some of them critical)
 * are passed over: no policy tree is built, the PEC policy is required of the signer itself.
 */
const UNDERSTOOD_EXTENSIONS = new Set([
  '2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.18', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.32',
  '2.5.29.33', '2.5.29.35', '2.5.29.36', '2.5.29.37', '2.5.29.46', '2.5.29.54', '2.5.29.9',
  '1.3.6.1.5.5.7.1.1', '1.3.6.1.5.5.7.1.3',
]);

function generalName(buf: Buffer, t: Tlv): GeneralName {
  if (t.tag === 0x81) return { kind: 'email', value: contentOf(buf, t).toString('latin1').toLowerCase() };
  if (t.tag === 0x82) return { kind: 'dns', value: contentOf(buf, t).toString('latin1').toLowerCase().replace(/\.$/, '') };
  // directoryName is [4] EXPLICIT Name.
  if (t.tag === 0xa4) return { kind: 'directory', der: Buffer.from(bytesOf(buf, children(buf, t)[0]!)) };
  return { kind: 'other', tag: t.tag };
}

/** The subject's emailAddress attributes, lower-case. */
function nameEmails(nameDer: Buffer): string[] {
  const out: string[] = [];
  for (const rdn of children(nameDer, readTlv(nameDer, 0))) {
    for (const atv of children(nameDer, rdn)) {
      const [type, value] = children(nameDer, atv);
      if (oid(nameDer, type!) === EMAIL_ADDRESS_OID) out.push(contentOf(nameDer, value!).toString('latin1').toLowerCase());
    }
  }
  return out;
}

function directoryString(buf: Buffer, t: Tlv): string {
  const v = contentOf(buf, t);
  if (t.tag === 0x1e) {
    // BMPString: UTF-16 big-endian.
    const swapped = Buffer.from(v);
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  if (t.tag === 0x14) return v.toString('latin1'); // T61String, as latin1 in practice
  return v.toString('utf8');
}

/**
 * The holder's codice fiscale from the subject serialNumber, in the forms Italian CAs have used:
 * `TINIT-<CF>` (ETSI EN 319 412-1), `IT:<CF>` (CNIPA deliberation 45/2009, most certificates
 * issued before 2016), `TIN:IT-<CF>` and `TINIT:<CF>` seen in between, or the bare code when its
 * check character holds. Identity-document numbers (`IDCIT-`, `PASIT-`) are not fiscal codes.
 */
export function fiscalCodeFromSerialNumber(serialNumber: string | null): string | null {
  const sn = (serialNumber ?? '').trim().toUpperCase();
  const m = /^(?:TINIT[-:]|IT:|TIN:IT-)\s*([A-Z0-9]{16})$/.exec(sn);
  if (m) return m[1]!;
  return /^[A-Z0-9]{16}$/.test(sn) && isValidPersonalFiscalCode(sn) ? sn : null;
}

/** Identity fields from an X.501 Name (DER). */
export function nameIdentity(nameDer: Buffer): Identity {
  const id: Identity = { commonName: null, givenName: null, surname: null, fiscalCode: null, serialNumber: null, organization: null, country: null };
  const name = readTlv(nameDer, 0);
  for (const rdn of children(nameDer, name)) {
    for (const atv of children(nameDer, rdn)) {
      const [type, value] = children(nameDer, atv);
      const key = NAME_OIDS[oid(nameDer, type!)];
      if (key && id[key] === null) id[key] = directoryString(nameDer, value!);
    }
  }
  id.fiscalCode = fiscalCodeFromSerialNumber(id.serialNumber);
  return id;
}

const KEY_USAGE = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

export function certInfo(der: Buffer): CertInfo {
  const x509 = new X509Certificate(der);
  const cert = readTlv(der, 0);
  const [tbs] = children(der, cert);
  const f = children(der, tbs!);
  let i = 0;
  if (f[0]!.tag === 0xa0) i++; // explicit version
  const serial = contentOf(der, f[i]!);
  const issuer = f[i + 2]!;
  const subject = f[i + 4]!;
  let subjectKeyId: string | null = null;
  let keyUsage: Set<string> | null = null;
  const qcStatements: string[] = [];
  const crlDistributionPoints: string[] = [];
  const ocspUrls: string[] = [];
  let basicConstraints: CertInfo['basicConstraints'] = null;
  let extKeyUsage: string[] | null = null;
  const policies: string[] = [];
  const altNames: GeneralName[] = [];
  let nameConstraints: CertInfo['nameConstraints'] = null;
  const unknownCriticalExtensions: string[] = [];
  const extWrapper = f.find((t: Tlv) => t.tag === 0xa3);
  if (extWrapper) {
    for (const ext of children(der, children(der, extWrapper)[0]!)) {
      const parts = children(der, ext);
      const id = oid(der, parts[0]!);
      const critical = parts.length === 3 && parts[1]!.tag === 0x01 && der[parts[1]!.contentStart] !== 0;
      if (critical && !UNDERSTOOD_EXTENSIONS.has(id)) unknownCriticalExtensions.push(id);
      const value = contentOf(der, parts[parts.length - 1]!);
      if (id === '2.5.29.19') {
        let ca = false;
        let pathLen: number | null = null;
        for (const c of children(value, readTlv(value, 0))) {
          if (c.tag === 0x01) ca = value[c.contentStart] !== 0;
          if (c.tag === 0x02) pathLen = contentOf(value, c).readUIntBE(0, Math.min(6, c.contentEnd - c.contentStart));
        }
        basicConstraints = { ca, pathLen };
      }
      if (id === '2.5.29.37') extKeyUsage = children(value, readTlv(value, 0)).map((o) => oid(value, o));
      if (id === '2.5.29.32') for (const pi of children(value, readTlv(value, 0))) policies.push(oid(value, children(value, pi)[0]!));
      if (id === '2.5.29.17') for (const gn of children(value, readTlv(value, 0))) altNames.push(generalName(value, gn));
      if (id === '2.5.29.30') {
        nameConstraints = { permitted: [], excluded: [] };
        for (const subtrees of children(value, readTlv(value, 0))) {
          const into = subtrees.tag === 0xa0 ? nameConstraints.permitted : subtrees.tag === 0xa1 ? nameConstraints.excluded : null;
          for (const st of into ? children(value, subtrees) : []) into!.push(generalName(value, children(value, st)[0]!));
        }
      }
      if (id === '2.5.29.14') subjectKeyId = contentOf(value, readTlv(value, 0)).toString('hex');
      if (id === '1.3.6.1.5.5.7.1.3') {
        for (const st of children(value, readTlv(value, 0))) qcStatements.push(oid(value, children(value, st)[0]!));
      }
      if (id === '2.5.29.31') {
        // DistributionPoint → [0] fullName → [6] uniformResourceIdentifier (short form length).
        for (let p = 0; p < value.length - 1; p++) {
          if (value[p] !== 0x86 || value[p + 1]! >= 0x80) continue;
          const uri = value.toString('latin1', p + 2, p + 2 + value[p + 1]!);
          if (/^(https?|ldap):\/\/\S+$/.test(uri)) (crlDistributionPoints.push(uri), (p += 1 + value[p + 1]!));
        }
      }
      if (id === '1.3.6.1.5.5.7.1.1') {
        // AuthorityInfoAccess: AccessDescription { accessMethod, accessLocation [6] URI }.
        for (const ad of children(value, readTlv(value, 0))) {
          const [method, location] = children(value, ad);
          if (method && location?.tag === 0x86 && oid(value, method) === '1.3.6.1.5.5.7.48.1') {
            const uri = contentOf(value, location).toString('latin1');
            if (/^https?:\/\/\S+$/.test(uri)) ocspUrls.push(uri);
          }
        }
      }
      if (id === '2.5.29.15') {
        const bits = contentOf(value, readTlv(value, 0));
        keyUsage = new Set();
        for (let b = 0; b < KEY_USAGE.length; b++) {
          const byte = bits[1 + (b >> 3)];
          if (byte !== undefined && byte & (0x80 >> (b & 7))) keyUsage.add(KEY_USAGE[b]!);
        }
      }
    }
  }
  return {
    x509,
    der,
    serialHex: serial.toString('hex').replace(/^(00)+(?=.)/, ''),
    issuerDer: bytesOf(der, issuer),
    subjectDer: bytesOf(der, subject),
    subjectKeyId,
    keyUsage,
    qcStatements,
    crlDistributionPoints,
    ocspUrls,
    subject: nameIdentity(bytesOf(der, subject)),
    basicConstraints,
    extKeyUsage,
    policies,
    altNames,
    subjectEmails: nameEmails(bytesOf(der, subject)),
    nameConstraints,
    unknownCriticalExtensions,
    sha1: createHash('sha1').update(der).digest('hex'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

/** Every certificate in PEM text (bundles included). */
export function certificatesFromPem(text: string): Buffer[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

// ---------------------------------------------------------------------------------------
// Light reads for trust-store indexing, straight from the DER: no node:crypto parse, no
// decoding of the extensions that certInfo reads.

/** The TBSCertificate fields of a certificate, up to the subject public key info. Throws on malformed DER. */
function tbsFields(der: Buffer): Tlv[] {
  const cert = readTlv(der, 0);
  if (cert.tag !== 0x30) throw new Error('not an X.509 Certificate');
  const tbs = readTlv(der, cert.contentStart, cert.contentEnd);
  if (tbs.tag !== 0x30) throw new Error('not an X.509 Certificate');
  const f: Tlv[] = [];
  for (let p = tbs.contentStart; p < tbs.contentEnd; ) {
    const t = readTlv(der, p, tbs.contentEnd);
    f.push(t);
    p = t.end;
  }
  return f;
}

/** The subject Name (DER) of a certificate, read without parsing the rest. Throws on malformed DER. */
export function certificateSubject(der: Buffer): Buffer {
  const f = tbsFields(der);
  const i = f[0]?.tag === 0xa0 ? 1 : 0; // explicit version
  const subject = f[i + 4];
  if (f[i]?.tag !== 0x02 || f[i + 2]?.tag !== 0x30 || f[i + 3]?.tag !== 0x30 || subject?.tag !== 0x30 || f[i + 5]?.tag !== 0x30) {
    throw new Error('malformed TBSCertificate');
  }
  return bytesOf(der, subject);
}

/** The value (OCTET STRING contents) of one extension, null when absent or unreadable. */
function extensionValue(der: Buffer, id: string): Buffer | null {
  try {
    const extWrapper = tbsFields(der).find((t) => t.tag === 0xa3);
    if (!extWrapper) return null;
    for (const ext of children(der, children(der, extWrapper)[0]!)) {
      const p = children(der, ext);
      if (oid(der, p[0]!) === id) return contentOf(der, p[p.length - 1]!);
    }
  } catch {
    /* unreadable: as if absent */
  }
  return null;
}

/** subjectKeyIdentifier (hex), null when absent. */
export function subjectKeyIdOf(der: Buffer): string | null {
  const value = extensionValue(der, '2.5.29.14');
  try {
    return value ? contentOf(value, readTlv(value, 0)).toString('hex') : null;
  } catch {
    return null;
  }
}

/** authorityKeyIdentifier keyIdentifier (hex), null when absent. */
export function authorityKeyIdOf(der: Buffer): string | null {
  const value = extensionValue(der, '2.5.29.35');
  try {
    const keyId = value ? children(value, readTlv(value, 0)).find((t) => t.tag === 0x80) : undefined;
    return keyId ? contentOf(value!, keyId).toString('hex') : null;
  } catch {
    return null;
  }
}

const FNV_PRIME = 0x01000193;
/** Murmur3's finaliser: every input bit moves every output bit (FNV alone adds up linearly). */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * Hash of one attribute value (the element `tag` at [start, end), contents from `s`) as OpenSSL
 * compares names (X509_NAME_cmp): for the string types it normalises (UTF8, Printable, T61 as
 * latin1, IA5, Visible, BMP, Universal) the characters, with leading and trailing white space
 * dropped, runs of it as one space, ASCII letters lower-cased; other types by their bytes.
 */
function valueHash(buf: Buffer, tag: number, start: number, s: number, e: number, seed: number): number {
  let h = seed;
  const width = tag === 0x1e ? 2 : tag === 0x1c ? 4 : tag === 0x0c || tag === 0x13 || tag === 0x14 || tag === 0x16 || tag === 0x1a ? 1 : 0;
  if (width === 0) {
    h = Math.imul(h ^ 0x200000, FNV_PRIME); // above every code point: not a string
    for (let k = start; k < e; k++) h = Math.imul(h ^ buf[k]!, FNV_PRIME);
    return h;
  }
  let pendingSpace = false;
  let started = false;
  for (let k = s; k < e; ) {
    let c: number;
    if (width === 2) {
      c = k + 1 < e ? (buf[k]! << 8) | buf[k + 1]! : 0xfffd;
      k += 2;
    } else if (width === 4) {
      c = k + 3 < e ? buf.readUInt32BE(k) : 0xfffd;
      k += 4;
    } else if (tag === 0x0c && buf[k]! >= 0x80) {
      // UTF-8 sequence: its code point (malformed ones hash as themselves, byte by byte).
      const b = buf[k]!;
      const n = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : 0;
      c = n === 0 ? b : b & (0x3f >> n);
      let j = 1;
      for (; j <= n && k + j < e && (buf[k + j]! & 0xc0) === 0x80; j++) c = (c << 6) | (buf[k + j]! & 0x3f);
      if (j <= n) c = 0x110000 + b; // truncated sequence
      k += j;
    } else c = buf[k++]!;
    if (c < 0x80 && isSpace(c)) {
      pendingSpace = started;
      continue;
    }
    if (pendingSpace) h = Math.imul(h ^ 0x20, FNV_PRIME);
    pendingSpace = false;
    started = true;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h;
}

/**
 * A key two encodings of the same X.501 Name share, as OpenSSL's X509_NAME_cmp sees them: string
 * values whatever their string type, case and spacing (valueHash), multi-valued RDNs in any order.
 * It is a 32-bit hash: names OpenSSL deems equal always get the same key, and distinct names the
 * same key only by a collision, so an index on it finds every anchor OpenSSL's checkIssued could
 * accept, and perhaps one more that the exact check then refuses. null: not a readable Name.
 * (A trust store computes it for every anchor: DER headers are read here without readTlv's objects.)
 */
export function nameKey(nameDer: Buffer): number | null {
  let contentStart = 0;
  let end = 0;
  /** The element at `p`, within `limit`: its tag, contents into contentStart / end; -1 when malformed. */
  const read = (p: number, limit: number): number => {
    if (p + 2 > limit) return -1;
    const tag = nameDer[p]!;
    let len = nameDer[p + 1]!;
    contentStart = p + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 3 || contentStart + n > limit) return -1;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + nameDer[contentStart++]!;
    }
    end = contentStart + len;
    return (tag & 0x1f) !== 0x1f && end <= limit ? tag : -1;
  };
  if (read(0, nameDer.length) !== 0x30 || end !== nameDer.length) return null;
  let h = 0x811c9dc5;
  for (let p = contentStart, top = end; p < top; ) {
    if (read(p, top) !== 0x31) return null;
    const rdnEnd = end;
    // The attributes of a multi-valued RDN in any order: their hashes added up.
    let sum = 0;
    for (let q = contentStart; q < rdnEnd; ) {
      if (read(q, rdnEnd) !== 0x30) return null;
      const atvEnd = end;
      if (read(contentStart, atvEnd) !== 0x06) return null;
      let a = 0x811c9dc5;
      for (let k = contentStart; k < end; k++) a = Math.imul(a ^ nameDer[k]!, FNV_PRIME);
      const valueStart = end;
      const tag = read(valueStart, atvEnd);
      if (tag < 0 || end !== atvEnd) return null;
      sum = (sum + mix(valueHash(nameDer, tag, valueStart, contentStart, end, Math.imul(a ^ 0x3d, FNV_PRIME)))) | 0;
      q = atvEnd;
    }
    h = mix(Math.imul(h ^ 0x31, FNV_PRIME) + sum);
    p = rdnEnd;
  }
  return h >>> 0;
}
