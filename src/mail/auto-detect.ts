// Recognising machine-generated mail (RFC 3834 and the headers real autoresponders use) and the
// senders the desk must never answer (SPEC §5). One concern per function; all pure.
import { header, headerAll, type ParsedMessage } from './parse.js';

const AUTO_REPLY_SUBJECT =
  /^(risposta automatica|automatic reply|auto(matic)?[ -]?reply|autoreply|out of (the )?office|fuori sede|abwesenheitsnotiz|r[ée]ponse automatique|auto)\s*:/i;

/** An autoresponder's answer (vacation notice, "risposta automatica"). */
export function isAutoReply(msg: ParsedMessage): boolean {
  const autoSubmitted = (header(msg, 'auto-submitted') ?? '').toLowerCase().split(';')[0]!.trim();
  if (autoSubmitted === 'auto-replied') return true;
  if (header(msg, 'x-autoreply') !== undefined || header(msg, 'x-autorespond') !== undefined) return true;
  if ((header(msg, 'precedence') ?? '').toLowerCase() === 'auto_reply') return true;
  return AUTO_REPLY_SUBJECT.test(msg.subject);
}

const BOUNCE_SENDER = /^(mailer-daemon|postmaster)@/i;
const BOUNCE_SUBJECT =
  /(undeliver|delivery status notification|delivery failure|mail delivery failed|returned mail|failure notice|non recapitabil|mancata consegna|impossibile recapitare)/i;

/** A delivery status notification (bounce) rather than a person writing. */
export function isBounce(msg: ParsedMessage): boolean {
  if (/multipart\/report/.test(msg.contentType) && /report-type\s*=\s*"?delivery-status/i.test(header(msg, 'content-type') ?? '')) {
    return true;
  }
  const sender = msg.from?.address ?? '';
  if (BOUNCE_SENDER.test(sender) && BOUNCE_SUBJECT.test(msg.subject)) return true;
  return nullReturnPath(msg) && BOUNCE_SUBJECT.test(msg.subject);
}

export function nullReturnPath(msg: ParsedMessage): boolean {
  return headerAll(msg, 'return-path').some((v) => v.replace(/\s/g, '') === '<>');
}

/** Message-IDs of our own messages that a bounce reports on (from its returned headers). */
export function bouncedMessageIds(msg: ParsedMessage): string[] {
  const ids = new Set<string>([...msg.inReplyTo, ...msg.references]);
  for (const a of msg.attachments) {
    if (!/rfc822|delivery-status|text\/plain/.test(a.contentType) || a.size > 1024 * 1024) continue;
    for (const m of a.content.toString('latin1').matchAll(/^message-id:\s*(<[^<>\s]+>)/gim)) ids.add(m[1]!);
  }
  for (const m of msg.text.matchAll(/^message-id:\s*(<[^<>\s]+>)/gim)) ids.add(m[1]!);
  return [...ids];
}

/** The final status line of a DSN, for the operator ("5.1.1 ..."), if any. */
export function bounceDiagnostic(msg: ParsedMessage): string | null {
  for (const a of msg.attachments) {
    if (!/delivery-status/.test(a.contentType)) continue;
    const text = a.content.toString('latin1');
    const status = /^status:\s*(.+)$/im.exec(text)?.[1]?.trim();
    const diag = /^diagnostic-code:\s*(.+)$/im.exec(text)?.[1]?.trim();
    const rcpt = /^final-recipient:\s*(?:rfc822;)?\s*(.+)$/im.exec(text)?.[1]?.trim();
    return [rcpt, status, diag].filter(Boolean).join(' ') || null;
  }
  return null;
}

const NO_REPLY_SENDER = /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|non-?rispondere|posta-certificata)([+.\-_][^@]*)?@/i;

/**
 * Why the desk must not answer this message automatically (SPEC §5), or null when it may.
 * `deskAddresses` are the desk's own mailboxes: answering them would loop. `replyTo` is where
 * the reply would go (for PEC: the certified sender), by default the From address.
 */
export function neverReplyReason(msg: ParsedMessage, deskAddresses: string[], replyTo = msg.from?.address): string | null {
  const autoSubmitted = (header(msg, 'auto-submitted') ?? '').toLowerCase().split(';')[0]!.trim();
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  const precedence = (header(msg, 'precedence') ?? '').toLowerCase().trim();
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`;
  for (const h of ['list-id', 'list-unsubscribe', 'x-autoreply', 'x-autorespond']) {
    if (header(msg, h) !== undefined) return `${h} header present`;
  }
  if (nullReturnPath(msg)) return 'null return path <>';
  const sender = replyTo;
  if (!sender) return 'no sender address';
  if (NO_REPLY_SENDER.test(sender)) return `automated sender ${sender}`;
  if (deskAddresses.includes(sender)) return `sender is the desk's own address ${sender}`;
  return null;
}
