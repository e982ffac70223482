// MIME → ParsedMessage. mailparser does the decoding (charsets, RFC 2047, transfer encodings);
// this file keeps what the desk needs, with header lines in their original order.
import { MailParser, type AddressObject, type AttachmentStream, type HeaderLines, type Headers, type MessageText } from 'mailparser';
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
  /** The bytes: in memory, or read back from the raw store for an attachment spilled there. */
  readonly content: Buffer;
}

/**
 * Where attachments too big to hold while a message is processed go (the raw store): streamed
 * there as they are decoded and read back by reference only when something needs the bytes,
 * so memory is bounded by `aboveBytes`, not by the attachment.
 */
export interface AttachmentSpill {
  aboveBytes: number;
  putStream(source: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }>;
  get(sha256: string): Buffer;
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
  // Line by line over the bytes: only header lines and "--" lines become strings (a 30 MB
  // base64 body is never copied into one).
  while (pos < raw.length) {
    let end = raw.indexOf(0x0a, pos);
    if (end < 0) end = raw.length;
    const start = pos;
    pos = end + 1;
    if (!inHeaders && (stack.length === 0 || raw[start] !== 0x2d || raw[start + 1] !== 0x2d)) continue;
    const line = raw.toString('latin1', start, end).replace(/\r$/, '');
    if (inHeaders) {
      if (line === '') inHeaders = endHeaders();
      else headers += `\n${line}`;
      continue;
    }
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

/** Why a message is quarantined without being processed (the code before the quarantine reason). */
export type RejectionCode = 'empty' | 'too-large' | 'mime-too-complex' | 'no-sender' | 'processing-timeout';

/** Each code in Italian, for whoever reads the quarantine. */
export const REJECTION_TEXT: Record<RejectionCode, string> = {
  empty: 'Il messaggio è vuoto (0 byte).',
  'too-large': 'Il messaggio supera la dimensione massima accettata (limits.maxMessageBytes).',
  'mime-too-complex': 'La struttura MIME del messaggio ha troppe parti o è annidata troppo in profondità.',
  'no-sender': 'Il messaggio non indica un indirizzo del mittente (From).',
  'processing-timeout': "L'elaborazione del messaggio ha superato il tempo massimo (limits.maxProcessingSeconds).",
};

export class MessageRejected extends Error {
  constructor(
    readonly code: RejectionCode,
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

export async function parseMessage(
  raw: Buffer,
  limits: MimeLimits = { maxParts: MAX_MIME_PARTS, maxDepth: MAX_MIME_DEPTH },
  spill?: AttachmentSpill,
): Promise<ParsedMessage> {
  if (raw.length === 0) throw new MessageRejected('empty', 'empty message (0 bytes)');
  const shape = mimeShape(raw);
  if (shape.parts > limits.maxParts) {
    throw new MessageRejected('mime-too-complex', `${shape.parts} MIME parts, more than limits.maxMimeParts (${limits.maxParts})`);
  }
  if (shape.depth > limits.maxDepth) {
    throw new MessageRejected('mime-too-complex', `MIME nesting ${shape.depth} deep, more than limits.maxMimeDepth (${limits.maxDepth})`);
  }
  const m = await parseMail(raw, spill);
  const headers = m.headerLines.map((h) => ({ key: h.key.toLowerCase(), value: headerValue(h.line) }));
  const received = headers.find((h) => h.key === 'received');
  const ct = m.headers.get('content-type') as { value?: string } | string | undefined;
  let text = m.text ?? '';
  if (!text && !m.html && m.attachments.length === 0) {
    // A broken multipart (boundary never found) decodes to nothing: keep the raw body readable.
    text = rawBody(raw).slice(0, 256 * 1024);
  }
  const header = <T>(key: string) => m.headers.get(key) as T | undefined;
  const date = header<Date>('date');
  return {
    messageId: header<string>('message-id') ?? null,
    from: firstAddress(header<AddressObject>('from')) ?? rawFromAddress(headers),
    to: [...allAddresses(header<AddressObject | AddressObject[]>('to')), ...allAddresses(header<AddressObject | AddressObject[]>('cc'))],
    subject: (header<string>('subject') ?? '').replace(/\s+/g, ' ').trim(),
    date: date instanceof Date && !Number.isNaN(date.getTime()) ? date : null,
    receivedHeaderDate: received ? receivedDate(received.value) : null,
    inReplyTo: idList(header<string | string[]>('in-reply-to')),
    references: idList(header<string | string[]>('references')),
    headers,
    text,
    html: typeof m.html === 'string' ? m.html : null,
    contentType: (typeof ct === 'string' ? ct : ct?.value ?? 'text/plain').toLowerCase(),
    attachments: m.attachments,
  };
}

interface MailParts {
  headers: Headers;
  headerLines: HeaderLines;
  text?: string;
  html?: string | boolean;
  attachments: ParsedAttachment[];
}

/**
 * mailparser's streaming parser, assembled the way its simpleParser does, except for the
 * attachments: each is hashed as it is decoded and, past `spill.aboveBytes`, streamed to the
 * raw store instead of being concatenated in memory.
 */
function parseMail(raw: Buffer, spill: AttachmentSpill | undefined): Promise<MailParts> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({ skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
    const mail: MailParts = { headers: new Map(), headerLines: [], attachments: [] };
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      parser.destroy();
      reject(e);
    };
    // mailsplit's own bound (a part's header block over 1 MiB) is a rejection like ours.
    parser.on('error', (e: Error & { code?: string }) =>
      fail(e.code === 'EMAXLEN' ? new MessageRejected('mime-too-complex', `${e.message} (more than the parser accepts)`) : e),
    );
    parser.on('headers', (h: Headers) => {
      mail.headers = h;
      mail.headerLines = (parser as unknown as { headerLines: HeaderLines }).headerLines;
    });
    let reading = false;
    const reader = (): void => {
      reading = true;
      for (;;) {
        const data = parser.read() as AttachmentStream | MessageText | null;
        if (data === null) {
          reading = false;
          return;
        }
        if (data.type === 'text') {
          if (data.text !== undefined) mail.text = data.text;
          if (data.html !== undefined) mail.html = data.html;
          continue;
        }
        // The next part is read only once this attachment is consumed (the parser waits for it).
        collectAttachment(data, spill).then((a) => {
          mail.attachments.push(a);
          data.release();
          reader();
        }, fail);
        return;
      }
    };
    parser.on('readable', () => {
      if (!reading) reader();
    });
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(mail);
    });
    // Fed in slices, with backpressure: written whole, the parser would decode the entire
    // message at once and buffer every decoded byte ahead of the reader.
    const SLICE = 64 * 1024;
    let offset = 0;
    const feed = (): void => {
      while (offset < raw.length && !settled) {
        const slice = raw.subarray(offset, offset + SLICE);
        offset += slice.length;
        if (!parser.write(slice)) {
          parser.once('drain', feed);
          return;
        }
      }
      if (!settled) parser.end();
    };
    feed();
  });
}

async function collectAttachment(data: AttachmentStream, spill: AttachmentSpill | undefined): Promise<ParsedAttachment> {
  // A part cut off after "Content-Type: " has no type string: read as the default.
  const meta = { filename: data.filename ?? null, contentType: typeof data.contentType === 'string' ? data.contentType.toLowerCase() : 'application/octet-stream' };
  const source = (data.content as unknown as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  const hash = createHash('sha256');
  let size = 0;
  for (let next = await source.next(); !next.done; next = await source.next()) {
    chunks.push(next.value);
    size += next.value.length;
    hash.update(next.value);
    if (spill && size > spill.aboveBytes) {
      // What was read, then the rest straight from the decoder to the store.
      const stored = await spill.putStream(
        (async function* () {
          yield* chunks.splice(0);
          for (let more = await source.next(); !more.done; more = await source.next()) yield more.value;
        })(),
      );
      return {
        ...meta,
        size: stored.size,
        sha256: stored.sha256,
        get content() {
          return spill.get(stored.sha256);
        },
      };
    }
  }
  return { ...meta, size, sha256: hash.digest('hex'), content: Buffer.concat(chunks, size) };
}

/** Message-ID key used for threading: without <>, lower-case. */
export function threadKey(messageId: string): string {
  return messageId.replace(/^<|>$/g, '').trim().toLowerCase();
}
