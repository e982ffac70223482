// Shared vocabulary of the desk rules.
export type SenderVerification = 'pec-certified' | 'dmarc-pass' | 'unverified';
export type Classification =
  | 'pec'
  | 'pec-receipt'
  | 'pec-anomaly'
  | 'email'
  | 'auto-reply'
  | 'bounce'
  | 'duplicate'
  | 'quarantined';
export type TicketKind = 'support' | 'change-request' | 'order';
export type Channel = 'pec' | 'email';
