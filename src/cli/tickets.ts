// pecdesk tickets list [--status S] [--admin ID] [--class P] [--breached] [--due-before ISO] [--limit N] [--after REF] [--all] · tickets show REF
// · tickets take|escalate|resolve|close|reopen REF [--note TEXT] [--as OPERATOR] [--now ISO]
import type { Command } from 'commander';
import { REPORT_CLASSES } from '../desk/sla.js';
import { isTicketStatus, TICKET_STATUSES, transition, TRANSITIONS, type TicketAction } from '../desk/workflow.js';
import type { Desk } from '../runtime/context.js';
import { getOutbox } from '../store/outbox.js';
import {
  getTicket, getTicketByRef, iterateTickets, latestRequesterMessageId, listTickets, recordTransition, type TicketFilter, type TicketListRow, type TicketRow,
} from '../store/tickets.js';
import { isJson, withDesk } from './common.js';
import { localTime, NegativeOutcome, parseInstant, printJson, table, UsageError } from './output.js';
import { outboxView, ticketView, ticketWithEvents } from './views.js';
import { COMMAND_SUMMARIES } from './summaries.js';

const ACTION_HELP: Record<TicketAction, string> = {
  take: 'take a ticket in charge (the first take stops the take-charge SLA clock)',
  escalate: 'escalate to the 2nd level (notifies secondLevel.address when configured)',
  resolve: 'resolve: the note is the resolution sent to the requester on the ticket\'s channel',
  close: 'close a resolved ticket',
  reopen: 'reopen a resolved or closed ticket',
};

/** Sent as the resolution when the operator gives no note. */
const DEFAULT_RESOLUTION = 'L\'intervento richiesto è stato completato.';

interface ActionOptions {
  note?: string;
  as?: string;
  now?: string;
}

/** Who acts: --as, else the login name, else "operator". */
function operatorName(as: string | undefined): string {
  if (as !== undefined) {
    if (!as.trim()) throw new UsageError('--as: expected an operator name');
    return as.trim();
  }
  return process.env.USER?.trim() || 'operator';
}

function reopenPeriod(days: number): string {
  return days === 1 ? '1 giorno' : `${days} giorni`;
}

/** The `resolved` reply to the requester, on the channel the request came from, answering its latest message. */
/** What an operator action may send, loaded only by those actions (list and show start without it). */
interface OutgoingMail {
  queueOutgoing: typeof import('../outbox/replies.js').queueOutgoing;
  queueNotice: typeof import('../daemon/sla-watch.js').queueNotice;
  formatItalianDateTime: typeof import('../outbox/templates.js').formatItalianDateTime;
}
async function outgoingMail(): Promise<OutgoingMail> {
  const [replies, sla, templates] = await Promise.all([import('../outbox/replies.js'), import('../daemon/sla-watch.js'), import('../outbox/templates.js')]);
  return { queueOutgoing: replies.queueOutgoing, queueNotice: sla.queueNotice, formatItalianDateTime: templates.formatItalianDateTime };
}

function queueResolvedReply(desk: Desk, mail: OutgoingMail, t: TicketRow, resolution: string, at: string): number {
  const inReplyTo = latestRequesterMessageId(desk.db, t);
  // The requester's answer to it comes back to this ticket (and may reopen it): queueOutgoing keeps the thread key.
  return mail.queueOutgoing(desk, {
    template: 'resolved',
    kind: 'reply',
    // An operator's answer, not an automatic one: it does not count against the per-sender limit.
    automatic: false,
    channel: t.channel === 'pec' ? 'pec' : 'email',
    to: t.requester,
    ticket: t,
    answering: { subject: t.subject ?? '', messageId: inReplyTo, references: [] },
    at,
    vars: {
      requesterName: t.requester_name || t.requester,
      subject: t.subject || '(senza oggetto)',
      resolution,
      reopenPeriod: reopenPeriod(desk.cfg.workflow.reopenDays),
    },
  }).outboxId;
}

/**
 * One operator action in one immediate transaction: the status, its time stamp, the event
 * (actor, note) and the mail it implies. An illegal transition is refused (exit 1).
 */
export function applyTicketAction(desk: Desk, mail: OutgoingMail, ref: string, action: TicketAction, o: { note: string | null; actor: string; now: Date }) {
  return desk.db
    .transaction(() => {
      const t = getTicketByRef(desk.db, ref);
      if (!t) throw new UsageError(`no ticket ${ref}`);
      const tr = transition(t.status, action);
      if (!tr.ok) throw new NegativeOutcome(`${t.ref}: ${tr.reason}`);
      const at = o.now.toISOString();
      const outboxIds: number[] = [];
      const detail: Record<string, unknown> = { note: o.note };
      if (action === 'take' && t.taken_at) detail.firstTakenAt = t.taken_at;
      if (action === 'escalate') {
        const to = desk.cfg.secondLevel.address;
        detail.notified = null;
        if (to) {
          const outboxId = mail.queueNotice(desk, t, {
            template: 'escalation', to, at,
            vars: { actor: o.actor, at: mail.formatItalianDateTime(o.now, desk.cfg.timezone), note: o.note ?? '(nessuna nota)' },
          });
          outboxIds.push(outboxId);
          detail.notified = { outboxId, to };
        } else {
          desk.log.info({ ticket: t.ref }, 'escalated without notice: no secondLevel.address configured');
        }
      }
      recordTransition(desk.db, t, { action, to: tr.to, event: tr.event, at, actor: o.actor, detail });
      if (action === 'resolve') outboxIds.push(queueResolvedReply(desk, mail, t, o.note ?? DEFAULT_RESOLUTION, at));
      return { from: t.status, to: tr.to, event: tr.event, ticket: getTicket(desk.db, t.id)!, outboxIds };
    })
    .immediate();
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 10_000;

type TicketRowView = ReturnType<typeof ticketView>;

/** The columns an operator reads, for the page table and the --all lines alike. */
const TICKET_COLUMNS = [
  { key: 'ref', title: 'TICKET' },
  { key: 'status', title: 'STATUS' },
  { key: 'priority', title: 'PRIO' },
  { key: 'due', title: 'TAKE CHARGE BY' },
  { key: 'taken', title: 'TAKEN' },
  { key: 'requester', title: 'REQUESTER', max: 34 },
  { key: 'admin', title: 'ADMINISTRATION', max: 20 },
  { key: 'subject', title: 'SUBJECT', max: 48 },
] as const;

function ticketCells(desk: Desk, t: TicketRowView): Record<(typeof TICKET_COLUMNS)[number]['key'], string> {
  return {
    ref: t.ref,
    status: t.status,
    priority: t.priority,
    due: localTime(t.takeChargeDueAt, desk.cfg.timezone),
    taken: localTime(t.takenAt, desk.cfg.timezone),
    requester: t.requester,
    admin: t.administration ?? '—',
    subject: t.subject ?? '',
  };
}

/**
 * tickets list --all: one line per ticket as it is read (JSON lines, or tab-separated text with
 * a header), waiting for stdout to drain, so a million tickets never sit in memory at once.
 */
async function streamTickets(desk: Desk, rows: Iterable<TicketListRow>, json: boolean): Promise<void> {
  const write = async (line: string) => {
    if (!process.stdout.write(line)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
  };
  if (!json) await write(`${TICKET_COLUMNS.map((c) => c.title).join('\t')}\n`);
  for (const t of rows) {
    const v = ticketView(desk, t);
    if (json) await write(`${JSON.stringify(v)}\n`);
    else {
      const cells = ticketCells(desk, v);
      await write(`${TICKET_COLUMNS.map((c) => String(cells[c.key] ?? '').replace(/[\t\r\n]+/g, ' ')).join('\t')}\n`);
    }
  }
}

function parseStatus(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (!isTicketStatus(s)) throw new UsageError(`--status: expected one of ${TICKET_STATUSES.join(', ')}, got ${JSON.stringify(s)}`);
  return s;
}

function parseClass(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const c = REPORT_CLASSES.find((k) => k === s.toUpperCase());
  if (!c) throw new UsageError(`--class: expected one of ${REPORT_CLASSES.join(', ')}, got ${JSON.stringify(s)}`);
  return c;
}

export function registerTickets(program: Command): void {
  const tickets = program.command('tickets').description(COMMAND_SUMMARIES.tickets);
  tickets
    .command('list')
    .description('list tickets, oldest first, a page at a time')
    .option('--status <status>', `only this status (${TICKET_STATUSES.join(', ')})`)
    .option('--admin <id>', 'only this administration')
    .option('--class <class>', `only this priority class (${REPORT_CLASSES.join(', ')})`)
    .option('--breached', 'only tickets whose take-charge deadline is breached (taken late, or not taken and past due)')
    .option('--due-before <iso>', 'only tickets whose take-charge deadline is before this instant')
    .option('--limit <n>', `at most this many (default ${DEFAULT_PAGE})`)
    .option('--after <ref>', 'the page after this ticket (the "next" of the previous page)')
    .option('--all', 'every matching ticket, streamed (with --json: one JSON object per line)')
    .option('--now <iso>', 'fix the clock (what --breached is judged against)')
    .action(async (o: { status?: string; admin?: string; class?: string; breached?: boolean; dueBefore?: string; limit?: string; after?: string; all?: boolean; now?: string }, cmd: Command) => {
      const now = o.now ? parseInstant(o.now, '--now') : new Date();
      const limit = o.limit === undefined ? DEFAULT_PAGE : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new UsageError(`--limit: expected a whole number from 1 to ${MAX_PAGE}, got ${JSON.stringify(o.limit)}`);
      if (o.all && (o.limit !== undefined || o.after !== undefined)) throw new UsageError('--all lists everything: it takes no --limit or --after');
      const filter: TicketFilter = {
        status: parseStatus(o.status),
        admin: o.admin,
        priority: parseClass(o.class),
        dueBefore: o.dueBefore !== undefined ? parseInstant(o.dueBefore, '--due-before').toISOString() : undefined,
        breachedAt: o.breached ? now.toISOString() : undefined,
      };
      await withDesk(cmd, async (desk) => {
        if (o.after !== undefined) {
          const after = getTicketByRef(desk.db, o.after);
          if (!after) throw new UsageError(`--after: no ticket ${o.after}`);
          filter.afterId = after.id;
        }
        if (o.all) return streamTickets(desk, iterateTickets(desk.db, filter), isJson(cmd));
        // One row more than the page says whether there is a next page.
        const found = listTickets(desk.db, { ...filter, limit: limit + 1 });
        const page = found.slice(0, limit);
        const next = found.length > limit ? page[page.length - 1]!.ref : null;
        const rows = page.map((t) => ticketView(desk, t));
        if (isJson(cmd)) return printJson({ tickets: rows, next });
        process.stdout.write(table(rows.map((t) => ticketCells(desk, t)), [...TICKET_COLUMNS]));
        if (next) process.stdout.write(`(${rows.length} shown; the next page: --after ${next})\n`);
      }, { syncDirectory: false, now });
    });
  tickets
    .command('show')
    .description('show a ticket and its history')
    .argument('<ref>', 'ticket reference, e.g. HD-2026-000123')
    .action(async (ref: string, _o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const t = getTicketByRef(desk.db, ref);
        if (!t) throw new UsageError(`no ticket ${ref}`);
        const v = ticketWithEvents(desk, t);
        if (isJson(cmd)) return printJson(v);
        const tz = desk.cfg.timezone;
        const lines = [
          `${v.ref}  ${v.subject ?? ''}`,
          `  status ${v.status} · ${v.kind}/${v.category} · priority ${v.priority} · take charge by ${localTime(v.takeChargeDueAt, tz)}${v.takenAt ? ` · taken ${localTime(v.takenAt, tz)}` : ''}${v.breachedAt ? ` · SLA breached ${localTime(v.breachedAt, tz)}` : ''}`,
          `  requester ${v.requesterName ? `${v.requesterName} <${v.requester}>` : v.requester} · ${v.administrationName ?? 'no administration'} · sender ${v.senderVerification} · ${v.authorized ? 'authorized' : 'NOT authorized'}`,
          `  received ${localTime(v.receivedAt, tz)} via ${v.channel}`,
          '',
          table(
            v.events.map((e) => ({ at: localTime(e.at, tz), type: e.type, actor: e.actor, detail: summarize(e.detail) })),
            [
              { key: 'at', title: 'AT' },
              { key: 'type', title: 'EVENT' },
              { key: 'actor', title: 'BY', max: 34 },
              { key: 'detail', title: 'DETAIL', max: 70 },
            ],
          ),
        ];
        process.stdout.write(lines.join('\n'));
      }, { syncDirectory: false }),
    );

  for (const action of Object.keys(TRANSITIONS) as TicketAction[]) {
    tickets
      .command(action)
      .description(`${ACTION_HELP[action]} (from: ${TRANSITIONS[action].from.join(', ')})`)
      .argument('<ref>', 'ticket reference, e.g. HD-2026-000123')
      .option('--note <text>', 'a note kept in the ticket event')
      .option('--as <operator>', 'who acts (default: $USER, else "operator")')
      .option('--now <iso>', 'fix the clock (tests and replays)')
      .action(async (ref: string, o: ActionOptions, cmd: Command) => {
        const now = o.now ? parseInstant(o.now, '--now') : new Date();
        const actor = operatorName(o.as);
        const note = o.note?.trim() ? o.note.trim() : null;
        const mail = await outgoingMail();
        await withDesk(cmd, (desk) => {
          const r = applyTicketAction(desk, mail, ref, action, { note, actor, now });
          const outbox = r.outboxIds.map((id) => outboxView(desk, getOutbox(desk.db, id)!));
          if (isJson(cmd)) return printJson({ ticket: ticketView(desk, r.ticket), from: r.from, to: r.to, event: r.event, actor, outbox });
          const queued = outbox.map((e) => ` · «${e.template}» queued to ${e.to} (outbox #${e.id})`).join('');
          process.stdout.write(`${r.ticket.ref}: ${r.from} → ${r.to} by ${actor}${queued}\n`);
        }, { syncDirectory: false, now });
      });
  }
}

function summarize(detail: unknown): string {
  if (!detail || typeof detail !== 'object') return '';
  const d = detail as Record<string, unknown>;
  for (const k of ['note', 'reason', 'template', 'subject', 'priority']) if (typeof d[k] === 'string') return `${k}: ${d[k]}`;
  return '';
}
