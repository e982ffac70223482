// Who may ask for what (SPEC §2.3, §3), decided for every message — never inherited from a
// thread. Support is open to anyone; a directory change needs a verified sender of the
// Administration; password resets and mailbox lifecycle only the technical referent or a
// delegate inside its period, verified. Pure: the requester as resolved on the day of receipt,
// the sender's verification level, the category.
import type { SenderFacts } from '../directory/model.js';
import type { Category } from './category.js';
import type { Requester } from './requester.js';
import type { SenderVerification } from './types.js';

/** Why a request is (or is not) authorized, with the Italian sentence replies use. */
export const AUTHORIZATION_REASON_TEXT = {
  'support-open': "le richieste di assistenza possono essere inviate da qualunque utente",
  referent: "la richiesta proviene dal referente tecnico registrato dell'Amministrazione",
  delegate: "la richiesta proviene da un delegato del referente tecnico, nel periodo di validità della delega",
  'administration-user': "la richiesta proviene da un utente verificato di un dominio dell'Amministrazione",
  'administration-pec': "la richiesta proviene dalla casella PEC istituzionale dell'Amministrazione",
  'sender-unverified': 'non è stato possibile verificare il mittente del messaggio',
  'delegation-not-valid': 'la delega del mittente non è valida alla data della richiesta (scaduta o non ancora in vigore)',
  'not-referent-or-delegate': "questo tipo di richiesta può essere inviato soltanto dal referente tecnico dell'Amministrazione o da un suo delegato",
  'not-administration-user': "il mittente non risulta un utente di un'Amministrazione servita",
  'order-formal-check': "le richieste di attivazione sono esaminate con il controllo formale del Piano dei Fabbisogni",
} as const;

export type AuthorizationReason = keyof typeof AUTHORIZATION_REASON_TEXT;

/** Who may ask, per category, in Italian (the refusal reply says it). */
export const WHO_MAY_ASK: Record<Category, string> = {
  support: "qualunque utente",
  directory: "gli utenti dell'Amministrazione da un indirizzo verificato dei suoi domini, il referente tecnico e i suoi delegati",
  'password-reset': "soltanto il referente tecnico dell'Amministrazione o un suo delegato, dal proprio indirizzo registrato",
  'mailbox-lifecycle': "soltanto il referente tecnico dell'Amministrazione o un suo delegato, dal proprio indirizzo registrato",
};

export interface AuthorizationInput {
  category: Category;
  requester: Requester;
  verification: SenderVerification;
  /** The sender is a delegate of an Administration, but not on this day. */
  delegationOutOfPeriod: boolean;
}

export interface AuthorizationDecision {
  authorized: boolean;
  reason: AuthorizationReason;
}

export function authorize(a: AuthorizationInput): AuthorizationDecision {
  if (a.category === 'support') return { authorized: true, reason: 'support-open' };
  const role = a.requester.role;
  const privileged = a.category === 'password-reset' || a.category === 'mailbox-lifecycle';
  const allowed = privileged ? role === 'referent' || role === 'delegate' : role !== 'unknown';
  if (!allowed) {
    if (a.delegationOutOfPeriod) return { authorized: false, reason: 'delegation-not-valid' };
    return { authorized: false, reason: privileged ? 'not-referent-or-delegate' : 'not-administration-user' };
  }
  // The right role, but only a verified sender is who it says it is.
  if (a.verification === 'unverified') return { authorized: false, reason: 'sender-unverified' };
  const byRole = { referent: 'referent', delegate: 'delegate', pec: 'administration-pec', user: 'administration-user' } as const;
  return { authorized: true, reason: byRole[role as keyof typeof byRole] };
}

/** The address is listed as a delegate but the delegation does not cover `localDay` (YYYY-MM-DD). */
export function delegationOutOfPeriod(facts: SenderFacts, localDay: string, requester: Requester): boolean {
  if (requester.role === 'referent' || requester.role === 'delegate') return false;
  return facts.matches.some((m) => m.role === 'delegate' && (!m.validFrom || !m.validUntil || localDay < m.validFrom || localDay > m.validUntil));
}
