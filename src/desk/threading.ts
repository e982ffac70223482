// May a message join an existing ticket? (SPEC §5: quoting a number grants nothing.) Pure.
import type { Requester } from './requester.js';
import type { SenderVerification } from './types.js';

export interface ThreadTicket {
  requester: string;
  administrationId: string | null;
}

export function mayJoinTicket(ticket: ThreadTicket, sender: Requester, verification: SenderVerification): boolean {
  if (sender.address === ticket.requester) return true;
  if (!ticket.administrationId || sender.administrationId !== ticket.administrationId) return false;
  if (sender.role === 'referent' || sender.role === 'delegate' || sender.role === 'pec') return true;
  // Any other user of the same Administration only when their identity is verified.
  return verification !== 'unverified';
}
