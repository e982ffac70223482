// `pecdesk verify`: a signed document (CAdES .p7m, PAdES PDF) → the SPEC §8.2 report.
// Format is detected from the content, never from the file name.
import { CmsError, parseSignedData, verifySignedData } from './cms.js';
import { isPdf, verifyPdf } from './pades.js';
import { fetchCrls } from './online-crl.js';
import { fetchOcsps } from './online-ocsp.js';
import { signatureReport, signedDocuments, signerChains, summarize, type SignatureReport, type VerifyReport } from './report.js';
import type { TrustStore } from './trust.js';

export type { SignatureReport, VerifyReport };

const B64 = /^[A-Za-z0-9+/=\r\n\t ]+$/;
const MAX_LAYERS = 5;

/**
 * DER from what Italian signing tools produce: DER as is, PEM, or base64 (sometimes twice).
 * Returns null when the bytes are none of these.
 */
export function derFromSigned(bytes: Buffer): Buffer | null {
  let b = bytes;
  for (let i = 0; i < 3; i++) {
    if (b[0] === 0x30) return b;
    const text = b.toString('latin1').trim();
    const pem = /-----BEGIN (?:PKCS7|CMS|PKCS #7 SIGNED DATA)-----([\s\S]*?)-----END (?:PKCS7|CMS|PKCS #7 SIGNED DATA)-----/.exec(text);
    if (pem) b = Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64');
    else if (text.length >= 16 && B64.test(text)) b = Buffer.from(text.replace(/\s+/g, ''), 'base64');
    else return null;
  }
  return b[0] === 0x30 ? b : null;
}

/** Verify CAdES attached signatures, unwrapping p7m inside p7m and verifying every layer. */
function verifyCades(file: string, der: Buffer, trust: TrustStore, at: Date): VerifyReport {
  const signatures: SignatureReport[] = [];
  let current: Buffer | null = der;
  let content: Buffer | null = null;
  for (let layer = 1; current && layer <= MAX_LAYERS; layer++) {
    let sd;
    try {
      sd = parseSignedData(current);
    } catch (e) {
      if (layer === 1) return summarize(file, 'cades', at, [], ['malformed'], null);
      // The inner content only looked like a signature: it is the document.
      content = current;
      break;
    }
    if (!sd.eContent) return summarize(file, 'cades', at, signatures, ['malformed'], null);
    for (const v of verifySignedData(sd, { trust, document: true, validationTime: () => at })) signatures.push(signatureReport(v, layer));
    content = sd.eContent;
    current = derFromSigned(sd.eContent);
  }
  const report = summarize(file, 'cades', at, signatures, [], content);
  if (content) signedDocuments.set(report, { bytes: content }); // what cadesContent() would find again
  return report;
}

export function verifyDocument(file: string, bytes: Buffer, trust: TrustStore, at: Date): VerifyReport {
  // A .p7m around a PDF contains "%PDF-" too: look for CMS first.
  const der = derFromSigned(bytes);
  if (!der) return isPdf(bytes) ? verifyPdf(file, bytes, trust, at) : summarize(file, 'none', at, [], ['no-signature'], bytes);
  try {
    return verifyCades(file, der, trust, at);
  } catch (e) {
    if (e instanceof CmsError) return summarize(file, 'cades', at, [], ['malformed'], null);
    throw e;
  }
}

export interface OnlineRevocation {
  cacheDir: string;
  now: Date;
  timeoutMs?: number;
}

/**
 * verifyDocument, then — only when online revocation is enabled and some certificate's
 * status is unknown — ask the OCSP responders the certificates name and fetch the CRLs of
 * their distribution points, and verify again with the answers.
 */
export async function verifyDocumentWithOnlineRevocation(
  file: string, bytes: Buffer, trust: TrustStore, at: Date, online: OnlineRevocation | null,
): Promise<{ report: VerifyReport; notes: string[] }> {
  const first = verifyDocument(file, bytes, trust, at);
  if (!online || !first.warnings.includes('revocation-unknown')) return { report: first, notes: [] };
  const targets = first.signatures.flatMap((s) => {
    const chain = signerChains.get(s) ?? [];
    return chain.slice(0, -1).map((cert, i) => ({ cert, issuer: chain[i + 1]! })).filter((t) => t.cert.ocspUrls.length > 0);
  });
  const urls = first.signatures.flatMap((s) => s.crlDistributionPoints);
  if (urls.length === 0 && targets.length === 0) return { report: first, notes: ['no OCSP responder or CRL distribution point in the signer certificates'] };
  const ocsp = await fetchOcsps(targets, online.cacheDir, online.now, online.timeoutMs);
  const fetched = urls.length ? await fetchCrls(urls, online.cacheDir, online.now, online.timeoutMs) : { crls: [], notes: [] };
  const notes = [...ocsp.notes, ...fetched.notes];
  if (fetched.crls.length === 0 && ocsp.ocsps.length === 0) return { report: first, notes };
  const more = { ...trust, crls: [...trust.crls, ...fetched.crls], ocsps: [...(trust.ocsps ?? []), ...ocsp.ocsps] };
  return { report: verifyDocument(file, bytes, more, at), notes };
}

/** The signed document itself: the innermost content of a CAdES file (null when not CAdES). */
export function cadesContent(bytes: Buffer): Buffer | null {
  let der = derFromSigned(bytes);
  if (!der) return null;
  let content: Buffer | null = null;
  for (let layer = 0; der && layer < MAX_LAYERS; layer++) {
    try {
      content = parseSignedData(der).eContent;
    } catch {
      return layer === 0 ? null : der;
    }
    if (!content) return null;
    der = derFromSigned(content);
  }
  return content;
}
