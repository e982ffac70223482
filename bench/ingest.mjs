// Workloads (a), (c), (d) of `npm run bench` (bench/run.mjs): ordinary support mail through the
// daemon path (Maildir → raw store → SQLite → reply written), beside mailparser alone over the
// same files. Measured, never asserted — but a run whose messages did not become tickets says
// so in its notes and in `problems`, so a broken workload cannot pass for a fast one.
import { createHash } from 'node:crypto';
import { BenchDesk, mailparserAlone, rssByProgress } from './lib/daemon-path.mjs';
import { fmtMiB, fmtRate } from './lib/measure.mjs';

// The clock of every run: the Monday morning the mails are dated, so results do not depend on the day the bench runs.
const NOW = '2026-11-23T10:30:00+01:00';
const MTIME = new Date('2026-11-23T09:00:00Z');
const BODY = 'Buongiorno, la casella non riceve più messaggi da questa mattina. Grazie.\r\n'.repeat(50);

/** Support mail number `i`: one of 5,000 users of Comune di Esempio, ~4 KB, plain text. */
export function plainMail(i) {
  return Buffer.from(
    [
      'Received: from mx by mx.desk; Mon, 23 Nov 2026 10:00:00 +0100',
      `From: Utente ${i} <utente${i}@comune.esempio.it>`,
      'To: helpdesk@cloudpa-desk.example.it',
      `Subject: Richiesta ${i}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0100',
      `Message-ID: <bench-${i}@comune.esempio.it>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      BODY,
    ].join('\r\n'),
  );
}

/** Maildir names sort by delivery time: fixed, increasing, unique. */
const maildirName = (i) => `${1795000000 + i}.M${String(i).padStart(7, '0')}P1.bench`;

/** Deterministic incompressible bytes (SHA-256 in counter mode). */
export function seededBytes(seed, size) {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; off += 32, i++) createHash('sha256').update(`${seed}#${i}`).digest().copy(out, off);
  return out;
}

/** A support mail from Anna Rossi with one base64 attachment of `size` bytes. */
export function mailWithAttachment(size) {
  const boundary = '----=_bench_attachment_0001';
  const b64 = seededBytes('pecdesk-bench-attachment-v1', size).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'Received: from mx by mx.desk; Mon, 23 Nov 2026 10:00:00 +0100',
      'From: Anna Rossi <anna.rossi@comune.esempio.it>',
      'To: helpdesk@cloudpa-desk.example.it',
      'Subject: Log del server di posta',
      'Date: Mon, 23 Nov 2026 10:00:00 +0100',
      'Message-ID: <bench-attachment@comune.esempio.it>',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Buongiorno, in allegato i log del server di posta richiesti. Grazie.',
      `--${boundary}`,
      'Content-Type: application/zip; name="log-server.zip"',
      'Content-Disposition: attachment; filename="log-server.zip"',
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

/** Did every message become a ticket with a reply written? What did not, as short codes. */
function problemsOf(summary, n) {
  const p = [];
  if (summary.processed !== n) p.push(`processed ${summary.processed}/${n}`);
  if (summary.tickets !== n) p.push(`tickets ${summary.tickets}/${n}`);
  if (summary.quarantined) p.push(`quarantined ${summary.quarantined}`);
  if (summary.repliesWritten !== n) p.push(`replies ${summary.repliesWritten}/${n}`);
  if (summary.leftInNew) p.push(`${summary.leftInNew} left in new/`);
  return p;
}

/** Deliver `n` plain mails, parse them with mailparser alone, then run the daemon path over them. */
async function plainBacklog(ctx, n) {
  const desk = new BenchDesk(ctx.tmp);
  const digest = createHash('sha256');
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const m = plainMail(i);
    digest.update(m);
    bytes += m.length;
    desk.deliver('support', maildirName(i), m, MTIME);
  }
  ctx.log(`${n} mails delivered (${(bytes / 1048576).toFixed(1)} MiB); mailparser alone…`);
  const bare = await mailparserAlone([desk.newDir('support')]);
  ctx.log(`mailparser ${bare.seconds.toFixed(1)} s; daemon path…`);
  const run = await desk.runOnce({ now: NOW });
  ctx.log(`daemon path ${run.seconds.toFixed(1)} s`);
  return { desk, run, bare, input: { messages: n, bytes, avgBytes: Math.round(bytes / n), sha256: digest.digest('hex') } };
}

function mailRow(id, workload, { run, bare, input }, extraNotes = [], extraData = {}) {
  const n = input.messages;
  const rate = n / run.seconds;
  const bareRate = n / bare.seconds;
  const problems = problemsOf(run.summary, n);
  if (bare.messages !== n) problems.push(`mailparser parsed ${bare.messages}/${n}`);
  return {
    id,
    workload,
    pecdesk: `${fmtRate(rate)} msg/s`,
    bare: `mailparser ${fmtRate(bareRate)} msg/s`,
    ratio: run.seconds / bare.seconds,
    rss: `${fmtMiB(run.peakKiB)} / ${fmtMiB(bare.peakKiB)}`,
    notes: [...(problems.length ? [`PROBLEM: ${problems.join(', ')}`] : []), `${run.summary.tickets} tickets, ${run.summary.repliesWritten} replies`, ...extraNotes].join('; '),
    problems,
    data: {
      input,
      pecdesk: { seconds: run.seconds, messagesPerSecond: rate, peakRssMiB: run.peakKiB / 1024, summary: run.summary },
      bare: { component: 'mailparser simpleParser (pecdesk options), one process', seconds: bare.seconds, messagesPerSecond: bareRate, peakRssMiB: bare.peakKiB / 1024, parsed: bare.messages },
      ...extraData,
    },
  };
}

export const workloads = [
  {
    id: 'a',
    size: (quick) => (quick ? 500 : 5000),
    async run(ctx) {
      const r = await plainBacklog(ctx, this.size(ctx.quick));
      return [mailRow('a', `${r.input.messages.toLocaleString('en')} plain ~${(r.input.avgBytes / 1024).toFixed(1)} KB support mails, daemon path`, r)];
    },
  },
  {
    id: 'c',
    size: (quick) => (quick ? 5 : 30) * 1048576,
    async run(ctx) {
      const size = this.size(ctx.quick);
      const desk = new BenchDesk(ctx.tmp);
      const m = mailWithAttachment(size);
      desk.deliver('support', maildirName(0), m, MTIME);
      const input = { messages: 1, bytes: m.length, attachmentBytes: size, sha256: createHash('sha256').update(m).digest('hex') };
      ctx.log(`one mail of ${(m.length / 1048576).toFixed(1)} MiB delivered; mailparser alone…`);
      const bare = await mailparserAlone([desk.newDir('support')]);
      if (bare.attachmentBytes !== size) throw new Error(`mailparser decoded ${bare.attachmentBytes} attachment bytes, expected ${size}`);
      const run = await desk.runOnce({ now: NOW });
      const row = mailRow('c', `one support mail, ${size / 1048576} MB attachment (base64, ${(m.length / 1048576).toFixed(1)} MiB raw), daemon path`, { run, bare, input }, [
        `peak RSS ${Math.abs(Math.round((run.peakKiB - bare.peakKiB) / 1024))} MiB ${run.peakKiB >= bare.peakKiB ? 'above' : 'below'} mailparser alone's for a ${(m.length / 1048576).toFixed(1)} MiB message`,
      ]);
      row.pecdesk = `${run.seconds.toFixed(2)} s`;
      row.bare = `mailparser ${bare.seconds.toFixed(2)} s`;
      return [row];
    },
  },
  {
    id: 'd',
    size: (quick) => (quick ? 2000 : 20000),
    async run(ctx) {
      const r = await plainBacklog(ctx, this.size(ctx.quick));
      const marks = rssByProgress(r.run.samples, r.input.messages);
      const shown = ['25%', '50%', '75%', '100%'].map((q) => (marks[q] ? marks[q].rssMiB : '?')).join('/');
      return [
        mailRow('d', `backlog of ${r.input.messages.toLocaleString('en')} plain mails on first start, daemon path`, r, [`RSS MiB at 25/50/75/100 % ingested: ${shown}, at exit ${marks.exit?.rssMiB ?? '?'}`], {
          rssByProgress: marks,
          // Every ~0.5 s: elapsed s, RSS MiB, messages still in new/ (the whole curve, for a plot).
          rssSamples: r.run.samples.filter((s) => s.left !== undefined).map((s) => [+s.t.toFixed(2), Math.round(s.rss / 1024), s.left]),
        }),
      ];
    },
  },
];
