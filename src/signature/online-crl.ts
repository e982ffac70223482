// Online revocation (off by default: trust.onlineRevocation): fetch the CRL named by a
// certificate's distribution point, over HTTP(S), with a time limit and a size limit, and
// keep it in a cache until its nextUpdate, so a later check works while the CA is offline.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crlsFromPem, parseCrl, type CrlInfo } from './revocation.js';

const MAX_CRL_BYTES = 20 * 1024 * 1024;

function parseAny(bytes: Buffer, source: string): CrlInfo[] {
  const text = bytes.toString('latin1');
  return (text.includes('-----BEGIN X509 CRL-----') ? crlsFromPem(text) : [bytes]).map((der) => parseCrl(der, source));
}

export interface FetchOutcome {
  crls: CrlInfo[];
  /** One line per URL: where its CRL came from, or why there is none. */
  notes: string[];
}

export async function fetchCrls(urls: string[], cacheDir: string, now: Date, timeoutMs = 10_000): Promise<FetchOutcome> {
  const crls: CrlInfo[] = [];
  const notes: string[] = [];
  mkdirSync(cacheDir, { recursive: true });
  for (const url of [...new Set(urls)]) {
    if (!/^https?:\/\//i.test(url)) {
      notes.push(`${url}: only http(s) distribution points are fetched`);
      continue;
    }
    const cached = path.join(cacheDir, `${createHash('sha256').update(url).digest('hex')}.crl`);
    if (existsSync(cached)) {
      try {
        const list = parseAny(readFileSync(cached), url);
        if (list.every((c) => c.nextUpdate && c.nextUpdate.getTime() > now.getTime())) {
          crls.push(...list);
          notes.push(`${url}: from cache`);
          continue;
        }
      } catch {
        /* a damaged cache entry is fetched again */
      }
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (bytes.length > MAX_CRL_BYTES) throw new Error(`larger than ${MAX_CRL_BYTES} bytes`);
      const list = parseAny(bytes, url);
      writeFileSync(`${cached}.tmp`, bytes);
      renameSync(`${cached}.tmp`, cached);
      crls.push(...list);
      notes.push(`${url}: fetched`);
    } catch (e) {
      // Offline or broken: fall back to a stale cached copy rather than to nothing.
      if (existsSync(cached)) {
        try {
          crls.push(...parseAny(readFileSync(cached), url));
          notes.push(`${url}: ${(e as Error).message}; used the cached copy`);
          continue;
        } catch {
          /* fall through */
        }
      }
      notes.push(`${url}: ${(e as Error).message}`);
    }
  }
  return { crls, notes };
}
