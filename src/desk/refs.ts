// Ticket and order references. Pure.
export const TICKET_REF = /\bHD-(\d{4})-(\d{6})\b/;

export function formatTicketRef(year: number, n: number): string {
  return `HD-${year}-${String(n).padStart(6, '0')}`;
}

export function formatOrderRef(year: number, n: number): string {
  return `PF-${year}-${String(n).padStart(4, '0')}`;
}

/** Every ticket reference quoted in a subject, in order. */
export function ticketRefsInSubject(subject: string): string[] {
  return [...subject.matchAll(new RegExp(TICKET_REF, 'g'))].map((m) => m[0]);
}

/** `Re: <subject> [HD-…]` without piling up Re: prefixes or repeating the reference. */
export function replySubject(original: string, ref: string): string {
  let s = original.trim();
  while (/^(re|r|aw|sv|rif)\s*:\s*/i.test(s)) s = s.replace(/^(re|r|aw|sv|rif)\s*:\s*/i, '');
  s = s.replace(new RegExp(`\\s*\\[${ref}\\]`, 'g'), '').trim();
  return `Re: ${s || '(senza oggetto)'} [${ref}]`;
}
