// Just enough PDF syntax to reason about signatures over raw bytes: objects as they stand in
// the file (uncompressed), top-level dictionary entries, references. Offsets matter more
// here than a full object model, so this reads the text directly.

export interface PdfObject {
  num: number;
  gen: number;
  /** Offset of "N G obj" and just past "endobj". */
  start: number;
  end: number;
  /** The object's dictionary text (before any stream), or its whole value. */
  body: string;
  isStream: boolean;
}

const OBJ_RE = /(?<![0-9])(\d+)\s+(\d+)\s+obj\b/g;

/** Every plain "N G obj … endobj" in text[from, to), in file order. */
export function objectsIn(text: string, from = 0, to = text.length): PdfObject[] {
  const out: PdfObject[] = [];
  OBJ_RE.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = OBJ_RE.exec(text)) && m.index < to) {
    const bodyStart = m.index + m[0].length;
    const endobj = text.indexOf('endobj', bodyStart);
    if (endobj < 0 || endobj > to) break;
    let body = text.slice(bodyStart, endobj);
    const s = /\bstream\r?\n/.exec(body);
    const isStream = Boolean(s);
    if (s) body = body.slice(0, s.index);
    out.push({ num: Number(m[1]), gen: Number(m[2]), start: m.index, end: endobj + 6, body: body.trim(), isStream });
    OBJ_RE.lastIndex = endobj + 6;
  }
  return out;
}

/** Skip one PDF value starting at i (after whitespace); returns the index just past it. */
export function skipValue(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  const c = s[i];
  if (c === undefined) return i;
  if (c === '<' && s[i + 1] === '<') {
    let depth = 0;
    while (i < s.length) {
      if (s.startsWith('<<', i)) (depth++, (i += 2));
      else if (s.startsWith('>>', i)) {
        depth--;
        i += 2;
        if (depth === 0) return i;
      } else if (s[i] === '(') i = skipValue(s, i);
      else if (s[i] === '<') i = s.indexOf('>', i) + 1 || s.length;
      else i++;
    }
    return i;
  }
  if (c === '<') return (s.indexOf('>', i) + 1) || s.length;
  if (c === '(') {
    let depth = 0;
    for (; i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === '(') depth++;
      else if (s[i] === ')' && --depth === 0) return i + 1;
    }
    return i;
  }
  if (c === '[') {
    i++;
    for (;;) {
      while (i < s.length && /\s/.test(s[i]!)) i++;
      if (i >= s.length) return i;
      if (s[i] === ']') return i + 1;
      i = skipValue(s, i);
    }
  }
  if (c === '/') {
    i++;
    while (i < s.length && !/[\s/<>\[\]()%{}]/.test(s[i]!)) i++;
    return i;
  }
  // Number, boolean, null, or a reference "N G R".
  const ref = /^\d+\s+\d+\s+R\b/.exec(s.slice(i, i + 32));
  if (ref) return i + ref[0].length;
  const start = i;
  while (i < s.length && !/[\s/<>\[\]()%]/.test(s[i]!)) i++;
  // A stray delimiter (")", ">", "]", "%"…) is skipped alone: every call must make progress.
  return i === start ? i + 1 : i;
}

/** Top-level entries of a dictionary text "<< /K v … >>": key → raw value text. */
export function dictEntries(dict: string): Map<string, string> {
  const out = new Map<string, string>();
  const start = dict.indexOf('<<');
  if (start < 0) return out;
  let i = start + 2;
  for (;;) {
    while (i < dict.length && /\s/.test(dict[i]!)) i++;
    if (i >= dict.length || dict.startsWith('>>', i)) return out;
    if (dict[i] !== '/') return out; // not a well-formed key: stop rather than guess
    const keyEnd = skipValue(dict, i);
    const key = dict.slice(i + 1, keyEnd);
    const valEnd = skipValue(dict, keyEnd);
    out.set(key, dict.slice(keyEnd, valEnd).trim().replace(/\s+/g, ' '));
    i = valEnd;
  }
}

/** "N G R" references inside a value text, as "N G". */
export function refsIn(value: string): string[] {
  return [...value.matchAll(/(\d+)\s+(\d+)\s+R\b/g)].map((m) => `${m[1]} ${m[2]}`);
}

export function nameValue(value: string | undefined): string | null {
  const m = /^\/([^\s/<>\[\]()]+)/.exec(value ?? '');
  return m ? m[1]! : null;
}

/** A PDF literal string's text (escapes resolved; UTF-16BE with BOM decoded). */
export function literalString(value: string | undefined): string | null {
  if (!value) return null;
  if (value.startsWith('<') && !value.startsWith('<<')) {
    const bytes = Buffer.from(value.slice(1, -1).replace(/\s+/g, ''), 'hex');
    return decodeTextBytes(bytes);
  }
  if (!value.startsWith('(')) return null;
  const inner = value.slice(1, -1);
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = inner[++i];
    if (n === undefined) break;
    const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '(': '(', ')': ')', '\\': '\\' };
    if (map[n] !== undefined) out += map[n];
    else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(inner.slice(i))![0];
      out += String.fromCharCode(parseInt(oct, 8));
      i += oct.length - 1;
    } else if (n === '\r' || n === '\n') {
      if (n === '\r' && inner[i + 1] === '\n') i++;
    } else out += n;
  }
  return decodeTextBytes(Buffer.from(out, 'latin1'));
}

function decodeTextBytes(bytes: Buffer): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const b = Buffer.from(bytes.subarray(2));
    b.swap16();
    return b.toString('utf16le');
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  return bytes.toString('latin1'); // PDFDocEncoding ≈ latin1 for the printable range
}

/** PDF date "D:20261123101500+01'00'" → Date. */
export function pdfDate(value: string | null): Date | null {
  const m = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?/.exec(value ?? '');
  if (!m) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', z] = m;
  let iso = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  if (!z || z === 'Z') iso += 'Z';
  else iso += `${z.slice(0, 3)}:${z.replace(/'/g, '').slice(3, 5) || '00'}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}
