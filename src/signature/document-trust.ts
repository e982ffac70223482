// What signed documents are judged against, from config: the signature anchors (and their
// CRLs), the time-stamping anchors, and the imported trusted list.
import type { Config } from '../config/load.js';
import { loadTrustStore, type TrustStore } from './trust.js';
import { loadTslSnapshot } from './tsl-snapshot.js';

/** Null when trust.signatures is not configured; throws TrustStoreError / TslError on unreadable stores. */
export function documentTrust(trust: Config['trust']): TrustStore | null {
  if (!trust.signatures) return null;
  const store = loadTrustStore(trust.signatures);
  return {
    ...store,
    timestamping: trust.timestamping ? loadTrustStore(trust.timestamping) : undefined,
    tsl: trust.tsl ? loadTslSnapshot(trust.tsl) : undefined,
  };
}
