// Help Desk PINs: generated at random, shown once (in the countersign PEC), stored only as
// scrypt hashes; verification is constant-time.
import { randomInt, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

export function generatePin(digits = 6): string {
  return Array.from({ length: digits }, () => String(randomInt(10))).join('');
}

export function hashPin(pin: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(pin, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPin(pin: string, stored: string): boolean {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(pin, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected);
}

/** "PIN: 123456", "pin 1035", "PIN=5035": the codes written in a message body. */
const PIN_IN_TEXT = /\bPIN\b[^\S\r\n]*(?:[:=.-]|n\.?|numero)?[^\S\r\n]*(\d{4,10})\b/gi;

export function pinsInText(text: string): string[] {
  return [...new Set([...text.matchAll(PIN_IN_TEXT)].map((m) => m[1]!))];
}

/** The text with every PIN replaced, so that no PIN is stored or logged in clear. */
export function redactPins(text: string): string {
  return text.replace(PIN_IN_TEXT, (m, pin: string) => m.slice(0, m.length - pin.length) + '*'.repeat(pin.length));
}
