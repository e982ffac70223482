// Sender verification for ordinary e-mail (SPEC §3, level `dmarc-pass`) from the
// Authentication-Results header (RFC 8601) written by our own, trusted MX.
//
// Trust model: our MX prepends its Authentication-Results at the top of the header block;
// anything below it may have been written by the sender. So only the FIRST
// Authentication-Results header is ever read, and only if its authserv-id is one we trust.
// A trusted-looking header lower down is ignored even when the topmost is untrusted.

export interface AuthResultsVerdict {
  level: 'dmarc-pass' | 'unverified';
  reason: string;
}

export interface AuthResult {
  method: string; // lower-case, without a "/version" suffix
  result: string; // lower-case
  props: Record<string, string>; // keys lower-case ("header.d", "smtp.mailfrom", "reason", …)
}

/** Remove RFC 5322 comments (nested, with \-escapes), leaving quoted strings untouched. */
function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? '');
      i++;
    } else if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '"') {
      quoted = !quoted;
      out += c;
    } else if (c === '(' && !quoted) {
      depth = 1;
      out += ' '; // a comment separates tokens like whitespace does
    } else out += c;
  }
  return out;
}

/** Split on a separator outside quoted strings. */
function splitUnquoted(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && quoted) {
      cur += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/** Lex one comment-free segment into words, "=" and (unquoted) quoted strings. */
function lex(seg: string): string[] {
  const tokens: string[] = [];
  const word = /\s*(?:(=)|"((?:[^"\\]|\\.)*)"|([^\s="]+))/y;
  // A value right after "=" may itself contain "=" (e.g. base64 in header.b=…).
  const value = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))/y;
  let pos = 0;
  while (pos < seg.length) {
    const re = tokens.at(-1) === '=' ? value : word;
    re.lastIndex = pos;
    const m = re.exec(seg);
    if (!m || m[0] === '') break; // only trailing whitespace (or a lone quote) left
    pos = re.lastIndex;
    if (re === word && m[1] !== undefined) tokens.push('=');
    else {
      const quoted = re === word ? m[2] : m[1];
      tokens.push(quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : m[re === word ? 3 : 2]!);
    }
  }
  return tokens;
}

/** key=value pairs of a resinfo, in order. */
function pairs(tokens: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < tokens.length; ) {
    if (tokens[i] !== '=' && tokens[i + 1] === '=' && tokens[i + 2] !== undefined) {
      out.push([tokens[i]!, tokens[i + 2]!]);
      i += 3;
    } else i++; // skip junk (a stray word) rather than give up on the whole header
  }
  return out;
}

export function parseAuthenticationResults(value: string): { authservId: string; results: AuthResult[] } {
  const [head = '', ...resinfos] = splitUnquoted(stripComments(value), ';');
  // authserv-id [version]: the version is a number we don't need.
  const authservId = (lex(head)[0] ?? '').toLowerCase();
  const results: AuthResult[] = [];
  for (const seg of resinfos) {
    const kv = pairs(lex(seg));
    const [methodspec, ...rest] = kv;
    if (!methodspec) continue; // "none" (no result) or an empty trailing ";"
    const props: Record<string, string> = {};
    for (const [k, v] of rest) props[k.toLowerCase()] ??= v;
    results.push({ method: methodspec[0].toLowerCase().replace(/\/.*$/, ''), result: methodspec[1].toLowerCase(), props });
  }
  return { authservId, results };
}

/** Domain part of an address or a bare domain ("@sub.example.it", "a@b.it", "b.it."). */
function domainOf(s: string): string {
  return s.slice(s.lastIndexOf('@') + 1).trim().replace(/[>.]+$/, '').toLowerCase();
}

// Without a Public Suffix List (not a dependency here) the organisational domain is
// approximated: the last two labels, or three for "<name>.co.uk"-style registrations
// (second-to-last label a common generic SLD, last label a 2-letter ccTLD).
// Known looseness: PSL entries such as Italian geographic SLDs ("roma.it", "mi.it") are treated
// as organisations, so "a.roma.it" and "b.roma.it" align. A trusted MX's own dmarc=pass uses a
// real PSL; this approximation only matters for the dkim=pass fallback.
const GENERIC_SLD = new Set(['co', 'com', 'gov', 'edu', 'ac', 'org', 'net']);
function orgDomain(domain: string): string {
  const labels = domain.split('.');
  const n = labels.length >= 3 && labels.at(-1)!.length === 2 && GENERIC_SLD.has(labels.at(-2)!) ? 3 : 2;
  return labels.slice(-n).join('.');
}

/** DMARC relaxed alignment: same organisational domain. */
function aligned(a: string, b: string): boolean {
  return a !== '' && b !== '' && orgDomain(a) === orgDomain(b);
}

export function verifyAuthenticationResults(
  headers: Array<{ key: string; value: string }>,
  fromAddress: string,
  trustedAuthservIds: string[],
): AuthResultsVerdict {
  const unverified = (reason: string): AuthResultsVerdict => ({ level: 'unverified', reason });
  const top = headers.find((h) => h.key.toLowerCase() === 'authentication-results');
  if (!top) return unverified('no Authentication-Results');

  const { authservId, results } = parseAuthenticationResults(top.value);
  const trusted = new Set(trustedAuthservIds.map((t) => t.trim().toLowerCase()));
  if (!trusted.has(authservId)) return unverified(`topmost Authentication-Results from untrusted authserv-id ${authservId || '(none)'}`);

  const from = fromAddress.includes('@') ? domainOf(fromAddress) : '';
  if (!from) return unverified('no From domain');

  let why: string | null = null; // the most telling reason for a non-pass
  for (const r of results) {
    if (r.method !== 'dmarc' || r.result !== 'pass') continue;
    // The MX evaluated DMARC for some From domain: make sure it is the one we were given.
    const hf = r.props['header.from'];
    if (hf === undefined || domainOf(hf) === from) return { level: 'dmarc-pass', reason: `dmarc=pass by ${authservId}` };
    why ??= `dmarc=pass for ${domainOf(hf)} is not for ${from}`;
  }
  for (const r of results) {
    if (r.method !== 'dkim' || r.result !== 'pass') continue;
    // header.d is the signing domain; header.i (an identity within it) only when d is absent.
    const signer = r.props['header.d'] ?? r.props['header.i'];
    const d = signer === undefined ? '' : domainOf(signer);
    if (aligned(d, from)) return { level: 'dmarc-pass', reason: `dkim=pass for ${d} aligned with ${from} by ${authservId}` };
    why ??= d ? `dkim=pass for ${d} not aligned with ${from}` : 'dkim=pass without header.d';
  }
  const dmarc = results.find((r) => r.method === 'dmarc');
  return unverified(why ?? (dmarc ? `dmarc=${dmarc.result} by ${authservId}` : `no dmarc or dkim pass from ${authservId}`));
}
