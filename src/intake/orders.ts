// Order intake (SPEC §2.1): a Piano dei Fabbisogni arriving by PEC opens (or resumes) an order
// with its formal-check outcome and a reply; a Contratto Esecutivo quoting an order reference
// is checked (signature, Progetto byte-identical to the one sent) and advances it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { canDo, nextState, type OrderAction, type OrderState } from '../desk/orders.js';
import { formatOrderRef, formatTicketRef } from '../desk/refs.js';
import { calendarFor, localDay, takeChargeDeadline, toLocal } from '../desk/calendar.js';
import { administrationCalendar, createAdministrationFromPiano, findAdministrationForPiano } from '../store/directory.js';
import { administrationIdFromIpaCode } from '../directory/ipa.js';
import type { ParsedAttachment } from '../mail/parse.js';
import { threadKey } from '../mail/parse.js';
import { loadFormSpec, type FormSpec } from '../pdf/form-spec.js';
import { checkPianoAgainstDirectory, pianoAdministrationKeys, type Finding } from '../pdf/piano-check.js';
import { extractPiano, type ExtractResult } from '../pdf/piano.js';
import type { Desk } from '../runtime/context.js';
import { loadTrustStore } from '../signature/trust.js';
import { verifyDocument, type VerifyReport } from '../signature/verify.js';
import { nextNumber } from '../store/counters.js';
import { pianoDirectoryFacts } from '../store/directory-ipa.js';
import { queueOutgoing } from '../outbox/replies.js';
import {
  addOrderDocument, addOrderEvent, getOrderByRef, insertOrder, orderDocuments, rejectedOrderFor, updateOrder, type OrderRow,
} from '../store/orders.js';
import { addThreadKey, addTicketEvent, getTicket, insertTicket, type TicketRow } from '../store/tickets.js';
import type { Examined } from './examine.js';

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
    return loadTrustStore(desk.cfg.trust.signatures);
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

/** Look at the attachments: is there a Piano, or a contract for a known order? */
export async function examineDocuments(desk: Desk, ex: Examined, now: Date): Promise<OrderDocuments> {
  const content = ex.content;
  const candidates = content.attachments.filter((a) => isSigned(a) || isPdfAttachment(a));
  if (candidates.length === 0) return { piano: null, contract: null };
  const trust = signatureTrust(desk);
  if (!trust) return { piano: null, contract: null };
  // SPEC §7: a document that arrived by PEC is judged at the PEC certified time.
  const at = ex.verification === 'pec-certified' ? ex.receivedAt : now;
  const arrival = { pecCertified: ex.verification === 'pec-certified', pecSender: ex.pec ? ex.sender : null };

  const refMatch = ORDER_REF.exec(content.subject);
  const order = refMatch ? getOrderByRef(desk.db, refMatch[0]) : undefined;
  if (order && (order.state === 'progetto-sent' || order.state === 'progetto-delivered')) {
    return { piano: null, contract: examineContract(desk, order, candidates, at, arrival.pecCertified) };
  }

  const spec = loadFormSpec();
  for (const a of candidates) {
    const r = await extractPiano(a.filename ?? 'allegato', a.content, { trust, at, arrival, today: localDay(desk.cfg.timezone, now), spec });
    if (isPianoForm(spec, r, `${a.filename ?? ''} ${content.subject}`)) {
      // The form's IPA code, fiscal code and PEC sender against the directory: warnings only.
      r.warnings.push(...checkPianoAgainstDirectory(r.fields, arrival.pecSender, pianoDirectoryFacts(desk.db, pianoAdministrationKeys(r.fields))));
      return { piano: { filename: a.filename ?? 'piano.pdf', bytes: a.content, sha256: sha(a.content), extract: r }, contract: null };
    }
  }
  return { piano: null, contract: null };
}

function examineContract(desk: Desk, order: OrderRow, attachments: ParsedAttachment[], at: Date, pecCertified: boolean): ContractDocument {
  const problems: Finding[] = [];
  if (!pecCertified) problems.push({ code: 'not-pec' });
  const trust = signatureTrust(desk)!;
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
    .map((f) => `- ${(problemTexts![f.code] ?? f.code).replace('{field}', label(f.field))}`)
    .join('\n');
}

/** Write a document's bytes to the raw store (evidence), returning its sha256. */
function keep(desk: Desk, bytes: Buffer): string {
  return desk.raw.put(bytes);
}

function transition(desk: Desk, order: OrderRow, action: OrderAction, actor: string, detail: unknown, at: string, messageRowId: number | null): OrderState {
  const to = nextState(order.state as OrderState, action);
  updateOrder(desk.db, order.id, { state: to, at });
  addOrderEvent(desk.db, { orderId: order.id, at, type: action, actor, detail: { from: order.state, to, ...(detail as object) }, messageRowId });
  order.state = to;
  return to;
}

export interface IntakeOutcome {
  ticket: TicketRow;
  order: { ref: string; state: string; problems: string[] };
  reply: { template: string; to: string } | null;
}

function administrationFor(desk: Desk, ex: Examined, fields: Record<string, unknown>, at: string): { id: string; name: string } {
  const cf = typeof fields.amm_codice_fiscale === 'string' ? fields.amm_codice_fiscale.trim() : '';
  const known = findAdministrationForPiano(desk.db, { fiscalCode: cf || null, pecSender: ex.sender });
  if (known) return known;
  // Unknown: create it from the form, so the order has an Administration to belong to.
  const name = typeof fields.amm_denominazione === 'string' && fields.amm_denominazione.trim() ? fields.amm_denominazione.trim() : (ex.sender ?? 'Amministrazione');
  const ipa = typeof fields.amm_codice_ipa === 'string' ? fields.amm_codice_ipa.trim().toLowerCase() : '';
  return createAdministrationFromPiano(desk.db, {
    baseId: administrationIdFromIpaCode(ipa || name),
    name,
    fiscalCode: /^\d{11}$/.test(cf) ? cf : null,
    ipaCode: ipa || null,
    pec: ex.pec && ex.sender ? ex.sender : null,
    at,
  });
}

function queueOrderReply(
  desk: Desk, ex: Examined, _row: { mailbox: string }, ticket: TicketRow, orderId: number, template: string, vars: Record<string, string>, at: string,
): { template: string; to: string } {
  const to = ex.sender!;
  queueOutgoing(desk, {
    template, vars, to, kind: 'reply', channel: ex.pec ? 'pec' : 'email', ticket, orderId, at,
    answering: { subject: ex.content.subject, messageId: ex.content.messageId, references: ex.content.references },
  });
  return { template, to };
}

function servicesList(desk: Desk, services: Array<{ code: string; quantity: number | null }>): string {
  const spec = loadFormSpec();
  return services.map((s) => `- ${spec.services.find((x) => x.code === s.code)?.label ?? s.code}: ${s.quantity ?? '?'}`).join('\n');
}

/** A Piano arrived: open (or resume) its order, record the formal check, answer. In a transaction. */
export function applyPianoIntake(desk: Desk, row: { id: number; mailbox: string; sha256: string; file: string | null }, ex: Examined, doc: PianoDocument, at: string): IntakeOutcome {
  const r = doc.extract;
  const admin = administrationFor(desk, ex, r.fields, at);
  keep(desk, doc.bytes);
  let order = rejectedOrderFor(desk.db, admin.id);
  let ticket: TicketRow;
  if (order) {
    ticket = getTicket(desk.db, order.ticket_id!)!;
    transition(desk, order, 'piano-resent', ex.sender ?? 'unknown', { filename: doc.filename, sha256: doc.sha256 }, at, row.id);
    addTicketEvent(desk.db, { ticketId: ticket.id, at, type: 'piano-resent', actor: ex.sender ?? 'unknown', detail: { order: order.ref }, messageRowId: row.id });
    updateOrder(desk.db, order.id, { piano: r, problems: r.problems, at });
  } else {
    ticket = openOrderTicket(desk, row, ex, at, admin.id);
    const year = toLocal(desk.cfg.timezone, new Date(at)).year;
    const ref = formatOrderRef(year, nextNumber(desk.db, 'PF', year));
    const id = insertOrder(desk.db, { ref, state: 'piano-received', administrationId: admin.id, ticketId: ticket.id, piano: r, requester: ex.sender ?? '', problems: r.problems, messageRowId: row.id, at });
    order = { id, ref, state: 'piano-received' } as OrderRow;
    addOrderEvent(desk.db, { orderId: id, at, type: 'piano-received', actor: ex.sender ?? 'unknown', detail: { filename: doc.filename, sha256: doc.sha256, verification: ex.verification }, messageRowId: row.id });
    addTicketEvent(desk.db, { ticketId: ticket.id, at, type: 'order-opened', actor: 'system', detail: { order: ref } });
  }
  addOrderDocument(desk.db, { orderId: order.id, kind: 'piano', filename: doc.filename, sha256: doc.sha256, size: doc.bytes.length, messageRowId: row.id, at });
  const accepted = r.passed;
  transition(desk, order, accepted ? 'piano-accepted' : 'piano-rejected', 'system', { problems: r.problems, warnings: r.warnings }, at, row.id);
  const durata = typeof r.fields.durata_mesi === 'string' ? r.fields.durata_mesi : '—';
  const warningsList = r.warnings.length ? `\nSegnalazioni (non impediscono l'accettazione):\n${describeFindings(desk, r.warnings.filter((w) => w.code !== 'revocation-unknown'))}\n` : '';
  const reply = queueOrderReply(desk, ex, row, ticket, order.id, accepted ? 'piano-accepted' : 'piano-rejected', {
    administrationName: admin.name,
    orderRef: order.ref,
    servicesList: servicesList(desk, r.services),
    durata,
    problemsList: describeFindings(desk, r.problems),
    warningsList: r.warnings.some((w) => w.code !== 'revocation-unknown') ? warningsList : '',
  }, at);
  return { ticket: getTicket(desk.db, ticket.id)!, order: { ref: order.ref, state: order.state, problems: r.problems.map((p) => p.code) }, reply };
}

/** A contract for a known order: accepted (→ contract-received) or answered with its problems. */
export function applyContractIntake(desk: Desk, row: { id: number; mailbox: string }, ex: Examined, doc: ContractDocument, at: string): IntakeOutcome {
  const order = doc.order;
  const ticket = getTicket(desk.db, order.ticket_id!)!;
  const admin = order.administration_id
    ? (desk.db.prepare('SELECT id, name FROM administrations WHERE id = ?').get(order.administration_id) as { id: string; name: string })
    : { id: '', name: ex.sender ?? '' };
  addTicketEvent(desk.db, { ticketId: ticket.id, at, type: 'contract-received', actor: ex.sender ?? 'unknown', detail: { order: order.ref, problems: doc.problems }, messageRowId: row.id });
  for (const d of [doc.contract && { kind: 'contract', ...doc.contract }, doc.progetto && { kind: 'contract-progetto', ...doc.progetto }]) {
    if (!d) continue;
    keep(desk, d.bytes);
    addOrderDocument(desk.db, { orderId: order.id, kind: d.kind, filename: d.filename, sha256: d.sha256, size: d.bytes.length, messageRowId: row.id, at });
  }
  const ok = doc.problems.length === 0 && canDo(order.state as OrderState, 'contract-accepted');
  transition(desk, order, ok ? 'contract-accepted' : 'contract-rejected', 'system', { problems: doc.problems, contract: doc.contract?.sha256, progetto: doc.progetto?.sha256 }, at, row.id);
  const signers = doc.contract?.report.signatures.map((s) => [s.signer.givenName, s.signer.surname].filter(Boolean).join(' ') || s.signer.commonName).join(', ') ?? '';
  const reply = queueOrderReply(desk, ex, row, ticket, order.id, ok ? 'contract-received' : 'contract-rejected', {
    administrationName: admin.name,
    orderRef: order.ref,
    signers,
    problemsList: describeFindings(desk, doc.problems),
  }, at);
  return { ticket, order: { ref: order.ref, state: order.state, problems: doc.problems.map((p) => p.code) }, reply };
}

/** The ticket an order's Piano opens (kind order), in the caller's transaction. */
export function openOrderTicket(desk: Desk, row: { id: number; mailbox: string; sha256: string; file: string | null }, ex: Examined, at: string, administrationId: string): TicketRow {
  const l = toLocal(desk.cfg.timezone, ex.receivedAt);
  const ref = formatTicketRef(l.year, nextNumber(desk.db, 'HD', l.year));
  const priority = desk.rules.priority.defaultClass;
  const id = insertTicket(desk.db, {
    ref,
    kind: 'order',
    category: 'piano-fabbisogni',
    status: 'new',
    priority,
    administration_id: administrationId,
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
    take_charge_due_at: takeChargeDeadline(calendarFor(desk.rules, administrationCalendar(desk.db, administrationId)), priority, ex.receivedAt)?.toISOString() ?? null,
    on_call: 0,
    created_at: at,
  });
  addTicketEvent(desk.db, {
    ticketId: id, at, type: 'received', actor: ex.sender ?? 'unknown', messageRowId: row.id,
    detail: { messageId: ex.content.messageId, subject: ex.content.subject, mailbox: row.mailbox, sha256: row.sha256, file: row.file, verification: ex.verification, verificationNote: ex.verificationNote, text: ex.content.text.slice(0, 100_000) },
  });
  for (const k of [ex.content.messageId, ex.pec?.daticert?.identificativo].filter((x): x is string => Boolean(x))) addThreadKey(desk.db, threadKey(k), id);
  return getTicket(desk.db, id)!;
}
