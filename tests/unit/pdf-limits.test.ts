// PDF limits for extraction (config limits.maxPdfBytes / maxPdfPages / maxPdfObjects): counted
// on the raw bytes and the cross-reference before either reader parses the file, and reported
// as a finding that names the limit. PDFs are built in memory with pdf-lib.
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript fixture generator
import { buildPianoForm, signPianoCades } from '../../fixtures/piano/generate.mjs';
import { describeFindings } from '../../src/intake/orders.js';
import { readWithPdfjs } from '../../src/pdf/acroform.js';
import { countPdfObjects, countPdfPages, DEFAULT_PDF_LIMITS, pdfLimitBreach, pdfSizeBreach } from '../../src/pdf/limits.js';
import { extractPiano } from '../../src/pdf/piano.js';
import type { Desk } from '../../src/runtime/context.js';
import { loadTrustStore } from '../../src/signature/trust.js';
import { repoRoot } from '../e2e/workspace.js';

// Taken before anything here loads pdf.js (it is loaded lazily, on the first read).
const natives = { push: Array.prototype.push, parse: JSON.parse, stringify: JSON.stringify };

async function pdfWithPages(pages: number, objectStreams = false): Promise<Buffer> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  for (let i = 0; i < pages; i++) doc.addPage([200, 200]).drawText(`pagina ${i + 1}`, { x: 20, y: 100, size: 12 });
  return Buffer.from(await doc.save({ useObjectStreams: objectStreams }));
}

const limits = (l: Partial<typeof DEFAULT_PDF_LIMITS>) => ({ ...DEFAULT_PDF_LIMITS, ...l });
const objectsOf = async (pdf: Buffer) => (await PDFDocument.load(pdf, { updateMetadata: false })).context.enumerateIndirectObjects().length;

describe('counting a PDF before reading it', () => {
  it('pages: the page tree /Count, with or without object streams', async () => {
    expect(countPdfPages(await pdfWithPages(3))).toBe(3);
    expect(countPdfPages(await pdfWithPages(7, true))).toBe(7);
  });

  it('pages: the page dictionaries written in the file when the cross-reference is unreadable', async () => {
    const pdf = await pdfWithPages(4);
    const broken = Buffer.from(pdf.toString('latin1').replace(/startxref\s+\d+/, 'startxref 999999999'), 'latin1');
    expect(countPdfPages(broken)).toBe(4);
  });

  it('objects: every "N G obj" written, and what object streams hold', async () => {
    const plain = await pdfWithPages(5);
    expect(countPdfObjects(plain)).toBe(await objectsOf(plain));
    // With object streams most objects have no header of their own: /N counts them.
    const packed = await pdfWithPages(5, true);
    expect((packed.toString('latin1').match(/\/Type\s*\/ObjStm/g) ?? []).length).toBeGreaterThan(0);
    expect(countPdfObjects(packed)).toBeGreaterThanOrEqual(await objectsOf(packed));
  });

  it('objects: "endobj" and words ending in "obj" are no headers; a /Size larger than the objects counts', () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Note (12 0 nobj) >>\nendobj\n2 0 obj 7 endobj\ntrailer << /Size 3 /Root 1 0 R >>\n%%EOF\n', 'latin1');
    expect(countPdfObjects(pdf)).toBe(2);
    // /Size counts object 0 (the free-list head) too.
    const lying = Buffer.from(pdf.toString('latin1').replace('/Size 3', '/Size 500001'), 'latin1');
    expect(countPdfObjects(lying)).toBe(500000);
  });
});

describe('pdfLimitBreach', () => {
  it('null within the limits (the defaults leave a real Piano far below)', async () => {
    const form = Buffer.from(await buildPianoForm());
    expect(pdfLimitBreach(form, DEFAULT_PDF_LIMITS)).toBeNull();
    expect(pdfLimitBreach(await pdfWithPages(3), limits({ maxPdfPages: 3, maxPdfBytes: 1e6, maxPdfObjects: 100 }))).toBeNull();
  });

  it('names the limit exceeded, its value and the file\'s figure', async () => {
    const pdf = await pdfWithPages(3);
    const objects = countPdfObjects(pdf);
    expect(pdfLimitBreach(pdf, limits({ maxPdfBytes: 100 }))).toEqual({ code: 'pdf-too-large', limit: { setting: 'limits.maxPdfBytes', max: 100, found: pdf.length } });
    expect(pdfLimitBreach(pdf, limits({ maxPdfPages: 2 }))).toEqual({ code: 'pdf-too-many-pages', limit: { setting: 'limits.maxPdfPages', max: 2, found: 3 } });
    expect(pdfLimitBreach(pdf, limits({ maxPdfObjects: objects - 1 }))).toEqual({
      code: 'pdf-too-many-objects', limit: { setting: 'limits.maxPdfObjects', max: objects - 1, found: objects },
    });
    // Size first, then objects, then pages.
    expect(pdfLimitBreach(pdf, limits({ maxPdfBytes: 100, maxPdfPages: 1, maxPdfObjects: 1 }))?.code).toBe('pdf-too-large');
    expect(pdfLimitBreach(pdf, limits({ maxPdfPages: 1, maxPdfObjects: 1 }))?.code).toBe('pdf-too-many-objects');
    expect(pdfSizeBreach(100, limits({ maxPdfBytes: 100 }))).toBeNull();
  });
});

describe('extractPiano with limits', () => {
  const trust = loadTrustStore(path.join(repoRoot, 'fixtures', 'signatures', 'out', 'trust'));
  const opts = { trust, at: new Date('2026-04-20T08:00:00Z'), arrival: null, today: '2026-11-23' };

  it('a signed Piano over the page limit: the signature is verified, the form is not read', async () => {
    const p7m = signPianoCades(await buildPianoForm());
    const r = await extractPiano('piano.pdf.p7m', p7m, { ...opts, limits: limits({ maxPdfPages: 1 }) });
    expect(r).toMatchObject({ passed: false, fields: {}, services: [], warnings: [] });
    expect(r.signature?.valid).toBe(true);
    expect(r.problems).toEqual([{ code: 'pdf-too-many-pages', limit: { setting: 'limits.maxPdfPages', max: 1, found: 2 } }]);
    // Within the limits the same file passes.
    expect((await extractPiano('piano.pdf.p7m', p7m, opts)).passed).toBe(true);
  });

  it('over the size limit: refused as it arrived, before its signature is parsed', async () => {
    const p7m = signPianoCades(await buildPianoForm());
    const r = await extractPiano('piano.pdf.p7m', p7m, { ...opts, limits: limits({ maxPdfBytes: 1000 }) });
    expect(r.signature).toBeNull();
    expect(r.problems).toEqual([{ code: 'pdf-too-large', limit: { setting: 'limits.maxPdfBytes', max: 1000, found: p7m.length } }]);
  });

  it('over the object limit: refused before the signature, whose file is a PDF too, is verified', async () => {
    const p7m = signPianoCades(await buildPianoForm());
    const r = await extractPiano('piano.pdf.p7m', p7m, { ...opts, limits: limits({ maxPdfObjects: 5 }) });
    expect(r.signature).toBeNull();
    expect(r.problems).toEqual([{ code: 'pdf-too-many-objects', limit: { setting: 'limits.maxPdfObjects', max: 5, found: countPdfObjects(p7m) } }]);
    expect(countPdfObjects(p7m)).toBe(countPdfObjects(Buffer.from(await buildPianoForm())));
  });

  it('the check comes before the readers: a file they could not read is refused for its objects, not as malformed', async () => {
    const objs = Array.from({ length: 12 }, (_, i) => `${i + 1} 0 obj\n<< /N ${i} >>\nendobj\n`).join('');
    const pdf = Buffer.from(`%PDF-1.7\n${objs}trailer << /Size 13 >>\nstartxref 0\n%%EOF\n`, 'latin1');
    expect((await extractPiano('x.pdf', pdf, opts)).problems.map((p) => p.code)).toContain('malformed');
    const r = await extractPiano('x.pdf', pdf, { ...opts, limits: limits({ maxPdfObjects: 10 }) });
    expect(r.problems).toEqual([{ code: 'pdf-too-many-objects', limit: { setting: 'limits.maxPdfObjects', max: 10, found: 12 } }]);
  });
});

describe('the Italian reason names the limit', () => {
  const desk = { templateDirs: [path.join(repoRoot, 'config', 'templates')] } as unknown as Desk;
  it('with the file\'s figure and the configured value', () => {
    const text = describeFindings(desk, [
      { code: 'pdf-too-large', limit: { setting: 'limits.maxPdfBytes', max: 30 * 1024 * 1024, found: 30 * 1024 * 1024 + 1 } },
      { code: 'pdf-too-many-pages', limit: { setting: 'limits.maxPdfPages', max: 2000, found: 2500 } },
      { code: 'pdf-too-many-objects', limit: { setting: 'limits.maxPdfObjects', max: 200_000, found: 250_000 } },
    ]);
    expect(text).toContain('troppo grande per l\'esame automatico del modulo (30,1 MB; il limite è 30 MB)');
    expect(text).toContain('troppe pagine per l\'esame automatico del modulo (2500 pagine; il limite è 2000 pagine)');
    expect(text).toContain('(250.000 oggetti; il limite è 200.000 oggetti)');
  });
});

describe('loading pdf.js', () => {
  it('leaves the built-ins its polyfills replace native (JSON, Array.prototype.push): the whole process uses them', async () => {
    await readWithPdfjs(await pdfWithPages(1));
    expect(JSON.stringify).toBe(natives.stringify);
    expect(JSON.parse).toBe(natives.parse);
    expect(Array.prototype.push).toBe(natives.push);
  });
});
