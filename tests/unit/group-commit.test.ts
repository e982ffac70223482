// Group commit (issue 12): a batch of messages is recorded in one transaction, each message in
// its own savepoint. A message whose plan fails is quarantined alone; a message whose record
// cannot be written at all fails alone (the batch is committed again one by one) and is the only
// one the source must not acknowledge.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ingestBatch, type IncomingMessage } from '../../src/intake/pipeline.js';
import type { IngestResult } from '../../src/intake/result.js';
import { openDesk, type Desk } from '../../src/runtime/context.js';
import { createLogger } from '../../src/runtime/logger.js';
import { Workspace } from '../e2e/workspace.js';

let ws: Workspace;
let desk: Desk;
beforeEach(() => {
  ws = new Workspace();
  desk = openDesk(loadConfig(ws.configPath), { log: createLogger('silent') });
});
afterEach(() => {
  desk.close();
  ws.cleanup();
});

const NOW = new Date('2026-11-23T10:00:00+01:00');

function mail(i: number, subject = `Richiesta ${i}`): IncomingMessage {
  const text = [
    `From: Utente ${i} <utente${i}@comune.esempio.it>`,
    'To: helpdesk@cloudpa-desk.example.it',
    `Subject: ${subject}`,
    'Date: Mon, 23 Nov 2026 09:00:00 +0100',
    `Message-ID: <gc-${i}@comune.esempio.it>`,
    '',
    'Buongiorno, la casella non riceve messaggi.',
    '',
  ].join('\r\n');
  return { bytes: Buffer.from(text), mailbox: 'support', source: 'maildir', sourceUid: `gc-${i}`, file: `new/gc-${i}` };
}

const count = (sql: string) => (desk.db.prepare(sql).pluck().get() as number);

describe('ingestBatch', () => {
  it('records every message of a batch, its ticket and reply; the same batch again is all duplicates', async () => {
    const results = await ingestBatch(desk, Array.from({ length: 20 }, (_, i) => mail(i)), () => NOW);
    expect(results.every((r) => !(r instanceof Error) && r.classification === 'email')).toBe(true);
    expect(count('SELECT count(*) FROM messages WHERE status = \'processed\'')).toBe(20);
    expect(count('SELECT count(*) FROM tickets')).toBe(20);
    expect(count('SELECT count(*) FROM outbox')).toBe(20);
    // The same batch again: every message is already finished and comes back as a duplicate.
    const again = await ingestBatch(desk, Array.from({ length: 20 }, (_, i) => mail(i)), () => NOW);
    expect(again.map((r) => (r as IngestResult).classification)).toEqual(Array(20).fill('duplicate'));
    expect(count('SELECT count(*) FROM tickets')).toBe(20);
  });

  it('a message whose plan fails is quarantined alone; the rest of the batch is processed', async () => {
    desk.db.exec(`CREATE TRIGGER poison_ticket BEFORE INSERT ON tickets WHEN NEW.subject LIKE '%veleno%'
                  BEGIN SELECT RAISE(ABORT, 'the ticket table refuses this one'); END`);
    const batch = [mail(1), mail(2, 'veleno'), mail(3)];
    const [a, b, c] = (await ingestBatch(desk, batch, () => NOW)) as IngestResult[];
    expect(a!.classification).toBe('email');
    expect(c!.classification).toBe('email');
    expect(b!.classification).toBe('quarantined');
    expect(b!.quarantine!.reason).toContain('the ticket table refuses this one');
    // Its savepoint was rolled back: no half-written ticket, event or reply of it.
    expect(count('SELECT count(*) FROM tickets')).toBe(2);
    expect(count('SELECT count(*) FROM outbox')).toBe(2);
    expect(count('SELECT count(*) FROM messages')).toBe(3);
  });

  it('a message that cannot be recorded at all fails alone: the batch is committed again one by one', async () => {
    // Its quarantine cannot be written either: the batch's transaction fails as a whole.
    desk.db.exec(`CREATE TRIGGER poison_ticket BEFORE INSERT ON tickets WHEN NEW.subject LIKE '%veleno%'
                  BEGIN SELECT RAISE(ABORT, 'no ticket'); END;
                  CREATE TRIGGER poison_quarantine BEFORE INSERT ON quarantine WHEN NEW.reason LIKE '%no ticket%'
                  BEGIN SELECT RAISE(ABORT, 'no quarantine either'); END;`);
    const results = await ingestBatch(desk, [mail(1), mail(2, 'veleno'), mail(3)], () => NOW);
    expect((results[0] as IngestResult).classification).toBe('email');
    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toContain('no quarantine either');
    expect((results[2] as IngestResult).classification).toBe('email');
    // Nothing of the failed one is recorded: its source keeps it for the next pass.
    expect(count('SELECT count(*) FROM messages')).toBe(2);
    expect(count(`SELECT count(*) FROM messages WHERE source_uid = 'gc-2'`)).toBe(0);
  });
});
