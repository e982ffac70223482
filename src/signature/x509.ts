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
  const extWrapper = f.find((t: Tlv) => t.tag === 0xa3);
  if (extWrapper) {
    for (const ext of children(der, children(der, extWrapper)[0]!)) {
      const parts = children(der, ext);
      const id = oid(der, parts[0]!);
      const value = contentOf(der, parts[parts.length - 1]!);
      if (id === '2.5.29.14') subjectKeyId = contentOf(value, readTlv(value, 0)).toString('hex');
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
  };
}

/** Every certificate in PEM text (bundles included). */
export function certificatesFromPem(text: string): Buffer[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}
