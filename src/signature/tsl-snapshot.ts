// The trusted-list snapshot the validator reads (written by `pecdesk trust import-tsl`, see
// tsl.ts): its schema, loading, and "was this chain's CA a granted qualified service at T?".
// Kept apart from the XML import so that verifying a document never loads the XML stack.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CertInfo } from './x509.js';

export const TSL_PROBLEMS = [
  'unreadable', // I/O: the file cannot be read
  'unwritable', // I/O: the snapshot cannot be written
  'too-large', // over MAX_TSL_BYTES
  'doctype', // a DOCTYPE / entity declaration: refused outright (XXE, entity expansion)
  'malformed', // not well-formed UTF-8 XML
  'not-a-tsl', // well-formed, but not a TS 119 612 TrustServiceStatusList (or a required field is missing/invalid)
  'no-signature', // no enveloped ds:Signature
  'untrusted-signer', // signed, but by a certificate that is not the configured / pointed-to signer
  'digest-mismatch', // the signed content was changed after signing
  'bad-signature', // the signature value does not verify, or the signature does not cover the list
  'unsupported-algorithm', // SHA-1, HMAC or an algorithm we do not implement
  'not-pointed', // a national list the list of lists has no pointer for
  'no-signer', // trust.tslSigner missing or holds no readable certificate
  'bad-snapshot', // the snapshot file is not one this code wrote
] as const;
export type TslProblem = (typeof TSL_PROBLEMS)[number];

/** Problems that are the caller's setup or I/O, not a verdict on the list (CLI exit 2, else 1). */
export const TSL_SETUP_PROBLEMS: ReadonlySet<TslProblem> = new Set(['unreadable', 'unwritable', 'no-signer', 'bad-snapshot']);

export class TslError extends Error {
  constructor(
    readonly code: TslProblem,
    readonly file: string,
    readonly detail: string,
    readonly field: string | null = null,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}`);
    this.name = 'TslError';
  }
}

export const SERVICE_TYPES = { 'CA/QC': 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC', 'TSA/QTST': 'http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST' } as const;
export type ServiceType = keyof typeof SERVICE_TYPES;
export type ServiceStatus = 'granted' | 'withdrawn';

/** Qualifier URIs of the Qualifications extension (…/TrustedList/SvcInfoExt/<name>). */
export const QUALIFIERS = [
  'QCWithSSCD', 'QCNoSSCD', 'QCSSCDStatusAsInCert', 'QCWithQSCD', 'QCNoQSCD', 'QCQSCDStatusAsInCert',
  'QCQSCDManagedOnBehalf', 'QCForLegalPerson', 'QCForESig', 'QCForESeal', 'QCForWSA', 'NotQualified', 'QCStatement',
] as const;
export type Qualifier = (typeof QUALIFIERS)[number];


// ---------------------------------------------------------------------------
// Snapshot (the JSON import-tsl writes; its zod schema guards what loadTslSnapshot returns)
// ---------------------------------------------------------------------------

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date-time');
const hex = z.string().regex(/^[0-9a-f]*$/, 'expected lower-case hex');
const certificateIdentity = z.object({
  der: z.string().min(1), // base64
  subject: z.string(),
  subjectDer: hex,
  ski: hex.nullable(),
  sha256: hex,
  spkiSha256: hex,
  validFrom: iso,
  validTo: iso,
});
const identity = z.object({ certificates: z.array(certificateIdentity), subjectNames: z.array(z.string()), skis: z.array(hex) });
const qualification = z.object({
  qualifiers: z.array(z.enum(QUALIFIERS)),
  otherQualifiers: z.array(z.string()),
  criteria: z
    .object({
      assert: z.string().nullable(),
      keyUsage: z.array(z.object({ bit: z.string(), value: z.boolean() })),
      policySets: z.array(z.array(z.string())),
      // Criteria kinds not read here (nested CriteriaList, otherCriteriaList, …): local names.
      notRead: z.array(z.string()),
    })
    .nullable(),
});
const statusEntry = z.object({
  name: z.string(),
  typeUri: z.string(),
  status: z.enum(['granted', 'withdrawn']),
  statusUri: z.string(),
  since: iso,
  identity,
  qualifications: z.array(qualification),
  additionalInformation: z.array(z.string()),
});
const service = statusEntry.extend({
  type: z.enum(['CA/QC', 'TSA/QTST']),
  tsp: z.string(),
  territory: z.string(),
  /** Earlier states, newest first, as the list gives them (ServiceHistoryInstance). */
  history: z.array(statusEntry),
});
const pointer = z.object({
  territory: z.string().nullable(),
  location: z.string().nullable(),
  tslType: z.string().nullable(),
  mimeType: z.string().nullable(),
  signers: z.array(z.object({ subject: z.string(), sha256: hex })),
});
const listInfo = z.object({
  file: z.string(),
  sha256: hex,
  tslType: z.string(),
  listOfLists: z.boolean(),
  name: z.string(),
  operator: z.string(),
  territory: z.string(),
  versionIdentifier: z.number().int(),
  sequenceNumber: z.number().int(),
  issued: iso,
  nextUpdate: iso.nullable(),
  signer: z.object({ subject: z.string(), sha256: hex }),
  /** How the signer was trusted: the configured trust.tslSigner, or a pointer of the list of lists. */
  verifiedBy: z.enum(['trust.tslSigner', 'list-of-lists']),
  counts: z.object({ tsps: z.number().int(), services: z.number().int(), caQc: z.number().int(), caQcGranted: z.number().int(), tsaQtst: z.number().int() }),
  pointers: z.array(pointer),
});
export const tslSnapshotSchema = z.object({
  format: z.literal('pecdesk-tsl-snapshot'),
  version: z.literal(1),
  importedAt: iso,
  lists: z.array(listInfo),
  services: z.array(service),
});
export type TslSnapshot = z.infer<typeof tslSnapshotSchema>;
export type TslListInfo = z.infer<typeof listInfo>;
export type TslService = z.infer<typeof service>;
export type TslStatusEntry = z.infer<typeof statusEntry>;
export type TslIdentity = z.infer<typeof identity>;
export type TslQualification = z.infer<typeof qualification>;

const spkiCache = new WeakMap<CertInfo, string>();
/** SHA-256 of the SubjectPublicKeyInfo: the key, whatever certificate carries it. */
export function spkiSha256(c: CertInfo): string {
  let h = spkiCache.get(c);
  if (!h) {
    h = createHash('sha256').update(c.x509.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    spkiCache.set(c, h);
  }
  return h;
}

// ---------------------------------------------------------------------------
// Snapshot for the validator
// ---------------------------------------------------------------------------

const snapshotCache = new Map<string, TslSnapshot>();

/** Read a snapshot written by import-tsl (cached per process by content hash). */
export function loadTslSnapshot(file: string): TslSnapshot {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new TslError('bad-snapshot', file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (run pecdesk trust import-tsl)`);
  }
  const key = createHash('sha256').update(bytes).digest('hex');
  const hit = snapshotCache.get(key);
  if (hit) return hit;
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new TslError('bad-snapshot', file, `not JSON: ${(e as Error).message}`);
  }
  const parsed = tslSnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new TslError('bad-snapshot', file, `${i.message} (not a snapshot written by pecdesk trust import-tsl)`, i.path.join('.') || '(root)');
  }
  snapshotCache.set(key, parsed.data);
  return parsed.data;
}

interface Prepared {
  service: TslService;
  /** Identity keys "subjectDer|spkiSha256" of every certificate, current and historical. */
  keys: Set<string>;
  /** Status entries, newest first. */
  timeline: Array<{ status: ServiceStatus; since: number }>;
}
const prepared = new WeakMap<TslSnapshot, Prepared[]>();

function prepare(snapshot: TslSnapshot): Prepared[] {
  let p = prepared.get(snapshot);
  if (!p) {
    p = snapshot.services
      .filter((s) => s.type === 'CA/QC')
      .map((s) => ({
        service: s,
        keys: new Set([s, ...s.history].flatMap((e) => e.identity.certificates.map((c) => `${c.subjectDer}|${c.spkiSha256}`))),
        timeline: [s, ...s.history].map((e) => ({ status: e.status, since: Date.parse(e.since) })).sort((a, b) => b.since - a.since),
      }));
    prepared.set(snapshot, p);
  }
  return p;
}

/**
 * Was the CA that issued the signer's certificate a qualified CA/QC service at `at`? `chain` is
 * signer first, anchor last. A service matches a certificate above the signer with the same
 * subject DN (DER) and the same public key — so a CA certificate re-issued on the same key still
 * matches, and a look-alike with a chosen SKI does not. The nearest matching certificate wins;
 * among its services a granted one is preferred.
 */
export function qualificationAt(
  snapshot: TslSnapshot,
  chain: CertInfo[],
  at: Date,
): { status: 'granted' | 'withdrawn' | 'not-listed'; service: string | null; since: Date | null } {
  const services = prepare(snapshot);
  for (const c of chain.slice(1)) {
    const key = `${c.subjectDer.toString('hex')}|${spkiSha256(c)}`;
    const matches = services.filter((s) => s.keys.has(key));
    if (matches.length === 0) continue;
    const states = matches.map((m) => ({ m, e: m.timeline.find((x) => x.since <= at.getTime()) ?? null }));
    const best = states.find((s) => s.e?.status === 'granted') ?? states.find((s) => s.e) ?? states[0]!;
    // Listed, but its first status starts after `at`: it was not a qualified service then.
    if (!best.e) return { status: 'not-listed', service: best.m.service.name, since: null };
    return { status: best.e.status, service: best.m.service.name, since: new Date(best.e.since) };
  }
  return { status: 'not-listed', service: null, since: null };
}
