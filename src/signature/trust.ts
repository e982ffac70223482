// Trust stores: a directory of PEM (or DER .cer/.crt) certificate files. Anchors are what a
// chain must end at; nothing else in the directory is trusted implicitly.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { crlsFromPem, parseCrl, type CrlInfo } from './revocation.js';
import { certInfo, certificatesFromPem, type CertInfo } from './x509.js';

export class TrustStoreError extends Error {}

export interface TrustStore {
  source: string;
  anchors: CertInfo[];
  /** CRLs found beside the anchors (.crl, DER or PEM). */
  crls: CrlInfo[];
}

const cache = new Map<string, { stamp: string; store: TrustStore }>();

/** What changes when any file of the store changes (a CRL replaced in place included). */
function stampOf(files: string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${f}:${s.mtimeMs}:${s.size}`;
      } catch {
        return `${f}:gone`;
      }
    })
    .join('|');
}

export function loadTrustStore(dir: string): TrustStore {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new TrustStoreError(`${dir}: cannot read trust store: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const files = st.isDirectory() ? readdirSync(dir).sort().map((f) => path.join(dir, f)) : [dir];
  const stamp = stampOf(files);
  const cached = cache.get(dir);
  if (cached && cached.stamp === stamp) return cached.store;
  const anchors: CertInfo[] = [];
  const crls: CrlInfo[] = [];
  for (const file of files) {
    if (/\.crl$/i.test(file)) {
      const bytes = readFileSync(file);
      const text = bytes.toString('latin1');
      for (const der of text.includes('-----BEGIN X509 CRL-----') ? crlsFromPem(text) : [bytes]) {
        try {
          crls.push(parseCrl(der, file));
        } catch (e) {
          throw new TrustStoreError(`${file}: not a CRL: ${(e as Error).message}`);
        }
      }
      continue;
    }
    if (!/\.(pem|crt|cer)$/i.test(file)) continue;
    const bytes = readFileSync(file);
    const text = bytes.toString('latin1');
    const ders = text.includes('-----BEGIN CERTIFICATE-----') ? certificatesFromPem(text) : [bytes];
    for (const der of ders) {
      try {
        anchors.push(certInfo(der));
      } catch (e) {
        throw new TrustStoreError(`${file}: not a certificate: ${(e as Error).message}`);
      }
    }
  }
  const store = { source: dir, anchors, crls };
  cache.set(dir, { stamp, store });
  return store;
}
