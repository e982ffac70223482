// Mutators for `npm run fuzz` (scripts/fuzz.mjs): deterministic given the PRNG, so a seed and
// an iteration number name one input exactly. Byte-level damage for every kind; MIME damage
// for messages; PDF syntax damage for PDFs; DER damage for .p7m. Strings are handled as
// latin1, which maps bytes 1:1 and back.
import { createHash } from 'node:crypto';

/** sfc32, seeded from sha256(seed:iteration): every iteration reproducible on its own. */
export function prng(seed, iteration) {
  const h = createHash('sha256').update(`${seed}:${iteration}`).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  const next = () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const r = {
    next,
    /** [0, n) */
    int: (n) => Math.floor(next() * n),
    /** [lo, hi] */
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** Small values much more often than large ones. */
    skewed: (max) => Math.floor(Math.pow(next(), 3) * max),
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    /** Weighted pick from [[weight, value], …]. */
    weighted: (list) => {
      let x = next() * list.reduce((s, [w]) => s + w, 0);
      for (const [w, v] of list) if ((x -= w) < 0) return v;
      return list[list.length - 1][1];
    },
  };
  return r;
}

const L = (s) => Buffer.from(s, 'latin1');
const S = (b) => b.toString('latin1');
const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x0d, 0x0a, 0x3d, 0x3f, 0x2d, 0x22, 0x3c, 0x3e, 0x28, 0x29, 0x25, 0x20, 0x09, 0xc3, 0xe8];

// ---------------------------------------------------------------------------------------------
// Any bytes.

function bitFlips(r, b) {
  if (!b.length) return L('\xff');
  const out = Buffer.from(b);
  const n = 1 + r.skewed(32);
  for (let i = 0; i < n; i++) out[r.int(out.length)] ^= 1 << r.int(8);
  return out;
}

function byteInsert(r, b) {
  const at = r.int(b.length + 1);
  const n = 1 + r.skewed(128);
  const ins = r.chance(0.5) ? r.bytes(n) : Buffer.from(Array.from({ length: n }, () => r.pick(INTERESTING)));
  return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
}

function byteDelete(r, b) {
  if (!b.length) return b;
  const at = r.int(b.length);
  const n = 1 + r.skewed(Math.min(4096, b.length - at));
  return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
}

function truncate(r, b) {
  return b.subarray(0, r.chance(0.2) ? r.int(Math.min(b.length, 64) + 1) : r.int(b.length + 1));
}

function duplicateTail(r, b) {
  if (!b.length) return b;
  const tail = b.subarray(b.length - 1 - r.int(b.length));
  return Buffer.concat([b, ...Array.from({ length: 1 + r.skewed(4) }, () => tail)]);
}

/** A chunk of the input copied over another place of it. */
function splice(r, b) {
  if (b.length < 2) return b;
  const from = r.int(b.length);
  const n = 1 + r.skewed(Math.min(2048, b.length - from));
  const to = r.int(b.length);
  return Buffer.concat([b.subarray(0, to), b.subarray(from, from + n), b.subarray(to + r.int(n + 1))]);
}

const GENERIC = [
  [4, 'bit-flips', bitFlips],
  [2, 'byte-insert', byteInsert],
  [2, 'byte-delete', byteDelete],
  [2, 'truncate', truncate],
  [1, 'duplicate-tail', duplicateTail],
  [1, 'splice', splice],
];

// ---------------------------------------------------------------------------------------------
// Messages.

const CRLF = '\r\n';

/** End of the header block of the message starting at `from` (index of the blank line), or -1. */
function headerEnd(s, from = 0) {
  const m = /\r?\n\r?\n/.exec(s.slice(from));
  return m ? from + m.index : -1;
}

/** Offsets of the starts of header blocks: the message's and every body part's. */
function headerBlocks(s) {
  const starts = [0];
  for (const m of s.matchAll(/\r?\n--[^\r\n]+\r?\n(?=[A-Za-z-]+:)/g)) starts.push(m.index + m[0].length);
  return starts;
}

function boundariesOf(s) {
  return [...new Set([...s.matchAll(/boundary\s*=\s*"?([^";\r\n]+)"?/gi)].map((m) => m[1]))];
}

function replaceAt(s, index, length, text) {
  return s.slice(0, index) + text + s.slice(index + length);
}

function occurrences(s, needle) {
  const out = [];
  for (let i = s.indexOf(needle); i >= 0 && out.length < 10_000; i = s.indexOf(needle, i + 1)) out.push(i);
  return out;
}

function boundaryDamage(r, b) {
  const s = S(b);
  const bounds = boundariesOf(s);
  if (!bounds.length) {
    // Declare a multipart the body does not follow.
    const end = headerEnd(s);
    if (end < 0) return b;
    const ct = r.pick(['multipart/mixed', 'multipart/mixed; boundary=""', 'multipart/mixed; boundary="never-there"', 'multipart/alternative; boundary=--']);
    return L(`${s.slice(0, end)}${CRLF}Content-Type: ${ct}${s.slice(end)}`);
  }
  const bd = r.pick(bounds);
  const delim = `--${bd}`;
  const at = occurrences(s, delim).filter((i) => s[i - 1] === '\n' || i === 0);
  switch (r.int(9)) {
    case 0: // the declared boundary differs from the one used
      return L(s.replace(`boundary="${bd}"`, `boundary="${bd}x"`).replace(`boundary=${bd}`, `boundary=${bd}x`));
    case 1: // no closing delimiter
      return L(s.split(`${delim}--`).join(''));
    case 2: // a delimiter line repeated
      if (!at.length) return b;
      {
        const i = r.pick(at);
        const eol = s.indexOf('\n', i);
        const line = s.slice(i, eol < 0 ? s.length : eol + 1);
        return L(replaceAt(s, i, 0, line.repeat(1 + r.skewed(50))));
      }
    case 3: // a delimiter line removed
      if (!at.length) return b;
      return L(replaceAt(s, r.pick(at), delim.length, ''));
    case 4: // unterminated: cut just after a delimiter or inside a part's headers
      if (!at.length) return b;
      {
        const i = r.pick(at) + delim.length;
        return L(s.slice(0, i + r.int(Math.min(200, s.length - i) + 1)));
      }
    case 5: // the boundary parameter removed
      return L(s.replace(/;\s*boundary\s*=\s*"?[^";\r\n]+"?/i, ''));
    case 6: // a boundary that is a prefix of another part's delimiter
      return L(s.replace(new RegExp(`boundary\\s*=\\s*"?${escapeRe(bd)}"?`, 'i'), `boundary="${bd.slice(0, Math.max(1, r.int(bd.length)))}"`));
    case 7: // delimiters with trailing garbage or wrong case
      return L(s.split(delim).join(r.pick([`${delim} \t`, delim.toUpperCase(), `${delim}garbage`, `-${delim}`, delim.slice(1)])));
    default: // every part's delimiter replaced by the closing one
      return L(s.split(`${delim}\r\n`).join(`${delim}--\r\n`).split(`${delim}\n`).join(`${delim}--\n`));
  }
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const HEADER_NAMES = ['From', 'Subject', 'Content-Type', 'Message-ID', 'MIME-Version', 'Content-Transfer-Encoding', 'To', 'Date', 'In-Reply-To', 'References', 'Auto-Submitted', 'Return-Path', 'X-Trasporto', 'X-Ricevuta', 'Content-Disposition'];

function headerDamage(r, b) {
  const s = S(b);
  const starts = headerBlocks(s);
  const start = r.chance(0.6) ? 0 : r.pick(starts);
  let end = headerEnd(s, start);
  if (end < 0) end = s.length;
  const block = s.slice(start, end);
  const lines = block.split(/\r?\n/);
  const i = r.int(lines.length);
  const garbage = () => S(Buffer.from(Array.from({ length: 1 + r.skewed(200) }, () => (r.chance(0.5) ? r.int(256) : r.pick(INTERESTING)))));
  switch (r.int(10)) {
    case 0: // folded garbage
      lines.splice(i + 1, 0, ...Array.from({ length: 1 + r.skewed(20) }, () => `${r.pick([' ', '\t'])}${garbage()}`));
      break;
    case 1: // a header line without its colon
      lines[i] = lines[i].replace(':', '');
      break;
    case 2: // NULs
      lines[i] = lines[i].replace(/(.{0,20})/, `$1${'\0'.repeat(1 + r.skewed(16))}`);
      break;
    case 3: // raw 8-bit bytes in a value
      lines[i] = `${lines[i]}${garbage()}`;
      break;
    case 4: // duplicated headers with other values
      for (let k = 1 + r.skewed(8); k > 0; k--) {
        const name = r.pick(HEADER_NAMES);
        lines.splice(r.int(lines.length + 1), 0, `${name}: ${r.pick(['', garbage(), '<>', 'a@b', 'multipart/mixed', 'base64', '1.0', 'auto-replied', '"x" <>', '=?utf-8?B?AAAA?='])}`);
      }
      break;
    case 5: // a line with no name, or a huge name
      lines.splice(i, 0, r.chance(0.5) ? `: ${garbage()}` : `${'X'.repeat(1 + r.skewed(100_000))}: y`);
      break;
    case 6: // the first line a continuation, or the blank separator lost
      if (r.chance(0.5)) lines[0] = ` ${lines[0]}`;
      else return L(s.slice(0, end) + CRLF + s.slice(end).replace(/^\r?\n\r?\n/, '\r\n'));
      break;
    case 7: // bare CR line ends in the header block
      return L(s.slice(0, start) + lines.join('\r') + s.slice(end));
    case 8: // a header dropped
      lines.splice(i, 1);
      break;
    default: // an address header broken
      lines.splice(i, 0, `${r.pick(['From', 'Reply-To', 'To', 'Sender'])}: ${r.pick(['<', '"unterminated <a@b.it>', '(comment <a@b.it>', 'a@@b..it', '<<<a@b.it>>>', 'undisclosed-recipients:;', `${'a'.repeat(5000)}@${'b'.repeat(5000)}.it`, 'group: a@b.it, (x; c@d.it;'])}`);
  }
  return L(s.slice(0, start) + lines.join(CRLF) + s.slice(end));
}

const CHARSETS = ['utf-8', 'iso-8859-1', 'utf-7', 'UTF-7', 'x-unknown', 'bogus', 'utf-16', 'utf-16le', 'utf-32', 'ISO-2022-JP', 'windows-1252', 'gb18030', 'shift_jis', 'big5', 'koi8-r', '', '"', 'us-ascii', 'unicode-1-1-utf-7', 'x-user-defined', 'iso-8859-99', 'cp1252 ; x=1', '..\\..\\etc', 'utf-8\0'];

function charsetLie(r, b) {
  const s = S(b);
  switch (r.int(4)) {
    case 0: { // declared charset changed
      const cs = r.pick(CHARSETS);
      const all = r.chance(0.5);
      const re = /charset\s*=\s*"?([^";\s]*)"?/gi;
      let n = 0;
      const out = s.replace(re, (m) => (all || n++ === 0 ? `charset="${cs}"` : m));
      return L(out === s ? s.replace(/Content-Type:\s*text\/plain/i, `Content-Type: text/plain; charset=${cs}`) : out);
    }
    case 1: // encoded words with lying charsets
      return L(s.replace(/=\?([^?]*)\?([BbQq])\?/g, () => `=?${r.pick(CHARSETS)}?${r.pick(['B', 'Q', 'b', 'q', 'X', ''])}?`));
    case 2: { // bytes that are invalid in the declared charset, in the body
      const end = headerEnd(s);
      const at = end < 0 ? s.length : end + 4 + r.int(Math.max(1, s.length - end - 4));
      const bad = r.pick(['\xc3\x28', '\xff\xfe', '\xed\xa0\x80', '\xf8\x88\x80\x80\x80', '\x1b$B', '+AGEAYgBj-', '+///', '\xa0\xa1', '\0\0\xfe\xff']);
      return L(replaceAt(s, Math.min(at, s.length), 0, bad.repeat(1 + r.skewed(200))));
    }
    default: { // a UTF-7 / UTF-16 part whose bytes are not that
      const end = headerEnd(s);
      if (end < 0) return b;
      const cs = r.pick(['utf-7', 'utf-16', 'utf-32', 'UTF-16BE']);
      return L(`${s.slice(0, end).replace(/^Content-Type:.*$/gim, '')}${CRLF}Content-Type: text/plain; charset=${cs}${CRLF}Content-Transfer-Encoding: 8bit${s.slice(end)}${'+AHAAaQ-\xe8\x00'.repeat(r.skewed(100))}`);
    }
  }
}

function splitMessage(s) {
  const end = headerEnd(s);
  if (end < 0) return { head: s, body: '' };
  const sep = /^\r?\n\r?\n/.exec(s.slice(end))[0];
  return { head: s.slice(0, end), body: s.slice(end + sep.length) };
}

/** Deep nesting of multiparts and message/rfc822, under the original top-level headers. */
function nesting(r, b) {
  const s = S(b);
  const { head, body } = splitMessage(s);
  const keep = head.split(/\r?\n(?![ \t])/).filter((l) => !/^(content-type|content-transfer-encoding|mime-version)\s*:/i.test(l)).join(CRLF);
  const depth = 2 + r.skewed(r.chance(0.3) ? 400 : 120);
  const mode = r.int(4);
  const sameBoundary = r.chance(0.15);
  const unterminated = r.chance(0.2);
  let inner = `Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}${body.slice(0, 4096) || 'profondo'}${CRLF}`;
  for (let d = depth; d > 0; d--) {
    const rfc822 = mode === 1 || (mode === 2 && d % 2 === 0);
    if (rfc822) {
      inner = `Content-Type: message/rfc822${CRLF}${CRLF}From: a@b.it${CRLF}Subject: livello ${d}${CRLF}${inner}`;
    } else {
      const bd = sameBoundary ? 'same' : `n${d}_`;
      inner = `Content-Type: multipart/${mode === 3 ? 'alternative' : 'mixed'}; boundary="${bd}"${CRLF}${CRLF}--${bd}${CRLF}${inner}${unterminated ? '' : `--${bd}--${CRLF}`}`;
    }
  }
  return L(`${keep}${CRLF}MIME-Version: 1.0${CRLF}${inner}`);
}

/** A line of a few MB with no line break, in the body or a header. */
function hugeLine(r, b) {
  const s = S(b);
  const n = (1 + r.int(4)) * 1024 * 1024 - r.int(1024);
  const line = r.weighted([
    [3, () => 'A'.repeat(n)],
    [2, () => 'QUJD'.repeat(n >> 2)],
    [1, () => '=4'.repeat(n >> 1)], // QP escapes cut in half
    [1, () => '=?utf-8?B?w6g=?='.repeat(n >> 4)],
    [1, () => S(r.bytes(Math.min(n, 1 << 20)))],
  ])();
  if (r.chance(0.3)) {
    const end = headerEnd(s);
    return L(end < 0 ? `Subject: ${line}${CRLF}${s}` : `${s.slice(0, end)}${CRLF}${r.pick(['Subject', 'X-Long', 'References', 'From'])}: ${line}${s.slice(end)}`);
  }
  const end = headerEnd(s);
  const at = end < 0 ? s.length : end + r.int(s.length - end + 1);
  return L(replaceAt(s, at, 0, line));
}

/** Thousands of encoded words in Subject, From or To. */
function encodedWordFlood(r, b) {
  const s = S(b);
  const n = 500 + r.skewed(20_000);
  const word = () =>
    r.weighted([
      [6, () => '=?utf-8?B?w6jDoA==?='],
      [3, () => '=?iso-8859-1?Q?=E8=E0_x?='],
      [1, () => '=?utf-8?B?***?='],
      [1, () => '=?x-bogus?Q?=ZZ?='],
      [1, () => '=?utf-8?Q?unterminated'],
      [1, () => '=?utf-7?B?K0FHRUFZZ0JqLQ==?='],
      [1, () => '=??='],
    ])();
  const sep = r.pick([' ', '', CRLF + ' ', '\t']);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(word());
  const value = parts.join(sep);
  const name = r.pick(['Subject', 'From', 'To', 'Subject']);
  const header = name === 'Subject' ? `Subject: ${value}` : `${name}: ${value} <flood@comune.esempio.it>`;
  const end = headerEnd(s);
  const head = end < 0 ? s : s.slice(0, end);
  const rest = end < 0 ? CRLF + CRLF : s.slice(end);
  const replaced = head.replace(new RegExp(`^${name}:.*(\\r?\\n[ \\t].*)*$`, 'im'), () => header);
  return L((replaced === head ? `${head}${CRLF}${header}` : replaced) + rest);
}

/** Base64 and quoted-printable damage; lying transfer encodings. */
function transferDamage(r, b) {
  const s = S(b);
  switch (r.int(4)) {
    case 0: { // non-alphabet characters and bad padding inside base64 lines
      const lines = [...s.matchAll(/^[A-Za-z0-9+/]{40,}={0,2}\r?$/gm)];
      if (!lines.length) return b;
      let out = s;
      for (let k = 1 + r.skewed(20); k > 0; k--) {
        const m = r.pick(lines);
        const at = m.index + r.int(m[0].length);
        out = replaceAt(out, at, r.int(3), r.pick(['=', '==', '!', '*', '\0', '\xff', '-', '_', ' ', '=A', '\r\n']));
      }
      return L(out);
    }
    case 1: { // quoted-printable: broken escapes and soft breaks
      const bad = r.pick(['=ZZ', '=', '=\r', '=\n', '=4', '= \r\n', '=3D=', '=\r\n=\r\n']);
      const end = headerEnd(s);
      const at = end < 0 ? s.length : end + r.int(s.length - end + 1);
      return L(replaceAt(s, at, 0, bad.repeat(1 + r.skewed(500))));
    }
    case 2: { // the declared encoding is another
      const cte = r.pick(['base64', 'quoted-printable', 'x-uuencode', 'binary', '7bit', 'bogus', '', 'BASE64 ', 'base64; x=1']);
      const out = s.replace(/^Content-Transfer-Encoding:.*$/gim, () => `Content-Transfer-Encoding: ${cte}`);
      if (out !== s) return L(out);
      const end = headerEnd(s);
      return end < 0 ? b : L(`${s.slice(0, end)}${CRLF}Content-Transfer-Encoding: ${cte}${s.slice(end)}`);
    }
    default: // line endings: LF only, CR only, or mixed
      return L(r.weighted([
        [2, () => s.replace(/\r\n/g, '\n')],
        [1, () => s.replace(/\r?\n/g, '\r')],
        [1, () => s.replace(/\r?\n/g, () => r.pick(['\r\n', '\n', '\r', '\n\r']))],
      ])());
  }
}

const MAIL = [
  ...GENERIC,
  [4, 'boundary-damage', boundaryDamage],
  [4, 'header-damage', headerDamage],
  [3, 'charset-lie', charsetLie],
  [1, 'nesting', nesting],
  [0.4, 'huge-line', hugeLine],
  [0.6, 'encoded-word-flood', encodedWordFlood],
  [3, 'transfer-damage', transferDamage],
];

// ---------------------------------------------------------------------------------------------
// PDFs.

const PDF_TOKENS = ['%', '\0', ' obj ', 'endobj', 'xref', 'startxref', '%%EOF', 'trailer', '<<', '>>', '[', ']', '(', ')', '<', '>', 'stream\r\n', 'endstream', '1 0 obj', '0 0 R', '/Length 0', '\\', '/', '%PDF-1.7\n', 'xref\n0 1\n0000000000 65535 f \n', 'trailer <</Root 1 0 R /Prev 0>>'];

function pdfTokenInsert(r, b) {
  const s = S(b);
  let out = s;
  for (let k = 1 + r.skewed(10); k > 0; k--) {
    const tok = r.pick(PDF_TOKENS);
    // Beside an existing keyword half of the time: that is where parsers decide things.
    const near = r.chance(0.5) ? occurrences(out, r.pick(['obj', 'endobj', 'xref', 'trailer', 'startxref', 'stream', '/ByteRange', '/Contents', '/Fields', '/Annots', '/V '])) : [];
    const at = near.length ? r.pick(near) + r.range(-2, 8) : r.int(out.length + 1);
    out = replaceAt(out, Math.max(0, Math.min(out.length, at)), 0, tok);
  }
  return L(out);
}

const HUGE = ['99999999999999999999999', '1e400', '-2147483649', '4294967296', '0.000000000001', '--5', '9007199254740993', '-0', '2147483647', '+', '.', '1.5', '-1', '340282366920938463463374607431768211456', '0'.repeat(1000) + '1'];

function brokenLength(r, b) {
  const s = S(b);
  const all = [...s.matchAll(/\/Length\s+(\d+(?:\s+\d+\s+R)?)/g)];
  if (!all.length) return pdfTokenInsert(r, b);
  let out = s;
  for (const m of r.chance(0.3) ? all : [r.pick(all)]) {
    const v = r.pick([...HUGE, '0', '99 0 R', '1 0 R', '', '/Length', String(Number(m[1].split(/\s/)[0]) + r.range(-20, 20))]);
    out = out.replace(m[0], `/Length ${v}`);
  }
  return L(out);
}

/** The last incremental update (or the whole file) appended again, once or several times. */
function duplicateUpdate(r, b) {
  const s = S(b);
  const eofs = occurrences(s, '%%EOF');
  const from = r.chance(0.2) || eofs.length < 2 ? 0 : eofs[eofs.length - 2] + 5;
  const tail = s.slice(from);
  const times = 1 + r.skewed(6);
  let extra = '';
  for (let i = 0; i < times; i++) extra += r.chance(0.3) ? tail.replace(/startxref\s+\d+/, `startxref\n${r.int(s.length * 2)}`) : tail;
  return L(s + (r.chance(0.5) ? '\n' : '') + extra);
}

function hugeNumbers(r, b) {
  const s = S(b);
  const keys = ['/ByteRange', '/Size', '/Prev', '/W', '/Count', '/Index', '/N', '/First', '/P', '/Length', 'startxref', '/Rect', '/MaxLen', '/Ff', '/Opt'];
  let out = s;
  for (let k = 1 + r.skewed(6); k > 0; k--) {
    const key = r.pick(keys);
    const at = occurrences(out, key);
    if (at.length) {
      const i = r.pick(at) + key.length;
      const m = /^[\s\[]*(-?\d+(\.\d+)?)/.exec(out.slice(i, i + 40));
      if (m) {
        const numAt = i + m[0].length - m[1].length;
        out = replaceAt(out, numAt, m[1].length, r.pick(HUGE));
        continue;
      }
    }
    // Else any number token, or an xref entry's offset.
    const nums = [...out.slice(0, 200_000).matchAll(/(?<![\d.])\d{1,10}(?![\d.])/g)];
    if (!nums.length) break;
    const m = r.pick(nums);
    out = replaceAt(out, m.index, m[0].length, r.pick(HUGE));
  }
  return L(out);
}

/** The xref table or startxref pointing elsewhere. */
function xrefDamage(r, b) {
  const s = S(b);
  const entries = [...s.matchAll(/^(\d{10}) (\d{5}) ([nf])/gm)];
  if (entries.length && r.chance(0.6)) {
    let out = s;
    for (let k = 1 + r.skewed(10); k > 0; k--) {
      const m = r.pick(entries);
      const repl = `${String(r.chance(0.5) ? r.int(s.length + 100) : r.int(1e10)).padStart(10, '0')} ${String(r.int(3)).padStart(5, '0')} ${r.pick(['n', 'f', 'x'])}`;
      out = replaceAt(out, m.index, m[0].length, repl);
    }
    return L(out);
  }
  return L(s.replace(/startxref\s+\d+/g, (m) => (r.chance(0.7) ? `startxref\n${r.pick([r.int(s.length), 0, s.length, -1, 99999999999])}` : m)));
}

const PDF = [
  ...GENERIC,
  [4, 'pdf-token-insert', pdfTokenInsert],
  [2, 'broken-length', brokenLength],
  [2, 'duplicate-update', duplicateUpdate],
  [2, 'huge-numbers', hugeNumbers],
  [2, 'xref-damage', xrefDamage],
];

// ---------------------------------------------------------------------------------------------
// CMS / DER (.p7m): lengths and tags, and the text forms (base64, PEM) around them.

function derLengthDamage(r, b) {
  if (b.length < 4) return bitFlips(r, b);
  const out = Buffer.from(b);
  for (let k = 1 + r.skewed(6); k > 0; k--) {
    // Find a plausible TLV: a constructed tag (0x30/0x31/0xa0..0xa3) followed by a length.
    let i = r.int(out.length - 2);
    for (let tries = 0; tries < 200 && ![0x30, 0x31, 0xa0, 0xa1, 0xa2, 0xa3, 0x04, 0x06, 0x02].includes(out[i]); tries++) i = r.int(out.length - 2);
    const choice = r.int(6);
    if (choice === 0) out[i + 1] = 0x80; // indefinite length without end-of-contents
    else if (choice === 1) out[i + 1] = 0x84; // long form, length taken from the bytes that follow
    else if (choice === 2) out[i + 1] = 0xff; // reserved
    else if (choice === 3) out[i + 1] = (out[i + 1] + r.range(-3, 3)) & 0xff;
    else if (choice === 4) out[i] = r.pick([0x05, 0x17, 0x18, 0x1f, 0x3f, 0x00, 0xbf, 0x9f]); // other or multi-byte tag
    else {
      // A long-form length turned huge.
      if (out[i + 1] >= 0x81 && out[i + 1] <= 0x84) for (let j = 0; j < (out[i + 1] & 0x7f) && i + 2 + j < out.length; j++) out[i + 2 + j] = 0xff;
    }
  }
  return out;
}

/** Re-wrap as base64 or PEM (both read by verify), with damage of its own sometimes. */
function textForm(r, b) {
  const b64 = b.toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [''];
  let text = r.chance(0.5) ? `-----BEGIN PKCS7-----\n${lines.join('\n')}\n-----END PKCS7-----\n` : lines.join('\r\n');
  if (r.chance(0.5)) text = replaceAt(text, r.int(text.length + 1), r.int(8), r.pick(['!', '=', '====', '\0', '-----END PKCS7-----', '\xe8', ' ']));
  if (r.chance(0.2)) text = Buffer.from(text).toString('base64'); // twice
  return L(text);
}

const P7M = [
  ...GENERIC,
  [4, 'der-length-damage', derLengthDamage],
  [1, 'text-form', textForm],
  // The PDF inside a .p7m reaches the form readers (extract) whatever the DER around it.
  [2, 'pdf-token-insert', pdfTokenInsert],
  [1, 'huge-numbers', hugeNumbers],
  [1, 'broken-length', brokenLength],
];

export const MUTATORS = { eml: MAIL, pdf: PDF, p7m: P7M };

/**
 * One input from a seed: 1–4 mutations of the seed's kind. Returns the bytes and the names of
 * the mutations applied (for the log line of an input that broke something).
 */
export function mutate(r, kind, seed) {
  const table = MUTATORS[kind];
  let b = Buffer.from(seed);
  const ops = [];
  const n = 1 + r.skewed(4);
  for (let i = 0; i < n; i++) {
    const [, name, fn] = r.weighted(table.map((e) => [e[0], e]));
    b = fn(r, b);
    ops.push(name);
    // Cap the size: a flood on a huge line on a duplicated tail would only measure memcpy.
    if (b.length > 8 * 1024 * 1024) b = b.subarray(0, 8 * 1024 * 1024);
  }
  return { bytes: b, ops };
}
