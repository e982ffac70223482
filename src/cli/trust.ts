// pecdesk trust show: what is trusted — the PEC providers' anchors and CRLs, the PEC provider
// index, the anchors for signed documents — each certificate with its validity.
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { loadProviderIndex, ProviderIndexError, type ProviderIndex } from '../pec/provider-index.js';
import type { CrlInfo } from '../signature/revocation.js';
import { loadTrustStore, TrustStoreError } from '../signature/trust.js';
import { nameIdentity, type CertInfo } from '../signature/x509.js';
import { isJson, type GlobalOptions } from './common.js';
import { parseInstant, printJson, UsageError } from './output.js';

function certificateView(c: CertInfo, now: Date) {
  const from = new Date(c.x509.validFrom);
  const to = new Date(c.x509.validTo);
  return {
    subject: c.x509.subject.replace(/\n/g, ', '),
    issuer: c.x509.issuer.replace(/\n/g, ', '),
    serial: c.serialHex,
    sha256: c.sha256,
    sha1: c.sha1,
    validFrom: from.toISOString(),
    validTo: to.toISOString(),
    validNow: from.getTime() <= now.getTime() && now.getTime() <= to.getTime(),
    ca: c.basicConstraints?.ca ?? false,
    emails: c.altNames.flatMap((n) => (n.kind === 'email' ? [n.value] : [])),
    policies: c.policies,
  };
}

function crlView(c: CrlInfo, now: Date) {
  return {
    source: c.source,
    issuer: [nameIdentity(c.issuerDer).commonName, nameIdentity(c.issuerDer).organization].filter(Boolean).join(', '),
    thisUpdate: c.thisUpdate.toISOString(),
    nextUpdate: c.nextUpdate?.toISOString() ?? null,
    current: c.nextUpdate === null || c.nextUpdate.getTime() >= now.getTime(),
    revoked: c.revoked.size,
  };
}

function storeView(dir: string | undefined, key: string, now: Date) {
  if (!dir) return { source: null, error: `${key} is not configured`, anchors: [], crls: [] };
  try {
    const s = loadTrustStore(dir);
    return { source: dir, error: null, anchors: s.anchors.map((a) => certificateView(a, now)), crls: s.crls.map((c) => crlView(c, now)) };
  } catch (e) {
    if (e instanceof TrustStoreError) return { source: dir, error: e.message, anchors: [], crls: [] };
    throw e;
  }
}

function indexView(index: ProviderIndex, now: Date) {
  return {
    source: index.source,
    format: index.format,
    providers: index.providers.map((p) => ({
      name: p.name,
      certificateHashes: [...[...p.sha256].map((h) => `sha256:${h}`), ...[...p.sha1].map((h) => `sha1:${h}`)],
      certificates: p.certificates.map((c) => certificateView(c, now)),
      managedDomains: [...p.managedDomains].sort(),
    })),
  };
}

const day = (iso: string) => iso.slice(0, 10);

function printStore(title: string, v: ReturnType<typeof storeView>): string[] {
  const lines = [`${title}${v.source ? ` (${v.source})` : ''}`];
  if (v.error) return [...lines, `  NOT AVAILABLE: ${v.error}`];
  if (v.anchors.length === 0) lines.push('  no trust anchors: nothing chains to a trusted certificate');
  for (const a of v.anchors) {
    lines.push(`  ${a.validNow ? 'valid  ' : 'EXPIRED'} ${day(a.validFrom)} → ${day(a.validTo)}  ${a.subject}`, `          sha256 ${a.sha256}`);
  }
  for (const c of v.crls) {
    lines.push(`  CRL ${c.current ? 'current' : 'OUT OF DATE'}: ${c.issuer}, issued ${day(c.thisUpdate)}, next ${c.nextUpdate ? day(c.nextUpdate) : '—'}, ${c.revoked} revoked (${c.source})`);
  }
  return lines;
}

export function registerTrust(program: Command): void {
  const trust = program.command('trust').description('what is trusted: PEC providers, the provider index, signature anchors');
  trust
    .command('show')
    .description('list the trust anchors, CRLs and PEC providers, with their validity')
    .option('--now <iso>', 'judge validity at this time (default: now)')
    .action((o: { now?: string }, cmd: Command) => {
      const cfg = loadConfig(cmd.optsWithGlobals<GlobalOptions>().config);
      const now = o.now ? parseInstant(o.now, '--now') : new Date();
      let index: ProviderIndex | null = null;
      if (cfg.trust.pecProviderIndex) {
        try {
          index = loadProviderIndex(cfg.trust.pecProviderIndex);
        } catch (e) {
          if (e instanceof ProviderIndexError) throw new ConfigError(`${cfg.source}: trust.pecProviderIndex: ${e.message}`);
          throw e;
        }
      }
      const view = {
        pecProviders: storeView(cfg.trust.pecProviders, 'trust.pecProviders', now),
        pecProviderIndex: index ? indexView(index, now) : null,
        signatures: storeView(cfg.trust.signatures, 'trust.signatures', now),
      };
      const failed = [view.pecProviders, view.signatures].filter((s) => s.error);
      if (isJson(cmd)) printJson(view);
      else {
        const lines = [...printStore('PEC provider anchors (trust.pecProviders)', view.pecProviders), ''];
        if (!view.pecProviderIndex) {
          lines.push('PEC provider index (trust.pecProviderIndex): not configured — any certificate with the PEC policy, e-mail protection and the envelope\'s address that chains to an anchor is accepted as a provider');
        } else {
          const ix = view.pecProviderIndex;
          lines.push(`PEC provider index (${ix.source}, ${ix.format}): ${ix.providers.length} provider(s)`);
          for (const p of ix.providers) {
            const domains = p.managedDomains.length > 5 ? `${p.managedDomains.slice(0, 5).join(', ')}, … (${p.managedDomains.length})` : p.managedDomains.join(', ');
            lines.push(`  ${p.name}: ${p.certificateHashes.length + p.certificates.length} certificate(s); domains ${domains || '—'}`);
            for (const h of p.certificateHashes) lines.push(`    ${h}`);
            for (const c of p.certificates) lines.push(`    ${c.validNow ? 'valid  ' : 'EXPIRED'} ${day(c.validFrom)} → ${day(c.validTo)}  ${c.subject}  sha256:${c.sha256}`);
          }
        }
        lines.push('', ...printStore('Signed-document anchors (trust.signatures)', view.signatures));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (failed.length) throw new UsageError(failed.map((f) => f.error).join('; '));
    });
}
