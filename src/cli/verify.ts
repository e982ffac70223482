// pecdesk verify FILE [--at ISO]: a signed document → SPEC §8.2 report; exit 0 valid, 1 not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { documentTrust } from '../signature/document-trust.js';
import { TrustStoreError } from '../signature/trust.js';
import { TslError } from '../signature/tsl-snapshot.js';
import { verifyDocumentWithOnlineRevocation, type VerifyReport } from '../signature/verify.js';
import { isJson, type GlobalOptions } from './common.js';
import { NegativeOutcome, parseInstant, printJson, UsageError } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(COMMAND_SUMMARIES.verify)
    .argument('<file>', 'the document')
    .option('--at <iso>', 'validation time (default: now)')
    .action(async (file: string, o: { at?: string }, cmd: Command) => {
      const cfg = loadConfig(cmd.optsWithGlobals<GlobalOptions>().config);
      const at = o.at ? parseInstant(o.at, '--at') : new Date();
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new UsageError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!cfg.trust.signatures) throw new UsageError(`${cfg.source}: trust.signatures: not set (the directory of trusted CA certificates)`);
      let trust;
      try {
        trust = documentTrust(cfg.trust)!;
      } catch (e) {
        throw new UsageError(e instanceof TrustStoreError || e instanceof TslError ? e.message : (e as Error).message);
      }
      const online = cfg.trust.onlineRevocation
        ? { cacheDir: cfg.trust.crlCacheDir ?? path.join(cfg.dataDir, 'crl-cache'), now: new Date() }
        : null;
      const { report, notes } = await verifyDocumentWithOnlineRevocation(file, bytes, trust, at, online);
      for (const n of notes) process.stderr.write(`pecdesk: revocation: ${n}\n`);
      if (isJson(cmd)) printJson(report);
      else process.stdout.write(humanReport(report));
      if (!report.valid) throw new NegativeOutcome('');
    });
}

export function humanReport(r: VerifyReport): string {
  const lines = [`${r.file}: ${r.valid ? 'VALID' : 'NOT VALID'} (${r.format}, validated at ${r.validationTime})`];
  if (r.problems.length) lines.push(`  problems: ${r.problems.join(', ')}`);
  if (r.warnings.length) lines.push(`  warnings: ${r.warnings.join(', ')}`);
  for (const s of r.signatures) {
    const who = [s.signer.givenName, s.signer.surname].filter(Boolean).join(' ') || s.signer.commonName || 'unknown signer';
    lines.push(
      `  signature ${s.layer}${s.field ? ` (field ${s.field})` : ''}: ${s.valid ? 'valid' : 'NOT valid'} — ${who}` +
        `${s.signer.fiscalCode ? `, codice fiscale ${s.signer.fiscalCode}` : ''}${s.signer.organization ? `, ${s.signer.organization}` : ''}` +
        `${s.signingTime ? `, signed ${s.signingTime}` : ''}${s.coversWholeDocument === false ? ', does NOT cover the whole document' : ''}`,
    );
    const facts = [
      s.level ? `level ${s.level}` : null,
      s.coverage ? `covers the ${s.coverage.replace('entire-', 'entire ')}` : null,
      s.modificationLevel && s.modificationLevel !== 'none' ? `changed after signing: ${s.modificationLevel}` : null,
    ].filter(Boolean);
    if (facts.length) lines.push(`    ${facts.join('; ')}`);
    for (const t of s.timestamps) lines.push(`    ${t.kind} timestamp ${t.time ?? '(no time)'}${t.tsa ? ` by ${t.tsa}` : ''}: ${t.valid ? 'valid' : `NOT valid (${t.problems.join(', ')})`}`);
    for (const p of s.problems) lines.push(`    ${p}`);
    for (const w of s.warnings) lines.push(`    warning: ${w}`);
    for (const d of s.details) lines.push(`      ${d}`);
  }
  if (r.content) lines.push(`  content: ${r.content.mediaType}, sha256 ${r.content.sha256}`);
  return `${lines.join('\n')}\n`;
}
