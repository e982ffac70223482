// Pure receipt rules and the raw MIME splitter.
import { describe, expect, it } from 'vitest';
import { readMimeTree, splitMultipart } from '../../src/mail/mime-tree.js';
import type { Daticert } from '../../src/pec/daticert.js';
import { mergeState, overallState, receiptUpdates } from '../../src/pec/receipts.js';

const d = (over: Partial<Daticert>): Daticert => ({
  tipo: 'accettazione', errore: 'nessuno', mittente: 'pec@desk.it',
  destinatari: [{ address: 'a@pec.it', tipo: 'certificato' }, { address: 'b@mail.it', tipo: 'esterno' }],
  risposte: null, oggetto: null, gestoreEmittente: null, data: { giorno: null, ora: null, zona: null, iso: null },
  identificativo: 'id1', msgid: 'm@desk.it', ricevuta: null, consegna: null, ricezione: [], erroreEsteso: null, ...over,
});

describe('receipt rules', () => {
  it('accettazione accepts PEC recipients and marks external ones as not PEC', () => {
    expect(receiptUpdates('accettazione', d({}))).toEqual([
      { address: 'a@pec.it', state: 'accepted', detail: null },
      { address: 'b@mail.it', state: 'not-pec', detail: null },
    ]);
  });
  it('per-recipient receipts apply to the consegna address', () => {
    expect(receiptUpdates('avvenuta-consegna', d({ tipo: 'avvenuta-consegna', consegna: 'a@pec.it' }))).toEqual([{ address: 'a@pec.it', state: 'delivered', detail: null }]);
    expect(receiptUpdates('errore-consegna', d({ tipo: 'errore-consegna', consegna: 'a@pec.it', errore: 'no-dest', erroreEsteso: '5.1.1 x' }))[0]).toMatchObject({ state: 'failed', detail: '5.1.1 x' });
  });
  it("a preavviso is a warning, except Aruba's 5.4.1 which is final", () => {
    expect(receiptUpdates('preavviso-errore-consegna', d({ consegna: 'a@pec.it', erroreEsteso: '4.4.1 ritardo' }))[0]!.state).toBe('delivery-warning');
    expect(receiptUpdates('preavviso-errore-consegna', d({ consegna: 'a@pec.it', erroreEsteso: '5.4.1 - no route' }))[0]!.state).toBe('failed');
  });
  it('final states are never downgraded', () => {
    expect(mergeState('delivered', 'delivery-warning')).toBe('delivered');
    expect(mergeState('failed', 'accepted')).toBe('failed');
    expect(mergeState('accepted', 'delivered')).toBe('delivered');
    expect(mergeState(null, 'accepted')).toBe('accepted');
  });
  it('one word for the whole message', () => {
    expect(overallState(['delivered', 'delivered'])).toBe('delivered');
    expect(overallState(['delivered', 'failed'])).toBe('failed');
    expect(overallState(['accepted', 'delivered'])).toBe('accepted');
    expect(overallState(['delivered', 'not-pec'])).toBe('not-pec');
  });
});

describe('raw MIME splitting', () => {
  const msg = (body: string) => Buffer.from(`Content-Type: multipart/mixed; boundary="b1"\r\n\r\n${body}`, 'latin1');
  it('the line break before a delimiter belongs to the delimiter; a longer boundary is not a delimiter', () => {
    const raw = msg('pre\r\n--b1\r\nA: 1\r\n\r\none\r\n--b10\r\nstill one\r\n--b1\r\n\r\ntwo\r\n--b1--\r\nepilogue');
    const root = readMimeTree(raw);
    expect(root.children.map((c) => raw.toString('latin1', c.bodyStart, c.end))).toEqual(['one\r\n--b10\r\nstill one', 'two']);
  });
  it('a multipart without its closing delimiter keeps its last part', () => {
    const raw = msg('--b1\r\n\r\none\r\n--b1\r\n\r\ntwo, cut short\r\n');
    expect(splitMultipart(raw, raw.indexOf('--b1'), raw.length, 'b1')).toHaveLength(2);
  });
});
