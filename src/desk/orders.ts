// The order workflow of seed 000 (SPEC §2.1) as a state machine. Pure: which transitions
// exist, who may trigger them; the store records each as an event with its evidence.
export type OrderState =
  | 'piano-received'
  | 'piano-rejected'
  | 'progetto-in-preparation'
  | 'progetto-sent'
  | 'progetto-delivered'
  | 'contract-received'
  | 'provisioning'
  | 'active';

export type OrderAction =
  | 'piano-accepted'
  | 'piano-rejected'
  | 'piano-resent'
  | 'send-progetto'
  | 'progetto-delivered'
  | 'contract-accepted'
  | 'contract-rejected'
  | 'countersign'
  | 'activate';

const TRANSITIONS: Record<OrderAction, { from: OrderState[]; to: OrderState }> = {
  'piano-accepted': { from: ['piano-received'], to: 'progetto-in-preparation' },
  'piano-rejected': { from: ['piano-received'], to: 'piano-rejected' },
  'piano-resent': { from: ['piano-rejected'], to: 'piano-received' },
  'send-progetto': { from: ['progetto-in-preparation', 'progetto-sent'], to: 'progetto-sent' },
  'progetto-delivered': { from: ['progetto-sent'], to: 'progetto-delivered' },
  // A contract may arrive before the delivery receipt of the Progetto is processed.
  'contract-accepted': { from: ['progetto-sent', 'progetto-delivered'], to: 'contract-received' },
  'contract-rejected': { from: ['progetto-sent', 'progetto-delivered'], to: 'progetto-delivered' },
  countersign: { from: ['contract-received'], to: 'provisioning' },
  activate: { from: ['provisioning'], to: 'active' },
};

export class IllegalTransition extends Error {}

export function nextState(current: OrderState, action: OrderAction): OrderState {
  const t = TRANSITIONS[action];
  if (!t.from.includes(current)) {
    throw new IllegalTransition(`cannot ${action.replace(/-/g, ' ')} an order that is ${current} (allowed from: ${t.from.join(', ')})`);
  }
  // A contract rejected while the Progetto is still only sent keeps that state.
  if (action === 'contract-rejected') return current;
  return t.to;
}

export function canDo(current: OrderState, action: OrderAction): boolean {
  return TRANSITIONS[action].from.includes(current);
}
