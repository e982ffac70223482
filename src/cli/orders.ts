// pecdesk orders list|show|send-progetto|countersign|activate · pin verify · extract
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { localDay } from '../desk/calendar.js';
import { IllegalTransition } from '../desk/orders.js';
import { verifyPin } from '../desk/pins.js';
import type { Desk } from '../runtime/context.js';
import { documentTrust } from '../signature/document-trust.js';
import { activePins, getOrderByRef, listOrders, orderDocuments, orderEvents, type OrderRow } from '../store/orders.js';
import { isJson, withDesk, type GlobalOptions } from './common.js';
import { localTime, NegativeOutcome, parseInstant, printJson, table, UsageError } from './output.js';
import { outboxView } from './views.js';
import { COMMAND_SUMMARIES } from './summaries.js';

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function orderView(desk: Desk, o: OrderRow) {
  const admin = o.administration_id ? (desk.db.prepare('SELECT name FROM administrations WHERE id = ?').pluck().get(o.administration_id) as string) : null;
  const ticket = o.ticket_id ? (desk.db.prepare('SELECT ref FROM tickets WHERE id = ?').pluck().get(o.ticket_id) as string) : null;
  return { ref: o.ref, state: o.state, administration: o.administration_id, administrationName: admin, requester: o.requester, ticket, createdAt: o.created_at, updatedAt: o.updated_at, problems: JSON.parse(o.problems) as unknown };
}

/** The order actions, loaded when used (they bring nodemailer and the PDF readers). */
const orderActions = () => import('../orders/actions.js');

/** Operator errors (illegal transitions, unknown orders) are usage errors with a clear line. */
async function guarded<T>(fn: (actions: Awaited<ReturnType<typeof orderActions>>) => Promise<T> | T): Promise<T> {
  const actions = await orderActions();
  try {
    return await fn(actions);
  } catch (e) {
    if (e instanceof IllegalTransition || e instanceof actions.OrderActionError) throw new UsageError(e.message);
    throw e;
  }
}

export function registerOrders(program: Command): void {
  const orders = program.command('orders').description(COMMAND_SUMMARIES.orders);
  orders
    .command('list')
    .description('list orders')
    .action(async (_o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const list = listOrders(desk.db).map((o) => orderView(desk, o));
        if (isJson(cmd)) return printJson({ orders: list });
        process.stdout.write(
          table(
            list.map((o) => ({ ref: o.ref, state: o.state, admin: o.administrationName ?? o.administration ?? '—', ticket: o.ticket ?? '—', updated: localTime(o.updatedAt, desk.cfg.timezone) })),
            [{ key: 'ref', title: 'ORDER' }, { key: 'state', title: 'STATE' }, { key: 'admin', title: 'ADMINISTRATION', max: 36 }, { key: 'ticket', title: 'TICKET' }, { key: 'updated', title: 'UPDATED' }],
          ),
        );
      }, { syncDirectory: false }),
    );
  orders
    .command('show')
    .description('show an order, its Piano and its history')
    .argument('<ref>', 'order reference, e.g. PF-2026-0001')
    .action(async (ref: string, _o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const o = getOrderByRef(desk.db, ref);
        if (!o) throw new UsageError(`no order ${ref}`);
        const v = {
          ...orderView(desk, o),
          piano: o.piano ? (JSON.parse(o.piano) as unknown) : null,
          documents: orderDocuments(desk.db, o.id).map((d) => ({ kind: d.kind, filename: d.filename, sha256: d.sha256, size: d.size, at: d.at })),
          events: orderEvents(desk.db, o.id).map((e) => ({ at: e.at, type: e.type, actor: e.actor, detail: JSON.parse(e.detail) as unknown })),
        };
        if (isJson(cmd)) return printJson(v);
        const tz = desk.cfg.timezone;
        process.stdout.write(
          [
            `${v.ref}  ${v.state}  ${v.administrationName ?? ''} (ticket ${v.ticket ?? '—'})`,
            '',
            table(v.documents.map((d) => ({ at: localTime(d.at, tz), kind: d.kind, file: d.filename, sha: d.sha256.slice(0, 16) })), [
              { key: 'at', title: 'AT' }, { key: 'kind', title: 'DOCUMENT' }, { key: 'file', title: 'FILE', max: 40 }, { key: 'sha', title: 'SHA-256' },
            ]),
            table(v.events.map((e) => ({ at: localTime(e.at, tz), type: e.type, actor: e.actor })), [
              { key: 'at', title: 'AT' }, { key: 'type', title: 'EVENT' }, { key: 'actor', title: 'BY', max: 40 },
            ]),
          ].join('\n'),
        );
      }, { syncDirectory: false }),
    );
  orders
    .command('send-progetto')
    .description('send the Progetto dei Fabbisogni to the Administration by PEC')
    .argument('<ref>', 'order reference')
    .argument('<file>', 'the Progetto (PDF)')
    .action(async (ref: string, file: string, _o, cmd: Command) => {
      const bytes = readInput(file);
      await withDesk(cmd, (desk) =>
        guarded(({ sendProgetto }) => {
          const e = sendProgetto(desk, ref, file, bytes, new Date());
          if (isJson(cmd)) printJson({ order: orderView(desk, getOrderByRef(desk.db, ref)!), outbox: outboxView(desk, e) });
          else process.stdout.write(`${ref}: Progetto ${path.basename(file)} queued to ${e.to_addr} (outbox #${e.id}); state progetto-sent\n`);
        }),
      { syncDirectory: false });
    });
  orders
    .command('countersign')
    .description('send the countersigned contract with the Help Desk PINs and the portal URL')
    .argument('<ref>', 'order reference')
    .argument('<file>', 'the countersigned contract (.p7m or PDF)')
    .action(async (ref: string, file: string, _o, cmd: Command) => {
      const bytes = readInput(file);
      await withDesk(cmd, (desk) =>
        guarded(async ({ countersign }) => {
          const r = await countersign(desk, ref, file, bytes, desk.cfg.desk.portalUrl, new Date());
          // The PINs are shown nowhere else: they travel only in the PEC just sent.
          if (isJson(cmd)) printJson({ order: orderView(desk, getOrderByRef(desk.db, ref)!), outbox: outboxView(desk, r.outbox) });
          else process.stdout.write(`${ref}: countersigned contract and PINs sent to ${r.outbox.to_addr} (${r.outbox.sent_to}); state provisioning\n`);
        }),
      { syncDirectory: false });
    });
  orders
    .command('activate')
    .description('send the activation notice')
    .argument('<ref>', 'order reference')
    .action(async (ref: string, _o, cmd: Command) =>
      withDesk(cmd, (desk) =>
        guarded(({ activate }) => {
          const e = activate(desk, ref, new Date());
          if (isJson(cmd)) printJson({ order: orderView(desk, getOrderByRef(desk.db, ref)!), outbox: outboxView(desk, e) });
          else process.stdout.write(`${ref}: activation notice queued to ${e.to_addr} (outbox #${e.id}); state active\n`);
        }),
      { syncDirectory: false }),
    );

}

export function registerPin(program: Command): void {
  program
    .command('pin')
    .description(COMMAND_SUMMARIES.pin)
    .command('verify')
    .description('check an Administration\'s PIN')
    .argument('<admin>', 'administration id')
    .argument('<pin>', 'the PIN')
    .action(async (admin: string, pin: string, _o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const match = activePins(desk.db, admin).find((p) => verifyPin(pin, p.hash));
        const result = { administration: admin, valid: Boolean(match), kind: match?.kind ?? null };
        if (isJson(cmd)) printJson(result);
        else process.stdout.write(match ? `valid ${match.kind} PIN for ${admin}\n` : `not a valid PIN for ${admin}\n`);
        if (!match) throw new NegativeOutcome('');
      }, { syncDirectory: false }),
    );

}

export function registerExtract(program: Command): void {
  program
    .command('extract')
    .description(COMMAND_SUMMARIES.extract)
    .argument('<file>', 'the Piano')
    .option('--at <iso>', 'validation time of the signature (default: now)')
    .action(async (file: string, o: { at?: string }, cmd: Command) => {
      const cfg = loadConfig(cmd.optsWithGlobals<GlobalOptions>().config);
      const bytes = readInput(file);
      const at = o.at ? parseInstant(o.at, '--at') : new Date();
      if (!cfg.trust.signatures) throw new UsageError(`${cfg.source}: trust.signatures: not set`);
      const today = localDay(cfg.timezone, new Date());
      const { extractPiano } = await import('../pdf/piano.js');
      const r = await extractPiano(file, bytes, { trust: documentTrust(cfg.trust)!, at, arrival: null, today, limits: cfg.limits });
      if (isJson(cmd)) printJson(r);
      else {
        const lines = [`${file}: ${r.passed ? 'PASSED' : 'NOT PASSED'} the formal check`];
        for (const p of r.problems) lines.push(`  problem: ${p.code}${p.field ? ` (${p.field})` : ''}`);
        for (const w of r.warnings) lines.push(`  warning: ${w.code}${w.field ? ` (${w.field})` : ''}`);
        lines.push(`  services: ${r.services.map((s) => `${s.code}×${s.quantity ?? '?'}`).join(', ') || 'none'}`);
        for (const [k, v] of Object.entries(r.fields)) lines.push(`  ${k} = ${JSON.stringify(v)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (!r.passed) throw new NegativeOutcome('');
    });
}
