// The duplicate lookups run once per message: they must use the sha256 and Message-ID indexes,
// not the status index every processed row matches (a backlog slowed from 116 to 34 msg/s).
import { describe, expect, it } from 'vitest';
import { FIND_BY_MESSAGE_ID_SQL, FIND_BY_SHA_SQL } from '../../src/store/messages.js';
import { tempDatabase } from '../support/temp-db.js';

const db = tempDatabase('pecdesk-plan-');

const plan = (sql: string, ...args: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join('; ');

describe('duplicate lookups', () => {
  it('by content hash: the sha256 index', () => {
    expect(plan(FIND_BY_SHA_SQL, 'ab', 1)).toMatch(/USING INDEX messages_sha256/);
  });
  it('by Message-ID and sender: the message_id index', () => {
    expect(plan(FIND_BY_MESSAGE_ID_SQL, '<a@b>', 'x@y', 1, null, null)).toMatch(/USING INDEX messages_message_id/);
  });
  it('(the same queries on status = … pick the status index: why "+status")', () => {
    expect(plan(FIND_BY_SHA_SQL.replace('+status', 'status'), 'ab', 1)).toMatch(/messages_status/);
  });
});
