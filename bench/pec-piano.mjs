// Workload (b) of `npm run bench`: PEC envelopes from Comune di Esempio (fixtures/directory.yaml),
// each carrying its own signed (CAdES .p7m) ~1 MB Piano dei Fabbisogni, through the daemon path
// with the test PEC provider and signature trust stores — beside `openssl cms -verify` of the
// same Pianos. Every Piano must come out as an order accepted for preparation; the count is
// printed so a workload that stopped verifying cannot pass for a fast one.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pianoPec, signPianoCades, TIMES } from '../fixtures/piano/generate.mjs';
import { appendUpdate, parsePdf } from '../fixtures/signatures/generate.mjs';
import { paddedPiano } from './extract.mjs';
import { BenchDesk } from './lib/daemon-path.mjs';
import { fmtMiB, fmtRate, root } from './lib/measure.mjs';
import { haveOpenssl, opensslEach, opensslVerifyArgs, TEST_SIGNATURE_CA, TEST_SIGNATURE_TRUST } from './verify.mjs';

// The daemon's clock: a few days after the PEC, as in tests/e2e/orders.test.ts.
const NOW = '2026-04-20T10:00:00+02:00';
const ACCEPTED = 'progetto-in-preparation';

/**
 * Piano number `i`: the same padded form, made a document of its own by an incremental update
 * giving it a title (distinct bytes, so distinct hashes in the raw store), then signed.
 */
function nthPiano(pdf, parsed, i) {
  const info = parsed.size;
  const doc = appendUpdate(pdf, [{ num: info, body: `<< /Title (Piano dei Fabbisogni - invio ${i + 1}) /Producer (pecdesk bench) >>` }], { Info: `${info} 0 R` }, parsed);
  return signPianoCades(doc);
}

export const workloads = [
  {
    id: 'b',
    size: (quick) => (quick ? 20 : 300),
    async run(ctx) {
      const n = this.size(ctx.quick);
      const desk = new BenchDesk(ctx.tmp, {
        trust: { pecProviders: path.join(root, 'fixtures', 'pec', 'out', 'trust'), signatures: TEST_SIGNATURE_TRUST },
      });
      const { pdf, pages } = await paddedPiano(1048576);
      const parsed = parsePdf(pdf);
      const p7mDir = path.join(ctx.tmp, 'p7m');
      mkdirSync(p7mDir);
      const digest = createHash('sha256');
      const p7ms = [];
      let envelopeBytes = 0;
      let p7mBytes = 0;
      for (let i = 0; i < n; i++) {
        const p7m = nthPiano(pdf, parsed, i);
        const time = new Date(TIMES.pecValid.getTime() + i * 60_000); // one a minute from 12:00 on 15 April
        const env = await pianoPec({ piano: p7m, filename: 'piano-fabbisogni.pdf.p7m', time, innerMessageId: `<bench-piano-${i}@pec.comune.esempio.it>` });
        digest.update(env);
        envelopeBytes += env.length;
        p7mBytes += p7m.length;
        desk.deliver('pec', `${Math.floor(time.getTime() / 1000)}.M${String(i).padStart(7, '0')}P1.bench`, env, time);
        const f = path.join(p7mDir, `${String(i).padStart(4, '0')}.p7m`);
        writeFileSync(f, p7m);
        p7ms.push({ file: f, time });
        if ((i + 1) % 50 === 0) ctx.log(`${i + 1}/${n} envelopes built`);
      }
      ctx.log(`${n} envelopes (${(envelopeBytes / 1048576).toFixed(0)} MiB); openssl cms -verify on each Piano…`);
      // The same judgement pecdesk makes: the signature at the PEC certified time, against the same CA.
      const ossl = haveOpenssl ? await opensslEach(p7ms.map((p) => opensslVerifyArgs({ cms: p.file, caFile: TEST_SIGNATURE_CA, at: p.time })), ctx.tmp) : null;
      ctx.log('daemon path…');
      const run = await desk.runOnce({ now: NOW });
      const s = run.summary;
      const accepted = s.ordersByState[ACCEPTED] ?? 0;
      const problems = [];
      if (s.processed !== n) problems.push(`processed ${s.processed}/${n}`);
      if ((s.verification['pec-certified'] ?? 0) !== n) problems.push(`pec-certified ${s.verification['pec-certified'] ?? 0}/${n}`);
      if (accepted !== n) problems.push(`orders accepted ${accepted}/${n} (${JSON.stringify(s.ordersByState)})`);
      if (s.quarantined) problems.push(`quarantined ${s.quarantined}`);
      if (!ossl) problems.push('no openssl');
      const rate = n / run.seconds;
      return [
        {
          id: 'b',
          workload: `${n} PEC envelopes, each a signed ~${(p7mBytes / n / 1048576).toFixed(1)} MB Piano (CAdES, ${pages} pages), daemon path`,
          pecdesk: `${fmtRate(rate)} msg/s`,
          bare: ossl ? `openssl cms -verify ${fmtRate(1000 / ossl.perRunMs)}/s` : '—',
          ratio: ossl ? run.seconds / n / (ossl.perRunMs / 1000) : NaN,
          rss: `${fmtMiB(run.peakKiB)} / ${ossl ? fmtMiB(ossl.peakKiB) : '—'}`,
          notes: [...(problems.length ? [`PROBLEM: ${problems.join(', ')}`] : []), `orders opened and accepted: ${accepted}/${n}, senders pec-certified ${s.verification['pec-certified'] ?? 0}/${n}, ${s.repliesWritten} replies`].join('; '),
          problems,
          data: {
            input: { messages: n, envelopeBytes, p7mBytes, pdfPages: pages, sha256: digest.digest('hex') },
            pecdesk: { seconds: run.seconds, messagesPerSecond: rate, peakRssMiB: run.peakKiB / 1024, summary: s },
            bare: ossl && { component: 'openssl cms -verify -binary -CAfile test CA -attime (PEC time), one process per Piano', seconds: ossl.seconds, msPerPiano: ossl.perRunMs, peakRssMiB: ossl.peakKiB / 1024 },
          },
        },
      ];
    },
  },
];
