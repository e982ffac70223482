// The index of PEC providers (RFC 6109 §5, AgID "indice dei gestori di posta elettronica
// certificata"): who the providers are, which certificates they sign envelopes with, which
// mail domains each manages. Read from the LDIF export of the AgID index or from a plain YAML
// file (README "PEC provider index"). A malformed file is an error naming file and line.
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { certInfo, certificatesFromPem, type CertInfo } from '../signature/x509.js';

export class ProviderIndexError extends Error {}

export interface PecProvider {
  name: string;
  /** Certificate fingerprints, lower-case hex. */
  sha1: Set<string>;
  sha256: Set<string>;
  /** Certificates given in full (LDIF providerCertificate, YAML certificates). */
  certificates: CertInfo[];
  managedDomains: Set<string>;
  /** Where the provider is written, for messages. */
  line: number;
}

export interface ProviderIndex {
  source: string;
  format: 'ldif' | 'yaml';
  providers: PecProvider[];
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;

/**
 * A certificate fingerprint as indexes write them: "sha256:ab…", "SHA1#AB:CD…", bare hex (40
 * digits SHA-1, 64 SHA-256, colons or spaces allowed), or the digest in base64; null otherwise.
 */
export function parseCertificateHash(value: string): { algorithm: 'sha1' | 'sha256'; hex: string } | null {
  const m = /^\s*(?:(sha-?1|sha-?256)\s*[:#=\s]\s*)?(\S(?:.*\S)?)\s*$/i.exec(value);
  if (!m) return null;
  const body = m[2]!;
  let hex: string | null = null;
  if (/^[0-9a-f]{2}(?:[:\s]?[0-9a-f]{2})*$/i.test(body)) hex = body.replace(/[:\s]/g, '').toLowerCase();
  if (hex === null || (hex.length !== 40 && hex.length !== 64)) {
    const raw = /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body, 'base64') : null;
    if (raw && (raw.length === 20 || raw.length === 32)) hex = raw.toString('hex');
  }
  if (hex === null) return null;
  const named = m[1]?.toLowerCase().replace('-', '') as 'sha1' | 'sha256' | undefined;
  const algorithm = named ?? (hex.length === 40 ? 'sha1' : hex.length === 64 ? 'sha256' : undefined);
  if (!algorithm || hex.length !== (algorithm === 'sha1' ? 40 : 64)) return null;
  return { algorithm, hex };
}

/** Does the provider manage this mail domain (exactly, or under a "*.parent" entry)? */
export function managesDomain(p: PecProvider, domain: string): boolean {
  const d = domain.toLowerCase();
  if (p.managedDomains.has(d)) return true;
  for (let i = d.indexOf('.'); i >= 0; i = d.indexOf('.', i + 1)) if (p.managedDomains.has(`*${d.slice(i)}`)) return true;
  return false;
}

function newProvider(name: string, line: number): PecProvider {
  return { name, sha1: new Set(), sha256: new Set(), certificates: [], managedDomains: new Set(), line };
}

function addHash(p: PecProvider, value: string, fail: (what: string) => never): void {
  const h = parseCertificateHash(value);
  if (!h) fail(`certificate hash ${JSON.stringify(value.slice(0, 80))} is not a SHA-256 (64 hex digits) or SHA-1 (40 hex digits) fingerprint`);
  (h.algorithm === 'sha1' ? p.sha1 : p.sha256).add(h.hex);
}

function addCertificate(p: PecProvider, der: Buffer, fail: (what: string) => never): void {
  try {
    p.certificates.push(certInfo(der));
  } catch (e) {
    fail(`not a certificate: ${(e as Error).message}`);
  }
}

function addDomain(p: PecProvider, value: string, fail: (what: string) => never): void {
  const d = value.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(d.replace(/^\*\./, ''))) fail(`${JSON.stringify(value.slice(0, 80))} is not a mail domain`);
  p.managedDomains.add(d);
}

// ---------------------------------------------------------------------------------------
// LDIF (RFC 2849) with the RFC 6109 provider attributes

interface LdifLine {
  line: number;
  attr: string;
  value: Buffer;
}

function ldifEntries(text: string, file: string): LdifLine[][] {
  const lines = text.split(/\r?\n/);
  const entries: LdifLine[][] = [];
  let entry: LdifLine[] = [];
  // Unfold: a line starting with one space continues the previous one.
  const logical: Array<{ line: number; text: string }> = [];
  lines.forEach((l, i) => {
    if (l.startsWith(' ') && logical.length && logical[logical.length - 1]!.text !== '') logical[logical.length - 1]!.text += l.slice(1);
    else logical.push({ line: i + 1, text: l });
  });
  for (const { line, text: l } of logical) {
    if (l.trim() === '') {
      if (entry.length) entries.push(entry);
      entry = [];
      continue;
    }
    if (l.startsWith('#')) continue;
    const m = /^([A-Za-z][A-Za-z0-9-]*(?:;[A-Za-z0-9-]+)*)(::?|:<)\s?(.*)$/.exec(l);
    if (!m) throw new ProviderIndexError(`${file}: line ${line}: expected "attribute: value" (LDIF)`);
    const attr = m[1]!.split(';')[0]!.toLowerCase();
    if (m[2] === ':<') throw new ProviderIndexError(`${file}: line ${line}: ${m[1]}: values given by URL are not supported; put the value in the file`);
    let value: Buffer;
    if (m[2] === '::') {
      const b64 = m[3]!.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new ProviderIndexError(`${file}: line ${line}: ${m[1]}: invalid base64 value`);
      value = Buffer.from(b64, 'base64');
    } else value = Buffer.from(m[3]!, 'utf8');
    if (attr === 'version' && entries.length === 0 && entry.length === 0) {
      if (value.toString().trim() !== '1') throw new ProviderIndexError(`${file}: line ${line}: version: only LDIF version 1 is supported`);
      continue;
    }
    if (entry.length === 0 && attr !== 'dn' && attr !== 'search' && attr !== 'result') {
      throw new ProviderIndexError(`${file}: line ${line}: an LDIF entry must start with "dn:"`);
    }
    entry.push({ line, attr, value });
  }
  if (entry.length) entries.push(entry);
  return entries;
}

function parseLdif(text: string, file: string): PecProvider[] {
  const providers: PecProvider[] = [];
  for (const entry of ldifEntries(text, file)) {
    // ldapsearch without -LLL ends with "search: N" / "result: 0 Success": not an entry.
    if (entry[0]!.attr === 'search' || entry[0]!.attr === 'result') continue;
    const classes = entry.filter((a) => a.attr === 'objectclass').map((a) => a.value.toString().trim().toLowerCase());
    const names = entry.filter((a) => a.attr === 'providername');
    // Other entries (the o=postacert root, organisational units…) are not providers.
    if (!classes.includes('provider') && names.length === 0) continue;
    const dn = entry[0]!;
    if (names.length === 0) throw new ProviderIndexError(`${file}: line ${dn.line}: provider entry without providerName`);
    const p = newProvider(names[0]!.value.toString().trim(), dn.line);
    for (const a of entry) {
      const fail = (what: string): never => {
        throw new ProviderIndexError(`${file}: line ${a.line}: ${a.attr}: ${what}`);
      };
      if (a.attr === 'providercertificatehash') {
        // A hash written as a base64 value may be the raw digest or its text form.
        const v = a.value;
        const text = v.toString('latin1');
        if ((v.length === 20 || v.length === 32) && !/^[0-9a-f:#\s-]+$/i.test(text)) (v.length === 20 ? p.sha1 : p.sha256).add(v.toString('hex'));
        else addHash(p, text, fail);
      } else if (a.attr === 'providercertificate') {
        const text = a.value.toString('latin1');
        const ders = text.includes('-----BEGIN CERTIFICATE-----') ? certificatesFromPem(text) : [a.value];
        for (const der of ders) addCertificate(p, der, fail);
      } else if (a.attr === 'manageddomains') {
        for (const d of a.value.toString('utf8').split(/[\s,;]+/).filter(Boolean)) addDomain(p, d, fail);
      }
    }
    if (p.sha1.size + p.sha256.size + p.certificates.length === 0) {
      throw new ProviderIndexError(`${file}: line ${dn.line}: provider ${JSON.stringify(p.name)} has neither providerCertificateHash nor providerCertificate`);
    }
    providers.push(p);
  }
  return providers;
}

// ---------------------------------------------------------------------------------------
// YAML form

const PROVIDER_KEYS = new Set(['name', 'certificateHashes', 'certificates', 'managedDomains']);

function parseYamlIndex(text: string, file: string): PecProvider[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const lineOf = (n: Node | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : 1);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new ProviderIndexError(`${file}: line ${e.linePos?.[0]?.line ?? 1}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const fail = (n: Node | null | undefined, where: string, what: string): never => {
    throw new ProviderIndexError(`${file}: line ${lineOf(n)}: ${where}: ${what}`);
  };
  const root = doc.contents;
  if (!isMap(root)) return fail(root, '(root)', 'expected a mapping with the key "providers"');
  for (const item of root.items) {
    const k = isScalar(item.key) ? String(item.key.value) : '';
    if (k !== 'providers') fail(item.key as Node, k || '(key)', 'unknown key (expected "providers")');
  }
  const list = root.get('providers', true) as Node | undefined;
  if (!isSeq(list)) return fail(list ?? root, 'providers', 'expected a list of providers');
  const strings = (n: unknown, where: string): Array<{ value: string; node: Node }> => {
    if (n === undefined) return [];
    if (!isSeq(n)) return fail(n as Node, where, 'expected a list');
    return n.items.map((x, i) => {
      if (!isScalar(x) || typeof x.value !== 'string' || !x.value.trim()) return fail(x as Node, `${where}[${i}]`, 'expected a non-empty string');
      return { value: x.value, node: x };
    });
  };
  return list.items.map((item, i) => {
    const where = `providers[${i}]`;
    if (!isMap(item)) return fail(item as Node, where, 'expected a mapping with name, certificateHashes and managedDomains');
    for (const pair of item.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!PROVIDER_KEYS.has(k)) fail(pair.key as Node, `${where}.${k || '(key)'}`, `unknown key (expected one of ${[...PROVIDER_KEYS].join(', ')})`);
    }
    const name = item.get('name', true) as Node | undefined;
    if (!isScalar(name) || typeof name.value !== 'string' || !name.value.trim()) return fail(name ?? item, `${where}.name`, 'required: the provider name');
    const p = newProvider(name.value.trim(), lineOf(item));
    for (const h of strings(item.get('certificateHashes', true), `${where}.certificateHashes`)) {
      addHash(p, h.value, (what) => fail(h.node, `${where}.certificateHashes`, what));
    }
    for (const c of strings(item.get('certificates', true), `${where}.certificates`)) {
      const ders = certificatesFromPem(c.value);
      if (ders.length === 0) fail(c.node, `${where}.certificates`, 'expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
      for (const der of ders) addCertificate(p, der, (what) => fail(c.node, `${where}.certificates`, what));
    }
    const domains = strings(item.get('managedDomains', true), `${where}.managedDomains`);
    if (domains.length === 0) fail(item, `${where}.managedDomains`, 'required: the mail domains the provider manages');
    for (const d of domains) addDomain(p, d.value, (what) => fail(d.node, `${where}.managedDomains`, what));
    if (p.sha1.size + p.sha256.size + p.certificates.length === 0) {
      fail(item, where, 'give certificateHashes (sha256:… or sha1:…) or certificates (PEM)');
    }
    return p;
  });
}

// ---------------------------------------------------------------------------------------

/** Parse an index; the format is told by the content (LDIF starts with version: or dn:). */
export function parseProviderIndex(text: string, file: string): ProviderIndex {
  const firstLine = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  const ldif = /^(version|dn)::?\s/i.test(firstLine);
  const providers = ldif ? parseLdif(text, file) : parseYamlIndex(text, file);
  if (providers.length === 0) throw new ProviderIndexError(`${file}: line 1: no provider in the index`);
  return { source: file, format: ldif ? 'ldif' : 'yaml', providers };
}

const cache = new Map<string, { mtimeMs: number; size: number; index: ProviderIndex }>();

/** Read an index file (cached until the file changes). */
export function loadProviderIndex(file: string): ProviderIndex {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new ProviderIndexError(`${file}: cannot read the PEC provider index: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.index;
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD')) throw new ProviderIndexError(`${file}: line 1: not UTF-8 text`);
  const index = parseProviderIndex(text, file);
  cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, index });
  return index;
}

/** The provider that lists this certificate (by SHA-256, SHA-1 or the certificate itself). */
export function providerOf(index: ProviderIndex, cert: CertInfo): PecProvider | null {
  return (
    index.providers.find(
      (p) => p.sha256.has(cert.sha256) || p.sha1.has(cert.sha1) || p.certificates.some((c) => c.der.equals(cert.der)),
    ) ?? null
  );
}
