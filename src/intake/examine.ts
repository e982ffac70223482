// Gathering the facts about one parsed message before deciding: is it PEC, what does the
// envelope certify, who is the sender and how sure are we (SPEC §3), when was it received.
import { verifyAuthenticationResults } from '../mail/auth-results.js';
import { mimeLimitsOf, parseMessage, type ParsedMessage } from '../mail/parse.js';
import { looksLikePec, readPecEnvelope, type PecEnvelope, type PecTrust } from '../pec/envelope.js';
import { loadProviderIndex } from '../pec/provider-index.js';
import { attachmentSpill, type Desk } from '../runtime/context.js';
import type { SenderVerification } from '../desk/types.js';
import type { VerificationProblem } from '../desk/verification.js';
import { loadTrustStore } from '../signature/trust.js';

export interface Examined {
  /** The message as it arrived (for PEC: the provider's envelope). */
  outer: ParsedMessage;
  /** What the request says: the inner postacert.eml for PEC, else the message itself. */
  content: ParsedMessage;
  /** The requester's address (lower-case) and name. */
  sender: string | null;
  senderName: string | null;
  verification: SenderVerification;
  /** Why the sender is not verified, as stable codes (empty when verified). */
  verificationProblems: VerificationProblem[];
  /** Why the sender has that level, for the ticket. */
  verificationNote: string;
  receivedAt: Date;
  pec: PecEnvelope | null;
}

/** SPEC §4: the topmost Received: date, else Date:, else arrival; never later than now. */
export function receivedTime(parsed: ParsedMessage, now: Date, arrivedAt?: Date): Date {
  const t = parsed.receivedHeaderDate ?? parsed.date ?? arrivedAt ?? now;
  return t.getTime() > now.getTime() ? now : t;
}

/** The providers' anchors and CRLs and the provider index, read again only when their files change. */
export function pecTrust(desk: Desk): PecTrust {
  const { pecProviders: dir, pecProviderIndex } = desk.cfg.trust;
  if (!dir) return { store: null, index: null, unavailable: 'trust.pecProviders is not configured' };
  try {
    return { store: loadTrustStore(dir), index: pecProviderIndex ? loadProviderIndex(pecProviderIndex) : null, unavailable: null };
  } catch (e) {
    // Without the configured material nothing can be certified; the message is still registered.
    let store = null;
    try {
      store = loadTrustStore(dir);
    } catch {
      /* reported below */
    }
    return { store, index: null, unavailable: (e as Error).message };
  }
}

export async function examine(desk: Desk, raw: Buffer, outer: ParsedMessage, now: Date, arrivedAt?: Date): Promise<Examined> {
  if (!looksLikePec(raw, outer.headers)) {
    const from = outer.from?.address ?? null;
    const verdict = from
      ? verifyAuthenticationResults(outer.headers, from, desk.cfg.trust.authservIds)
      : { level: 'unverified' as const, reason: 'no sender address' };
    return {
      outer,
      content: outer,
      sender: from,
      senderName: outer.from?.name || null,
      verification: verdict.level,
      verificationProblems: verdict.level === 'unverified' ? ['email-not-authenticated'] : [],
      verificationNote: verdict.reason,
      receivedAt: receivedTime(outer, now, arrivedAt),
      pec: null,
    };
  }

  const pec = readPecEnvelope(raw, outer.headers, pecTrust(desk), outer.from?.address ?? null);
  const inner = pec.postacert && pec.kind === 'posta-certificata' ? await parseMessage(pec.postacert, mimeLimitsOf(desk.cfg.limits), attachmentSpill(desk)) : null;
  const content = inner ?? outer;
  // The certified sender is the signed daticert's mittente; without a valid signature, the
  // inner From is only a claim.
  // Receipts and anomalies come from the provider itself: their sender is the envelope's From.
  const sender =
    pec.kind !== 'posta-certificata'
      ? (outer.from?.address ?? null)
      : pec.certified && pec.daticert?.mittente
        ? pec.daticert.mittente
        : (content.from?.address ?? pec.daticert?.mittente ?? null);
  const provider = pec.signature.provider;
  const signedBy = [
    pec.signature.signer?.certificate?.x509.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? 'the provider',
    provider?.indexProvider ? `listed in the provider index as ${provider.indexProvider}` : null,
    provider?.gestoreEmittente ? `gestore-emittente ${provider.gestoreEmittente}` : null,
  ].filter(Boolean);
  const note = pec.certified
    ? `PEC envelope signed by ${signedBy.join(', ')}, verified at its signing time`
    : `PEC envelope not certified (${pec.signature.problems.join(', ')}): ${pec.signature.details.join('; ') || 'unknown reason'}`;
  return {
    outer,
    content,
    sender,
    senderName: content.from?.name || null,
    verification: pec.certified ? 'pec-certified' : 'unverified',
    verificationProblems: pec.certified ? [] : pec.signature.problems,
    verificationNote: note,
    // The certified time is the received time (SPEC §4); an uncertified one proves nothing.
    receivedAt: pec.certifiedAt ? new Date(Math.min(pec.certifiedAt.getTime(), now.getTime())) : receivedTime(outer, now, arrivedAt),
    pec,
  };
}
