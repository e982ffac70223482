// Content-addressed raw message store: dataDir/raw/ab/cd/<sha256>.eml, written to a temp file,
// fsynced, renamed, and the directory fsynced — and every directory created on the way made
// durable in its parent — before the source is acknowledged.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let streams = 0;

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
    mkdirDurable(dir);
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

  /**
   * Store a stream durably without holding it in memory (large IMAP messages): written to a
   * temp file while hashed, fsynced, renamed to its content address. Returns sha256 and size.
   */
  async putStream(source: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
    mkdirDurable(this.root);
    const tmp = path.join(this.root, `.incoming.${process.pid}.${++streams}.tmp`);
    const hash = createHash('sha256');
    let size = 0;
    const fd = openSync(tmp, 'w', 0o640);
    try {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    const sha = hash.digest('hex');
    const target = this.pathFor(sha);
    if (existsSync(target)) {
      rmSync(tmp, { force: true });
      return { sha256: sha, size };
    }
    const dir = path.dirname(target);
    mkdirDurable(dir);
    renameSync(tmp, target);
    fsyncDir(dir);
    return { sha256: sha, size };
  }

  get(sha256: string): Buffer {
    return readFileSync(this.pathFor(sha256));
  }
}

/**
 * mkdir -p whose result survives a crash: a new directory's entry lives in its parent, so each
 * parent that gained one is fsynced (a file fsynced into raw/ab/cd/ is lost if raw/ab/ is).
 */
export function mkdirDurable(dir: string): void {
  const created: string[] = [];
  for (let d = path.resolve(dir); !existsSync(d); d = path.dirname(d)) {
    created.push(d);
    if (path.dirname(d) === d) break;
  }
  if (created.length === 0) return;
  mkdirSync(dir, { recursive: true });
  for (const d of created) fsyncDir(path.dirname(d));
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
