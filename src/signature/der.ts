// A minimal DER/BER reader that keeps byte offsets. Signatures are checked over bytes exactly
// as received (signed attributes, certificates), so a re-encoding parser is not enough.
export class Asn1Error extends Error {}

export interface Tlv {
  /** Identifier octet (class, constructed bit and tag number for tags < 31). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the contents. */
  contentStart: number;
  /** Offset just past the contents (for indefinite lengths: before the end-of-contents octets). */
  contentEnd: number;
  /** Offset just past the whole element. */
  end: number;
  constructed: boolean;
  indefinite: boolean;
}

const MAX_DEPTH = 64;

export function readTlv(buf: Uint8Array, offset: number, limit = buf.length, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new Asn1Error('ASN.1 nesting too deep');
  if (offset + 2 > limit) throw new Asn1Error(`truncated ASN.1 element at ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Asn1Error(`high tag numbers are not supported (at ${offset})`);
  const constructed = (tag & 0x20) !== 0;
  let p = offset + 1;
  const first = buf[p++]!;
  if (first === 0x80) {
    if (!constructed) throw new Asn1Error(`indefinite length on a primitive element at ${offset}`);
    // BER indefinite length: contents run until the matching 00 00.
    let q = p;
    for (;;) {
      if (q + 2 > limit) throw new Asn1Error(`unterminated indefinite-length element at ${offset}`);
      if (buf[q] === 0 && buf[q + 1] === 0) break;
      q = readTlv(buf, q, limit, depth + 1).end;
    }
    return { tag, start: offset, contentStart: p, contentEnd: q, end: q + 2, constructed, indefinite: true };
  }
  let len: number;
  if (first < 0x80) len = first;
  else {
    const n = first & 0x7f;
    if (n > 4) throw new Asn1Error(`length too large at ${offset}`);
    if (p + n > limit) throw new Asn1Error(`truncated length at ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  const end = p + len;
  if (end > limit) throw new Asn1Error(`element at ${offset} runs past its container (${end} > ${limit})`);
  return { tag, start: offset, contentStart: p, contentEnd: end, end, constructed, indefinite: false };
}

export function children(buf: Uint8Array, t: Tlv): Tlv[] {
  if (!t.constructed) throw new Asn1Error(`element at ${t.start} is not constructed`);
  const out: Tlv[] = [];
  let p = t.contentStart;
  while (p < t.contentEnd) {
    const c = readTlv(buf, p, t.contentEnd);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function bytesOf(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
}

export function contentOf(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.contentEnd - t.contentStart);
}

/** OCTET STRING contents, joining BER constructed (chunked) forms. */
export function octets(buf: Uint8Array, t: Tlv): Buffer {
  if (!t.constructed) return contentOf(buf, t);
  return Buffer.concat(children(buf, t).map((c) => octets(buf, c)));
}

export function oid(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06) throw new Asn1Error(`expected an OBJECT IDENTIFIER at ${t.start}`);
  const b = contentOf(buf, t);
  if (b.length === 0) throw new Asn1Error(`empty OBJECT IDENTIFIER at ${t.start}`);
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** UTCTime (0x17) or GeneralizedTime (0x18) as a Date. */
export function time(buf: Uint8Array, t: Tlv): Date {
  const s = contentOf(buf, t).toString('latin1');
  let m: RegExpExecArray | null;
  if (t.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s))) {
    const y = Number(m[1]);
    return new Date(Date.UTC(y < 50 ? 2000 + y : 1900 + y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (t.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?Z$/.exec(s))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), Number(`0.${m[7] ?? 0}`) * 1000));
  }
  throw new Asn1Error(`unsupported time value ${JSON.stringify(s)} at ${t.start}`);
}

export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  CTX0: 0xa0,
  CTX1: 0xa1,
  CTX0_PRIMITIVE: 0x80,
} as const;
