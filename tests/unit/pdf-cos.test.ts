// The PDF object layer signature validation reads revisions with: the grammar as readers
// follow it, cross-reference streams, object streams; and the text scanner's termination.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Lexer, parseValue, PdfDict, PdfName, PdfRef, PdfStream, PdfString, Revision, revisionEnds } from '../../src/pdf/cos.js';
import { dictEntries } from '../../src/pdf/syntax.js';

const L = (s: string) => Buffer.from(s, 'latin1');
const value = (s: string) => parseValue(new Lexer(L(s)));

describe('tokenizer', () => {
  it('comments and NUL are whitespace; names unescape #xx; strings keep balanced parentheses and escapes', () => {
    const d = value('<< /Type %comment\n/Page\0/A#20B (x(y)\\)z\\101) /H <48 65 6C6C 6F 2> /R 4 0 R >>') as PdfDict;
    expect(d.name('Type')).toBe('Page');
    expect((d.get('A B') as PdfString).text()).toBe('x(y))zA');
    expect((d.get('H') as PdfString).bytes).toEqual(Buffer.from('48656c6c6f20', 'hex'));
    expect(d.get('R')).toEqual(new PdfRef(4, 0));
  });
  it('a repeated key: the last value counts (as pdf.js reads it) and the repetition is recorded', () => {
    const d = value('<< /Annots [1 0 R] /Annots [2 0 R] >>') as PdfDict;
    expect(d.get('Annots')).toEqual([new PdfRef(2, 0)]);
    expect(d.duplicateKeys).toEqual(['Annots']);
  });
  it('rejects what is not PDF syntax instead of guessing', () => {
    expect(() => value('<< /Rect [0 0 0 0\\ /F 4 >>')).toThrow();
    expect(() => value('[1 2')).toThrow();
  });
});

/** A file whose second revision is written with an object stream and a cross-reference stream. */
function xrefStreamFile(): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  const offs = new Map<number, number>();
  const put = (s: Buffer | string, num?: number) => {
    const b = typeof s === 'string' ? L(s) : s;
    if (num !== undefined) offs.set(num, pos);
    parts.push(b);
    pos += b.length;
  };
  put('%PDF-1.7\n');
  put('1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n', 1);
  put('2 0 obj\n<</Type /Pages /Kids [] /Count 0>>\nendobj\n', 2);
  const xref1 = pos;
  put(`xref\n0 3\n0000000000 65535 f \n${String(offs.get(1)).padStart(10, '0')} 00000 n \n${String(offs.get(2)).padStart(10, '0')} 00000 n \ntrailer\n<</Size 3 /Root 1 0 R>>\nstartxref\n${xref1}\n%%EOF\n`);
  const first = pos;
  const header = '1 0 ';
  const body = '<</Type /Catalog /Pages 2 0 R /Lang (it)>>';
  const objstm = deflateSync(L(header + body));
  put(Buffer.concat([L(`3 0 obj\n<</Type /ObjStm /N 1 /First ${header.length} /Filter /FlateDecode /Length ${objstm.length}>>\nstream\n`), objstm, L('\nendstream\nendobj\n')]), 3);
  const xrefAt = pos;
  // Rows [type, offset(4), gen(2)] for objects 1 (in stream 3, index 0), 3 and 4, PNG Up predictor.
  const rows = [[2, 3, 0], [1, offs.get(3)!, 0], [1, xrefAt, 0]].map(([t, a, g]) => {
    const r = Buffer.alloc(7);
    r[0] = t!;
    r.writeUInt32BE(a!, 1);
    r.writeUInt16BE(g!, 5);
    return r;
  });
  let prev = Buffer.alloc(7);
  const filtered = Buffer.concat(rows.map((r) => {
    const f = Buffer.alloc(8);
    f[0] = 2;
    for (let i = 0; i < 7; i++) f[i + 1] = (r[i]! - prev[i]! + 256) & 0xff;
    prev = r;
    return f;
  }));
  const z = deflateSync(filtered);
  put(Buffer.concat([L(`4 0 obj\n<</Type /XRef /Size 5 /Root 1 0 R /Prev ${xref1} /W [1 4 2] /Index [1 1 3 2] /Filter /FlateDecode /DecodeParms <</Predictor 12 /Columns 7>> /Length ${z.length}>>\nstream\n`), z, L('\nendstream\nendobj\n')]), 4);
  put(`startxref\n${xrefAt}\n%%EOF\n`);
  void first;
  return Buffer.concat(parts);
}

describe('revisions', () => {
  it('reads each revision through its own cross-reference: table, then stream with an object stream', () => {
    const f = xrefStreamFile();
    const ends = revisionEnds(f);
    expect(ends).toHaveLength(2);
    const r1 = new Revision(f, ends[0]!.end, ends[0]!.startxref);
    const r2 = new Revision(f, ends[1]!.end, ends[1]!.startxref);
    expect((r1.get(1) as PdfDict).has('Lang')).toBe(false);
    expect(((r2.get(1) as PdfDict).get('Lang') as PdfString).text()).toBe('it');
    expect((r2.get(2) as PdfDict).name('Type')).toBe('Pages');
    expect((r2.get(4) as PdfStream).dict.get('Type')).toEqual(new PdfName('XRef'));
  });
  it('an entry pointing at an object of another number is an error (shadow renumbering); a misplaced entry is recovered only for the signed revision', () => {
    const f = Buffer.from(xrefStreamFile());
    const ends = revisionEnds(f);
    const at = f.indexOf('2 0 obj');
    const renumbered = Buffer.from(f);
    renumbered.write('7', at, 'latin1'); // "7 0 obj" where the table says object 2
    expect(() => new Revision(renumbered, ends[0]!.end, ends[0]!.startxref).get(2)).toThrow(/points at object 7 0/);
    const shifted = Buffer.from(f);
    const entry = `${String(at).padStart(10, '0')} 00000 n`;
    shifted.write(`${String(at + 2).padStart(10, '0')} 00000 n`, shifted.indexOf(entry), 'latin1');
    expect(() => new Revision(shifted, ends[0]!.end, ends[0]!.startxref).get(2)).toThrow();
    expect((new Revision(shifted, ends[0]!.end, ends[0]!.startxref, true).get(2) as PdfDict).name('Type')).toBe('Pages');
  });
});

describe('text scanner (fallback for unreadable cross-references)', () => {
  it('terminates on a stray delimiter inside an array (it used to spin forever)', () => {
    expect(dictEntries('<< /Rect [0 0 0 0\\ /F 132 /P 3 0 R>>\n').get('Rect')).toBeDefined();
    expect(dictEntries('<< /A [ ) ] /B 1 >>').get('B')).toBe('1');
  });
});
