// Online OCSP (off by default: trust.onlineRevocation): ask the responder a certificate's
// authorityInfoAccess names, over HTTP(S), with a time and size limit, and keep the answer
// until its nextUpdate so that a later check works while the responder is offline.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ocspRequest, parseOcspResponse, type OcspInfo } from './ocsp.js';
import type { CertInfo } from './x509.js';

const MAX_OCSP_BYTES = 1024 * 1024;

export interface OcspFetchOutcome {
  ocsps: OcspInfo[];
  /** One line per request: where its answer came from, or why there is none. */
  notes: string[];
}

/** Fresh while its nextUpdate is ahead; without one, for an hour after it was produced. */
function fresh(info: OcspInfo, now: Date): boolean {
  const r = info.responses[0];
  const until = r?.nextUpdate ?? new Date(info.producedAt.getTime() + 3600_000);
  return until.getTime() > now.getTime();
}

export async function fetchOcsps(targets: Array<{ cert: CertInfo; issuer: CertInfo }>, cacheDir: string, now: Date, timeoutMs = 10_000): Promise<OcspFetchOutcome> {
  const ocsps: OcspInfo[] = [];
  const notes: string[] = [];
  mkdirSync(cacheDir, { recursive: true });
  for (const { cert, issuer } of targets) {
    for (const url of cert.ocspUrls) {
      const request = ocspRequest(cert, issuer);
      const cached = path.join(cacheDir, `${createHash('sha256').update(url).update(request).digest('hex')}.ocsp`);
      if (existsSync(cached)) {
        try {
          const info = parseOcspResponse(readFileSync(cached), url);
          if (fresh(info, now)) {
            ocsps.push(info);
            notes.push(`${url}: OCSP from cache`);
            break;
          }
        } catch {
          /* a damaged cache entry is fetched again */
        }
      }
      try {
        const res = await fetch(url, {
          method: 'POST', body: request, headers: { 'Content-Type': 'application/ocsp-request' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow',
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        if (bytes.length > MAX_OCSP_BYTES) throw new Error(`larger than ${MAX_OCSP_BYTES} bytes`);
        ocsps.push(parseOcspResponse(bytes, url));
        writeFileSync(`${cached}.tmp`, bytes);
        renameSync(`${cached}.tmp`, cached);
        notes.push(`${url}: OCSP fetched`);
        break;
      } catch (e) {
        // Offline or broken: a stale cached answer is better than none.
        if (existsSync(cached)) {
          try {
            ocsps.push(parseOcspResponse(readFileSync(cached), url));
            notes.push(`${url}: ${(e as Error).message}; used the cached OCSP answer`);
            break;
          } catch {
            /* fall through */
          }
        }
        notes.push(`${url}: ${(e as Error).message}`);
      }
    }
  }
  return { ocsps, notes };
}
