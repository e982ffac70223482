import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFRawStream,
  PDFRef,
  PDFString,
} from 'pdf-lib';
import type { PDFContext, PDFForm, PDFObject } from 'pdf-lib';
import {
  PdfReadError,
  readAcroForm,
  readWithPdfLib,
  readWithPdfjs,
} from '../../src/pdf/acroform.js';

// ---------------------------------------------------------------------------------------------
// Building test forms with pdf-lib

const SAVE = { useObjectStreams: false, updateFieldAppearances: false } as const;

interface FormOptions {
  durata?: { as: 'radio' | 'dropdown'; value?: '12' | '24' | '36' };
  denominazione?: string;
}

/** A small Piano dei Fabbisogni (field names from config/forms/piano-fabbisogni.yaml). */
async function buildForm(opts: FormOptions = {}): Promise<PDFDocument> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595, 842]);
  const form = doc.getForm();
  let y = 780;
  const text = (name: string, value: string): void => {
    const f = form.createTextField(name);
    if (value) f.setText(value);
    f.addToPage(page, { x: 40, y, width: 400, height: 20 });
    y -= 30;
  };
  text('amm_denominazione', opts.denominazione ?? 'Comune di Forlì — Università è à');
  text('amm_codice_fiscale', '00123456789');
  text('amm_comune', 'Forlì');
  text('srv_IAAS_VM_qta', '10');
  text('srv_PAAS_DB_qta', '');
  const indirizzo = form.createTextField('amm_indirizzo');
  indirizzo.enableMultiline();
  indirizzo.setText('Piazza Aurelio Saffi 8\nPalazzo comunale, 1° piano — città');
  indirizzo.addToPage(page, { x: 40, y: y - 30, width: 200, height: 50 });
  y -= 60;
  const cf = form.createTextField('ref_codice_fiscale');
  cf.setMaxLength(16);
  cf.enableCombing();
  cf.setText('RSSMRA80A01D704X');
  cf.addToPage(page, { x: 40, y, width: 320, height: 20 });
  y -= 30;
  const vm = form.createCheckBox('srv_IAAS_VM_sel');
  vm.addToPage(page, { x: 40, y, width: 15, height: 15 });
  vm.check();
  const db = form.createCheckBox('srv_PAAS_DB_sel');
  db.addToPage(page, { x: 80, y, width: 15, height: 15 });
  y -= 40;
  const durata = opts.durata ?? { as: 'radio', value: '24' };
  if (durata.as === 'radio') {
    const r = form.createRadioGroup('durata_mesi');
    ['12', '24', '36'].forEach((v, i) => r.addOptionToPage(v, page, { x: 40 + i * 40, y, width: 15, height: 15 }));
    if (durata.value) r.select(durata.value);
  } else {
    const d = form.createDropdown('durata_mesi');
    d.addOptions(['12', '24', '36']);
    if (durata.value) d.select(durata.value);
    d.addToPage(page, { x: 40, y, width: 100, height: 20 });
  }
  form.updateFieldAppearances();
  return doc;
}

async function save(doc: PDFDocument): Promise<Uint8Array> {
  return doc.save(SAVE);
}

/** Reload saved bytes, change low-level objects, save without regenerating appearances. */
async function edit(bytes: Uint8Array, change: (doc: PDFDocument, form: PDFForm) => void | Promise<void>): Promise<Uint8Array> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false });
  await change(doc, doc.getForm());
  return doc.save(SAVE);
}

const utf16Hex = (s: string): string => `FEFF${Buffer.from(s, 'utf16le').swap16().toString('hex').toUpperCase()}`;

// ---------------------------------------------------------------------------------------------
// A Standard security handler encryptor (the libraries here can't encrypt). pdf.js, which
// decrypts with its own code, is the independent check that the output is a valid encrypted PDF.

const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');
const md5 = (...parts: Uint8Array[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('md5')).digest();

function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

function hash2B(pw: Uint8Array, salt: Uint8Array, udata: Uint8Array): Buffer {
  let k = createHash('sha256').update(pw).update(salt).update(udata).digest();
  let e = Buffer.alloc(0);
  let i = 0;
  while (i < 64 || e[e.length - 1]! > i - 32) {
    const k1 = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([pw, k, udata])));
    const c = createCipheriv('aes-128-cbc', k.subarray(0, 16), k.subarray(16, 32)).setAutoPadding(false);
    e = Buffer.concat([c.update(k1), c.final()]);
    const sum = [...e.subarray(0, 16)].reduce((a, b) => a + b, 0);
    k = createHash(['sha256', 'sha384', 'sha512'][sum % 3]!).update(e).digest();
    i++;
  }
  return k.subarray(0, 32);
}

type Mode = 'rc4-128' | 'aes-128' | 'aes-256';

interface Security {
  encDict: string; // the /Encrypt dictionary's PDF syntax
  id0: Buffer;
  encryptObject(num: number, gen: number, data: Uint8Array): Buffer;
}

function security(mode: Mode, userPassword: string, ownerPassword: string): Security {
  const id0 = randomBytes(16);
  const P = -1084; // print allowed, no modification
  const hex = (b: Uint8Array): string => `<${Buffer.from(b).toString('hex')}>`;
  if (mode === 'aes-256') {
    const fileKey = randomBytes(32);
    const aes256 = (key: Uint8Array, data: Uint8Array): Buffer => {
      const c = createCipheriv('aes-256-cbc', key, Buffer.alloc(16)).setAutoPadding(false);
      return Buffer.concat([c.update(data), c.final()]);
    };
    const upw = Buffer.from(userPassword, 'utf8');
    const opw = Buffer.from(ownerPassword, 'utf8');
    const [uv, uk, ov, ok] = [randomBytes(8), randomBytes(8), randomBytes(8), randomBytes(8)];
    const U = Buffer.concat([hash2B(upw, uv, Buffer.alloc(0)), uv, uk]);
    const UE = aes256(hash2B(upw, uk, Buffer.alloc(0)), fileKey);
    const O = Buffer.concat([hash2B(opw, ov, U), ov, ok]);
    const OE = aes256(hash2B(opw, ok, U), fileKey);
    const permsPlain = Buffer.alloc(16);
    permsPlain.writeInt32LE(P, 0);
    permsPlain.writeUInt32LE(0xffffffff, 4);
    permsPlain.write('Tadb', 8, 'latin1');
    const pc = createCipheriv('aes-256-ecb', fileKey, null).setAutoPadding(false);
    const Perms = Buffer.concat([pc.update(permsPlain), pc.final()]);
    return {
      id0,
      encDict: `<< /Filter /Standard /V 5 /R 6 /Length 256 /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >> /StmF /StdCF /StrF /StdCF /O ${hex(O)} /U ${hex(U)} /OE ${hex(OE)} /UE ${hex(UE)} /Perms ${hex(Perms)} /P ${P} >>`,
      encryptObject: (_n, _g, data) => {
        const iv = randomBytes(16);
        const c = createCipheriv('aes-256-cbc', fileKey, iv);
        return Buffer.concat([iv, c.update(data), c.final()]);
      },
    };
  }
  const n = 16;
  const pad = (pw: string): Buffer => Buffer.concat([Buffer.from(pw, 'latin1'), PAD]).subarray(0, 32);
  let oh = md5(pad(ownerPassword));
  for (let i = 0; i < 50; i++) oh = md5(oh);
  let O = rc4(oh.subarray(0, n), pad(userPassword));
  for (let i = 1; i <= 19; i++) O = rc4(oh.subarray(0, n).map((b) => b ^ i), O);
  const pLe = Buffer.alloc(4);
  pLe.writeInt32LE(P);
  let key = md5(pad(userPassword), O, pLe, id0);
  for (let i = 0; i < 50; i++) key = md5(key.subarray(0, n));
  key = key.subarray(0, n);
  let U = rc4(key, md5(PAD, id0));
  for (let i = 1; i <= 19; i++) U = rc4(key.map((b) => b ^ i), U);
  U = Buffer.concat([U, Buffer.alloc(16)]);
  const aes = mode === 'aes-128';
  const objKey = (num: number, gen: number): Buffer =>
    md5(key, Buffer.from([num & 0xff, (num >> 8) & 0xff, (num >> 16) & 0xff, gen & 0xff, (gen >> 8) & 0xff]), aes ? Buffer.from('sAlT') : Buffer.alloc(0)).subarray(0, 16);
  return {
    id0,
    encDict: aes
      ? `<< /Filter /Standard /V 4 /R 4 /Length 128 /CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> /StmF /StdCF /StrF /StdCF /O ${hex(O)} /U ${hex(U)} /P ${P} >>`
      : `<< /Filter /Standard /V 2 /R 3 /Length 128 /O ${hex(O)} /U ${hex(U)} /P ${P} >>`,
    encryptObject: (num, gen, data) => {
      if (!aes) return rc4(objKey(num, gen), data);
      const iv = randomBytes(16);
      const c = createCipheriv('aes-128-cbc', objKey(num, gen), iv);
      return Buffer.concat([iv, c.update(data), c.final()]);
    },
  };
}

/** Encrypt every string and stream of a (no-object-stream) PDF with pdf-lib's object API. */
async function encrypt(bytes: Uint8Array, mode: Mode, userPassword = ''): Promise<Uint8Array> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false });
  const ctx = doc.context;
  const sec = security(mode, userPassword, 'owner-secret');
  const encryptIn = (o: PDFObject, ref: PDFRef): PDFObject => {
    if (o instanceof PDFString || o instanceof PDFHexString) {
      const raw = o instanceof PDFHexString ? Buffer.from(o.asString(), 'hex') : Buffer.from(o.asBytes());
      return PDFHexString.of(sec.encryptObject(ref.objectNumber, ref.generationNumber, raw).toString('hex'));
    }
    if (o instanceof PDFDict) for (const [k, v] of o.entries()) o.set(k, encryptIn(v, ref));
    if (o instanceof PDFArray) for (let i = 0; i < o.size(); i++) o.set(i, encryptIn(o.get(i), ref));
    return o;
  };
  for (const [ref, obj] of ctx.enumerateIndirectObjects()) {
    if (obj instanceof PDFRawStream) {
      encryptIn(obj.dict, ref);
      ctx.assign(ref, PDFRawStream.of(obj.dict, sec.encryptObject(ref.objectNumber, ref.generationNumber, obj.contents)));
    } else encryptIn(obj, ref);
  }
  const encRef = ctx.register(parseDict(ctx, sec.encDict));
  ctx.trailerInfo.Encrypt = encRef;
  const id = PDFHexString.of(sec.id0.toString('hex'));
  ctx.trailerInfo.ID = ctx.obj([id, id]);
  return doc.save({ ...SAVE, addDefaultPage: false });
}

function parseDict(ctx: PDFContext, syntax: string): PDFDict {
  // pdf-lib has no public "parse this text" helper; build the dict through ctx.obj instead.
  const tokens = syntax.match(/<<|>>|\[|\]|\/[A-Za-z0-9]+|<[0-9a-f]*>|-?\d+/g)!;
  let i = 0;
  const value = (): PDFObject => {
    const t = tokens[i++]!;
    if (t === '<<') {
      const d = ctx.obj({});
      while (tokens[i] !== '>>') {
        const key = tokens[i++]!.slice(1);
        d.set(PDFName.of(key), value());
      }
      i++;
      return d;
    }
    if (t.startsWith('/')) return PDFName.of(t.slice(1));
    if (t.startsWith('<')) return PDFHexString.of(t.slice(1, -1));
    return PDFNumber.of(Number(t));
  };
  return value() as PDFDict;
}

/**
 * Encrypt a PDF written with object streams, RC4 in place (length-preserving), so the object
 * streams themselves are encrypted; /Encrypt and /ID go directly into the xref stream's dict.
 */
async function encryptWithObjectStreams(doc: PDFDocument): Promise<Uint8Array> {
  const bytes = Buffer.from(await doc.save({ useObjectStreams: true, updateFieldAppearances: false }));
  const sec = security('rc4-128', '', 'owner-secret');
  const text = bytes.toString('latin1');
  const re = /(\d+) (\d+) obj\n<<([\s\S]*?)>>\nstream\n/g;
  let m: RegExpExecArray | null;
  let xrefDictEnd = -1;
  let objStreams = 0;
  while ((m = re.exec(text))) {
    const dict = m[3]!;
    const start = m.index + m[0].length;
    const len = Number(/\/Length (\d+)/.exec(dict)![1]);
    if (/\/Type \/XRef/.test(dict)) {
      xrefDictEnd = m.index + m[0].length - '>>\nstream\n'.length;
      continue;
    }
    if (/\/Type \/ObjStm/.test(dict)) objStreams++;
    sec.encryptObject(Number(m[1]), Number(m[2]), bytes.subarray(start, start + len)).copy(bytes, start);
  }
  expect(objStreams).toBeGreaterThan(0);
  expect(xrefDictEnd).toBeGreaterThan(0);
  const id = `<${sec.id0.toString('hex')}>`;
  const extra = Buffer.from(`/Encrypt ${sec.encDict}\n/ID [${id} ${id}]\n`, 'latin1');
  return Buffer.concat([bytes.subarray(0, xrefDictEnd), extra, bytes.subarray(xrefDictEnd)]);
}

// ---------------------------------------------------------------------------------------------

async function expectMalformed(p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PdfReadError);
  expect((err as PdfReadError).code).toBe('malformed');
  expect((err as PdfReadError).message).toMatch(message);
}

describe('readAcroForm — normal forms, both readers agree', () => {
  it('reads text with accents, checkboxes on/off and the radio durata_mesi', async () => {
    const bytes = await save(await buildForm());
    const r = await readAcroForm(bytes);
    expect(r.readers).toEqual(['pdf-lib', 'pdfjs']);
    expect(r.disagreements).toEqual([]);
    expect(r.appearanceMismatches).toEqual([]);
    expect(r.noFormFields).toBe(false);
    expect(r.encrypted).toBe(false);
    expect(r.needAppearances).toBe(false);
    expect(r.fields.amm_denominazione).toMatchObject({
      kind: 'text',
      value: 'Comune di Forlì — Università è à',
      appearanceText: 'Comune di Forlì — Università è à',
    });
    expect(r.fields.amm_comune?.value).toBe('Forlì');
    expect(r.fields.amm_indirizzo).toMatchObject({
      value: 'Piazza Aurelio Saffi 8\nPalazzo comunale, 1° piano — città',
      appearanceText: expect.stringContaining('Palazzo comunale'),
    });
    expect(r.fields.ref_codice_fiscale).toMatchObject({ value: 'RSSMRA80A01D704X', appearanceText: expect.stringMatching(/^R\s*S\s*S/) });
    expect(r.fields.srv_IAAS_VM_qta?.value).toBe('10');
    expect(r.fields.srv_PAAS_DB_qta).toMatchObject({ kind: 'text', value: null, appearanceText: '' });
    expect(r.fields.srv_IAAS_VM_sel).toMatchObject({ kind: 'checkbox', value: true, exportValue: 'Yes' });
    expect(r.fields.srv_PAAS_DB_sel).toMatchObject({ kind: 'checkbox', value: false, exportValue: null });
    // pdf-lib writes radio on-states /0 /1 /2 and the export values in /Opt.
    expect(r.fields.durata_mesi).toMatchObject({ kind: 'radio', value: '24', exportValue: '1' });

    const [lib, js] = [await readWithPdfLib(bytes), await readWithPdfjs(bytes)];
    expect(lib.reader).toBe('pdf-lib');
    expect(js.reader).toBe('pdfjs');
    for (const name of Object.keys(lib.fields)) {
      expect(js.fields[name]?.value, name).toEqual(lib.fields[name]?.value);
      expect(js.fields[name]?.kind, name).toEqual(lib.fields[name]?.kind);
    }
    expect(Object.keys(js.fields).sort()).toEqual(Object.keys(lib.fields).sort());
  });

  it.each(['12', '24', '36'] as const)('radio durata_mesi = %s', async (value) => {
    const r = await readAcroForm(await save(await buildForm({ durata: { as: 'radio', value } })));
    expect(r.fields.durata_mesi?.value).toBe(value);
    expect(r.disagreements).toEqual([]);
  });

  it('an unselected radio group reads null', async () => {
    const r = await readAcroForm(await save(await buildForm({ durata: { as: 'radio' } })));
    expect(r.fields.durata_mesi).toMatchObject({ kind: 'radio', value: null, exportValue: null });
    expect(r.disagreements).toEqual([]);
  });

  it.each(['12', '36'] as const)('dropdown durata_mesi = %s', async (value) => {
    const r = await readAcroForm(await save(await buildForm({ durata: { as: 'dropdown', value } })));
    expect(r.fields.durata_mesi).toMatchObject({ kind: 'choice', value });
    expect(r.disagreements).toEqual([]);
  });

  it('a /V written as a UTF-16BE hex string (with whitespace inside) is decoded', async () => {
    const value = 'Città di Forlì — ufficio è';
    const bytes = await edit(await save(await buildForm({ denominazione: value })), (_doc, form) => {
      const spaced = utf16Hex(value).replace(/(.{8})/g, '$1 \n');
      form.getTextField('amm_denominazione').acroField.dict.set(PDFName.of('V'), PDFHexString.of(spaced));
    });
    expect(Buffer.from(bytes).toString('latin1')).toMatch(/\/V <FEFF0043 \n/);
    // pdf-lib's own decoder ignores the whitespace rule of hex strings:
    const doc = await PDFDocument.load(bytes);
    expect(doc.getForm().getTextField('amm_denominazione').getText()).not.toBe(value);
    const r = await readAcroForm(bytes);
    expect(r.fields.amm_denominazione?.value).toBe(value);
    expect(r.disagreements).toEqual([]);
    expect(r.appearanceMismatches).toEqual([]);
  });
});

describe('readAcroForm — file layouts and fonts', () => {
  it('reads a form saved with object streams (pdf.js maps /Opt from the raw object streams)', async () => {
    const bytes = await (await buildForm({ durata: { as: 'radio', value: '12' } })).save({ useObjectStreams: true });
    expect(Buffer.from(bytes).toString('latin1')).toContain('/ObjStm');
    const js = await readWithPdfjs(bytes);
    expect(js.fields.durata_mesi).toMatchObject({ value: '12', exportValue: '0' });
    const r = await readAcroForm(bytes);
    expect(r.disagreements).toEqual([]);
    expect(r.appearanceMismatches).toEqual([]);
    expect(r.fields.durata_mesi?.value).toBe('12');
    expect(r.fields.amm_denominazione?.value).toBe('Comune di Forlì — Università è à');
  });

  /** Replace a text widget's normal appearance with a hand-written stream. */
  async function withAppearance(content: string, font: (doc: PDFDocument) => PDFRef, value = 'Forlì'): Promise<Uint8Array> {
    const doc = await buildForm();
    const field = doc.getForm().getTextField('amm_comune');
    field.acroField.dict.set(PDFName.of('V'), PDFHexString.fromText(value));
    const ap = doc.context.flateStream(content, {
      Type: 'XObject',
      Subtype: 'Form',
      BBox: [0, 0, 400, 20],
      Resources: { Font: { F1: font(doc) } },
    });
    field.acroField.getWidgets()[0]!.dict.set(PDFName.of('AP'), doc.context.obj({ N: doc.context.register(ap) }));
    return save(doc);
  }

  const cidFont = (toUnicode: boolean) => (doc: PDFDocument): PDFRef => {
    const ctx = doc.context;
    const cmap = [
      '/CIDInit /ProcSet findresource begin 12 dict begin begincmap',
      '1 begincodespacerange <0000> <FFFF> endcodespacerange',
      '3 beginbfchar <0003> <0020> <0010> <00EC> <0049> <006F> endbfchar',
      '2 beginbfrange <0020> <0021> <0046> <0040> <0041> [<006C> <0072>] endbfrange',
      'endcmap CMapName currentdict /CMap defineresource pop end end',
    ].join('\n');
    return ctx.register(ctx.obj({
      Type: 'Font',
      Subtype: 'Type0',
      BaseFont: 'ABCDEF+SomeSans',
      Encoding: 'Identity-H',
      DescendantFonts: [ctx.obj({ Type: 'Font', Subtype: 'CIDFontType2', BaseFont: 'ABCDEF+SomeSans' })],
      ...(toUnicode ? { ToUnicode: ctx.register(ctx.flateStream(cmap)) } : {}),
    }));
  };
  // "Forlì" in that font: F=0x0020 o=0x0049 r=0x0041 l=0x0040 ì=0x0010
  const FORLI = 'BT /F1 12 Tf 2 5 Td <00200049> Tj [<0041> -20 <0040>] TJ <0010> Tj ET';

  it('decodes an appearance drawn with a CID font through its ToUnicode map', async () => {
    const r = await readAcroForm(await withAppearance(FORLI, cidFont(true)));
    expect(r.fields.amm_comune).toMatchObject({ value: 'Forlì', appearanceText: 'Forlì' });
    expect(r.appearanceMismatches).toEqual([]);
    const r2 = await readAcroForm(await withAppearance(FORLI, cidFont(true), 'Cesena'));
    expect(r2.appearanceMismatches).toEqual(['amm_comune']);
  });

  it('a CID font without ToUnicode is unreadable (null), not a mismatch', async () => {
    const r = await readAcroForm(await withAppearance(FORLI, cidFont(false), 'Cesena'));
    expect(r.fields.amm_comune).toMatchObject({ value: 'Cesena', appearanceText: null });
    expect(r.appearanceMismatches).toEqual([]);
  });

  it('a simple font with /Differences maps glyph names', async () => {
    const font = (doc: PDFDocument): PDFRef =>
      doc.context.register(doc.context.obj({
        Type: 'Font',
        Subtype: 'Type1',
        BaseFont: 'Helvetica',
        Encoding: { Type: 'Encoding', BaseEncoding: 'WinAnsiEncoding', Differences: [1, 'igrave', 'uni00E8'] },
      }));
    const r = await readAcroForm(await withAppearance('BT /F1 12 Tf (Forl\\001 \\002) Tj ET', font, 'Forlì è'));
    expect(r.fields.amm_comune).toMatchObject({ value: 'Forlì è', appearanceText: 'Forlì è' });
    expect(r.appearanceMismatches).toEqual([]);
  });
});

describe('readAcroForm — the library traps', () => {
  it('/V changed without updating the appearance → appearance mismatch', async () => {
    const bytes = await edit(await save(await buildForm()), (_doc, form) => {
      form.getTextField('amm_codice_fiscale').acroField.dict.set(PDFName.of('V'), PDFString.of('99999999999'));
      form.getTextField('srv_PAAS_DB_qta').acroField.dict.set(PDFName.of('V'), PDFString.of('5'));
    });
    const r = await readAcroForm(bytes);
    expect(r.fields.amm_codice_fiscale).toMatchObject({ value: '99999999999', appearanceText: '00123456789' });
    expect(r.fields.srv_PAAS_DB_qta).toMatchObject({ value: '5', appearanceText: '' });
    expect(r.appearanceMismatches).toEqual(['amm_codice_fiscale', 'srv_PAAS_DB_qta']);
    expect(r.disagreements).toEqual([]); // both readers read the same /V
  });

  it('an appearance showing text while /V is gone is a mismatch too', async () => {
    const bytes = await edit(await save(await buildForm()), (_doc, form) => {
      form.getTextField('amm_comune').acroField.dict.delete(PDFName.of('V'));
    });
    const r = await readAcroForm(bytes);
    expect(r.fields.amm_comune).toMatchObject({ value: null, appearanceText: 'Forlì' });
    expect(r.appearanceMismatches).toEqual(['amm_comune']);
  });

  it('reports /NeedAppearances true', async () => {
    const doc = await buildForm();
    doc.getForm().acroForm.dict.set(PDFName.of('NeedAppearances'), doc.context.obj(true));
    const bytes = await save(doc);
    const r = await readAcroForm(bytes);
    expect(r.needAppearances).toBe(true);
    expect((await readWithPdfjs(bytes)).needAppearances).toBe(true);
  });

  it('finds a widget that is on the page but missing from /AcroForm /Fields', async () => {
    const bytes = await edit(await save(await buildForm()), (doc, form) => {
      const ref = form.getTextField('amm_codice_fiscale').ref;
      const fields = form.acroForm.dict.lookup(PDFName.of('Fields'), PDFArray);
      const idx = fields.asArray().findIndex((x) => x === ref);
      expect(idx).toBeGreaterThanOrEqual(0);
      fields.remove(idx);
      void doc;
    });
    // pdf-lib's own form API no longer sees it:
    const libForm = (await PDFDocument.load(bytes)).getForm();
    expect(libForm.getFields().map((f) => f.getName())).not.toContain('amm_codice_fiscale');
    const r = await readAcroForm(bytes);
    expect(r.fields.amm_codice_fiscale).toMatchObject({ kind: 'text', value: '00123456789' });
    expect(r.disagreements).toEqual([]);
    expect((await readWithPdfjs(bytes)).fields.amm_codice_fiscale?.value).toBe('00123456789');
  });

  it('resolves /V inherited from a parent field (kid field without /V)', async () => {
    const doc = await buildForm();
    const form = doc.getForm();
    const kid = form.createTextField('firm.nome');
    kid.addToPage(doc.getPage(0), { x: 300, y: 100, width: 200, height: 20 });
    const parent = kid.acroField.getParent()!;
    parent.dict.set(PDFName.of('V'), PDFHexString.fromText('Maria Rossi'));
    parent.dict.set(PDFName.of('FT'), PDFName.of('Tx'));
    expect(kid.acroField.dict.has(PDFName.of('V'))).toBe(false);
    const r = await readAcroForm(await save(doc));
    expect(r.fields['firm.nome']).toMatchObject({ kind: 'text', value: 'Maria Rossi' });
    expect(r.fields.firm).toBeUndefined(); // a non-terminal field is not a value
    expect(r.disagreements).toEqual([]);
  });

  it('a checkbox with two widgets where only the second /AS is on reads checked', async () => {
    const doc = await buildForm();
    const form = doc.getForm();
    const cb = form.createCheckBox('srv_SAAS_PEC_sel');
    cb.addToPage(doc.getPage(0), { x: 300, y: 200, width: 15, height: 15 });
    cb.addToPage(doc.getPage(0), { x: 340, y: 200, width: 15, height: 15 });
    form.updateFieldAppearances();
    const widgets = cb.acroField.getWidgets();
    expect(widgets).toHaveLength(2);
    cb.acroField.dict.delete(PDFName.of('V'));
    widgets[0]!.dict.set(PDFName.of('AS'), PDFName.of('Off'));
    widgets[1]!.dict.set(PDFName.of('AS'), PDFName.of('Yes'));
    const bytes = await save(doc);
    // pdf-lib's isChecked() looks at /V against the first widget only:
    expect((await PDFDocument.load(bytes)).getForm().getCheckBox('srv_SAAS_PEC_sel').isChecked()).toBe(false);
    const r = await readAcroForm(bytes);
    expect(r.fields.srv_SAAS_PEC_sel).toMatchObject({ kind: 'checkbox', value: true, exportValue: 'Yes' });
    expect(r.disagreements).toEqual([]);
  });

  it('a radio group with no /V but one widget /AS on reads that option (pdf.js disagrees)', async () => {
    const bytes = await edit(await save(await buildForm({ durata: { as: 'radio', value: '36' } })), (_doc, form) => {
      form.getRadioGroup('durata_mesi').acroField.dict.delete(PDFName.of('V'));
    });
    const r = await readAcroForm(bytes);
    expect(r.fields.durata_mesi).toMatchObject({ kind: 'radio', value: '36', exportValue: '2' });
    // pdf.js takes a radio group's value from /V only.
    expect(r.disagreements).toEqual([{ field: 'durata_mesi', pdfLib: '36', pdfjs: null }]);
  });

  it('rich text without /V: no exception (pdf-lib getText() throws), value null', async () => {
    const bytes = await edit(await save(await buildForm()), (_doc, form) => {
      const d = form.getTextField('amm_comune').acroField.dict;
      d.delete(PDFName.of('V'));
      d.set(PDFName.of('Ff'), PDFNumber.of(1 << 25)); // RichText
      d.set(PDFName.of('RV'), PDFString.of('<body><p>Forlì</p></body>'));
    });
    const libForm = (await PDFDocument.load(bytes)).getForm();
    expect(() => libForm.getTextField('amm_comune').getText()).toThrow();
    const r = await readAcroForm(bytes);
    expect(r.fields.amm_comune?.value).toBeNull();
    expect(r.disagreements).toEqual([]);
  });

  it('a disagreement between the readers is reported, pdf-lib value used', async () => {
    // An object appended after the last xref: pdf-lib (which ignores the xref) reads it,
    // pdf.js (which follows the xref) does not.
    const base = Buffer.from(await save(await buildForm()));
    const doc = await PDFDocument.load(base);
    const ref = doc.getForm().getTextField('amm_codice_fiscale').ref;
    const dict = doc.context.lookup(ref, PDFDict);
    const body = dict.toString().replace(/\/V <[^>]*>/, '/V (11111111111)');
    expect(body).toContain('/V (11111111111)');
    const appended = Buffer.from(`\n${ref.objectNumber} ${ref.generationNumber} obj\n${body}\nendobj\n%%EOF\n`, 'latin1');
    const r = await readAcroForm(Buffer.concat([base, appended]));
    expect(r.fields.amm_codice_fiscale?.value).toBe('11111111111');
    expect(r.disagreements).toEqual([{ field: 'amm_codice_fiscale', pdfLib: '11111111111', pdfjs: '00123456789' }]);
  });

  it('a flattened form has no form fields', async () => {
    const doc = await buildForm();
    doc.getForm().flatten();
    const r = await readAcroForm(await save(doc));
    expect(r.noFormFields).toBe(true);
    expect(r.fields).toEqual({});
    expect(r.readers).toEqual(['pdf-lib', 'pdfjs']);
  });

  it('a PDF without any form reads as noFormFields', async () => {
    const doc = await PDFDocument.create();
    doc.addPage();
    const r = await readAcroForm(await doc.save());
    expect(r.noFormFields).toBe(true);
  });
});

describe('readAcroForm — broken input', () => {
  it('rejects a non-PDF', async () => {
    await expectMalformed(readAcroForm(Buffer.from('From: someone\r\n\r\nnot a pdf at all')), /not a PDF/);
    await expectMalformed(readAcroForm(new Uint8Array(0)), /empty/);
    await expectMalformed(readWithPdfLib(Buffer.from('hello')), /not a PDF/);
    await expectMalformed(readWithPdfjs(Buffer.from('hello')), /not a PDF/);
  });

  it('rejects a truncated PDF', async () => {
    const bytes = await save(await buildForm());
    await expectMalformed(readAcroForm(bytes.subarray(0, Math.floor(bytes.length * 0.6))), /truncated/);
  });

  it('rejects garbage with a PDF header and an EOF marker, without hanging', async () => {
    const junk = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(64 * 1024), Buffer.from('\n%%EOF\n')]);
    const r = await readAcroForm(junk).then(
      (x) => x,
      (e: unknown) => e,
    );
    // Both libraries are lenient: either a clean error or an empty result, never a crash.
    if (r instanceof Error) expect(r).toBeInstanceOf(PdfReadError);
    else expect((r as { noFormFields: boolean }).noFormFields).toBe(true);
  });

  it('rejects input over the size cap without parsing it', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024 + 1, 0x20);
    big.write('%PDF-1.7\n', 0, 'latin1');
    await expectMalformed(readAcroForm(big), /too large/);
  });
});

describe('readAcroForm — encrypted PDFs', () => {
  it.each(['rc4-128', 'aes-128', 'aes-256'] as const)('reads a %s form with an empty user password', async (mode) => {
    const plain = await save(await buildForm({ durata: { as: 'radio', value: '36' } }));
    const bytes = await encrypt(plain, mode);
    const text = Buffer.from(bytes).toString('latin1');
    expect(text).toContain('/Encrypt');
    expect(text).not.toContain('FEFF0043006F006D'); // "Com…" is no longer in clear

    const js = await readWithPdfjs(bytes); // pdf.js decrypts with its own code
    expect(js.encrypted).toBe(true);
    expect(js.fields.amm_denominazione?.value).toBe('Comune di Forlì — Università è à');

    const r = await readAcroForm(bytes);
    expect(r.encrypted).toBe(true);
    expect(r.readers).toEqual(['pdf-lib', 'pdfjs']);
    expect(r.disagreements).toEqual([]);
    expect(r.appearanceMismatches).toEqual([]);
    expect(r.fields.amm_denominazione).toMatchObject({
      value: 'Comune di Forlì — Università è à',
      appearanceText: 'Comune di Forlì — Università è à',
    });
    expect(r.fields.srv_IAAS_VM_sel?.value).toBe(true);
    expect(r.fields.durata_mesi?.value).toBe('36');
  });

  it('reads an encrypted file whose fields live in encrypted object streams', async () => {
    const bytes = await encryptWithObjectStreams(await buildForm());
    const js = await readWithPdfjs(bytes);
    expect(js.fields.amm_codice_fiscale?.value).toBe('00123456789');
    const r = await readAcroForm(bytes);
    expect(r.readers).toEqual(['pdf-lib', 'pdfjs']);
    expect(r.encrypted).toBe(true);
    expect(r.disagreements).toEqual([]);
    expect(r.fields.amm_denominazione?.value).toBe('Comune di Forlì — Università è à');
    expect(r.fields.durata_mesi?.value).toBe('24');
    expect(r.appearanceMismatches).toEqual([]);
  });

  it('a user password makes the file unreadable by both readers', async () => {
    const bytes = await encrypt(await save(await buildForm()), 'aes-128', 'segreto');
    const err = await readAcroForm(bytes).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PdfReadError);
    expect((err as PdfReadError).code).toBe('encrypted-unreadable');
  });
});
