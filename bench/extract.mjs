// npm run bench (part): extraction and formal check of a 5 MB signed Piano dei Fabbisogni
// (CAdES around the form plus bulky annex pages), in process and through the CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { signPianoCades } from '../fixtures/piano/generate.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { extractPiano } = await import(path.join(root, 'dist', 'pdf', 'piano.js'));
const { loadTrustStore } = await import(path.join(root, 'dist', 'signature', 'trust.js'));

// The valid form, with annex pages of text until the file is about 5 MB.
const doc = await PDFDocument.load(readFileSync(path.join(root, 'fixtures', 'piano', 'out', 'forms', 'piano-valid.pdf')), { updateMetadata: false });
const font = await doc.embedFont(StandardFonts.Helvetica);
const line = 'Allegato tecnico: descrizione dei servizi richiesti, dei volumi e dei livelli di servizio attesi. ';
while ((await doc.save({ useObjectStreams: false })).length < 5 * 1024 * 1024) {
  for (let p = 0; p < 20; p++) {
    const page = doc.addPage();
    for (let y = 800; y > 40; y -= 9) page.drawText(line.repeat(2), { x: 20, y, size: 7, font });
  }
}
const pdf = Buffer.from(await doc.save({ useObjectStreams: false }));
const p7m = signPianoCades(pdf, {});
const dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-bench-extract-'));
const file = path.join(dir, 'piano.pdf.p7m');
writeFileSync(file, p7m);
const trustDir = path.join(root, 'fixtures', 'signatures', 'out', 'trust');
const opts = { trust: loadTrustStore(trustDir), at: new Date('2026-04-20T08:00:00Z'), arrival: null, today: '2026-11-23' };

const first = await extractPiano(file, p7m, opts);
if (!first.passed) throw new Error(`bench Piano did not pass: ${JSON.stringify(first.problems)}`);
const N = 5;
let t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) await extractPiano(file, p7m, opts);
const inProcess = Number(process.hrtime.bigint() - t0) / 1e6 / N;
const rss = process.memoryUsage().rss / 1048576;

const cfg = path.join(dir, 'c.yaml');
writeFileSync(cfg, `dataDir: ${dir}/data\ntrust: { signatures: ${trustDir} }\nmailboxes:\n  pec: { address: p@x.it, maildir: ${dir}/m1, outboxDir: ${dir}/o }\n  support: { address: s@x.it, maildir: ${dir}/m2, outboxDir: ${dir}/o }\n`);
t0 = process.hrtime.bigint();
execFileSync(process.execPath, [path.join(root, 'bin', 'pecdesk.js'), '--config', cfg, 'extract', file, '--at', '2026-04-20T08:00:00Z'], { stdio: 'ignore' });
const cli = Number(process.hrtime.bigint() - t0) / 1e6;

console.log(`extract + formal check of a signed ${(p7m.length / 1048576).toFixed(1)} MB Piano (CAdES, ${doc.getPageCount()} pages): ${inProcess.toFixed(0)} ms in process (both readers and the signature), ${cli.toFixed(0)} ms through the CLI; RSS ${rss.toFixed(0)} MiB`);
rmSync(dir, { recursive: true, force: true });
