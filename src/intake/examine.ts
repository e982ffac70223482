// Gathering the facts about one parsed message before deciding: is it PEC, what does the
// envelope certify, who is the sender and how sure are we (SPEC §3), when was it received.
import { verifyAuthenticationResults } from '../mail/auth-results.js';
import { parseMessage, type ParsedMessage } from '../mail/parse.js';
import { looksLikePec, readPecEnvelope, type PecEnvelope } from '../pec/envelope.js';
import type { Desk } from '../runtime/context.js';
import type { SenderVerification } from '../desk/types.js';
import { loadTrustStore, type TrustStore } from '../signature/trust.js';

export interface Examined {
  /** The message as it arrived (for PEC: the provider's envelope). */
  outer: ParsedMessage;
  /** What the request says: the inner postacert.eml for PEC, else the message itself. */
  content: ParsedMessage;
  /** The requester's address (lower-case) and name. */
  sender: string | null;
  senderName: string | null;
  verification: SenderVerification;
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

function pecTrust(desk: Desk): { trust: TrustStore | null; error: string | null } {
  const dir = desk.cfg.trust.pecProviders;
  if (!dir) return { trust: null, error: 'trust.pecProviders is not configured' };
  try {
    return { trust: loadTrustStore(dir), error: null };
  } catch (e) {
    return { trust: null, error: (e as Error).message };
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
      verificationNote: verdict.reason,
      receivedAt: receivedTime(outer, now, arrivedAt),
      pec: null,
    };
  }

  const { trust, error } = pecTrust(desk);
  const pec = readPecEnvelope(raw, outer.headers, trust);
  if (error) pec.signature.problems.push(error);
  const inner = pec.postacert && pec.kind === 'posta-certificata' ? await parseMessage(pec.postacert) : null;
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
  const note = pec.certified
    ? `PEC envelope signed by ${pec.signature.signer?.certificate?.x509.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? 'the provider'}, verified at its signing time`
    : `PEC envelope not certified: ${pec.signature.problems.join('; ') || 'unknown reason'}`;
  return {
    outer,
    content,
    sender,
    senderName: content.from?.name || null,
    verification: pec.certified ? 'pec-certified' : 'unverified',
    verificationNote: note,
    // The certified time is the received time (SPEC §4); an uncertified one proves nothing.
    receivedAt: pec.certifiedAt ? new Date(Math.min(pec.certifiedAt.getTime(), now.getTime())) : receivedTime(outer, now, arrivedAt),
    pec,
  };
}
