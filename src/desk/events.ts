// What can happen to a ticket: a closed list of event types, each with its Italian label
// (operators read them in `tickets show`; scripts read the codes in its JSON).
import type { SlaEventType } from './sla.js';
import type { WorkflowEventType } from './workflow.js';

export const TICKET_EVENT_TEXT = {
  received: 'richiesta ricevuta',
  classified: 'classificata (categoria, priorità, autorizzazione, scadenza)',
  'thread-refused': 'riferimento a un altro ticket non accolto: il mittente non può intervenire su quel ticket',
  'follow-up': 'nuovo messaggio sulla richiesta',
  'auto-reply': 'risposta automatica ricevuta',
  bounce: 'notifica di mancata consegna ricevuta',
  'reply-queued': 'risposta messa in coda di invio',
  'reply-suppressed': 'risposta automatica non inviata',
  'reply-bounced': 'la risposta non è stata consegnata',
  'pec-receipt': 'ricevuta PEC della risposta',
  'on-call-notified': 'servizio di reperibilità avvisato',
  'on-call-not-notified': 'servizio di reperibilità non avvisato: indirizzo non configurato',
  taken: 'presa in carico',
  escalated: 'passata al secondo livello',
  resolved: 'risolta',
  closed: 'chiusa',
  reopened: 'riaperta',
  'sla-breached': 'termine di presa in carico superato',
  'sla-reminder': 'promemoria: termine di presa in carico vicino',
  'message-id-reused': 'identificativo del messaggio già usato dallo stesso mittente per un contenuto diverso: trattato come messaggio nuovo',
  'order-opened': 'ordine aperto dal Piano dei Fabbisogni',
  'piano-resent': 'Piano dei Fabbisogni inviato di nuovo',
  'contract-received': 'Contratto Esecutivo ricevuto',
  'send-progetto': 'Progetto dei Fabbisogni inviato',
  countersign: 'contratto controfirmato e PIN inviati',
  activate: 'servizio attivato',
} as const satisfies Record<WorkflowEventType | SlaEventType, string> & Record<string, string>;

export type TicketEventType = keyof typeof TICKET_EVENT_TEXT;
