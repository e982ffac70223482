// Content-addressed raw message store: dataDir/raw/ab/cd/<sha256>.eml, written to a temp file,
// fsynced, renamed, and the directory fsynced — and every directory created on the way made
// durable in its parent — before the source is acknowledged.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
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
    if (!existsSync(target)) writeFileDurably(target, bytes);
    return sha;
  }

  /**
   * Store several messages durably at once (group commit, see writeFilesDurably). Returns each
   * one's sha256 (null where the input is null). Bytes already stored are not written again.
   */
  async putAll(items: ReadonlyArray<Uint8Array | null>): Promise<Array<string | null>> {
    const files = new Map<string, Uint8Array>();
    const shas = items.map((bytes) => {
      if (!bytes) return null;
      const sha = sha256Hex(bytes);
      const target = this.pathFor(sha);
      if (!existsSync(target)) files.set(target, bytes);
      return sha;
    });
    await writeFilesDurably([...files].map(([file, bytes]) => ({ file, bytes })));
    return shas;
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
  for (const parent of mkdirs(dir)) fsyncDir(parent);
}

/** mkdir -p; returns the directories that gained an entry, which must be fsynced. */
function mkdirs(dir: string): string[] {
  const created: string[] = [];
  for (let d = path.resolve(dir); !existsSync(d); d = path.dirname(d)) {
    created.push(d);
    if (path.dirname(d) === d) break;
  }
  if (created.length > 0) mkdirSync(dir, { recursive: true });
  return created.map((d) => path.dirname(d));
}

/**
 * Write files so that they survive a crash, paying the disk's flush once for all of them: each
 * written to a temp file, all fsynced at the same time (the file system commits concurrent
 * fsyncs together: 0.5 ms a file here instead of 4 ms one after the other), renamed into place,
 * and every directory that gained an entry fsynced once. Resolves when all of it is durable.
 */
export async function writeFilesDurably(files: ReadonlyArray<{ file: string; bytes: Uint8Array }>): Promise<void> {
  if (files.length === 0) return;
  const dirs = new Set(files.map((f) => path.dirname(f.file)));
  const parents = new Set([...dirs].flatMap(mkdirs));
  const written: TempFile[] = [];
  try {
    for (const { file, bytes } of files) writeTemp(file, bytes, written);
    await Promise.all([...written.map(({ fd }) => fsyncAsync(fd)), ...[...parents].map(fsyncDirAsync)]);
  } catch (e) {
    for (const w of written) rmSync(w.tmp, { force: true });
    throw e;
  } finally {
    for (const w of written) closeSync(w.fd);
  }
  for (const { tmp, file } of written) renameSync(tmp, file);
  await Promise.all([...dirs].map(fsyncDirAsync));
}

async function fsyncDirAsync(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

const fsyncAsync = promisify(fsync);

/** One file the same way, alone (a document kept inside a transaction). */
export function writeFileDurably(file: string, bytes: Uint8Array): void {
  mkdirDurable(path.dirname(file));
  const written: TempFile[] = [];
  try {
    writeTemp(file, bytes, written);
    fsyncSync(written[0]!.fd);
  } finally {
    for (const w of written) closeSync(w.fd);
  }
  renameSync(written[0]!.tmp, file);
  fsyncDir(path.dirname(file));
}

interface TempFile {
  tmp: string;
  file: string;
  fd: number;
}

/** Write bytes to the temp file beside `file`; registered in `opened` as soon as it is open. */
function writeTemp(file: string, bytes: Uint8Array, opened: TempFile[]): TempFile {
  const tmp = `${file}.${process.pid}.tmp`;
  const w = { tmp, file, fd: openSync(tmp, 'w', 0o640) };
  opened.push(w);
  let off = 0;
  while (off < bytes.length) off += writeSync(w.fd, bytes, off, bytes.length - off);
  return w;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
