// The bulky signed Piano dei Fabbisogni of the bench (the valid form plus annex pages of text,
// CAdES around it), used by workload (b) at ~1 MB and by workload (g) of `npm run bench`:
// extraction and formal check of a 5 MB one through `pecdesk extract`, beside the same call in
// process (the CLI's cost over the work itself: Node start and module loading).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { signPianoCades } from '../fixtures/piano/generate.mjs';
import { fmtMiB, fmtMs, measureOk, median, pecdeskBin, root } from './lib/measure.mjs';

export const PIANO_AT = '2026-04-20T08:00:00Z';
const LINE = 'Allegato tecnico: descrizione dei servizi richiesti, dei volumi e dei livelli di servizio attesi. ';

/** The valid form with annex pages of text until the PDF is at least `target` bytes (classic xref, deterministic). */
export async function paddedPiano(target) {
  const doc = await PDFDocument.load(readFileSync(path.join(root, 'fixtures', 'piano', 'out', 'forms', 'piano-valid.pdf')), { updateMetadata: false });
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const addPages = (n) => {
    for (let p = 0; p < n; p++) {
      const page = doc.addPage();
      for (let y = 800; y > 40; y -= 9) page.drawText(LINE.repeat(2), { x: 20, y, size: 7, font });
    }
  };
  // Measure what 20 pages add, then add the estimated rest at once: a few saves, not one per 20 pages.
  const base = (await doc.save({ useObjectStreams: false })).length;
  addPages(20);
  let size = (await doc.save({ useObjectStreams: false })).length;
  const perPage = (size - base) / 20;
  while (size < target) {
    addPages(Math.max(1, Math.ceil((target - size) / perPage)));
    size = (await doc.save({ useObjectStreams: false })).length;
  }
  return { pdf: Buffer.from(await doc.save({ useObjectStreams: false })), pages: doc.getPageCount() };
}

export const workloads = [
  {
    id: 'g',
    size: (quick) => (quick ? 1 : 5) * 1048576,
    async run(ctx) {
      const { extractPiano } = await import(path.join(root, 'dist', 'pdf', 'piano.js'));
      const { loadTrustStore } = await import(path.join(root, 'dist', 'signature', 'trust.js'));
      const { pdf, pages } = await paddedPiano(this.size(ctx.quick));
      const p7m = signPianoCades(pdf, {});
      const file = path.join(ctx.tmp, 'piano.pdf.p7m');
      writeFileSync(file, p7m);
      const trustDir = path.join(root, 'fixtures', 'signatures', 'out', 'trust');
      const opts = { trust: loadTrustStore(trustDir), at: new Date(PIANO_AT), arrival: null, today: '2026-11-23' };
      ctx.log(`signed Piano ${(p7m.length / 1048576).toFixed(1)} MiB, ${pages} pages; in process…`);

      const first = await extractPiano(file, p7m, opts);
      const problems = first.passed ? [] : [`Piano did not pass: ${first.problems.map((p) => p.code).join(',')}`];
      const inProcess = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await extractPiano(file, p7m, opts);
        inProcess.push(performance.now() - t0);
      }
      const inProcessMs = median(inProcess);

      const cfg = path.join(ctx.tmp, 'c.yaml');
      writeFileSync(cfg, `dataDir: ${ctx.tmp}/data\ntrust: { signatures: ${trustDir} }\n`);
      ctx.log('through the CLI…');
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await measureOk(process.execPath, [pecdeskBin, '--config', cfg, 'extract', file, '--at', PIANO_AT], { stdout: 'ignore' }));
      const cliMs = median(runs.map((r) => r.seconds * 1000));
      const peakKiB = median(runs.map((r) => r.peakKiB));
      return [
        {
          id: 'g',
          workload: `extract + formal check of a signed ${(p7m.length / 1048576).toFixed(1)} MB Piano (${pages} pages), pecdesk extract`,
          pecdesk: `${fmtMs(cliMs)} ms`,
          bare: `same in process ${fmtMs(inProcessMs)} ms`,
          ratio: cliMs / inProcessMs,
          rss: `${fmtMiB(peakKiB)} / —`,
          notes: [...(problems.length ? [`PROBLEM: ${problems.join(', ')}`] : []), 'in process = both PDF readers and the signature, module loaded; median of 5 (in process) and 3 (CLI)'].join('; '),
          problems,
          data: {
            input: { bytes: p7m.length, pdfBytes: pdf.length, pages, sha256: createHash('sha256').update(p7m).digest('hex') },
            pecdesk: { command: 'pecdesk extract FILE --at …', ms: cliMs, runsMs: runs.map((r) => r.seconds * 1000), peakRssMiB: peakKiB / 1024 },
            bare: { component: 'extractPiano() in this process', ms: inProcessMs, runsMs: inProcess },
          },
        },
      ];
    },
  },
];
