// The outbox's send bookkeeping on a real SQLite file: a send is marked before it starts, a crash
// leaves it uncertain, an accettazione settles an uncertain PEC entry.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/store/db.js';
import { dueOutbox, getOutbox, insertOutbox, markInterruptedSendsUncertain, markSending, markSent, setPecIdentificativo } from '../../src/store/outbox.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-outbox-'));
  db = openDatabase(path.join(dir, 'pecdesk.sqlite'));
  migrate(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const entry = (channel: 'pec' | 'email', n: number) =>
  insertOutbox(db, {
    ticket_id: null, template: 'acknowledgement', channel, mailbox: channel === 'pec' ? 'pec' : 'support',
    from_addr: 'desk@example.it', to_addr: `u${n}@example.it`, subject: 'Re: x', body_text: 'y',
    message_id: `<m${n}@example.it>`, in_reply_to: null, refs: null, created_at: '2026-11-30T09:00:00.000Z',
  });

describe('sends a crash interrupted', () => {
  it('are taken once, become uncertain at the next start, and only the old ones in a running daemon', () => {
    const [pec, mail, fresh] = [entry('pec', 1), entry('email', 2), entry('email', 3)];
    expect(markSending(db, pec, '2026-11-30T09:00:00.000Z')).toBe(true);
    expect(markSending(db, pec, '2026-11-30T09:00:01.000Z')).toBe(false); // taken: no second sender
    markSending(db, mail, '2026-11-30T09:00:00.000Z');
    markSending(db, fresh, '2026-11-30T10:30:00.000Z');
    expect(dueOutbox(db, '2026-11-30T11:00:00.000Z').map((e) => e.id)).toEqual([]);
    // The running daemon's sweep: only sends started before the cut-off.
    const swept = markInterruptedSendsUncertain(db, '2026-11-30T11:00:00.000Z', '2026-11-30T12:00:00.000Z', '2026-11-30T10:00:00.000Z');
    expect(swept.map((e) => [e.id, e.next_attempt_at])).toEqual([
      [pec, '2026-11-30T12:00:00.000Z'], // PEC: waits for an accettazione
      [mail, '2026-11-30T11:00:00.000Z'], // e-mail: again now, same Message-ID
    ]);
    expect(getOutbox(db, fresh)!.sending_since).toBe('2026-11-30T10:30:00.000Z');
    expect(dueOutbox(db, '2026-11-30T11:00:00.000Z').map((e) => e.id)).toEqual([mail]);
    expect(dueOutbox(db, '2026-11-30T12:00:00.000Z').map((e) => e.id)).toEqual([pec, mail]);
    // An accettazione for the PEC entry settles it: sent, never re-sent.
    setPecIdentificativo(db, pec, 'opec.1@pec.example.it', '2026-11-30T11:10:00.000Z');
    expect(getOutbox(db, pec)).toMatchObject({ status: 'sent', sent_to: 'pec-accettazione', sent_at: '2026-11-30T11:10:00.000Z' });
    // An ordinary (certain) entry is not settled by it: it was sent and recorded as such.
    markSent(db, mail, '2026-11-30T11:00:05.000Z', 'smtp://x:25');
    expect(getOutbox(db, mail)).toMatchObject({ status: 'sent', sending_since: null, sent_to: 'smtp://x:25' });
  });
});
