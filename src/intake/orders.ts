// Order intake (SPEC §2.1): a Piano dei Fabbisogni arriving by PEC opens (or resumes) an order
// with its formal-check outcome and a reply; a Contratto Esecutivo quoting an order reference
// is checked (signature, Progetto byte-identical to the one sent) and advances it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { canDo, nextState, type OrderAction, type OrderState } from '../desk/orders.js';
import type { Effect, OrderHandle, Plan, TicketHandle } from '../desk/plan.js';
import { calendarFor, localDay, takeChargeDeadline, toLocal } from '../desk/calendar.js';
import type { DeskRules } from '../desk/decide.js';
import { administrationCalendar, administrationName, findAdministrationForPiano, freeAdministrationId } from '../store/directory.js';
import { administrationIdFromIpaCode } from '../directory/ipa.js';
import type { ParsedAttachment } from '../mail/parse.js';
import { threadKey } from '../mail/parse.js';
import { loadFormSpec, type FormSpec } from '../pdf/form-spec.js';
import { checkPianoAgainstDirectory, pianoAdministrationKeys, type Finding } from '../pdf/piano-check.js';
import { extractPiano, type ExtractResult } from '../pdf/piano.js';
import type { Desk } from '../runtime/context.js';
import { documentTrust } from '../signature/document-trust.js';
import type { TrustStore } from '../signature/trust.js';
import { verifyDocument, type VerifyReport } from '../signature/verify.js';
import { pianoDirectoryFacts } from '../store/directory-ipa.js';
import { getOrderByRef, orderDocuments, rejectedOrderFor, type OrderRow } from '../store/orders.js';
import type { Examined } from './examine.js';
import { plannedMessage, type MessageRecord } from './plans.js';

export const ORDER_REF = /\bPF-(\d{4})-(\d{4})\b/;

export interface PianoDocument {
  filename: string;
  bytes: Buffer;
  sha256: string;
  extract: ExtractResult;
}

export interface ContractDocument {
  order: OrderRow;
  problems: Finding[];
  contract: { filename: string; bytes: Buffer; sha256: string; report: VerifyReport } | null;
  progetto: { filename: string; bytes: Buffer; sha256: string } | null;
}

export interface OrderDocuments {
  piano: PianoDocument | null;
  contract: ContractDocument | null;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const isSigned = (a: ParsedAttachment) => /\.p7m$/i.test(a.filename ?? '') || /pkcs7-mime|x-pkcs7/.test(a.contentType);
const isPdfAttachment = (a: ParsedAttachment) => a.content.subarray(0, 1024).includes('%PDF-');

function signatureTrust(desk: Desk) {
  if (!desk.cfg.trust.signatures) return null;
  try {
    return documentTrust(desk.cfg.trust);
  } catch {
    return null;
  }
}

/** Does this extraction look like the Piano form (its fields, or a flattened Piano by name)? */
function isPianoForm(spec: FormSpec, r: ExtractResult, hint: string): boolean {
  const names = new Set(Object.keys(r.fields));
  const known = spec.fields.filter((f) => names.has(f.name)).length;
  if (known >= 3) return true;
  return r.problems.some((p) => p.code === 'no-form-fields') && /piano/i.test(hint);
}

/** A PDF over limits.maxPdf* named as a Piano: refused with the limit, unless a readable Piano comes with it. */
const isPianoOverLimits = (r: ExtractResult, hint: string) => r.problems.some((p) => p.limit) && /piano/i.test(hint);

const documentCandidates = (ex: Examined) => ex.content.attachments.filter((a) => isSigned(a) || isPdfAttachment(a));

/** Whether the message carries a signed file or a PDF that could be a Piano or a contract. */
export function hasDocumentCandidates(ex: Examined): boolean {
  return documentCandidates(ex).length > 0;
}

/** Look at the attachments: is there a Piano, or a contract for a known order? */
export async function examineDocuments(desk: Desk, ex: Examined, now: Date): Promise<OrderDocuments> {
  const content = ex.content;
  const candidates = documentCandidates(ex);
  if (candidates.length === 0) return { piano: null, contract: null };
  const trust = signatureTrust(desk);
  if (!trust) return { piano: null, contract: null };
  // SPEC §7: a document that arrived by PEC is judged at the PEC certified time.
  const at = ex.verification === 'pec-certified' ? ex.receivedAt : now;
  const arrival = { pecCertified: ex.verification === 'pec-certified', pecSender: ex.pec ? ex.sender : null };

  const refMatch = ORDER_REF.exec(content.subject);
  const order = refMatch ? getOrderByRef(desk.db, refMatch[0]) : undefined;
  if (order && (order.state === 'progetto-sent' || order.state === 'progetto-delivered')) {
    return { piano: null, contract: examineContract(desk, order, candidates, trust, at, arrival.pecCertified) };
  }

  const spec = loadFormSpec();
  let overLimits: PianoDocument | null = null;
  for (const a of candidates) {
    const r = await extractPiano(a.filename ?? 'allegato', a.content, { trust, at, arrival, today: localDay(desk.cfg.timezone, now), spec, limits: desk.cfg.limits });
    const hint = `${a.filename ?? ''} ${content.subject}`;
    if (isPianoForm(spec, r, hint)) {
      // The form's IPA code, fiscal code and PEC sender against the directory: warnings only.
      r.warnings.push(...checkPianoAgainstDirectory(r.fields, arrival.pecSender, pianoDirectoryFacts(desk.db, pianoAdministrationKeys(r.fields))));
      return { piano: { filename: a.filename ?? 'piano.pdf', bytes: a.content, sha256: sha(a.content), extract: r }, contract: null };
    }
    if (!overLimits && isPianoOverLimits(r, hint)) overLimits = { filename: a.filename ?? 'piano.pdf', bytes: a.content, sha256: sha(a.content), extract: r };
  }
  return { piano: overLimits, contract: null };
}

function examineContract(desk: Desk, order: OrderRow, attachments: ParsedAttachment[], trust: TrustStore, at: Date, pecCertified: boolean): ContractDocument {
  const problems: Finding[] = [];
  if (!pecCertified) problems.push({ code: 'not-pec' });
  const signed = attachments.find(isSigned);
  let contract: ContractDocument['contract'] = null;
  if (!signed) problems.push({ code: 'contract-missing' });
  else {
    const report = verifyDocument(signed.filename ?? 'contratto.p7m', signed.content, trust, at);
    contract = { filename: signed.filename ?? 'contratto.p7m', bytes: signed.content, sha256: sha(signed.content), report };
    for (const p of report.problems) problems.push({ code: p });
  }
  const sent = orderDocuments(desk.db, order.id, 'progetto').at(-1);
  const pdfs = attachments.filter((a) => a !== signed && isPdfAttachment(a));
  const match = pdfs.find((a) => sent && sha(a.content) === sent.sha256);
  let progetto: ContractDocument['progetto'] = null;
  if (match) progetto = { filename: match.filename ?? 'progetto.pdf', bytes: match.content, sha256: sha(match.content) };
  else if (pdfs.length) {
    problems.push({ code: 'progetto-mismatch' });
    progetto = { filename: pdfs[0]!.filename ?? 'progetto.pdf', bytes: pdfs[0]!.content, sha256: sha(pdfs[0]!.content) };
  } else problems.push({ code: 'progetto-missing' });
  return { order, problems, contract, progetto };
}

let problemTexts: Record<string, string> | null = null;

/** Each finding as a plain-Italian line, with the field's label from the form. */
export function describeFindings(desk: Desk, findings: Finding[]): string {
  if (!problemTexts) {
    // Like the templates: a configured templatesDir overrides the shipped texts, one by one.
    const files = desk.templateDirs.map((d) => path.join(d, 'problems-it.yaml')).filter((f) => existsSync(f)).reverse();
    problemTexts = Object.assign({}, ...files.map((f) => parseYaml(readFileSync(f, 'utf8')) as Record<string, string>));
  }
  const spec = loadFormSpec();
  const label = (name?: string) => (name ? (spec.fields.find((f) => f.name === name)?.label ?? name) : '');
  return findings
    .map((f) => `- ${(problemTexts![f.code] ?? f.code).replace('{field}', label(f.field)).replace('{found}', limitFigure(f, 'found')).replace('{max}', limitFigure(f, 'max'))}`)
    .join('\n');
}

/** A PDF limit finding's figure in Italian: "31,5 MB", "2.500 pagine", "250.000 oggetti". */
function limitFigure(f: Finding, which: 'found' | 'max'): string {
  if (!f.limit) return '?';
  const n = f.limit[which];
  if (f.limit.setting === 'limits.maxPdfBytes') {
    // Rounded away from each other, so a file just over the limit never reads as equal to it.
    const mb = (which === 'found' ? Math.ceil : Math.floor)((n / (1024 * 1024)) * 10) / 10;
    return `${mb.toLocaleString('it-IT')} MB`;
  }
  const [one, many] = f.limit.setting === 'limits.maxPdfPages' ? ['pagina', 'pagine'] : ['oggetto', 'oggetti'];
  return `${n.toLocaleString('it-IT')} ${n === 1 ? one : many}`;
}

/** Write the documents' bytes to the raw store (evidence) before the transaction refers to them. */
export function keepDocuments(desk: Desk, docs: OrderDocuments): void {
  if (docs.piano) desk.raw.put(docs.piano.bytes);
  if (docs.contract) for (const d of [docs.contract.contract, docs.contract.progetto]) if (d) desk.raw.put(d.bytes);
}

/** What order plans need from the config: the time zone, the rules, the findings' Italian texts. */
export interface OrderPlanContext {
  timezone: string;
  rules: DeskRules;
  describeFindings: (findings: Finding[]) => string;
  servicesList: (services: Array<{ code: string; quantity: number | null }>) => string;
}

export function orderPlanContext(desk: Desk): OrderPlanContext {
  return {
    timezone: desk.cfg.timezone,
    rules: desk.rules,
    describeFindings: (f) => describeFindings(desk, f),
    servicesList: (s) => servicesList(s),
  };
}

function servicesList(services: Array<{ code: string; quantity: number | null }>): string {
  const spec = loadFormSpec();
  return services.map((s) => `- ${spec.services.find((x) => x.code === s.code)?.label ?? s.code}: ${s.quantity ?? '?'}`).join('\n');
}

/** What a Piano's intake depends on in the database, read before planning. */
export interface PianoFacts {
  row: MessageRecord;
  ex: Examined;
  doc: PianoDocument;
  /** The Administration the Piano belongs to; `create` when it is not in the directory yet. */
  administration: { id: string; name: string; create: null | { fiscalCode: string | null; ipaCode: string | null; pec: string | null } };
  /** The Administration's rejected order a corrected Piano resumes. */
  rejected: { id: number; ref: string; state: string; ticketId: number } | null;
  /** The calendar its contract names (a new ticket's deadline). */
  calendar: string | null;
  nowIso: string;
}

export function pianoFacts(desk: Desk, row: MessageRecord, ex: Examined, doc: PianoDocument, nowIso: string): PianoFacts {
  const fields = doc.extract.fields;
  const cf = typeof fields.amm_codice_fiscale === 'string' ? fields.amm_codice_fiscale.trim() : '';
  const known = findAdministrationForPiano(desk.db, { fiscalCode: cf || null, pecSender: ex.sender });
  let administration: PianoFacts['administration'];
  if (known) administration = { ...known, create: null };
  else {
    // Unknown: create it from the form, so the order has an Administration to belong to.
    const name = typeof fields.amm_denominazione === 'string' && fields.amm_denominazione.trim() ? fields.amm_denominazione.trim() : (ex.sender ?? 'Amministrazione');
    const ipa = typeof fields.amm_codice_ipa === 'string' ? fields.amm_codice_ipa.trim().toLowerCase() : '';
    administration = {
      id: freeAdministrationId(desk.db, administrationIdFromIpaCode(ipa || name)),
      name,
      create: { fiscalCode: /^\d{11}$/.test(cf) ? cf : null, ipaCode: ipa || null, pec: ex.pec && ex.sender ? ex.sender : null },
    };
  }
  const order = known ? rejectedOrderFor(desk.db, known.id) : undefined;
  return {
    row, ex, doc, administration, nowIso,
    rejected: order ? { id: order.id, ref: order.ref, state: order.state, ticketId: order.ticket_id! } : null,
    calendar: known ? administrationCalendar(desk.db, known.id) : null,
  };
}

/** A Piano arrived: open (or resume) its order, record the formal check, answer. */
export function planPianoIntake(f: PianoFacts, ctx: OrderPlanContext): Plan {
  const { ex, doc } = f;
  const r = doc.extract;
  const actor = ex.sender ?? 'unknown';
  const admin = f.administration;
  const effects: Effect[] = [];
  let ticket: TicketHandle;
  let order: OrderHandle;
  let orderRef: string | null;
  let state: OrderState;
  if (f.rejected) {
    ticket = { id: f.rejected.ticketId };
    order = { id: f.rejected.id };
    orderRef = f.rejected.ref;
    const to = nextState(f.rejected.state as OrderState, 'piano-resent');
    effects.push({ type: 'order-transition', order, from: f.rejected.state, to, eventType: 'piano-resent', actor, detail: { filename: doc.filename, sha256: doc.sha256 }, fromMessage: true });
    state = to;
    effects.push({ type: 'ticket-event', ticket, eventType: 'piano-resent', actor, detail: { order: f.rejected.ref }, fromMessage: true });
    effects.push({ type: 'order-update', order, piano: r, problems: r.problems });
  } else {
    if (admin.create) effects.push({ type: 'create-administration', id: admin.id, name: admin.name, ...admin.create });
    ticket = { opened: 'ticket' };
    effects.push(...orderTicketEffects(f, ctx, 'ticket'));
    order = { opened: 'order' };
    orderRef = null;
    effects.push({
      type: 'open-order', key: 'order', refYear: toLocal(ctx.timezone, new Date(f.nowIso)).year, ticket, administrationId: admin.id, piano: r,
      requester: ex.sender ?? '', problems: r.problems,
    });
    state = 'piano-received';
    effects.push({ type: 'order-event', order, eventType: 'piano-received', actor, detail: { filename: doc.filename, sha256: doc.sha256, verification: ex.verification }, fromMessage: true });
    effects.push({ type: 'ticket-event', ticket, eventType: 'order-opened', actor: 'system', detail: {}, orderRef: { field: 'order', order }, fromMessage: false });
  }
  effects.push({ type: 'order-document', order, kind: 'piano', filename: doc.filename, sha256: doc.sha256, size: doc.bytes.length });
  const accepted = r.passed;
  const action: OrderAction = accepted ? 'piano-accepted' : 'piano-rejected';
  const to = nextState(state, action);
  effects.push({ type: 'order-transition', order, from: state, to, eventType: action, actor: 'system', detail: { problems: r.problems, warnings: r.warnings }, fromMessage: true });
  state = to;
  const durata = typeof r.fields.durata_mesi === 'string' ? r.fields.durata_mesi : '—';
  const shownWarnings = r.warnings.filter((w) => w.code !== 'revocation-unknown');
  const warningsList = shownWarnings.length ? `\nSegnalazioni (non impediscono l'accettazione):\n${ctx.describeFindings(shownWarnings)}\n` : '';
  const template = accepted ? 'piano-accepted' : 'piano-rejected';
  effects.push(orderReply(ex, ticket, order, template, {
    administrationName: admin.name,
    ...(orderRef ? { orderRef } : {}),
    servicesList: ctx.servicesList(r.services),
    durata,
    problemsList: ctx.describeFindings(r.problems),
    warningsList: r.warnings.some((w) => w.code !== 'revocation-unknown') ? warningsList : '',
  }));
  return {
    message: plannedMessage(ex),
    effects,
    result: { classification: ex.pec ? 'pec' : 'email', ticket, order: { order, state, problems: r.problems.map((p) => p.code) }, reply: { template, to: ex.sender! } },
  };
}

/** What a contract's intake depends on in the database, read before planning. */
export interface ContractFacts {
  ex: Examined;
  doc: ContractDocument;
  administrationName: string;
}

export function contractFacts(desk: Desk, ex: Examined, doc: ContractDocument): ContractFacts {
  const id = doc.order.administration_id;
  const admin = id ? administrationName(desk.db, id) : undefined;
  return { ex, doc, administrationName: admin?.name ?? ex.sender ?? '' };
}

/** A contract for a known order: accepted (→ contract-received) or answered with its problems. */
export function planContractIntake(f: ContractFacts, ctx: OrderPlanContext): Plan {
  const { ex, doc } = f;
  const o = doc.order;
  const ticket: TicketHandle = { id: o.ticket_id! };
  const order: OrderHandle = { id: o.id };
  const effects: Effect[] = [
    { type: 'ticket-event', ticket, eventType: 'contract-received', actor: ex.sender ?? 'unknown', detail: { order: o.ref, problems: doc.problems }, fromMessage: true },
  ];
  for (const d of [doc.contract && { kind: 'contract', ...doc.contract }, doc.progetto && { kind: 'contract-progetto', ...doc.progetto }]) {
    if (d) effects.push({ type: 'order-document', order, kind: d.kind, filename: d.filename, sha256: d.sha256, size: d.bytes.length });
  }
  const ok = doc.problems.length === 0 && canDo(o.state as OrderState, 'contract-accepted');
  const action: OrderAction = ok ? 'contract-accepted' : 'contract-rejected';
  const to = nextState(o.state as OrderState, action);
  effects.push({
    type: 'order-transition', order, from: o.state, to, eventType: action, actor: 'system',
    detail: { problems: doc.problems, contract: doc.contract?.sha256, progetto: doc.progetto?.sha256 }, fromMessage: true,
  });
  const signers = doc.contract?.report.signatures.map((s) => [s.signer.givenName, s.signer.surname].filter(Boolean).join(' ') || s.signer.commonName).join(', ') ?? '';
  const template = ok ? 'contract-received' : 'contract-rejected';
  effects.push(orderReply(ex, ticket, order, template, {
    administrationName: f.administrationName,
    orderRef: o.ref,
    signers,
    problemsList: ctx.describeFindings(doc.problems),
  }));
  return {
    message: plannedMessage(ex),
    effects,
    result: { classification: ex.pec ? 'pec' : 'email', ticket, order: { order, state: to, problems: doc.problems.map((p) => p.code) }, reply: { template, to: ex.sender! } },
  };
}

/** The answer to an order document, on its ticket and order (the order's ref filled in by the store when new). */
function orderReply(ex: Examined, ticket: TicketHandle, order: OrderHandle, template: string, vars: Record<string, string>): Effect {
  return {
    type: 'queue-outgoing',
    ticket,
    order,
    ...(vars.orderRef === undefined ? { orderRefVar: 'orderRef' } : {}),
    spec: {
      template, vars, to: ex.sender!, kind: 'reply', channel: ex.pec ? 'pec' : 'email',
      answering: { subject: ex.content.subject, messageId: ex.content.messageId, references: ex.content.references },
    },
  };
}

/** The ticket an order's Piano opens (kind order): the ticket, its `received` event, its thread keys. */
function orderTicketEffects(f: PianoFacts, ctx: OrderPlanContext, key: string): Effect[] {
  const { ex, row } = f;
  const priority = ctx.rules.priority.defaultClass;
  const ticket: TicketHandle = { opened: key };
  return [
    {
      type: 'open-ticket',
      key,
      refYear: toLocal(ctx.timezone, ex.receivedAt).year,
      ticket: {
        kind: 'order',
        category: 'piano-fabbisogni',
        status: 'new',
        priority,
        administration_id: f.administration.id,
        requester: ex.sender ?? 'unknown',
        requester_name: ex.senderName,
        authorized: 1,
        authorization_reason: 'order-formal-check',
        sender_verification: ex.verification,
        sender_verification_note: ex.verificationNote,
        sender_verification_problems: JSON.stringify(ex.verificationProblems),
        channel: ex.pec ? 'pec' : 'email',
        mailbox: row.mailbox,
        subject: ex.content.subject,
        received_at: ex.receivedAt.toISOString(),
        take_charge_due_at: takeChargeDeadline(calendarFor(ctx.rules, f.calendar), priority, ex.receivedAt)?.toISOString() ?? null,
        on_call: 0,
      },
    },
    {
      type: 'ticket-event', ticket, eventType: 'received', actor: ex.sender ?? 'unknown', fromMessage: true,
      detail: { messageId: ex.content.messageId, subject: ex.content.subject, mailbox: row.mailbox, sha256: row.sha256, file: row.file, verification: ex.verification, verificationNote: ex.verificationNote, text: ex.content.text.slice(0, 100_000) },
    },
    ...[ex.content.messageId, ex.pec?.daticert?.identificativo]
      .filter((x): x is string => Boolean(x))
      .map((k): Effect => ({ type: 'thread-key', ticket, key: threadKey(k) })),
  ];
}
