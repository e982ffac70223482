// The ingest result (SPEC §8.2 `ingest` → results[]). Keys are a contract: add, never rename.
import type { Classification, SenderVerification } from '../desk/types.js';
import type { VerificationProblem } from '../desk/verification.js';

export interface TicketSummary {
  ref: string;
  kind: string;
  category: string;
  priority: string;
  takeChargeDueAt: string | null;
  authorized: boolean;
  /** Why (not) authorized: an AuthorizationReason code (src/desk/authorization.ts). */
  authorizationReason: string | null;
  onCall: boolean;
}

export interface IngestResult {
  file: string | null;
  messageId: string | null;
  classification: Classification;
  /** verificationProblems: why the sender is `unverified`, as stable codes (empty otherwise). */
  sender: { address: string | null; verification: SenderVerification; verificationProblems: VerificationProblem[] };
  ticket: TicketSummary | null;
  order: null | { ref: string; state: string; problems: string[] };
  reply: null | { template: string; to: string };
  /** For `duplicate`: what it repeats. */
  duplicateOf?: { recordedAt: string; ticketRef: string | null };
  /** A new message that reused the Message-ID of an earlier one from the same sender (other content). */
  messageIdReuseOf?: { recordedAt: string; ticketRef: string | null };
  /** For `quarantined`: where it is and why. */
  quarantine?: { id: number; reason: string };
}
