// The plan builders (src/intake/plans.ts) are pure: facts and decision in, typed effects out.
// And the store (src/store/apply-plan.ts) applies a plan once: a repeat is a duplicate.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCategoryRules, loadPriorityRules } from '../../src/config/rules.js';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULT_CALENDAR } from '../../src/desk/calendar.js';
import { decide, type DeskRules, type MessageFacts } from '../../src/desk/decide.js';
import type { Effect, Plan } from '../../src/desk/plan.js';
import type { Requester } from '../../src/desk/requester.js';
import type { Examined } from '../../src/intake/examine.js';
import { planContractIntake, planPianoIntake, type OrderPlanContext, type PianoFacts } from '../../src/intake/orders.js';
import { planForAnomaly, planForMessage, planForReceipt, type CorrelatedOutbox, type PlanContext } from '../../src/intake/plans.js';
import { parseMessage } from '../../src/mail/parse.js';
import type { Daticert, PecType } from '../../src/pec/daticert.js';
import type { PecEnvelope } from '../../src/pec/envelope.js';
import type { DeliveryState } from '../../src/pec/receipts.js';
import type { OrderRow } from '../../src/store/orders.js';
import { calendarsFromConfig, type Desk } from '../../src/runtime/context.js';
import { applyPlan } from '../../src/store/apply-plan.js';
import { migrate, openDatabase } from '../../src/store/db.js';
import { getMessage, insertMessage } from '../../src/store/messages.js';
import { listPecNotices } from '../../src/store/pec-notices.js';
import { repoRoot } from '../e2e/workspace.js';

const rules: DeskRules = {
  calendar: DEFAULT_CALENDAR,
  calendars: calendarsFromConfig(loadConfig(path.join(repoRoot, 'config', 'default.yaml'))),
  defaultCalendar: 'standard',
  priority: loadPriorityRules(path.join(repoRoot, 'config', 'priority.yaml')),
  categories: loadCategoryRules(path.join(repoRoot, 'config', 'categories.yaml')),
  repliesPerSenderPerHour: 5,
};
const ctx: PlanContext = { timezone: 'Europe/Rome', rules, onCallAddress: 'reperibile@desk.example', reopenDays: 7 };
const row = { mailbox: 'support', sha256: 'ab'.repeat(32), file: null };
// Wednesday 25 November 2026, 10:00 in Rome: in service hours.
const AT = new Date('2026-11-25T09:00:00Z');
const NOW = '2026-11-25T09:00:05.000Z';

const types = (p: Plan) => p.effects.map((e) => (e.type === 'ticket-event' ? `ticket-event:${e.eventType}` : e.type));
const only = <T extends Effect['type']>(p: Plan, type: T) => p.effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);

async function examined(headers: string, body: string, over: Partial<Examined> = {}): Promise<Examined> {
  const parsed = await parseMessage(Buffer.from(`${headers.trim()}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`.replace(/\r?\n/g, '\r\n')));
  return {
    outer: parsed, content: parsed, sender: parsed.from?.address ?? null, senderName: parsed.from?.name || null,
    verification: 'dmarc-pass', verificationProblems: [], verificationNote: 'dmarc=pass', receivedAt: AT, pec: null, ...over,
  };
}

const referent: Requester = {
  address: 'anna.rossi@comune.esempio.it', administrationId: 'comune-esempio', administrationName: 'Comune di Esempio',
  supportContract: true, calendar: null, role: 'referent', name: 'Anna Rossi',
};

function factsFor(ex: Examined, over: Partial<MessageFacts> = {}): MessageFacts {
  return {
    channel: 'email', subject: ex.content.subject, text: ex.content.text, kind: 'email', sender: referent, verification: ex.verification,
    pecEnvelope: false, delegationOutOfPeriod: false, pin: null, receivedAt: ex.receivedAt, neverReply: null, threadCandidates: [],
    repliesToSenderLastHour: 0, ...over,
  };
}

describe('planForMessage', () => {
  it('a support request: opens a ticket, records received and classified, thread keys, and queues the acknowledgement', async () => {
    const ex = await examined(
      'From: Anna Rossi <anna.rossi@comune.esempio.it>\nTo: assistenza@desk.example\nSubject: Problemi di invio\nMessage-ID: <req-1@comune.esempio.it>',
      'Alcuni utenti non riescono a inviare messaggi.',
    );
    const facts = factsFor(ex);
    const plan = planForMessage({ row, ex, facts, decision: decide(facts, rules), target: null, bounce: null, nowIso: NOW }, ctx);
    expect(types(plan)).toEqual(['open-ticket', 'ticket-event:received', 'ticket-event:classified', 'thread-key', 'queue-outgoing']);
    const open = only(plan, 'open-ticket')[0]!;
    expect(open).toMatchObject({ key: 'ticket', refYear: 2026, ticket: { kind: 'support', priority: 'P2', status: 'new', requester: referent.address, authorized: 1 } });
    expect(only(plan, 'thread-key')[0]).toEqual({ type: 'thread-key', ticket: { opened: 'ticket' }, key: 'req-1@comune.esempio.it' });
    const reply = only(plan, 'queue-outgoing')[0]!;
    expect(reply.ticket).toEqual({ opened: 'ticket' });
    expect(reply.spec).toMatchObject({ template: 'acknowledgement', kind: 'reply', to: referent.address, answering: { messageId: '<req-1@comune.esempio.it>' } });
    expect(plan.result).toEqual({ classification: 'email', ticket: { opened: 'ticket' }, order: null, reply: { template: 'acknowledgement', to: referent.address } });
    expect(plan.message).toMatchObject({ messageId: '<req-1@comune.esempio.it>', sender: referent.address, duplicateKey: { messageId: '<req-1@comune.esempio.it>', sender: referent.address } });
  });

  it('out of hours with a valid PIN: the on-call notice is queued and its event refers to it', async () => {
    const ex = await examined(
      'From: anna.rossi@comune.esempio.it\nSubject: Servizio di posta irraggiungibile\nMessage-ID: <req-2@comune.esempio.it>',
      'Da stamattina il servizio di posta è irraggiungibile per tutti gli utenti.',
      { receivedAt: new Date('2026-11-28T22:00:00Z') },
    );
    const facts = factsFor(ex, { pin: 'technical-referent' });
    const plan = planForMessage({ row, ex, facts, decision: decide(facts, rules), target: null, bounce: null, nowIso: NOW }, ctx);
    const [onCall, reply] = only(plan, 'queue-outgoing');
    expect(onCall).toMatchObject({ key: 'on-call', subjectRefTag: true, spec: { template: 'on-call', kind: 'internal', to: 'reperibile@desk.example' } });
    expect(only(plan, 'ticket-event').find((e) => e.eventType === 'on-call-notified')).toMatchObject({ outboxOf: 'on-call', detail: { to: 'reperibile@desk.example' } });
    expect(reply!.spec.template).toBe('acknowledgement');
    // Without an on-call address: an event says so, nothing is queued for it.
    const none = planForMessage({ row, ex, facts, decision: decide(facts, rules), target: null, bounce: null, nowIso: NOW }, { ...ctx, onCallAddress: null });
    expect(types(none)).toContain('ticket-event:on-call-not-notified');
    expect(only(none, 'queue-outgoing').map((e) => e.spec.template)).toEqual(['acknowledgement']);
  });

  it('a follow-up on a resolved ticket: an event, a reopen transition and thread keys; no reply', async () => {
    const ex = await examined(
      'From: anna.rossi@comune.esempio.it\nSubject: Re: [HD-2026-0007] Problemi di invio\nMessage-ID: <req-3@comune.esempio.it>',
      'Il problema si è ripresentato.',
    );
    const facts = factsFor(ex, { threadCandidates: [{ ticketId: 7, ref: 'HD-2026-0007', requester: referent.address, administrationId: 'comune-esempio', via: 'subject' }] });
    const decision = decide(facts, rules);
    const plan = planForMessage({ row, ex, facts, decision, target: { status: 'resolved', resolvedAt: '2026-11-24T09:00:00.000Z' }, bounce: null, nowIso: NOW }, ctx);
    expect(types(plan)).toEqual(['ticket-event:follow-up', 'ticket-transition', 'thread-key']);
    expect(only(plan, 'ticket-transition')[0]).toMatchObject({ ticketId: 7, from: 'resolved', action: 'reopen', to: 'reopened', event: 'reopened' });
    expect(plan.result).toEqual({ classification: 'email', ticket: { id: 7 }, order: null, reply: null });
    // Resolved long ago: no reopen.
    const old = planForMessage({ row, ex, facts, decision, target: { status: 'resolved', resolvedAt: '2026-10-01T09:00:00.000Z' }, bounce: null, nowIso: NOW }, ctx);
    expect(types(old)).toEqual(['ticket-event:follow-up', 'thread-key']);
  });

  it('a bounce: each of our messages it reports is marked failed and its ticket told', async () => {
    const ex = await examined('From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <b-1@mx.example>', 'gone');
    const facts = factsFor(ex, { kind: 'bounce' });
    const plan = planForMessage(
      {
        row, ex, facts, decision: decide(facts, rules), target: null, nowIso: NOW,
        bounce: { diagnostic: '550 5.1.1 user unknown', entries: [{ outboxId: 3, to: 'x@comune.esempio.it', ticketId: 9 }, { outboxId: 4, to: 'y@example.org', ticketId: null }] },
      },
      ctx,
    );
    expect(plan.effects).toEqual([
      { type: 'recipient-state', outboxId: 3, address: 'x@comune.esempio.it', state: 'failed', at: NOW, detail: '550 5.1.1 user unknown' },
      { type: 'ticket-event', ticket: { id: 9 }, eventType: 'reply-bounced', actor: 'system', detail: { outboxId: 3, to: 'x@comune.esempio.it', diagnostic: '550 5.1.1 user unknown' }, fromMessage: true },
      { type: 'recipient-state', outboxId: 4, address: 'y@example.org', state: 'failed', at: NOW, detail: '550 5.1.1 user unknown' },
    ]);
    expect(plan.result).toEqual({ classification: 'bounce', ticket: { id: 9 }, order: null, reply: null });
  });
});

const PEC_TO = 'protocollo@pec.comune.esempio.it';
function daticert(tipo: PecType, over: Partial<Daticert> = {}): Daticert {
  return {
    tipo, errore: 'nessuno', mittente: 'assistenza@pec.desk.example', destinatari: [{ address: PEC_TO, tipo: 'certificato' }], risposte: null,
    oggetto: 'Re: richiesta', gestoreEmittente: 'ArubaPEC S.p.A.', data: { giorno: null, ora: null, zona: null, iso: null },
    identificativo: 'opec210.20261125.000001', msgid: 'out-1@desk.example', ricevuta: 'completa', consegna: tipo === 'accettazione' ? null : PEC_TO,
    ricezione: [], erroreEsteso: null, ...over,
  };
}
function envelope(tipo: PecType, certified = true, d: Daticert | null = daticert(tipo)): PecEnvelope {
  return {
    kind: 'receipt', tipo, hints: { trasporto: null, ricevuta: tipo, riferimentoMessageId: '<out-1@desk.example>', tipoRicevuta: null },
    daticert: d, daticertError: null, postacert: null,
    signature: { present: certified, signer: null, problems: certified ? [] : ['pec-not-signed'], details: [], provider: null },
    certified, certifiedAt: certified ? AT : null,
  };
}
async function receiptEx(pec: PecEnvelope): Promise<Examined> {
  return examined(`From: posta-certificata@pec.aruba.example\nSubject: ${pec.tipo}\nMessage-ID: <r-${pec.tipo}@pec.aruba.example>`, 'ricevuta', {
    pec, verification: pec.certified ? 'pec-certified' : 'unverified',
  });
}
const entry = (states: Record<string, DeliveryState>, over: Partial<CorrelatedOutbox> = {}): CorrelatedOutbox => ({
  id: 5, ticketId: 11, template: 'acknowledgement', recipientStates: states, order: null, ...over,
});

describe('planForReceipt', () => {
  it('accettazione then avvenuta-consegna move the recipient accepted → delivered; a late notice changes nothing', async () => {
    const acc = envelope('accettazione');
    const p1 = planForReceipt({ ex: await receiptEx(acc), pec: acc, entry: entry({}), hintMismatch: null });
    expect(types(p1)).toEqual(['recipient-state', 'pec-identificativo', 'thread-key', 'ticket-event:pec-receipt', 'pec-notice']);
    expect(only(p1, 'recipient-state')[0]).toMatchObject({ outboxId: 5, address: PEC_TO, state: 'accepted', at: AT.toISOString() });
    expect(only(p1, 'pec-identificativo')[0]).toEqual({ type: 'pec-identificativo', outboxId: 5, identificativo: 'opec210.20261125.000001' });
    expect(only(p1, 'thread-key')[0]).toEqual({ type: 'thread-key', ticket: { id: 11 }, key: 'opec210.20261125.000001' });
    expect(only(p1, 'pec-notice')[0]!.notice).toMatchObject({ kind: 'receipt', tipo: 'accettazione', outboxId: 5, applied: true, msgid: '<out-1@desk.example>' });
    expect(p1.result).toEqual({ classification: 'pec-receipt', ticket: { id: 11 }, order: null, reply: null });

    const del = envelope('avvenuta-consegna');
    const p2 = planForReceipt({ ex: await receiptEx(del), pec: del, entry: entry({ [PEC_TO]: 'accepted' }), hintMismatch: null });
    expect(types(p2)).toEqual(['recipient-state', 'ticket-event:pec-receipt', 'pec-notice']);
    expect(only(p2, 'recipient-state')[0]).toMatchObject({ state: 'delivered' });

    // Delivered is final: a late accettazione leaves it.
    const late = planForReceipt({ ex: await receiptEx(acc), pec: acc, entry: entry({ [PEC_TO]: 'delivered' }), hintMismatch: null });
    expect(only(late, 'recipient-state')).toEqual([]);
  });

  it("the Progetto's delivery receipt moves its order to progetto-delivered", async () => {
    const del = envelope('avvenuta-consegna');
    const e = entry({ [PEC_TO]: 'accepted' }, { template: 'progetto-delivery', order: { id: 2, state: 'progetto-sent' } });
    const p = planForReceipt({ ex: await receiptEx(del), pec: del, entry: e, hintMismatch: null });
    expect(only(p, 'order-transition')).toEqual([
      { type: 'order-transition', order: { id: 2 }, from: 'progetto-sent', to: 'progetto-delivered', eventType: 'progetto-delivered', actor: 'ArubaPEC S.p.A.', detail: { outboxId: 5, identificativo: 'opec210.20261125.000001' }, fromMessage: true },
    ]);
    // Already past that step: no transition.
    const later = planForReceipt({ ex: await receiptEx(del), pec: del, entry: { ...e, order: { id: 2, state: 'contract-received' } }, hintMismatch: null });
    expect(only(later, 'order-transition')).toEqual([]);
  });

  it('an uncertified or uncorrelated receipt is only kept as a notice', async () => {
    const forged = envelope('avvenuta-consegna', false);
    const p = planForReceipt({ ex: await receiptEx(forged), pec: forged, entry: entry({ [PEC_TO]: 'accepted' }), hintMismatch: '<other@x>' });
    expect(types(p)).toEqual(['ticket-event:pec-receipt', 'pec-notice']);
    expect(only(p, 'ticket-event')[0]!.detail).toMatchObject({ applied: false, certified: false, headerMsgidMismatch: '<other@x>' });
    const orphan = envelope('accettazione');
    const q = planForReceipt({ ex: await receiptEx(orphan), pec: orphan, entry: null, hintMismatch: null });
    expect(types(q)).toEqual(['pec-notice']);
    expect(q.result.ticket).toBeNull();
    expect(only(q, 'pec-notice')[0]!.notice).toMatchObject({ outboxId: null, applied: false });
  });
});

const orderCtx: OrderPlanContext = {
  timezone: 'Europe/Rome', rules, describeFindings: (f) => f.map((x) => `- ${x.code}`).join('\n'), servicesList: (l) => l.map((x) => `- ${x.code}`).join('\n'),
};

describe('order intake plans', () => {
  const pianoDoc = (passed: boolean) => ({
    filename: 'piano.pdf', bytes: Buffer.from('%PDF-1.7 piano'), sha256: 'ef'.repeat(32),
    extract: {
      form: 'piano', fields: { amm_denominazione: 'Comune Nuovo', durata_mesi: '24' }, services: [{ code: 'pec', quantity: 10 }], signature: null, passed,
      problems: passed ? [] : [{ code: 'signature-missing' }], warnings: [],
    },
  });

  it('a Piano from an unknown Administration: creates it, opens ticket and order, accepts it and answers with the order ref filled in by the store', async () => {
    const ex = await examined('From: protocollo@pec.nuovo.example\nSubject: Piano dei fabbisogni\nMessage-ID: <p-1@pec.nuovo.example>', 'In allegato il Piano.', { verification: 'pec-certified' });
    const f: PianoFacts = {
      row, ex, doc: pianoDoc(true) as PianoFacts['doc'], nowIso: NOW, calendar: null, rejected: null,
      administration: { id: 'comune-nuovo', name: 'Comune Nuovo', create: { fiscalCode: null, ipaCode: null, pec: null } },
    };
    const plan = planPianoIntake(f, orderCtx);
    expect(types(plan)).toEqual([
      'create-administration', 'open-ticket', 'ticket-event:received', 'thread-key', 'open-order', 'order-event',
      'ticket-event:order-opened', 'order-document', 'order-transition', 'queue-outgoing',
    ]);
    expect(only(plan, 'open-order')[0]).toMatchObject({ key: 'order', refYear: 2026, ticket: { opened: 'ticket' }, administrationId: 'comune-nuovo' });
    expect(only(plan, 'order-transition')[0]).toMatchObject({ from: 'piano-received', to: 'progetto-in-preparation', eventType: 'piano-accepted' });
    const reply = only(plan, 'queue-outgoing')[0]!;
    expect(reply).toMatchObject({ order: { opened: 'order' }, orderRefVar: 'orderRef', spec: { template: 'piano-accepted', kind: 'reply', to: 'protocollo@pec.nuovo.example' } });
    expect(plan.result).toEqual({
      classification: 'email', ticket: { opened: 'ticket' }, order: { order: { opened: 'order' }, state: 'progetto-in-preparation', problems: [] },
      reply: { template: 'piano-accepted', to: 'protocollo@pec.nuovo.example' },
    });
  });

  it('a corrected Piano resumes the rejected order of its Administration', async () => {
    const ex = await examined('From: protocollo@pec.nuovo.example\nSubject: Piano corretto\nMessage-ID: <p-2@pec.nuovo.example>', 'Di nuovo.');
    const f: PianoFacts = {
      row, ex, doc: pianoDoc(false) as PianoFacts['doc'], nowIso: NOW, calendar: null,
      rejected: { id: 4, ref: 'PF-2026-0004', state: 'piano-rejected', ticketId: 12 },
      administration: { id: 'comune-nuovo', name: 'Comune Nuovo', create: null },
    };
    const plan = planPianoIntake(f, orderCtx);
    expect(types(plan)).toEqual(['order-transition', 'ticket-event:piano-resent', 'order-update', 'order-document', 'order-transition', 'queue-outgoing']);
    expect(only(plan, 'order-transition').map((e) => [e.from, e.to])).toEqual([['piano-rejected', 'piano-received'], ['piano-received', 'piano-rejected']]);
    expect(only(plan, 'queue-outgoing')[0]!.spec.vars).toMatchObject({ orderRef: 'PF-2026-0004', problemsList: '- signature-missing' });
    expect(plan.result.order).toEqual({ order: { id: 4 }, state: 'piano-rejected', problems: ['signature-missing'] });
  });

  it('a contract with problems is answered with them and leaves the order where it was', async () => {
    const ex = await examined('From: protocollo@pec.nuovo.example\nSubject: Contratto PF-2026-0004\nMessage-ID: <c-1@pec.nuovo.example>', 'Contratto.');
    const order = { id: 4, ref: 'PF-2026-0004', state: 'progetto-sent', ticket_id: 12, administration_id: 'comune-nuovo' } as OrderRow;
    const plan = planContractIntake({ ex, administrationName: 'Comune Nuovo', doc: { order, problems: [{ code: 'contract-missing' }], contract: null, progetto: null } }, orderCtx);
    expect(types(plan)).toEqual(['ticket-event:contract-received', 'order-transition', 'queue-outgoing']);
    expect(only(plan, 'order-transition')[0]).toMatchObject({ from: 'progetto-sent', to: 'progetto-sent', eventType: 'contract-rejected' });
    expect(plan.result).toMatchObject({ ticket: { id: 12 }, order: { order: { id: 4 }, state: 'progetto-sent', problems: ['contract-missing'] }, reply: { template: 'contract-rejected' } });
  });
});

describe('applyPlan', () => {
  it('applies a plan once; the same bytes again are a duplicate, and a finished row is not redone', async () => {
    const db = openDatabase(':memory:');
    migrate(db, new Date(NOW));
    const desk = { db } as unknown as Desk;
    const pec = { ...envelope('accettazione'), kind: 'anomaly' } as PecEnvelope;
    const ex = await receiptEx(pec);
    const plan = planForAnomaly(ex, pec);
    expect(plan.result.classification).toBe('pec-anomaly');
    const rec = (n: number) => insertMessage(db, { mailbox: 'pec', source: 'file', sourceUid: null, file: `m${n}.eml`, sha256: 'cd'.repeat(32), size: 10, recordedAt: NOW });

    const first = rec(1);
    expect(applyPlan(desk, first, plan, NOW)).toMatchObject({ classification: 'pec-anomaly', file: 'm1.eml', ticket: null });
    expect(getMessage(db, first.id)).toMatchObject({ status: 'processed', classification: 'pec-anomaly' });
    expect(listPecNotices(db, {})).toHaveLength(1);

    const second = rec(2);
    const dup = applyPlan(desk, second, plan, NOW);
    expect(dup).toMatchObject({ classification: 'duplicate', file: 'm2.eml', duplicateOf: { recordedAt: NOW, ticketRef: null } });
    expect(getMessage(db, second.id)).toMatchObject({ status: 'processed', classification: 'duplicate', duplicate_of: first.id });
    expect(listPecNotices(db, {})).toHaveLength(1);

    // The first row again (another process finished it meanwhile): reported, nothing written.
    expect(applyPlan(desk, first, plan, NOW).classification).toBe('duplicate');
    expect(listPecNotices(db, {})).toHaveLength(1);
    db.close();
  });
});
