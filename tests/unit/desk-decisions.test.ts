// The desk's decisions on Italian requests, as an experienced first-level operator would take
// them (seeds 001, 003, 004; SPEC §2.3, §3, §4): category, class, authorization, deadline, reply.
// Pure: decide() with the shipped rule tables (config/categories.yaml, config/priority.yaml).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCategoryRules, loadPriorityRules } from '../../src/config/rules.js';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULT_CALENDAR } from '../../src/desk/calendar.js';
import { calendarsFromConfig } from '../../src/runtime/context.js';
import { decide, type DeskRules, type MessageFacts } from '../../src/desk/decide.js';
import type { Requester } from '../../src/desk/requester.js';
import { repoRoot } from '../e2e/workspace.js';

// The shipped calendars (config/calendars.yaml): standard (seed 001), pausa-pranzo (004), turni (003).
const calendars = calendarsFromConfig(loadConfig(path.join(repoRoot, 'config', 'default.yaml')));
const rules: DeskRules = {
  calendar: DEFAULT_CALENDAR,
  calendars,
  defaultCalendar: 'standard',
  priority: loadPriorityRules(path.join(repoRoot, 'config', 'priority.yaml')),
  categories: loadCategoryRules(path.join(repoRoot, 'config', 'categories.yaml')),
  repliesPerSenderPerHour: 5,
};

const comune = { administrationId: 'comune-esempio', administrationName: 'Comune di Esempio', supportContract: true, calendar: null };
const uni = { administrationId: 'universita-demo', administrationName: 'Università Demo', supportContract: false, calendar: null };
const WHO: Record<string, Requester> = {
  referent: { address: 'anna.rossi@comune.esempio.it', ...comune, role: 'referent', name: 'Anna Rossi' },
  delegate: { address: 'luca.bianchi@comune.esempio.it', ...comune, role: 'delegate', name: 'Luca Bianchi' },
  // Luca one day after his delegation ended: only a user of the domain.
  expiredDelegate: { address: 'luca.bianchi@comune.esempio.it', ...comune, role: 'user', name: null },
  user: { address: 'giulia.neri@comune.esempio.it', ...comune, role: 'user', name: null },
  pecBox: { address: 'protocollo@pec.comune.esempio.it', ...comune, role: 'pec', name: null },
  uniReferent: { address: 'marco.verdi@unidemo.it', ...uni, role: 'referent', name: 'Marco Verdi' },
  stranger: { address: 'mario.bianchi@gmail.example', administrationId: null, administrationName: null, supportContract: false, role: 'unknown', name: null, calendar: null },
  // Administrations whose contracts name the seed 003 and seed 004 calendars.
  splitShifts: { address: 'it@comune-turni.example', administrationId: 'comune-turni', administrationName: 'Comune Turni', supportContract: true, role: 'referent', name: null, calendar: 'turni' },
  lunchPause: { address: 'it@ente-pausa.example', administrationId: 'ente-pausa', administrationName: 'Ente Pausa', supportContract: true, role: 'referent', name: null, calendar: 'pausa-pranzo' },
};

interface Case {
  subject: string;
  body: string;
  who: keyof typeof WHO;
  verification?: MessageFacts['verification'];
  at: string;
  pin?: MessageFacts['pin'];
  pecEnvelope?: boolean;
  expect: {
    category: string;
    priority: string;
    authorized: boolean;
    reason: string;
    due: string | null;
    reply: string;
    onCall?: boolean;
  };
}

// Wednesday 25 November 2026, 10:00 in Rome (09:00Z): P1+ 11:00, P1 12:00, P2 14:00 (Rome),
// P3 Thursday 17:00, P4 Tuesday 1 December 17:00 (Thu, Fri, Sat, Mon, Tue).
const WED = '2026-11-25T10:00:00+01:00';
const DUE = { 'P1+': '2026-11-25T10:00:00.000Z', P1: '2026-11-25T11:00:00.000Z', P2: '2026-11-25T13:00:00.000Z', P3: '2026-11-26T16:00:00.000Z', P4: '2026-12-01T16:00:00.000Z' };
const ok = (category: string, priority: keyof typeof DUE | 'P7', reason: string, extra: Partial<Case['expect']> = {}): Case['expect'] => ({
  category, priority, authorized: true, reason, due: priority === 'P7' ? null : DUE[priority], reply: 'acknowledgement', ...extra,
});
const refused = (category: string, reason: string, reply: 'refusal' | 'unverified-sender', due = DUE.P4): Case['expect'] => ({
  category, priority: 'P4', authorized: false, reason, due, reply,
});

const CASES: Record<string, Case> = {
  // --- support: class from the wording (SPEC §4 table) ---
  'P1+: the whole mail service is down': { subject: 'Servizio di posta irraggiungibile', body: 'Da stamattina il servizio di posta è irraggiungibile per tutti gli utenti.', who: 'user', at: WED, expect: ok('support', 'P1+', 'support-open') },
  'P1+: every mailbox blocked': { subject: 'Caselle bloccate', body: 'Tutte le caselle del Comune risultano bloccate, non funziona più nulla.', who: 'referent', verification: 'dmarc-pass', at: WED, expect: ok('support', 'P1+', 'support-open') },
  'P1+: whole administration down (accents, capitals)': { subject: 'DISSERVIZIO', body: "L'INTERO ENTE è senza posta: disservizio totale.", who: 'user', at: WED, expect: ok('support', 'P1+', 'support-open') },
  'P1: blocking and on-site': { subject: 'Server fermo', body: 'Il server di posta è fermo per tutti gli utenti, serve un tecnico sul posto.', who: 'referent', verification: 'dmarc-pass', at: WED, expect: ok('support', 'P1', 'support-open') },
  'P1: in loco': { subject: 'Blocco totale', body: 'Blocco totale del servizio di posta, chiediamo intervento in loco.', who: 'user', at: WED, expect: ok('support', 'P1', 'support-open') },
  'P2: some users': { subject: 'Problemi di invio', body: 'Alcuni utenti non riescono a inviare messaggi.', who: 'user', at: WED, expect: ok('support', 'P2', 'support-open') },
  'P2: slowdowns': { subject: 'Rallentamenti', body: 'Notiamo forti rallentamenti nella consegna della posta.', who: 'user', at: WED, expect: ok('support', 'P2', 'support-open') },
  'P2: intermittent': { subject: 'Webmail', body: 'La webmail funziona a intermittenza da ieri.', who: 'pecBox', at: WED, expect: ok('support', 'P2', 'support-open') },
  'P3: urgent, no service risk': { subject: 'Urgente: firma', body: 'È urgente modificare la firma automatica del centralino.', who: 'user', at: WED, expect: ok('support', 'P3', 'support-open') },
  'P3: con urgenza': { subject: 'Configurazione client', body: 'Vi chiediamo con urgenza supporto per configurare Thunderbird.', who: 'user', at: WED, expect: ok('support', 'P3', 'support-open') },
  'P4: anything else': { subject: 'Configurazione smartphone', body: 'Come configuro la posta sul telefono aziendale?', who: 'user', at: WED, expect: ok('support', 'P4', 'support-open') },
  'P7: an information request from a stranger': { subject: 'Informazioni sul servizio PEC', body: 'Vorrei avere informazioni sui costi del servizio.', who: 'stranger', at: WED, expect: ok('support', 'P7', 'support-open') },
  'P7: a question': { subject: 'Domanda', body: 'Una domanda: quanti GB ha ogni casella?', who: 'user', at: WED, expect: ok('support', 'P7', 'support-open') },
  'a blocked single mailbox, urgent, is P3 not P1+': { subject: 'Casella di posta bloccata', body: "La casella ufficio.tributi risulta bloccata. È urgente, l'attività dell'ufficio è ferma.", who: 'referent', at: WED, expect: ok('support', 'P3', 'support-open') },
  'quoted text does not count': { subject: 'Re: aggiornamento', body: 'Grazie, tutto risolto.\n\n> Il servizio di posta è irraggiungibile per tutti gli utenti', who: 'user', at: WED, expect: ok('support', 'P4', 'support-open') },

  // --- change requests: who may ask (SPEC §2.3, §3) ---
  'mailbox creation by the verified referent': { subject: 'Creazione casella', body: 'Vi chiediamo di creare la casella mario.rossi@comune.esempio.it.', who: 'referent', verification: 'dmarc-pass', at: WED, expect: ok('mailbox-lifecycle', 'P4', 'referent') },
  'mailbox creation by the referent by certified PEC': { subject: 'Nuova casella', body: 'Si richiede la creazione di una nuova casella per il nuovo assunto.', who: 'referent', verification: 'pec-certified', at: WED, expect: ok('mailbox-lifecycle', 'P4', 'referent') },
  'deleting a distribution list by a valid delegate': { subject: 'Lista di distribuzione', body: 'Per favore eliminare la lista di distribuzione tutti-uffici.', who: 'delegate', verification: 'dmarc-pass', at: WED, expect: ok('mailbox-lifecycle', 'P4', 'delegate') },
  'blocking a mailbox by a user of the domain: refused': { subject: 'Bloccare casella', body: 'Chiedo di bloccare la casella del collega in ferie.', who: 'user', verification: 'dmarc-pass', at: WED, expect: refused('mailbox-lifecycle', 'not-referent-or-delegate', 'refusal') },
  "mailbox creation from the administration's PEC box: refused": { subject: 'Attivazione caselle', body: "Si chiede l'attivazione di due nuove caselle.", who: 'pecBox', verification: 'pec-certified', at: WED, expect: refused('mailbox-lifecycle', 'not-referent-or-delegate', 'refusal') },
  'mailbox creation by a stranger: refused': { subject: 'Creare account', body: 'Potete creare una casella per me?', who: 'stranger', verification: 'dmarc-pass', at: WED, expect: refused('mailbox-lifecycle', 'not-referent-or-delegate', 'refusal') },
  'password reset by the verified referent': { subject: 'Reset password', body: 'Vi chiedo il reset della password della casella protocollo.', who: 'referent', verification: 'dmarc-pass', at: WED, expect: ok('password-reset', 'P4', 'referent') },
  'password reset by a valid delegate': { subject: 'Password dimenticata', body: "Il collega ha una password dimenticata: potete reimpostare la password?", who: 'delegate', verification: 'pec-certified', at: WED, expect: ok('password-reset', 'P4', 'delegate') },
  "a forged sender (the referent's address, unverified) asking a password reset": { subject: 'URGENTE reset password', body: 'Reimpostare la password della casella sindaco e inviarla a questo indirizzo.', who: 'referent', verification: 'unverified', at: WED, expect: refused('password-reset', 'sender-unverified', 'unverified-sender') },
  'password reset by an end user: refused': { subject: 'Nuova password', body: 'Vorrei una nuova password per la mia casella.', who: 'user', verification: 'dmarc-pass', at: WED, expect: refused('password-reset', 'not-referent-or-delegate', 'refusal') },
  'password reset by the delegate one day after the delegation ended': { subject: 'Reset password', body: 'Reset della password della casella tributi, grazie.', who: 'expiredDelegate', verification: 'dmarc-pass', at: '2027-01-02T10:00:00+01:00', expect: refused('password-reset', 'delegation-not-valid', 'refusal', '2027-01-09T13:00:00.000Z') },
  'directory change by a verified end user': { subject: 'Modifica dati in rubrica', body: 'Il mio numero di telefono in rubrica è errato, va modificato in 0123 456780.', who: 'user', verification: 'dmarc-pass', at: WED, expect: ok('directory', 'P4', 'administration-user') },
  'directory change by an unverified end user: registered, not authorized': { subject: 'Rubrica', body: 'Aggiornare la mia qualifica in rubrica: ora sono responsabile.', who: 'user', verification: 'unverified', at: WED, expect: refused('directory', 'sender-unverified', 'unverified-sender') },
  'directory change by a stranger: refused': { subject: 'Rubrica', body: 'Potete correggere il mio nominativo nella vostra rubrica?', who: 'stranger', verification: 'dmarc-pass', at: WED, expect: refused('directory', 'not-administration-user', 'refusal') },
  'list membership by the PEC box': { subject: 'Membri della lista', body: 'Aggiungere Paolo alla lista di distribuzione ragioneria.', who: 'pecBox', verification: 'pec-certified', at: WED, expect: ok('directory', 'P4', 'administration-pec') },
  'a change request stays P4 whatever its words': { subject: 'URGENTE creare casella', body: 'Urgente: creare la casella del nuovo segretario, servizio bloccato.', who: 'referent', verification: 'dmarc-pass', at: WED, expect: ok('mailbox-lifecycle', 'P4', 'referent') },
  'a question about opening a mailbox is an information request, not a change': { subject: 'Informazioni sul servizio PEC', body: 'Sono un libero professionista e vorrei sapere se posso attivare una casella PEC, quali sono i costi annuali.', who: 'stranger', at: WED, expect: ok('support', 'P7', 'support-open') },
  "a how-to question about passwords is support": { subject: 'Password', body: 'Come si cambia la password dalla webmail?', who: 'user', at: WED, expect: ok('support', 'P4', 'support-open') },

  // --- subject tags and the contract cap ---
  "the referent's forced tag": { subject: '[P1+] Richiesta intervento', body: 'Vi chiediamo assistenza per la migrazione.', who: 'referent', verification: 'dmarc-pass', at: WED, expect: ok('support', 'P1+', 'support-open') },
  "the referent's tag can lower a class": { subject: '[P7] informazione', body: 'Il servizio di posta è irraggiungibile per tutti gli utenti da un minuto, probabilmente è la nostra rete.', who: 'referent', verification: 'pec-certified', at: WED, expect: ok('support', 'P7', 'support-open') },
  'a tag from an end user is ignored': { subject: '[P1+] Stampante', body: 'La stampante non stampa le email.', who: 'user', verification: 'dmarc-pass', at: WED, expect: ok('support', 'P4', 'support-open') },
  'a tag from an unverified referent is ignored': { subject: '[P2] Richiesta', body: 'Vi chiediamo una verifica.', who: 'referent', verification: 'unverified', at: WED, expect: ok('support', 'P4', 'support-open') },
  'a forced tag without contract is lowered to P3': { subject: '[P1] Intervento', body: 'Serve assistenza sul nuovo dominio.', who: 'uniReferent', verification: 'dmarc-pass', at: WED, expect: ok('support', 'P3', 'support-open') },
  'P1+ wording without contract is lowered to P3': { subject: 'Servizio di posta irraggiungibile', body: 'Il servizio di posta è irraggiungibile per tutti gli utenti.', who: 'uniReferent', at: WED, expect: ok('support', 'P3', 'support-open') },

  // --- SPEC §4 worked examples, DST, holidays ---
  'Friday 16:30 P2 → Saturday 11:30': { subject: 'Alcuni utenti', body: 'Alcuni utenti non ricevono posta.', who: 'user', at: '2026-11-27T16:30:00+01:00', expect: ok('support', 'P2', 'support-open', { due: '2026-11-28T10:30:00.000Z' }) },
  'Saturday 13:30 P1+ → Monday 08:30': { subject: 'Posta irraggiungibile', body: 'Il servizio di posta è irraggiungibile per tutti gli utenti.', who: 'user', at: '2026-11-28T13:30:00+01:00', expect: ok('support', 'P1+', 'support-open', { due: '2026-11-30T07:30:00.000Z' }) },
  'Thursday 24 December 16:00 P3 → Monday 28 December 17:00': { subject: 'Urgente', body: 'Richiesta urgente di verifica della configurazione.', who: 'user', at: '2026-12-24T16:00:00+01:00', expect: ok('support', 'P3', 'support-open', { due: '2026-12-28T16:00:00.000Z' }) },
  'a DST weekend: Saturday 28 March 13:30 P1+ → Monday 30 March 08:30 summer time': { subject: 'Disservizio', body: 'Disservizio: posta irraggiungibile per tutti gli utenti.', who: 'user', at: '2026-03-28T13:30:00+01:00', expect: ok('support', 'P1+', 'support-open', { due: '2026-03-30T06:30:00.000Z' }) },
  'Easter Monday 2027 is closed: Saturday 27 March 13:30 P1+ → Tuesday 30 March 08:30': { subject: 'Disservizio', body: "L'intero ente è senza posta, disservizio.", who: 'user', at: '2027-03-27T13:30:00+01:00', expect: ok('support', 'P1+', 'support-open', { due: '2027-03-30T06:30:00.000Z' }) },
  'out of hours without a PIN: waits for the next opening': { subject: 'Posta irraggiungibile', body: 'Servizio di posta irraggiungibile per tutti gli utenti.', who: 'referent', verification: 'dmarc-pass', at: '2026-11-28T20:00:00+01:00', expect: ok('support', 'P1+', 'support-open', { due: '2026-11-30T08:00:00.000Z', reply: 'out-of-hours' }) },
  'out of hours with the valid PIN: on call, 24/7 clock': { subject: 'Posta irraggiungibile', body: 'Servizio di posta irraggiungibile per tutti gli utenti. PIN: 5035', who: 'referent', verification: 'dmarc-pass', at: '2026-11-28T20:00:00+01:00', pin: 'technical-referent', expect: ok('support', 'P1+', 'support-open', { due: '2026-11-28T20:00:00.000Z', onCall: true }) },
  'out of hours with a wrong PIN: no on-call': { subject: 'Alcuni utenti senza posta', body: 'Alcuni utenti non ricevono posta. PIN 9999', who: 'user', at: '2026-11-28T20:00:00+01:00', pin: 'invalid', expect: ok('support', 'P2', 'support-open', { due: '2026-11-30T11:00:00.000Z', reply: 'out-of-hours' }) },
  'a PIN in service hours changes nothing': { subject: 'Alcuni utenti senza posta', body: 'Alcuni utenti non ricevono posta. PIN 1035', who: 'user', at: WED, pin: 'generic', expect: ok('support', 'P2', 'support-open') },
  'P3 out of hours with a PIN is not on call': { subject: 'Urgente', body: 'Richiesta urgente. PIN: 1035', who: 'user', at: '2026-11-28T20:00:00+01:00', pin: 'generic', expect: ok('support', 'P3', 'support-open', { due: '2026-11-30T16:00:00.000Z', reply: 'out-of-hours' }) },
  // --- the Administration's contract names its calendar ---
  'split shifts: Thursday 13:00 P2 → 13:30, 15:00–18:00, Friday 09:30': { subject: 'Alcuni utenti', body: 'Alcuni utenti non ricevono posta.', who: 'splitShifts', verification: 'dmarc-pass', at: '2026-11-26T13:00:00+01:00', expect: ok('support', 'P2', 'support-open', { due: '2026-11-27T08:30:00.000Z' }) },
  'split shifts: Friday 12:00 P3 → Monday 18:00 (Friday afternoon and Saturday closed)': { subject: 'Urgente', body: 'Richiesta urgente sulla configurazione.', who: 'splitShifts', verification: 'dmarc-pass', at: '2026-11-27T12:00:00+01:00', expect: ok('support', 'P3', 'support-open', { due: '2026-11-30T17:00:00.000Z' }) },
  'split shifts: Thursday 14:00 is in the break, the reply says so': { subject: 'Domanda', body: 'Una domanda sul servizio.', who: 'splitShifts', verification: 'dmarc-pass', at: '2026-11-26T14:00:00+01:00', expect: ok('support', 'P7', 'support-open', { reply: 'out-of-hours' }) },
  'lunch pause: Wednesday 13:30 P1+ → 15:00': { subject: 'Disservizio', body: 'Disservizio: posta irraggiungibile per tutti gli utenti.', who: 'lunchPause', verification: 'dmarc-pass', at: '2026-11-25T13:30:00+01:00', expect: ok('support', 'P1+', 'support-open', { due: '2026-11-25T14:00:00.000Z', reply: 'out-of-hours' }) },
  'lunch pause with the PIN (seed 004 asks it 13:00–14:00): on call': { subject: 'Disservizio', body: 'Disservizio: posta irraggiungibile per tutti gli utenti. PIN 5035', who: 'lunchPause', verification: 'dmarc-pass', at: '2026-11-25T13:30:00+01:00', pin: 'technical-referent', expect: ok('support', 'P1+', 'support-open', { due: '2026-11-25T13:30:00.000Z', onCall: true }) },
  'lunch pause: Friday 18:00 P2 → Monday 11:30': { subject: 'Rallentamenti', body: 'Forti rallentamenti per alcuni utenti.', who: 'lunchPause', verification: 'dmarc-pass', at: '2026-11-27T18:00:00+01:00', expect: ok('support', 'P2', 'support-open', { due: '2026-11-30T10:30:00.000Z' }) },

  'an uncertified PEC envelope is told how to resend': { subject: 'Richiesta di assistenza', body: 'La posta non arriva.', who: 'referent', verification: 'unverified', pecEnvelope: true, at: WED, expect: ok('support', 'P4', 'support-open', { reply: 'unverified-sender' }) },
};

describe('decisions on Italian requests', () => {
  it('there are at least 40 of them', () => expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(40));
  it.each(Object.entries(CASES))('%s', (_name, c) => {
    const d = decide(
      {
        channel: c.pecEnvelope ? 'pec' : 'email',
        subject: c.subject,
        text: c.body,
        kind: 'email',
        sender: WHO[c.who]!,
        verification: c.verification ?? 'unverified',
        pecEnvelope: c.pecEnvelope ?? false,
        delegationOutOfPeriod: c.who === 'expiredDelegate',
        pin: c.pin ?? null,
        receivedAt: new Date(c.at),
        neverReply: null,
        threadCandidates: [],
        repliesToSenderLastHour: 0,
      },
      rules,
    );
    expect(d.action.type).toBe('open');
    if (d.action.type !== 'open') return;
    expect({
      category: d.action.category,
      priority: d.action.priority,
      authorized: d.action.authorized,
      reason: d.action.reason,
      due: d.action.takeChargeDueAt?.toISOString() ?? null,
      reply: d.reply?.template,
      ...(c.expect.onCall !== undefined ? { onCall: d.action.onCall } : {}),
    }).toEqual(c.expect);
    expect(d.action.kind).toBe(c.expect.category === 'support' ? 'support' : 'change-request');
    expect(d.notifyOnCall).toBe(Boolean(c.expect.onCall));
  });
});
