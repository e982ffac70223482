// pecdesk trust show: what is trusted — the PEC providers' anchors and CRLs, the PEC provider
// index, the anchors for signed documents, the imported trusted list — each with its validity.
// pecdesk trust import-tsl: verify an ETSI TS 119 612 trusted list and save it as trust.tsl.
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { loadProviderIndex, ProviderIndexError, type ProviderIndex } from '../pec/provider-index.js';
import type { CrlInfo } from '../signature/revocation.js';
import { loadTrustStore, TrustStoreError } from '../signature/trust.js';
// The snapshot side only: the XML import (xml-crypto, xmldom) is loaded by import-tsl alone.
import { loadTslSnapshot, TSL_SETUP_PROBLEMS, TslError, type TslListInfo, type TslSnapshot } from '../signature/tsl-snapshot.js';
import { nameIdentity, type CertInfo } from '../signature/x509.js';
import { isJson, type GlobalOptions } from './common.js';
import { NegativeOutcome, parseInstant, printJson, UsageError } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

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
    return { source: dir, error: null, anchors: s.anchors.all().map((a) => certificateView(a, now)), crls: s.crls.map((c) => crlView(c, now)) };
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

function listView(l: TslListInfo, now: Date) {
  return {
    file: l.file,
    name: l.name,
    territory: l.territory,
    listOfLists: l.listOfLists,
    sequenceNumber: l.sequenceNumber,
    issued: l.issued,
    nextUpdate: l.nextUpdate,
    current: l.nextUpdate !== null && Date.parse(l.nextUpdate) >= now.getTime(),
    signer: l.signer,
    verifiedBy: l.verifiedBy,
    ...l.counts,
  };
}

function snapshotView(source: string, s: TslSnapshot, now: Date) {
  const services = s.services.map((v) => ({
    territory: v.territory,
    tsp: v.tsp,
    name: v.name,
    type: v.type,
    status: v.status,
    since: v.since,
    statusUri: v.statusUri,
    qualifiers: [...new Set(v.qualifications.flatMap((q) => q.qualifiers))],
    additionalInformation: v.additionalInformation,
    history: v.history.map((h) => ({ status: h.status, since: h.since, statusUri: h.statusUri })),
    certificates: v.identity.certificates.map((c) => ({ subject: c.subject, sha256: c.sha256, ski: c.ski, validFrom: c.validFrom, validTo: c.validTo })),
  }));
  const count = (type: string, status?: string) => services.filter((v) => v.type === type && (!status || v.status === status)).length;
  return {
    source,
    error: null as string | null,
    importedAt: s.importedAt as string | null,
    lists: s.lists.map((l) => listView(l, now)),
    services,
    counts: { caQc: count('CA/QC'), caQcGranted: count('CA/QC', 'granted'), tsaQtst: count('TSA/QTST'), tsaQtstGranted: count('TSA/QTST', 'granted') },
  };
}

function trustedListView(file: string | undefined, now: Date): ReturnType<typeof snapshotView> | null {
  if (!file) return null;
  try {
    return snapshotView(file, loadTslSnapshot(file), now);
  } catch (e) {
    if (!(e instanceof TslError)) throw e;
    return { source: file, error: e.message, importedAt: null, lists: [], services: [], counts: { caQc: 0, caQcGranted: 0, tsaQtst: 0, tsaQtstGranted: 0 } };
  }
}

function listLine(l: ReturnType<typeof listView>): string {
  const next = l.nextUpdate ? `next update ${day(l.nextUpdate)}${l.current ? '' : ' (PASSED)'}` : 'no next update (closed list)';
  return `${l.territory}  ${l.name} — sequence ${l.sequenceNumber}, issued ${day(l.issued)}, ${next}`;
}

function printTrustedList(v: ReturnType<typeof trustedListView>): string[] {
  if (!v) return ['Trusted list (trust.tsl): not configured — `pecdesk trust import-tsl FILE.xml` verifies a TS 119 612 list and saves it'];
  const lines = [`Trusted list (trust.tsl: ${v.source})`];
  if (v.error) return [...lines, `  NOT AVAILABLE: ${v.error}`];
  lines[0] += `, imported ${v.importedAt}`;
  for (const l of v.lists) lines.push(`  ${listLine(l)}`, `      signed by ${l.signer.subject} (${l.verifiedBy})`);
  lines.push(`  CA/QC services: ${v.counts.caQc} (${v.counts.caQcGranted} granted); TSA/QTST services: ${v.counts.tsaQtst} (${v.counts.tsaQtstGranted} granted)`);
  for (const s of v.services.filter((x) => x.type === 'CA/QC')) {
    const q = s.qualifiers.length ? ` [${s.qualifiers.join(', ')}]` : '';
    lines.push(`    ${s.status === 'granted' ? 'granted  ' : 'WITHDRAWN'} since ${day(s.since)}  ${s.name} — ${s.tsp} (${s.territory})${q}`);
  }
  return lines;
}

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
  const trust = program.command('trust').description(COMMAND_SUMMARIES.trust);
  trust
    .command('show')
    .description('list the trust anchors, CRLs, PEC providers and the trusted list, with their validity')
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
        trustedList: trustedListView(cfg.trust.tsl, now),
      };
      const failed = [view.pecProviders, view.signatures, ...(view.trustedList ? [view.trustedList] : [])].filter((s) => s.error);
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
        lines.push('', ...printTrustedList(view.trustedList));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (failed.length) throw new UsageError(failed.map((f) => f.error).join('; '));
    });
  trust
    .command('import-tsl')
    .description('verify an ETSI TS 119 612 trusted list (TSL-IT, or the EU list of lists with the national lists it points to) and save it as trust.tsl')
    .argument('<file>', 'the trusted list (verified against trust.tslSigner); may be the EU list of lists')
    .argument('[more...]', 'more lists: when <file> is the list of lists, national lists verified against its pointers; else lists signed by trust.tslSigner')
    .option('--with <file>', 'a national list the list of lists points to (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--now <iso>', 'judge NextUpdate at this time (default: now)')
    .action(async (file: string, more: string[], o: { with: string[]; now?: string }, cmd: Command) => {
      const { importTrustedLists, loadTslSigners, writeTslSnapshot } = await import('../signature/tsl.js');
      const cfg = loadConfig(cmd.optsWithGlobals<GlobalOptions>().config);
      const now = o.now ? parseInstant(o.now, '--now') : new Date();
      const json = isJson(cmd);
      if (!cfg.trust.tsl) throw new UsageError(`${cfg.source}: trust.tsl is not configured: it names the snapshot file import-tsl writes`);
      if (!cfg.trust.tslSigner) throw new UsageError(`${cfg.source}: trust.tslSigner is not configured: the certificate(s) that sign the list (for the EU list of lists, the Commission's)`);
      const files = [file, ...more, ...o.with];
      const seen = new Set<string>();
      for (const f of files) {
        if (seen.has(path.resolve(f))) throw new UsageError(`${f}: given twice`);
        seen.add(path.resolve(f));
      }
      let result: ReturnType<typeof importTrustedLists>;
      try {
        let signers;
        try {
          signers = loadTslSigners(cfg.trust.tslSigner);
        } catch (e) {
          if (e instanceof TslError) throw new ConfigError(`${cfg.source}: trust.tslSigner: ${e.message}`);
          throw e;
        }
        result = importTrustedLists(files, signers, { signerSource: `the certificate(s) in trust.tslSigner (${cfg.trust.tslSigner})`, now });
        const territories = result.snapshot.lists.map((l) => l.territory);
        const twice = territories.find((t, i) => territories.indexOf(t) !== i);
        if (twice) throw new UsageError(`two lists for territory ${twice}: import one list per territory`);
        writeTslSnapshot(cfg.trust.tsl, result.snapshot);
      } catch (e) {
        if (!(e instanceof TslError)) throw e;
        if (TSL_SETUP_PROBLEMS.has(e.code)) throw new UsageError(e.message);
        // Verified and refused: nothing was written, the previous snapshot stays.
        if (json) printJson({ imported: false, problem: e.code, file: e.file, message: e.message });
        throw new NegativeOutcome(`trusted list refused (${e.code}): ${e.message}`);
      }
      const { snapshot, warnings } = result;
      const kept = { caQc: snapshot.services.filter((s) => s.type === 'CA/QC').length, tsaQtst: snapshot.services.filter((s) => s.type === 'TSA/QTST').length };
      if (json) {
        printJson({ imported: true, snapshot: path.resolve(cfg.trust.tsl), importedAt: snapshot.importedAt, lists: snapshot.lists.map((l) => listView(l, now)), kept, warnings });
        return;
      }
      const lines: string[] = [];
      for (const info of snapshot.lists) {
        const l = listView(info, now);
        lines.push(listLine(l), `    signed by ${l.signer.subject} (verified against ${l.verifiedBy === 'list-of-lists' ? 'the list of lists' : 'trust.tslSigner'})`);
        if (l.listOfLists) lines.push(`    list of lists: ${info.pointers.length} pointer(s)`);
        else lines.push(`    ${l.tsps} TSP(s), ${l.services} service(s): ${l.caQc} CA/QC (${l.caQcGranted} granted), ${l.tsaQtst} TSA/QTST`);
      }
      lines.push(`snapshot written to ${path.resolve(cfg.trust.tsl)}: ${kept.caQc} CA/QC and ${kept.tsaQtst} TSA/QTST service(s)`);
      for (const w of warnings) lines.push(`warning (${w.code}): ${w.file}: ${w.message}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
