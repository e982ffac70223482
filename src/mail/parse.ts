// MIME → ParsedMessage. mailparser does the decoding (charsets, RFC 2047, transfer encodings);
// this file keeps what the desk needs, with header lines in their original order.
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { createHash } from 'node:crypto';

export interface HeaderLine {
  key: string; // lower-case name
  value: string; // unfolded raw value (undecoded)
}

export interface ParsedAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  content: Buffer;
}

export interface ParsedMessage {
  messageId: string | null; // with <>
  from: { address: string; name: string } | null; // address lower-cased
  to: string[];
  subject: string;
  date: Date | null;
  receivedHeaderDate: Date | null; // the topmost Received: header's date
  inReplyTo: string[]; // message-ids with <>
  references: string[];
  headers: HeaderLine[];
  text: string;
  html: string | null;
  contentType: string;
  attachments: ParsedAttachment[];
}

/** Defaults of limits.maxMimeParts and limits.maxMimeDepth: a real message has a handful of parts. */
export const MAX_MIME_PARTS = 200;
export const MAX_MIME_DEPTH = 100;

export interface MimeLimits {
  maxParts: number;
  maxDepth: number;
}

export const mimeLimitsOf = (limits: { maxMimeParts: number; maxMimeDepth: number }): MimeLimits => ({ maxParts: limits.maxMimeParts, maxDepth: limits.maxMimeDepth });

/**
 * What the message says, apart from its trace headers: a re-delivery of the same message (new
 * Received lines) has the same fingerprint; a different message under a reused Message-ID not.
 */
export function contentFingerprint(m: ParsedMessage): string {
  return createHash('sha256').update(JSON.stringify([m.subject, m.text, m.html ?? '', m.attachments.map((a) => a.sha256)])).digest('hex');
}

export function header(msg: ParsedMessage, name: string): string | undefined {
  const key = name.toLowerCase();
  return msg.headers.find((h) => h.key === key)?.value;
}

export function headerAll(msg: ParsedMessage, name: string): string[] {
  const key = name.toLowerCase();
  return msg.headers.filter((h) => h.key === key).map((h) => h.value);
}

function firstAddress(obj: AddressObject | AddressObject[] | undefined): { address: string; name: string } | null {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  for (const group of list) {
    for (const a of group.value) {
      if (a.address) return { address: a.address.trim().toLowerCase(), name: (a.name ?? '').trim() };
      for (const g of a.group ?? []) {
        if (g.address) return { address: g.address.trim().toLowerCase(), name: (g.name ?? '').trim() };
      }
    }
  }
  return null;
}

function allAddresses(obj: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  return list.flatMap((g) => g.value.map((a) => (a.address ?? '').toLowerCase()).filter(Boolean));
}

function idList(v: string | string[] | undefined): string[] {
  if (!v) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.flatMap((s) => s.match(/<[^<>\s]+>/g) ?? []);
}

/** The date after the last ';' of a Received: header (RFC 5322 §3.6.7). */
export function receivedDate(value: string): Date | null {
  const i = value.lastIndexOf(';');
  if (i < 0) return null;
  const d = new Date(value.slice(i + 1).trim().replace(/\s*\([^)]*\)\s*$/, ''));
  return Number.isNaN(d.getTime()) ? null : d;
}

function headerValue(line: string): string {
  const i = line.indexOf(':');
  return (i < 0 ? '' : line.slice(i + 1)).replace(/\r?\n[ \t]+/g, ' ').trim();
}

/**
 * The MIME tree's size without parsing it: every body part (leaves included, nested messages
 * too) and the deepest nesting, from the boundary lines a reader would follow. A cheap bound
 * that stops hostile structures before they reach the parser.
 */
export function mimeShape(raw: Buffer): { parts: number; depth: number } {
  const text = raw.toString('latin1');
  const stack: string[] = [];
  let parts = 0;
  let depth = 0;
  let inHeaders = true;
  let headers = '';
  let pos = 0;
  // A header block just ended: a multipart pushes its boundary; a message/rfc822 body starts with headers of its own.
  const endHeaders = (): boolean => {
    const ct = /(?:^|\n)content-type:([^\n]*(?:\n[ \t][^\n]*)*)/i.exec(headers)?.[1] ?? '';
    headers = '';
    if (/^\s*multipart\//i.test(ct)) {
      const b = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
      if (b) {
        stack.push(b[1] ?? b[2]!);
        depth = Math.max(depth, stack.length);
      }
      return false;
    }
    return /^\s*message\/(rfc822|global)/i.test(ct);
  };
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end).replace(/\r$/, '');
    pos = end + 1;
    if (inHeaders) {
      if (line === '') inHeaders = endHeaders();
      else headers += `\n${line}`;
      continue;
    }
    if (!line.startsWith('--') || stack.length === 0) continue;
    const rest = line.slice(2).trimEnd();
    for (let i = stack.length - 1; i >= 0; i--) {
      const b = stack[i]!;
      if (rest === `${b}--`) {
        stack.length = i;
        break;
      }
      if (rest === b) {
        stack.length = i + 1;
        parts++;
        inHeaders = true;
        break;
      }
    }
  }
  return { parts, depth };
}

export class MessageRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MessageRejected';
  }
}

/**
 * mailparser drops the address when raw 8-bit bytes break the From header's syntax (an
 * unbalanced "(" reads as a comment): recover the addr-spec from the raw header line.
 */
function rawFromAddress(headers: HeaderLine[]): { address: string; name: string } | null {
  const from = headers.find((h) => h.key === 'from')?.value ?? '';
  const m = /<\s*([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)\s*>/.exec(from) ?? /([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/.exec(from);
  return m ? { address: m[1]!.toLowerCase(), name: '' } : null;
}

/** The undecoded body after the header block, for when MIME decoding yields nothing. */
function rawBody(raw: Buffer): string {
  const text = raw.toString('utf8');
  const m = /\r?\n\r?\n/.exec(text);
  return m ? text.slice(m.index + m[0].length).trim() : '';
}

export async function parseMessage(raw: Buffer, limits: MimeLimits = { maxParts: MAX_MIME_PARTS, maxDepth: MAX_MIME_DEPTH }): Promise<ParsedMessage> {
  if (raw.length === 0) throw new MessageRejected('empty', 'empty message (0 bytes)');
  const shape = mimeShape(raw);
  if (shape.parts > limits.maxParts) {
    throw new MessageRejected('mime-too-complex', `${shape.parts} MIME parts, more than limits.maxMimeParts (${limits.maxParts})`);
  }
  if (shape.depth > limits.maxDepth) {
    throw new MessageRejected('mime-too-complex', `MIME nesting ${shape.depth} deep, more than limits.maxMimeDepth (${limits.maxDepth})`);
  }
  const m: ParsedMail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const headers = m.headerLines.map((h) => ({ key: h.key.toLowerCase(), value: headerValue(h.line) }));
  const received = headers.find((h) => h.key === 'received');
  const ct = m.headers.get('content-type') as { value?: string } | string | undefined;
  let text = m.text ?? '';
  if (!text && !m.html && m.attachments.length === 0) {
    // A broken multipart (boundary never found) decodes to nothing: keep the raw body readable.
    text = rawBody(raw).slice(0, 256 * 1024);
  }
  return {
    messageId: m.messageId ?? null,
    from: firstAddress(m.from) ?? rawFromAddress(headers),
    to: [...allAddresses(m.to), ...allAddresses(m.cc)],
    subject: (m.subject ?? '').replace(/\s+/g, ' ').trim(),
    date: m.date && !Number.isNaN(m.date.getTime()) ? m.date : null,
    receivedHeaderDate: received ? receivedDate(received.value) : null,
    inReplyTo: idList(m.inReplyTo),
    references: idList(m.references),
    headers,
    text,
    html: typeof m.html === 'string' ? m.html : null,
    contentType: (typeof ct === 'string' ? ct : ct?.value ?? 'text/plain').toLowerCase(),
    attachments: m.attachments.map((a) => ({
      filename: a.filename ?? null,
      contentType: a.contentType.toLowerCase(),
      size: a.size,
      sha256: createHash('sha256').update(a.content).digest('hex'),
      content: a.content,
    })),
  };
}

/** Message-ID key used for threading: without <>, lower-case. */
export function threadKey(messageId: string): string {
  return messageId.replace(/^<|>$/g, '').trim().toLowerCase();
}
