// The take-charge SLA watch (issue 9 rule 7): on a node-cron schedule (`sla.checkCron`), find the
// tickets not taken in charge and past their deadline — mark each once (`breached_at`, a
// `sla-breached` event) and tell the 2nd level once — and remind about those due soon while
// their calendar is open. The decision is src/desk/sla.ts; this file carries it out.
import { calendarFor } from '../desk/calendar.js';
import { queueOutgoing } from '../outbox/replies.js';
import { administrationCalendar } from '../store/directory.js';
import { schedule, type ScheduledTask } from 'node-cron';
import { slaCheck, type SlaCalendar, type SlaEventType, type SlaTicket } from '../desk/sla.js';
import { formatItalianDateTime } from '../outbox/templates.js';
import type { Desk } from '../runtime/context.js';
import { addTicketEvent, getTicket, markBreached, markReminded, slaPendingTickets, type TicketRow } from '../store/tickets.js';

/** Internal notices about a ticket (to the 2nd level), never to the requester. */
export type NoticeTemplate = 'escalation' | 'sla-breach' | 'sla-reminder';

const NOTICE_SUBJECT: Record<NoticeTemplate, string> = {
  escalation: 'Inoltro al secondo livello',
  'sla-breach': 'Presa in carico scaduta',
  'sla-reminder': 'Promemoria presa in carico',
};

/** What every notice template may cite about a ticket (Italian, in the desk's time zone). */
export function ticketNoticeVars(desk: Desk, t: TicketRow): Record<string, string> {
  const tz = desk.cfg.timezone;
  const adminName = t.administration_id
    ? ((desk.db.prepare('SELECT name FROM administrations WHERE id = ?').pluck().get(t.administration_id) as string | undefined) ?? t.administration_id)
    : 'nessuna (mittente non in rubrica)';
  return {
    ref: t.ref,
    deskName: desk.cfg.desk.name,
    subject: t.subject || '(senza oggetto)',
    requester: t.requester_name ? `${t.requester_name} <${t.requester}>` : t.requester,
    administrationName: adminName,
    priority: t.priority,
    status: t.status,
    receivedAt: formatItalianDateTime(new Date(t.received_at), tz),
    dueAt: t.take_charge_due_at ? formatItalianDateTime(new Date(t.take_charge_due_at), tz) : 'nessun termine (classe senza scadenza)',
  };
}

/**
 * Queue an internal notice about a ticket to `to`, from the support mailbox, inside the
 * caller's transaction. Not counted as an automatic reply to a requester.
 */
export function queueNotice(desk: Desk, t: TicketRow, n: { template: NoticeTemplate; to: string; at: string; vars?: Record<string, string> }): number {
  return queueOutgoing(desk, {
    template: n.template,
    kind: 'internal',
    channel: 'email',
    to: n.to,
    ticket: t,
    subject: `[${t.ref}] ${NOTICE_SUBJECT[n.template]}: ${t.subject || '(senza oggetto)'}`,
    vars: { ...ticketNoticeVars(desk, t), ...n.vars },
    at: n.at,
    // The caller records what the notice is for (sla-breached, escalated…).
    recordEvent: false,
  }).outboxId;
}

export interface SlaPassReport {
  /** Tickets marked breached in this pass. */
  breached: string[];
  reminded: string[];
  /** Outbox entries queued (breach notices and reminders). */
  notices: number;
}

/** The calendar a ticket's deadline runs on; the desk's unless the caller knows better. */
export type CalendarOf = (t: TicketRow) => SlaCalendar;

const toldNoAddress = new WeakSet<Desk>();

function slaView(t: TicketRow): SlaTicket & { row: TicketRow } {
  return { id: t.id, takeChargeDueAt: t.take_charge_due_at, takenAt: t.taken_at, breachedAt: t.breached_at, remindedAt: t.reminded_at, row: t };
}

function timeLeft(due: Date, now: Date): string {
  const m = Math.max(0, Math.ceil((due.getTime() - now.getTime()) / 60_000));
  return m === 1 ? '1 minuto' : `${m} minuti`;
}

/** One SLA pass at `now`: each ticket in its own immediate transaction, marked once. */
export function runSlaCheck(
  desk: Desk, now: Date,
  // Reminders follow the hours of the ticket's Administration's contract.
  calendarOf: CalendarOf = (t) => calendarFor(desk.rules, administrationCalendar(desk.db, t.administration_id)),
): SlaPassReport {
  const breachTo = desk.cfg.secondLevel.address ?? null;
  const remindTo = desk.cfg.sla.reminderAddress ?? desk.cfg.secondLevel.address ?? null;
  if ((!breachTo || !remindTo) && !toldNoAddress.has(desk)) {
    toldNoAddress.add(desk);
    desk.log.info(
      { secondLevel: breachTo, reminderAddress: remindTo },
      `SLA watch: no ${!breachTo ? 'secondLevel.address' : 'sla.reminderAddress or secondLevel.address'} configured; ${!breachTo ? 'breaches are marked but nobody is notified' : 'no reminders are sent'}`,
    );
  }
  const decision = slaCheck(slaPendingTickets(desk.db).map(slaView), now, {
    reminderMinutes: desk.cfg.sla.reminderMinutes,
    calendarFor: (t) => calendarOf(t.row),
  });
  const report: SlaPassReport = { breached: [], reminded: [], notices: 0 };
  const at = now.toISOString();
  const event = (t: TicketRow, type: SlaEventType, detail: Record<string, unknown>) =>
    addTicketEvent(desk.db, { ticketId: t.id, at, type, actor: 'system', detail });

  // One ticket that cannot be handled (a broken template override) must not hold up the others:
  // each is a savepoint of the pass's one transaction (a mass breach after an outage is one
  // commit, not one per ticket).
  const each = (row: TicketRow, what: string, fn: () => void) => {
    try {
      desk.db.transaction(fn).immediate();
    } catch (e) {
      desk.log.error({ ticket: row.ref, error: (e as Error).message }, `SLA watch: ${what} failed; retrying at the next check`);
    }
  };
  const pass = () => {
    for (const { row } of decision.breached) {
      each(row, 'breach', () => {
        const t = getTicket(desk.db, row.id)!;
        if (t.breached_at !== null || t.taken_at !== null) return; // changed since the list was read
        const outboxId = breachTo ? queueNotice(desk, t, { template: 'sla-breach', to: breachTo, at }) : null;
        markBreached(desk.db, t.id, at, outboxId === null ? null : at);
        event(t, 'sla-breached', { takeChargeDueAt: t.take_charge_due_at, priority: t.priority, notified: outboxId === null ? null : { outboxId, to: breachTo } });
        report.breached.push(t.ref);
        if (outboxId !== null) report.notices++;
      });
    }
    if (remindTo) {
      for (const { row } of decision.remind) {
        each(row, 'reminder', () => {
          const t = getTicket(desk.db, row.id)!;
          if (t.reminded_at !== null || t.taken_at !== null || t.breached_at !== null) return;
          const due = new Date(t.take_charge_due_at!);
          const outboxId = queueNotice(desk, t, { template: 'sla-reminder', to: remindTo, at, vars: { timeLeft: timeLeft(due, now) } });
          markReminded(desk.db, t.id, at);
          event(t, 'sla-reminder', { takeChargeDueAt: t.take_charge_due_at, outboxId, to: remindTo });
          report.reminded.push(t.ref);
          report.notices++;
        });
      }
    }
  };
  try {
    desk.db.transaction(pass).immediate();
  } catch (e) {
    desk.log.error({ error: (e as Error).message }, 'SLA watch: the pass could not be committed; retrying at the next check');
    return { breached: [], reminded: [], notices: 0 };
  }
  if (report.breached.length || report.reminded.length) desk.log.info({ breached: report.breached, reminded: report.reminded }, 'SLA watch pass');
  return report;
}

export interface SlaWatch {
  stop(): void;
}

/**
 * Start the watch on `sla.checkCron` (in the desk's time zone), with a first pass now. A pass
 * that fails is logged and the next one tries again; `stop` ends the schedule (no timer is left).
 */
export function startSlaWatch(
  desk: Desk,
  opts: { clock: () => Date; calendarOf?: CalendarOf; onPass?: (r: SlaPassReport) => void },
): SlaWatch {
  const pass = () => {
    try {
      opts.onPass?.(runSlaCheck(desk, opts.clock(), opts.calendarOf));
    } catch (e) {
      desk.log.error({ error: (e as Error).message }, 'SLA watch pass failed; retrying at the next scheduled check');
    }
  };
  pass();
  const task: ScheduledTask = schedule(desk.cfg.sla.checkCron, pass, { timezone: desk.cfg.timezone, name: 'sla-watch', noOverlap: true });
  return {
    stop: () => {
      void task.destroy();
    },
  };
}
