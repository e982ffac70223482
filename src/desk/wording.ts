// Matching Italian wording the way an operator reads it: case- and accent-insensitive, on
// whole words, `*` closing a word stem ("bloccat*"), several words a phrase ("tutti gli utenti").
// Pure. Rule tables in config (categories, priority) are written in these terms.

/** Lower-case, accents removed, anything but letters and digits turned into single spaces. */
export function normalizeWording(text: string): string {
  return ` ${text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()} `;
}

export interface Term {
  /** As written in the rule table, for reasons ("bloccat*"). */
  source: string;
  /**
   * What normalised text contains when the term is there: padded with spaces, a word starts
   * after a space and, unless it is a stem, ends before one. A plain substring — matched with
   * includes(), several times faster than a regular expression over a whole body.
   */
  needle: string;
}

export function compileTerm(source: string): Term {
  const stem = source.trim().endsWith('*');
  const words = normalizeWording(source.replace(/\*\s*$/, '')).trim();
  if (!words) throw new Error(`empty term ${JSON.stringify(source)}`);
  return { source: source.trim(), needle: ` ${words}${stem ? '' : ' '}` };
}

/** The first term of `terms` found in normalised text, or null. */
export function firstMatch(normalized: string, terms: readonly Term[]): Term | null {
  return terms.find((t) => normalized.includes(t.needle)) ?? null;
}

/**
 * The request's own words: the subject and the body without quoted lines ("> …") and without
 * what follows a reply header ("Il giorno … ha scritto:"), so that a follow-up quoting our
 * acknowledgement is judged on what the person wrote.
 */
export function requestWording(subject: string, body: string, maxBody = 8000): string {
  const lines: string[] = [];
  for (const line of body.split(/\r?\n/)) {
    if (/^\s*>/.test(line)) continue;
    if (/^\s*(il giorno .* ha scritto|on .* wrote|-----\s*(original message|messaggio originale))/i.test(line)) break;
    lines.push(line);
  }
  return normalizeWording(`${subject}\n${lines.join('\n').slice(0, maxBody)}`);
}
