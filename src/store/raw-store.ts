// Content-addressed raw message store: dataDir/raw/ab/cd/<sha256>.eml, written to a temp file,
// fsynced, renamed, and the directory fsynced — durable before the source is acknowledged.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class RawStore {
  constructor(private readonly root: string) {}

  pathFor(sha256: string): string {
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), `${sha256}.eml`);
  }

  /** Store bytes durably; returns their sha256. Idempotent: the same bytes are kept once. */
  put(bytes: Uint8Array): string {
    const sha = sha256Hex(bytes);
    const target = this.pathFor(sha);
    if (existsSync(target)) return sha;
    const dir = path.dirname(target);
    mkdirSync(dir, { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o640);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    fsyncDir(dir);
    return sha;
  }

  get(sha256: string): Buffer {
    return readFileSync(this.pathFor(sha256));
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
