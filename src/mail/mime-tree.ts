// A raw MIME tree that keeps byte offsets into the original message. mailparser decodes for
// reading, but it merges an inline message/rfc822 (PEC postacert.eml) into the body and loses
// its headers, and a signature must be checked over the exact bytes of the signed part.
import { MAX_MIME_DEPTH, MessageRejected, type HeaderLine } from './parse.js';

export interface MimePart {
  /** Offsets into the buffer the tree was read from. */
  start: number;
  bodyStart: number;
  end: number;
  headers: HeaderLine[];
  /** Lower-case type/subtype; text/plain when absent. */
  contentType: string;
  params: Record<string, string>;
  children: MimePart[];
}

/** The PEC envelope reader descends as deep as the parser does by default (limits.maxMimeDepth). */
const MAX_DEPTH = MAX_MIME_DEPTH;

/** Parse `type/subtype; a=b; c="d"` (parameter names lower-cased). */
export function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() || 'text/plain';
  const params: Record<string, string> = {};
  const re = /;\s*([^=\s;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (const m of value.slice(Math.max(semi, 0)).matchAll(re)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { type, params };
}

function findHeaderEnd(buf: Buffer, start: number, end: number): { headerEnd: number; bodyStart: number } {
  // A part may have no headers at all: it then starts with the empty line.
  if (buf[start] === 0x0a) return { headerEnd: start, bodyStart: start + 1 };
  if (buf[start] === 0x0d && buf[start + 1] === 0x0a) return { headerEnd: start, bodyStart: start + 2 };
  for (let i = start; i < end - 1; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 3 };
  }
  return { headerEnd: end, bodyStart: end };
}

export function parseHeaderBlock(text: string): HeaderLine[] {
  const out: HeaderLine[] = [];
  for (const line of text.split(/\r?\n(?![ \t])/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out.push({ key: line.slice(0, i).trim().toLowerCase(), value: line.slice(i + 1).replace(/\r?\n[ \t]+/g, ' ').trim() });
  }
  return out;
}

export function partHeader(part: MimePart, name: string): string | undefined {
  return part.headers.find((h) => h.key === name)?.value;
}

/** Read the MIME structure of buf[start, end). Message/rfc822 bodies are not descended into. */
export function readMimeTree(buf: Buffer, start = 0, end = buf.length, depth = 0): MimePart {
  if (depth > MAX_DEPTH) throw new MessageRejected('mime-too-complex', `MIME nesting deeper than ${MAX_DEPTH}, the most the PEC envelope reader follows`);
  const { headerEnd, bodyStart } = findHeaderEnd(buf, start, end);
  const headers = parseHeaderBlock(buf.toString('latin1', start, headerEnd));
  const ct = parseContentType(headers.find((h) => h.key === 'content-type')?.value);
  const part: MimePart = { start, bodyStart, end, headers, contentType: ct.type, params: ct.params, children: [] };
  const boundary = ct.params.boundary;
  if (ct.type.startsWith('multipart/') && boundary) {
    part.children = splitMultipart(buf, bodyStart, end, boundary).map(([s, e]) => readMimeTree(buf, s, e, depth + 1));
  }
  return part;
}

/**
 * The [start, end) ranges of each body part between the boundary delimiters. The line break
 * before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), not to the part.
 */
export function splitMultipart(buf: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const text = buf.toString('latin1', start, end);
  const delim = `--${boundary}`;
  const positions: Array<{ lineStart: number; afterLine: number; close: boolean }> = [];
  let from = 0;
  for (;;) {
    const i = text.indexOf(delim, from);
    if (i < 0) break;
    from = i + delim.length;
    if (i !== 0 && text[i - 1] !== '\n') continue; // must start a line
    const rest = text.slice(from, from + 2);
    const close = rest === '--';
    let eol = text.indexOf('\n', from);
    if (eol < 0) eol = text.length;
    else eol += 1;
    // The delimiter line may carry only transport padding (spaces/tabs) after it.
    if (!close && text.slice(from, eol).trim() !== '') continue;
    let lineStart = i;
    if (lineStart > 0 && text[lineStart - 1] === '\n') lineStart -= text[lineStart - 2] === '\r' ? 2 : 1;
    positions.push({ lineStart, afterLine: eol, close });
    if (close) break;
  }
  const parts: Array<[number, number]> = [];
  for (let k = 0; k + 1 < positions.length; k++) {
    parts.push([start + positions[k]!.afterLine, start + Math.max(positions[k + 1]!.lineStart, positions[k]!.afterLine)]);
  }
  // A multipart cut short (no closing delimiter): the last part runs to the end.
  const last = positions[positions.length - 1];
  if (last && !last.close && last.afterLine < text.length) parts.push([start + last.afterLine, end]);
  return parts;
}

/** The decoded body of a leaf part (base64 / quoted-printable / identity). */
export function decodeBody(buf: Buffer, part: MimePart): Buffer {
  const body = buf.subarray(part.bodyStart, part.end);
  const cte = (partHeader(part, 'content-transfer-encoding') ?? '').toLowerCase().trim();
  if (cte === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (cte === 'quoted-printable') {
    const s = body.toString('latin1').replace(/=\r?\n/g, '');
    return Buffer.from(s.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  }
  return Buffer.from(body);
}

/** Bytes with every line break as CRLF: the canonical form S/MIME signs (RFC 5751 §3.1.1). */
export function canonicalCrlf(bytes: Buffer): Buffer {
  // On the bytes (a signed PEC part is often 1 MB or more): most already use CRLF throughout
  // and come back as they are; otherwise each bare LF gains its CR in one copy.
  let bare = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) if (i === 0 || bytes[i - 1] !== 0x0d) bare++;
  if (bare === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + bare);
  let written = 0;
  let from = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (i > 0 && bytes[i - 1] === 0x0d) continue;
    written += bytes.copy(out, written, from, i);
    out[written++] = 0x0d;
    out[written++] = 0x0a;
    from = i + 1;
  }
  bytes.copy(out, written, from);
  return out;
}

export function* walk(part: MimePart): Generator<MimePart> {
  yield part;
  for (const c of part.children) yield* walk(c);
}
