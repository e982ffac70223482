// ETSI TS 119 612 trusted lists (TSL-IT, or the EU list of lists and the national lists it
// points to): verify the enveloped XML signature against a configured signer, keep the CA/QC
// and TSA/QTST services with their status history, and answer "was the CA of this chain a
// granted qualified service at time T?" from a JSON snapshot.
//
// Signature checking is xml-crypto's (canonicalisation, references, enveloped transform) with
// our own algorithm tables (SHA-256 and up; RSA, RSA-PSS, ECDSA). Data is read only from the
// canonical XML xml-crypto returns for the verified reference: what was signed, never the
// document around it (signature-wrapping attacks).
import { constants as cc, createHash, createPublicKey, verify as cryptoVerify, type KeyLike } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { SignedXml, type HashAlgorithm, type SignatureAlgorithm } from 'xml-crypto';
import { certInfo, certificatesFromPem, type CertInfo } from './x509.js';
import {
  QUALIFIERS, SERVICE_TYPES, spkiSha256, TslError,
  type Qualifier, type ServiceStatus, type ServiceType, type TslIdentity, type TslListInfo, type TslQualification, type TslService, type TslSnapshot, type TslStatusEntry,
} from './tsl-snapshot.js';

export * from './tsl-snapshot.js';

// ---------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------

/** Why a list, a signer file or a snapshot was refused. */
/** Accepted, but worth saying. */
export const TSL_WARNINGS = [
  'next-update-passed', // NextUpdate is in the past: a newer list should exist
  'no-next-update', // NextUpdate empty: the scheme operator closed the list
  'unknown-status', // a status URI outside TS 119 612: counted as withdrawn
  'unreadable-certificate', // an X509Certificate of a digital identity that does not parse: skipped
] as const;
export type TslWarningCode = (typeof TSL_WARNINGS)[number];
export interface TslWarning {
  code: TslWarningCode;
  file: string;
  message: string;
}

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

const TSL_NS = 'http://uri.etsi.org/02231/v2#';
const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
const ECC_NS = 'http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

const TYPE_BY_URI = new Map<string, ServiceType>(Object.entries(SERVICE_TYPES).map(([k, v]) => [v, k as ServiceType]));

/**
 * Status URIs by their last segment (the prefix changed between list versions). The pre-eIDAS
 * statuses map as TS 119 612 v2 and the EU DSS do across the 1 July 2016 transition: supervised
 * or accredited (or national law/recognition) counts as granted; ceased or revoked as withdrawn.
 */
const STATUS_BY_SEGMENT: Record<string, ServiceStatus> = {
  granted: 'granted',
  undersupervision: 'granted',
  supervisionincessation: 'granted',
  accredited: 'granted',
  setbynationallaw: 'granted',
  recognisedatnationallevel: 'granted',
  withdrawn: 'withdrawn',
  supervisionceased: 'withdrawn',
  supervisionrevoked: 'withdrawn',
  accreditationceased: 'withdrawn',
  accreditationrevoked: 'withdrawn',
  deprecatedbynationallaw: 'withdrawn',
  deprecatedatnationallevel: 'withdrawn',
};

/** The largest list accepted (the EU's biggest national lists are a few MB). */
export const MAX_TSL_BYTES = 50 * 1024 * 1024;


// ---------------------------------------------------------------------------
// Signature algorithms: SHA-256 and up only (no SHA-1, no HMAC: key confusion)
// ---------------------------------------------------------------------------

function verifier(uri: string, hash: string, kind: 'rsa' | 'pss' | 'ecdsa'): new () => SignatureAlgorithm {
  return class {
    getAlgorithmName = () => uri;
    getSignature = (): string => {
      throw new Error('signing is not supported here');
    };
    verifySignature = (material: string, key: KeyLike, signatureValue: string): boolean => {
      try {
        const k = createPublicKey(key as Parameters<typeof createPublicKey>[0]);
        const options =
          kind === 'pss' ? { key: k, padding: cc.RSA_PKCS1_PSS_PADDING, saltLength: cc.RSA_PSS_SALTLEN_AUTO } : kind === 'ecdsa' ? { key: k, dsaEncoding: 'ieee-p1363' as const } : k;
        // XMLDSig ECDSA values are r||s (RFC 4050 / 6931), not DER.
        return cryptoVerify(hash, Buffer.from(material, 'utf8'), options, Buffer.from(signatureValue.replace(/\s+/g, ''), 'base64'));
      } catch {
        return false; // wrong key type for the algorithm, or a malformed value
      }
    };
  } as unknown as new () => SignatureAlgorithm;
}
const MORE = 'http://www.w3.org/2001/04/xmldsig-more#';
const MGF1 = 'http://www.w3.org/2007/05/xmldsig-more#';
const SIGNATURE_ALGORITHMS: Record<string, new () => SignatureAlgorithm> = {
  [`${MORE}rsa-sha256`]: verifier(`${MORE}rsa-sha256`, 'sha256', 'rsa'),
  [`${MORE}rsa-sha384`]: verifier(`${MORE}rsa-sha384`, 'sha384', 'rsa'),
  [`${MORE}rsa-sha512`]: verifier(`${MORE}rsa-sha512`, 'sha512', 'rsa'),
  [`${MGF1}sha256-rsa-MGF1`]: verifier(`${MGF1}sha256-rsa-MGF1`, 'sha256', 'pss'),
  [`${MGF1}sha384-rsa-MGF1`]: verifier(`${MGF1}sha384-rsa-MGF1`, 'sha384', 'pss'),
  [`${MGF1}sha512-rsa-MGF1`]: verifier(`${MGF1}sha512-rsa-MGF1`, 'sha512', 'pss'),
  [`${MORE}ecdsa-sha256`]: verifier(`${MORE}ecdsa-sha256`, 'sha256', 'ecdsa'),
  [`${MORE}ecdsa-sha384`]: verifier(`${MORE}ecdsa-sha384`, 'sha384', 'ecdsa'),
  [`${MORE}ecdsa-sha512`]: verifier(`${MORE}ecdsa-sha512`, 'sha512', 'ecdsa'),
};
function digester(uri: string, hash: string): new () => HashAlgorithm {
  return class {
    getAlgorithmName = () => uri;
    getHash = (xml: string) => createHash(hash).update(xml, 'utf8').digest('base64');
  } as unknown as new () => HashAlgorithm;
}
const HASH_ALGORITHMS: Record<string, new () => HashAlgorithm> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': digester('http://www.w3.org/2001/04/xmlenc#sha256', 'sha256'),
  [`${MORE}sha384`]: digester(`${MORE}sha384`, 'sha384'),
  'http://www.w3.org/2001/04/xmlenc#sha512': digester('http://www.w3.org/2001/04/xmlenc#sha512', 'sha512'),
};

// ---------------------------------------------------------------------------
// Signer certificates (trust.tslSigner: a PEM/DER file, or a directory of them)
// ---------------------------------------------------------------------------

export interface TslSigner {
  info: CertInfo;
  /** Where it came from, for messages. */
  source: string;
}

function certificatesIn(file: string, bytes: Buffer): Buffer[] {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) return certificatesFromPem(text);
  if (bytes[0] === 0x30) return [bytes];
  throw new TslError('no-signer', file, 'not a PEM or DER certificate');
}

/** The configured signer certificates; a directory contributes its .pem/.crt/.cer/.der files. */
export function loadTslSigners(p: string): TslSigner[] {
  let files: string[];
  try {
    files = statSync(p).isDirectory()
      ? readdirSync(p).filter((f) => /\.(pem|crt|cer|der)$/i.test(f)).sort().map((f) => path.join(p, f))
      : [p];
  } catch (e) {
    throw new TslError('no-signer', p, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out: TslSigner[] = [];
  for (const f of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(f);
    } catch (e) {
      throw new TslError('no-signer', f, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (const der of certificatesIn(f, bytes)) {
      try {
        out.push({ info: certInfo(der), source: f });
      } catch (e) {
        throw new TslError('no-signer', f, `not a readable certificate (${(e as Error).message})`);
      }
    }
  }
  if (out.length === 0) throw new TslError('no-signer', p, 'no certificate found');
  return out;
}


const oneLine = (dn: string) => dn.replace(/\n/g, ', ');

// ---------------------------------------------------------------------------
// XML helpers
// ---------------------------------------------------------------------------

function elementsOf(el: Element, local: string, ns: string | null = TSL_NS): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1) continue;
    const e = n as Element;
    if (e.localName === local && (ns === null || e.namespaceURI === ns)) out.push(e);
  }
  return out;
}
const first = (el: Element | null, local: string, ns: string | null = TSL_NS): Element | null => (el ? elementsOf(el, local, ns)[0] ?? null : null);
const textOf = (el: Element | null): string => (el?.textContent ?? '').trim();

/** Parse UTF-8 XML strictly (well-formedness errors are fatal). */
function parseXml(text: string, file: string): Element {
  let doc;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(text, 'text/xml');
  } catch (e) {
    throw new TslError('malformed', file, `not well-formed XML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc.documentElement) throw new TslError('malformed', file, 'not well-formed XML: no root element');
  return doc.documentElement;
}

/** Read and decode a list file, refusing what a TSL never needs (DTDs, other encodings, huge files). */
function readListText(file: string): { text: string; bytes: Buffer } {
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_TSL_BYTES) throw new TslError('too-large', file, `${size} bytes: over the ${MAX_TSL_BYTES}-byte limit for a trusted list`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof TslError) throw e;
    throw new TslError('unreadable', file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new TslError('malformed', file, 'not UTF-8 (TS 119 612 lists are UTF-8)');
  }
  const decl = /^<\?xml[^?]*encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (decl && !/^(utf-8|us-ascii)$/i.test(decl[1]!)) throw new TslError('malformed', file, `declared encoding ${decl[1]} is not supported (TS 119 612 lists are UTF-8)`);
  // No DTD at all: a TSL has none, and a DTD is how entity expansion and external entities get in.
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw new TslError('doctype', file, 'contains a DOCTYPE or entity declaration: refused (a trusted list has none)');
  return { text, bytes };
}

/** A multilingual name: English when given, else Italian, else the first. */
function multiName(el: Element | null): string {
  if (!el) return '';
  const names = elementsOf(el, 'Name');
  const lang = (n: Element) => (n.getAttributeNS(XML_NS, 'lang') || n.getAttribute('xml:lang') || '').toLowerCase();
  return textOf(names.find((n) => lang(n) === 'en') ?? names.find((n) => lang(n) === 'it') ?? names[0] ?? null);
}

function dateField(value: string, file: string, field: string): string {
  // TS 119 612 times are UTC; one without a zone is read as UTC rather than local time.
  const v = /(?:Z|[+-]\d{2}:\d{2})$/.test(value) ? value : `${value}Z`;
  const t = Date.parse(v);
  if (!value || Number.isNaN(t)) throw new TslError('not-a-tsl', file, `expected an xsd:dateTime, got ${JSON.stringify(value)}`, field);
  return new Date(t).toISOString();
}

function requireEl(parent: Element, local: string, file: string, field: string): Element {
  const e = first(parent, local);
  if (!e) throw new TslError('not-a-tsl', file, 'missing', field);
  return e;
}

// ---------------------------------------------------------------------------
// Digital identities, extensions, statuses
// ---------------------------------------------------------------------------

function readIdentity(sdi: Element | null, file: string, where: string, warnings: TslWarning[]): TslIdentity {
  const out: TslIdentity = { certificates: [], subjectNames: [], skis: [] };
  if (!sdi) return out;
  for (const id of elementsOf(sdi, 'DigitalId')) {
    for (const c of elementsOf(id, 'X509Certificate')) {
      const der = Buffer.from(textOf(c).replace(/\s+/g, ''), 'base64');
      try {
        const info = certInfo(der);
        out.certificates.push({
          der: der.toString('base64'),
          subject: oneLine(info.x509.subject),
          subjectDer: info.subjectDer.toString('hex'),
          ski: info.subjectKeyId,
          sha256: info.sha256,
          spkiSha256: spkiSha256(info),
          validFrom: new Date(info.x509.validFrom).toISOString(),
          validTo: new Date(info.x509.validTo).toISOString(),
        });
      } catch (e) {
        warnings.push({ code: 'unreadable-certificate', file, message: `${where}: an X509Certificate does not parse (${(e as Error).message}); skipped` });
      }
    }
    for (const n of elementsOf(id, 'X509SubjectName')) out.subjectNames.push(textOf(n));
    for (const s of elementsOf(id, 'X509SKI')) out.skis.push(Buffer.from(textOf(s).replace(/\s+/g, ''), 'base64').toString('hex'));
  }
  return out;
}

function readQualifications(ext: Element): TslQualification[] {
  const out: TslQualification[] = [];
  for (const q of elementsOf(ext, 'Qualifications', ECC_NS)) {
    for (const qe of elementsOf(q, 'QualificationElement', ECC_NS)) {
      const qualifiers: Qualifier[] = [];
      const otherQualifiers: string[] = [];
      for (const qs of elementsOf(qe, 'Qualifiers', ECC_NS)) {
        for (const one of elementsOf(qs, 'Qualifier', ECC_NS)) {
          const uri = one.getAttribute('uri') ?? '';
          const name = uri.split('/').pop() ?? '';
          if ((QUALIFIERS as readonly string[]).includes(name)) qualifiers.push(name as Qualifier);
          else otherQualifiers.push(uri);
        }
      }
      const cl = first(qe, 'CriteriaList', ECC_NS);
      let criteria: TslQualification['criteria'] = null;
      if (cl) {
        criteria = { assert: cl.getAttribute('assert') || null, keyUsage: [], policySets: [], notRead: [] };
        for (let n = cl.firstChild; n; n = n.nextSibling) {
          if (n.nodeType !== 1) continue;
          const e = n as Element;
          if (e.localName === 'KeyUsage') {
            for (const b of elementsOf(e, 'KeyUsageBit', ECC_NS)) criteria.keyUsage.push({ bit: b.getAttribute('name') ?? '', value: textOf(b) === 'true' });
          } else if (e.localName === 'PolicySet') {
            criteria.policySets.push(
              elementsOf(e, 'PolicyIdentifier', ECC_NS).map((p) => textOf(first(p, 'Identifier', null)).replace(/^urn:oid:/i, '')),
            );
          } else if (e.localName) criteria.notRead.push(e.localName);
        }
      }
      out.push({ qualifiers, otherQualifiers, criteria });
    }
  }
  return out;
}

function readStatusEntry(si: Element, file: string, where: string, warnings: TslWarning[]): TslStatusEntry {
  const statusUri = textOf(requireEl(si, 'ServiceStatus', file, `${where}.ServiceStatus`));
  let status = STATUS_BY_SEGMENT[statusUri.replace(/\/+$/, '').split('/').pop()!.toLowerCase()];
  if (!status) {
    warnings.push({ code: 'unknown-status', file, message: `${where}: status ${statusUri} is not a TS 119 612 status; counted as withdrawn` });
    status = 'withdrawn';
  }
  const qualifications: TslQualification[] = [];
  const additionalInformation: string[] = [];
  for (const exts of elementsOf(si, 'ServiceInformationExtensions')) {
    for (const ext of elementsOf(exts, 'Extension')) {
      qualifications.push(...readQualifications(ext));
      for (const asi of elementsOf(ext, 'AdditionalServiceInformation')) {
        const u = textOf(first(asi, 'URI'));
        if (u) additionalInformation.push(u);
      }
    }
  }
  return {
    name: multiName(first(si, 'ServiceName')),
    typeUri: textOf(requireEl(si, 'ServiceTypeIdentifier', file, `${where}.ServiceTypeIdentifier`)),
    status,
    statusUri,
    since: dateField(textOf(requireEl(si, 'StatusStartingTime', file, `${where}.StatusStartingTime`)), file, `${where}.StatusStartingTime`),
    identity: readIdentity(first(si, 'ServiceDigitalIdentity'), file, where, warnings),
    qualifications,
    additionalInformation,
  };
}

// ---------------------------------------------------------------------------
// One list: verify, then read the signed content
// ---------------------------------------------------------------------------

/** The certificates of each pointer read (the snapshot keeps only their subject and hash). */
const pointerCerts = new WeakMap<TslListInfo['pointers'][number], Buffer[]>();

export interface VerifiedList {
  info: TslListInfo;
  services: TslService[];
  warnings: TslWarning[];
}

/** Header fields, read without trusting them (to pick the signers of a national list). */
function peekList(file: string): { territory: string; tslType: string; listOfLists: boolean } {
  const { text } = readListText(file);
  const root = parseXml(text, file);
  if (root.localName !== 'TrustServiceStatusList' || root.namespaceURI !== TSL_NS) {
    throw new TslError('not-a-tsl', file, `root element is ${root.namespaceURI ? `{${root.namespaceURI}}` : ''}${root.localName}, not a TS 119 612 TrustServiceStatusList`);
  }
  const si = requireEl(root, 'SchemeInformation', file, 'SchemeInformation');
  const tslType = textOf(first(si, 'TSLType'));
  return { territory: textOf(first(si, 'SchemeTerritory')), tslType, listOfLists: /listofthelists$/i.test(tslType) };
}

function checkSignature(text: string, root: Element, file: string, signers: TslSigner[], signerSource: string): { canonical: string; signer: TslSigner } {
  const sigs = root.getElementsByTagNameNS(DS_NS, 'Signature');
  if (sigs.length === 0) throw new TslError('no-signature', file, 'the list is not signed (no ds:Signature)');
  const sig = sigs[0]!;
  if (sigs.length > 1 || sig.parentNode !== root) {
    throw new TslError('bad-signature', file, 'expected exactly one ds:Signature, enveloped in TrustServiceStatusList');
  }
  const signedInfo = first(sig, 'SignedInfo', DS_NS);
  const method = first(signedInfo, 'SignatureMethod', DS_NS)?.getAttribute('Algorithm') ?? '';
  if (!SIGNATURE_ALGORITHMS[method]) throw new TslError('unsupported-algorithm', file, `signature algorithm ${method || '(none)'} is not accepted (SHA-256 or stronger RSA, RSA-PSS or ECDSA)`);
  for (const ref of signedInfo ? elementsOf(signedInfo, 'Reference', DS_NS) : []) {
    const d = first(ref, 'DigestMethod', DS_NS)?.getAttribute('Algorithm') ?? '';
    if (!HASH_ALGORITHMS[d]) throw new TslError('unsupported-algorithm', file, `digest algorithm ${d || '(none)'} is not accepted (SHA-256 or stronger)`);
  }
  const rootId = root.getAttribute('Id');
  for (const signer of signers) {
    const v = new SignedXml({ publicCert: signer.info.x509.toString() });
    v.SignatureAlgorithms = SIGNATURE_ALGORITHMS;
    v.HashAlgorithms = HASH_ALGORITHMS;
    let ok: boolean;
    try {
      v.loadSignature(sig);
      ok = v.checkSignature(text);
    } catch (e) {
      const m = (e as Error).message;
      if (/signature value .* is incorrect/.test(m)) continue; // another configured signer may hold the key
      // Library messages may quote XML: one line, bounded.
      const short = m.replace(/\s+/g, ' ').slice(0, 200);
      throw new TslError('bad-signature', file, `the signature cannot be checked: ${short}`);
    }
    const refs = v.getReferences();
    if (!ok) {
      const failed = refs.find((r) => r.validationError);
      // Reference digests do not depend on the key: no point trying the other signers.
      throw new TslError(
        'digest-mismatch',
        file,
        `digest mismatch: the list was changed after it was signed (reference URI="${failed?.uri ?? ''}")`,
      );
    }
    const whole = refs.find((r) => r.uri === '' || (rootId !== null && rootId !== '' && r.uri === `#${rootId}`));
    if (!whole?.signedReference) throw new TslError('bad-signature', file, 'the signature does not cover the whole TrustServiceStatusList');
    return { canonical: whole.signedReference, signer };
  }
  // No configured key verifies: say whose certificate the signature names, if any.
  const keyInfoCerts = [...sig.getElementsByTagNameNS(DS_NS, 'X509Certificate')].flatMap((c) => {
    try {
      return [certInfo(Buffer.from(textOf(c).replace(/\s+/g, ''), 'base64'))];
    } catch {
      return [];
    }
  });
  const known = new Set(signers.map((s) => spkiSha256(s.info)));
  const stranger = keyInfoCerts.find((c) => !known.has(spkiSha256(c)));
  if (stranger) {
    throw new TslError(
      'untrusted-signer',
      file,
      `signed by ${oneLine(stranger.x509.subject)} (sha256 ${stranger.sha256}), not by ${signerSource}`,
    );
  }
  throw new TslError('bad-signature', file, `the signature value does not verify with ${signerSource}`);
}

/**
 * Verify one list against the given signer certificates and read it. `signerSource` names
 * them for messages ("… not by <signerSource>"), e.g. "the certificate(s) in trust.tslSigner (FILE)".
 */
export function readTrustedList(
  file: string,
  signers: TslSigner[],
  opts: { signerSource: string; verifiedBy: TslListInfo['verifiedBy']; now: Date },
): VerifiedList {
  const { text, bytes } = readListText(file);
  const outer = parseXml(text, file);
  if (outer.localName !== 'TrustServiceStatusList' || outer.namespaceURI !== TSL_NS) {
    throw new TslError('not-a-tsl', file, `root element is ${outer.namespaceURI ? `{${outer.namespaceURI}}` : ''}${outer.localName}, not a TS 119 612 TrustServiceStatusList`);
  }
  const { canonical, signer } = checkSignature(text, outer, file, signers, opts.signerSource);
  // From here on only the signed bytes are read.
  const root = parseXml(canonical, file);
  if (root.localName !== 'TrustServiceStatusList' || root.namespaceURI !== TSL_NS) throw new TslError('bad-signature', file, 'the signed content is not the TrustServiceStatusList');
  const warnings: TslWarning[] = [];
  const si = requireEl(root, 'SchemeInformation', file, 'SchemeInformation');
  const f = (n: string) => `SchemeInformation.${n}`;
  const int = (n: string) => {
    const v = textOf(requireEl(si, n, file, f(n)));
    if (!/^\d+$/.test(v)) throw new TslError('not-a-tsl', file, `expected an integer, got ${JSON.stringify(v)}`, f(n));
    return Number(v);
  };
  const tslType = textOf(requireEl(si, 'TSLType', file, f('TSLType')));
  const territory = textOf(requireEl(si, 'SchemeTerritory', file, f('SchemeTerritory')));
  const issued = dateField(textOf(requireEl(si, 'ListIssueDateTime', file, f('ListIssueDateTime'))), file, f('ListIssueDateTime'));
  const nu = textOf(first(requireEl(si, 'NextUpdate', file, f('NextUpdate')), 'dateTime'));
  const nextUpdate = nu ? dateField(nu, file, f('NextUpdate.dateTime')) : null;
  if (nextUpdate === null) warnings.push({ code: 'no-next-update', file, message: 'NextUpdate is empty: the scheme operator has closed this list' });
  else if (Date.parse(nextUpdate) < opts.now.getTime()) {
    warnings.push({ code: 'next-update-passed', file, message: `NextUpdate ${nextUpdate} is in the past: a newer list should have been published` });
  }

  const pointers: TslListInfo['pointers'] = [];
  for (const pts of elementsOf(si, 'PointersToOtherTSL')) {
    for (const p of elementsOf(pts, 'OtherTSLPointer')) {
      const ptrSigners: Array<{ subject: string; sha256: string; der: string }> = [];
      for (const sdis of elementsOf(p, 'ServiceDigitalIdentities')) {
        for (const sdi of elementsOf(sdis, 'ServiceDigitalIdentity')) {
          for (const c of readIdentity(sdi, file, 'OtherTSLPointer', warnings).certificates) ptrSigners.push({ subject: c.subject, sha256: c.sha256, der: c.der });
        }
      }
      const info: Record<string, string | null> = { territory: null, tslType: null, mimeType: null };
      for (const ai of elementsOf(p, 'AdditionalInformation')) {
        for (const oi of elementsOf(ai, 'OtherInformation')) {
          info.territory ??= textOf(first(oi, 'SchemeTerritory')) || null;
          info.tslType ??= textOf(first(oi, 'TSLType')) || null;
          info.mimeType ??= textOf(first(oi, 'MimeType', null)) || null;
        }
      }
      const ptr = { territory: info.territory ?? null, location: textOf(first(p, 'TSLLocation')) || null, tslType: info.tslType ?? null, mimeType: info.mimeType ?? null, signers: ptrSigners.map(({ subject, sha256 }) => ({ subject, sha256 })) };
      pointers.push(ptr);
      pointerCerts.set(ptr, ptrSigners.map((s) => Buffer.from(s.der, 'base64')));
    }
  }

  const services: TslService[] = [];
  let tsps = 0;
  let total = 0;
  for (const list of elementsOf(root, 'TrustServiceProviderList')) {
    for (const tsp of elementsOf(list, 'TrustServiceProvider')) {
      tsps++;
      const tspName = multiName(first(first(tsp, 'TSPInformation'), 'TSPName'));
      const where0 = `TrustServiceProvider[${tsps}]`;
      let n = 0;
      for (const svcs of elementsOf(tsp, 'TSPServices')) {
        for (const svc of elementsOf(svcs, 'TSPService')) {
          total++;
          n++;
          const where = `${where0}.TSPService[${n}]`;
          const info = requireEl(svc, 'ServiceInformation', file, `${where}.ServiceInformation`);
          const typeUri = textOf(first(info, 'ServiceTypeIdentifier'));
          const type = TYPE_BY_URI.get(typeUri);
          if (!type) continue; // other service types are counted, not kept
          const current = readStatusEntry(info, file, `${where}.ServiceInformation`, warnings);
          const history = elementsOf(first(svc, 'ServiceHistory') ?? svc, 'ServiceHistoryInstance').map((h, i) =>
            readStatusEntry(h, file, `${where}.ServiceHistory.ServiceHistoryInstance[${i + 1}]`, warnings),
          );
          services.push({ ...current, type, tsp: tspName, territory, history });
        }
      }
    }
  }
  const caQc = services.filter((s) => s.type === 'CA/QC');
  return {
    info: {
      file: path.resolve(file),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      tslType,
      listOfLists: /listofthelists$/i.test(tslType),
      name: multiName(first(si, 'SchemeName')),
      operator: multiName(first(si, 'SchemeOperatorName')),
      territory,
      versionIdentifier: int('TSLVersionIdentifier'),
      sequenceNumber: int('TSLSequenceNumber'),
      issued,
      nextUpdate,
      signer: { subject: oneLine(signer.info.x509.subject), sha256: signer.info.sha256 },
      verifiedBy: opts.verifiedBy,
      counts: { tsps, services: total, caQc: caQc.length, caQcGranted: caQc.filter((s) => s.status === 'granted').length, tsaQtst: services.length - caQc.length },
      pointers,
    },
    services,
    warnings,
  };
}

// ---------------------------------------------------------------------------
// Import: one or more national lists, or the list of lists and the national lists it points to
// ---------------------------------------------------------------------------

const XML_MIME = /xml/i;

/**
 * Verify and read `files`. The first is verified against `signers` (trust.tslSigner). When it is
 * a list of lists, each further file is verified against the certificates of the pointer for
 * its territory (an XML pointer); otherwise every file is verified against `signers`.
 * `now` judges NextUpdate; `importedAt` (default: the clock) is recorded in the snapshot.
 */
export function importTrustedLists(
  files: string[],
  signers: TslSigner[],
  opts: { signerSource: string; now: Date; importedAt?: Date },
): { snapshot: TslSnapshot; warnings: TslWarning[] } {
  if (files.length === 0) throw new Error('importTrustedLists: no file');
  const head = readTrustedList(files[0]!, signers, { signerSource: opts.signerSource, verifiedBy: 'trust.tslSigner', now: opts.now });
  const read: VerifiedList[] = [head];
  for (const file of files.slice(1)) {
    if (!head.info.listOfLists) {
      read.push(readTrustedList(file, signers, { signerSource: opts.signerSource, verifiedBy: 'trust.tslSigner', now: opts.now }));
      continue;
    }
    const { territory } = peekList(file);
    const ptrs = head.info.pointers.filter((p) => p.territory === territory && (p.mimeType === null || XML_MIME.test(p.mimeType)));
    const certs = ptrs.flatMap((p) => pointerCerts.get(p) ?? []);
    if (certs.length === 0) {
      throw new TslError('not-pointed', file, `the list of lists ${head.info.file} has no XML pointer with signer certificates for territory ${JSON.stringify(territory)}`);
    }
    const ptrSigners = certs.map((der) => ({ info: certInfo(der), source: head.info.file }));
    const list = readTrustedList(file, ptrSigners, { signerSource: `the certificate(s) the list of lists names for ${territory}`, verifiedBy: 'list-of-lists', now: opts.now });
    if (list.info.territory !== territory) throw new TslError('bad-signature', file, `signed content names territory ${list.info.territory}, not ${territory}`);
    read.push(list);
  }
  return {
    snapshot: {
      format: 'pecdesk-tsl-snapshot',
      version: 1,
      importedAt: (opts.importedAt ?? new Date()).toISOString(),
      lists: read.map((r) => r.info),
      services: read.flatMap((r) => r.services),
    },
    warnings: read.flatMap((r) => r.warnings),
  };
}

/** Write the snapshot so a reader never sees half of it: temp file, fsync, rename, fsync the directory. */
export function writeTslSnapshot(file: string, snapshot: TslSnapshot): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(snapshot, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new TslError('unwritable', file, `cannot write the snapshot: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  }
}

