// Who is writing, in the directory's terms, at the moment the message was received. Pure.
import type { SenderFacts } from '../directory/model.js';

export type RequesterRole = 'referent' | 'delegate' | 'pec' | 'user' | 'unknown';

export interface Requester {
  address: string;
  administrationId: string | null;
  administrationName: string | null;
  supportContract: boolean;
  /** The service calendar the Administration's contract names (null: the desk's default). */
  calendar: string | null;
  role: RequesterRole;
  name: string | null;
}

const RANK: Record<RequesterRole, number> = { referent: 4, delegate: 3, pec: 2, user: 1, unknown: 0 };

/**
 * The strongest role the address holds. A delegate counts only inside its validity period,
 * compared on the local calendar day of receipt (`localDay`, YYYY-MM-DD).
 */
export function resolveRequester(facts: SenderFacts, localDay: string): Requester {
  let best: Requester = {
    address: facts.address,
    administrationId: null,
    administrationName: null,
    supportContract: false,
    calendar: null,
    role: 'unknown',
    name: null,
  };
  for (const m of facts.matches) {
    let role: RequesterRole;
    if (m.role === 'technical-referent' || m.role === 'referent') role = 'referent';
    else if (m.role === 'delegate') {
      if (!m.validFrom || !m.validUntil || localDay < m.validFrom || localDay > m.validUntil) role = 'user';
      else role = 'delegate';
    } else if (m.role === 'pec') role = 'pec';
    else role = 'user';
    if (RANK[role] > RANK[best.role]) {
      best = {
        address: facts.address,
        administrationId: m.administrationId,
        administrationName: m.administrationName,
        supportContract: m.supportContract,
        calendar: m.calendar,
        role,
        name: m.name ?? null,
      };
    }
  }
  return best;
}
