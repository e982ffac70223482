// Trust stores: a directory of PEM (or DER .cer/.crt) certificate files. Anchors are what a
// chain must end at; nothing else in the directory is trusted implicitly.
//
// A store of the size of the Italian trusted list (about 1,000 CAs) is read on every CLI run, so
// loading reads only the subject name from each certificate's DER; the full parse (node:crypto's
// X509Certificate and the extensions: certInfo, most of the time it took) is done per anchor when
// something asks for it: path building for the few anchors named as issuers, `all()` for trust
// show and doctor. In a long-running process the store is reused as long as the files' contents
// are the same (whatever their mtimes say), and the anchors of an unchanged file are kept, parsed
// or not, when another file of the directory changes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { OcspInfo } from './ocsp.js';
import type { TslSnapshot } from './tsl-snapshot.js';
import { crlsFromPem, parseCrl, type CrlInfo } from './revocation.js';
import { certificateSubject, certInfo, nameKey, subjectKeyIdOf, type CertInfo } from './x509.js';

export class TrustStoreError extends Error {}

export interface TrustStore {
  source: string;
  anchors: TrustAnchors;
  /** CRLs found beside the anchors (.crl, DER or PEM). */
  crls: CrlInfo[];
  /** OCSP responses the document carries (PDF DSS, CAdES revocation values). */
  ocsps?: OcspInfo[];
  /** Anchors for time-stamping authorities (config trust.timestamping); absent: these anchors. */
  timestamping?: TrustStore;
  /** The imported trusted list (config trust.tsl): which CAs were qualified, when. */
  tsl?: TslSnapshot;
}

/** One anchor as loaded: its DER and subject; the full CertInfo on first use. */
interface AnchorEntry {
  file: string;
  der: Buffer;
  subjectDer: Buffer;
  parsed: CertInfo | TrustStoreError | null;
}

function parsed(e: AnchorEntry): CertInfo | TrustStoreError {
  if (e.parsed === null) {
    try {
      e.parsed = certInfo(e.der);
    } catch (err) {
      e.parsed = new TrustStoreError(`${e.file}: not a certificate: ${(err as Error).message}`);
    }
  }
  return e.parsed;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/**
 * The anchors of a store, indexed by subject name (the key OpenSSL's name comparison implies:
 * another string type, case or spacing of the same name finds the same anchors) and by subject
 * key identifier. Lookups return fully parsed anchors, in store order; an anchor that
 * node:crypto cannot parse is left out of lookups (it cannot be an issuer) and makes `all()`
 * fail, naming its file.
 */
export class TrustAnchors {
  readonly #entries: AnchorEntry[];
  /** By nameKey of the subject; built on the first lookup (trust show and doctor never need it). */
  #byName: Map<number, AnchorEntry[]> | null = null;
  /** Anchors whose subject nameKey cannot read: candidates for every name. */
  #unreadableNames: AnchorEntry[] = [];
  /** By subjectKeyIdentifier (hex); built when first needed (an issuer name no anchor has). */
  #byKeyId: Map<string, AnchorEntry[]> | null = null;

  constructor(entries: AnchorEntry[]) {
    this.#entries = entries;
  }

  /** Anchors already parsed (a store built in memory). */
  static of(certs: CertInfo[], source = '(memory)'): TrustAnchors {
    return new TrustAnchors(certs.map((c) => ({ file: source, der: c.der, subjectDer: c.subjectDer, parsed: c })));
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Every anchor, parsed (trust show, doctor). Throws TrustStoreError for an anchor that does not parse. */
  all(): CertInfo[] {
    return this.#entries.map((e) => {
      const c = parsed(e);
      if (c instanceof TrustStoreError) throw c;
      return c;
    });
  }

  /** Every anchor that parses: the scan for a name that cannot be read. */
  usable(): CertInfo[] {
    return usable(this.#entries);
  }

  /** Is this exact certificate (same DER) an anchor? */
  includes(cert: CertInfo): boolean {
    const named = this.#named(cert.subjectDer) ?? this.#entries.filter((e) => e.subjectDer.equals(cert.subjectDer));
    return named.some((e) => e.der.equals(cert.der));
  }

  /**
   * The anchors whose subject is `nameDer` as encoded or as OpenSSL compares names (possibly with
   * one more whose name only shares the key: callers check the name as they always did); null
   * when `nameDer` cannot be read as a Name.
   */
  withSubject(nameDer: Buffer): CertInfo[] | null {
    const named = this.#named(nameDer);
    return named && usable(named);
  }

  /** The anchors with this subjectKeyIdentifier (hex). */
  withSubjectKeyId(keyId: string): CertInfo[] {
    if (!this.#byKeyId) {
      this.#byKeyId = new Map();
      for (const e of this.#entries) {
        const id = subjectKeyIdOf(e.der);
        if (id) push(this.#byKeyId, id, e);
      }
    }
    return usable(this.#byKeyId.get(keyId.toLowerCase()) ?? []);
  }

  /** The anchors under the nameKey of `nameDer`, in store order; null when it is not a readable Name. */
  #named(nameDer: Buffer): AnchorEntry[] | null {
    if (!this.#byName) {
      this.#byName = new Map();
      for (const e of this.#entries) {
        const key = nameKey(e.subjectDer);
        if (key === null) this.#unreadableNames.push(e);
        else push(this.#byName, key, e);
      }
    }
    const key = nameKey(nameDer);
    if (key === null) return null;
    const found = this.#byName.get(key) ?? [];
    if (!this.#unreadableNames.length) return found;
    return this.#entries.filter((e) => found.includes(e) || this.#unreadableNames.includes(e));
  }
}

function usable(entries: AnchorEntry[]): CertInfo[] {
  const out: CertInfo[] = [];
  for (const e of entries) {
    const c = parsed(e);
    if (!(c instanceof TrustStoreError)) out.push(c);
  }
  return out;
}

const BEGIN_CERT = Buffer.from('-----BEGIN CERTIFICATE-----');
const END_CERT = Buffer.from('-----END CERTIFICATE-----');

/** The certificates of a PEM file (as certificatesFromPem, without a regular expression over the text). */
function pemCertificates(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = bytes.indexOf(BEGIN_CERT); p >= 0; p = bytes.indexOf(BEGIN_CERT, p)) {
    const end = bytes.indexOf(END_CERT, p + BEGIN_CERT.length);
    if (end < 0) break;
    // base64 decoding skips the line breaks.
    out.push(Buffer.from(bytes.toString('latin1', p + BEGIN_CERT.length, end), 'base64'));
    p = end + END_CERT.length;
  }
  return out;
}

/** What one file contributes, kept with the bytes it was read from. */
interface FileEntry {
  bytes: Buffer;
  anchors: AnchorEntry[];
  crls: CrlInfo[];
}

function readStoreFile(file: string, bytes: Buffer): FileEntry {
  const entry: FileEntry = { bytes, anchors: [], crls: [] };
  if (/\.crl$/i.test(file)) {
    const pem = bytes.includes('-----BEGIN X509 CRL-----');
    for (const der of pem ? crlsFromPem(bytes.toString('latin1')) : [bytes]) {
      try {
        entry.crls.push(parseCrl(der, file));
      } catch (e) {
        throw new TrustStoreError(`${file}: not a CRL: ${(e as Error).message}`);
      }
    }
    return entry;
  }
  const ders = bytes.includes(BEGIN_CERT) ? pemCertificates(bytes) : [bytes];
  for (const der of ders) {
    try {
      entry.anchors.push({ file, der, subjectDer: certificateSubject(der), parsed: null });
    } catch (e) {
      throw new TrustStoreError(`${file}: not a certificate: ${(e as Error).message}`);
    }
  }
  return entry;
}

/** Per directory: the files last read (by name, with their bytes) and the store they made. */
const cache = new Map<string, { files: Map<string, FileEntry>; store: TrustStore }>();

/**
 * The trust store of `dir` (or of a single certificate file). The same object is returned while
 * the contents of its files are unchanged; each call reads the files again to know that.
 */
export function loadTrustStore(dir: string): TrustStore {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new TrustStoreError(`${dir}: cannot read trust store: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const names = st.isDirectory() ? readdirSync(dir).sort().map((f) => path.join(dir, f)) : [dir];
  const files = names.filter((f) => /\.(pem|crt|cer|crl)$/i.test(f));
  const previous = cache.get(dir);
  const read = new Map<string, FileEntry>();
  let changed = !previous || previous.files.size !== files.length;
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new TrustStoreError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const before = previous?.files.get(file);
    if (before && before.bytes.equals(bytes)) read.set(file, before);
    else {
      changed = true;
      read.set(file, readStoreFile(file, bytes));
    }
  }
  if (!changed && previous) return previous.store;
  const entries: AnchorEntry[] = [];
  const crls: CrlInfo[] = [];
  for (const f of read.values()) {
    // Entries of unchanged files are shared with the previous store: an anchor parsed there stays parsed.
    entries.push(...f.anchors);
    crls.push(...f.crls);
  }
  const store: TrustStore = { source: dir, anchors: new TrustAnchors(entries), crls };
  cache.set(dir, { files: read, store });
  return store;
}
