// Message parsing and machine-mail detection, on real bytes. No database.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAutoReply, isBounce, neverReplyReason } from '../../src/mail/auto-detect.js';
import { parseMessage, receivedDate } from '../../src/mail/parse.js';
import { describeServiceHours, formatItalianDateTime } from '../../src/outbox/templates.js';
import { DEFAULT_CALENDAR } from '../../src/desk/calendar.js';
import { samples } from '../e2e/workspace.js';

const sample = (n: string) => parseMessage(readFileSync(path.join(samples, n)));
const msg = (headers: string) => parseMessage(Buffer.from(`From: a@b.it\r\nSubject: Ciao\r\nMessage-ID: <m@b.it>\r\n${headers}\r\n\r\ntesto\r\n`));

describe('parseMessage', () => {
  it('keeps the topmost Received date, the sender lower-cased and the threading headers', async () => {
    const m = await sample('06-risposta-ticket.eml');
    expect(m.from?.address).toBe('anna.rossi@comune.esempio.it');
    expect(m.receivedHeaderDate?.toISOString()).toBe('2026-11-23T11:30:03.000Z');
    expect(m.inReplyTo).toEqual(['<demo-001@comune.esempio.it>']);
    expect(m.references).toEqual(['<demo-001@comune.esempio.it>']);
  });
  it('a part cut off right after "Content-Type: " is an attachment of the default type, not an error', async () => {
    const raw = Buffer.from('From: a@b.it\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nciao\r\n--q\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Type: ');
    const m = await parseMessage(raw);
    expect(m.text.trim()).toBe('ciao');
    expect(m.attachments.map((a) => [a.filename, a.contentType])).toEqual([['a.bin', 'application/octet-stream']]);
  });

  it('a part whose header block is over the parser\'s 1 MiB is mime-too-complex, not a processing error', async () => {
    const raw = Buffer.from(`From: a@b.it\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\nX-Big: ${'a'.repeat(1100 * 1024)}\r\n\r\nciao\r\n--q--\r\n`);
    await expect(parseMessage(raw)).rejects.toMatchObject({ name: 'MessageRejected', code: 'mime-too-complex' });
  });

  it('reads the date after the last semicolon of a Received header', () => {
    expect(receivedDate('from a by b with ESMTP id x; Mon, 23 Nov 2026 09:15:02 +0100 (CET)')?.toISOString()).toBe('2026-11-23T08:15:02.000Z');
    expect(receivedDate('from a by b')).toBeNull();
  });
});

describe('machine mail', () => {
  it('recognises auto-replies by header and by subject', async () => {
    expect(isAutoReply(await sample('07-fuori-sede.eml'))).toBe(true);
    expect(isAutoReply(await msg('X-Autoreply: yes'))).toBe(true);
    expect(isAutoReply(await parseMessage(Buffer.from('From: a@b.it\r\nSubject: Risposta automatica: ferie\r\n\r\nx')))).toBe(true);
    expect(isAutoReply(await sample('01-casella-bloccata.eml'))).toBe(false);
  });
  it('recognises bounces (DSN, or MAILER-DAEMON with a failure subject)', async () => {
    expect(isBounce(await sample('08-mancata-consegna.eml'))).toBe(true);
    expect(isBounce(await parseMessage(Buffer.from('From: MAILER-DAEMON@x.it\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nx')))).toBe(true);
    expect(isBounce(await sample('01-casella-bloccata.eml'))).toBe(false);
  });
  it('never-reply reasons', async () => {
    expect(neverReplyReason(await msg('Auto-Submitted: auto-replied'), [])).toBe('Auto-Submitted: auto-replied');
    expect(neverReplyReason(await msg('Auto-Submitted: no'), [])).toBeNull();
    expect(neverReplyReason(await msg('Precedence: Bulk'), [])).toBe('Precedence: bulk');
    expect(neverReplyReason(await msg('List-Id: <l.x.it>'), [])).toMatch(/list-id/);
    expect(neverReplyReason(await msg('Return-Path: < >'), [])).toMatch(/null return path/);
    expect(neverReplyReason(await msg(''), ['a@b.it'])).toMatch(/own address/);
    expect(neverReplyReason(await parseMessage(Buffer.from('From: No-Reply@pa.it\r\n\r\nx')), [])).toMatch(/automated sender/);
    expect(neverReplyReason(await msg(''), [])).toBeNull();
  });
});

describe('Italian rendering', () => {
  it('service hours and dates in Italian', () => {
    expect(describeServiceHours(DEFAULT_CALENDAR)).toBe('dal lunedì al venerdì 08:00–17:00, sabato 08:00–14:00, festivi esclusi');
    expect(formatItalianDateTime(new Date('2026-11-28T13:00:00Z'), 'Europe/Rome')).toBe('sabato 28 novembre 2026, ore 14:00');
  });
});
