// What a PEC receipt means for the delivery of the message it refers to (PEC.md "Receipts").
// Pure: given the receipt's daticert and the current per-recipient states, the new states.
import type { Daticert, PecType } from './daticert.js';

export type DeliveryState =
  | 'accepted'
  | 'not-accepted'
  | 'taken-in-charge'
  | 'delivered'
  | 'failed'
  | 'delivery-warning'
  | 'infected'
  | 'not-pec';

/** States that end the story for a recipient: a late notice never changes them. */
export const FINAL_STATES: ReadonlySet<DeliveryState> = new Set(['delivered', 'failed', 'not-accepted', 'infected']);
export const FAILED_STATES: ReadonlySet<string> = new Set(['failed', 'not-accepted', 'infected']);

export interface RecipientUpdate {
  address: string;
  state: DeliveryState;
  detail: string | null;
}

/** The per-recipient states a receipt reports. */
export function receiptUpdates(tipo: PecType, d: Daticert): RecipientUpdate[] {
  const all = d.destinatari.map((x) => x.address);
  const each = (addresses: string[], state: DeliveryState, detail: string | null = null) =>
    addresses.map((address) => ({ address, state, detail }));
  const target = d.consegna ? [d.consegna] : all;
  const error = d.erroreEsteso ?? (d.errore !== 'nessuno' ? d.errore : null);
  switch (tipo) {
    case 'accettazione':
      // A recipient outside PEC gets no delivery receipt: say so instead of waiting for one.
      return d.destinatari.map((x) => ({ address: x.address, state: x.tipo === 'esterno' ? 'not-pec' : 'accepted', detail: null }));
    case 'non-accettazione':
      return each(all, 'not-accepted', error);
    case 'presa-in-carico':
      return each(target, 'taken-in-charge');
    case 'avvenuta-consegna':
      return each(target, 'delivered');
    case 'errore-consegna':
      return each(target, 'failed', error);
    case 'preavviso-errore-consegna':
      // Aruba's "preavviso" with a 5.4.1 extended error is in fact final.
      return each(target, /^5\.4\.1/.test(d.erroreEsteso ?? '') ? 'failed' : 'delivery-warning', error);
    case 'rilevazione-virus':
      return each(target, 'infected', error);
    case 'posta-certificata':
      return [];
  }
}

/** Merge an update into the current state: final states stay, everything else moves on. */
export function mergeState(current: DeliveryState | null, next: DeliveryState): DeliveryState {
  if (current && FINAL_STATES.has(current)) return current;
  return next;
}

/** One word for an outgoing message from its recipients' states. */
export function overallState(states: string[]): string {
  if (states.length === 0) return 'sent';
  if (states.some((s) => FAILED_STATES.has(s))) return 'failed';
  if (states.every((s) => s === 'delivered')) return 'delivered';
  if (states.some((s) => s === 'delivery-warning')) return 'delivery-warning';
  if (states.every((s) => s === 'not-pec' || s === 'delivered')) return 'not-pec';
  return 'accepted';
}
