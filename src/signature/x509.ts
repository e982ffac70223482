// Certificate facts node:crypto does not expose (issuer bytes, serial, SKI, keyUsage bits),
// read from the DER; node:crypto's X509Certificate does the rest (any key type, EC included).
import { X509Certificate } from 'node:crypto';
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
  subject: Identity;
}

export interface Identity {
  commonName: string | null;
  givenName: string | null;
  surname: string | null;
  /** From serialNumber "TINIT-<16 chars>" (the codice fiscale), else null. */
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
  const m = /^TINIT-([A-Z0-9]{16})$/i.exec(id.serialNumber ?? '');
  id.fiscalCode = m ? m[1]!.toUpperCase() : null;
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
  const extWrapper = f.find((t: Tlv) => t.tag === 0xa3);
  if (extWrapper) {
    for (const ext of children(der, children(der, extWrapper)[0]!)) {
      const parts = children(der, ext);
      const id = oid(der, parts[0]!);
      const value = contentOf(der, parts[parts.length - 1]!);
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
    subject: nameIdentity(bytesOf(der, subject)),
  };
}

/** Every certificate in PEM text (bundles included). */
export function certificatesFromPem(text: string): Buffer[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}
