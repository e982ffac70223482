// Italian codice fiscale: the 16-character personal code (with omocodia) and the 11-digit
// numeric code of organisations. Pure check-character validation.
const ODD: Record<string, number> = {
  0: 1, 1: 0, 2: 5, 3: 7, 4: 9, 5: 13, 6: 15, 7: 17, 8: 19, 9: 21,
  A: 1, B: 0, C: 5, D: 7, E: 9, F: 13, G: 15, H: 17, I: 19, J: 21, K: 2, L: 4, M: 18,
  N: 20, O: 11, P: 3, Q: 6, R: 8, S: 12, T: 14, U: 16, V: 10, W: 22, X: 25, Y: 24, Z: 23,
};

function evenValue(ch: string): number {
  return /\d/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 65;
}

/** The check character of the first 15 characters of a personal codice fiscale. */
export function personalCheckChar(first15: string): string {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const ch = first15[i]!;
    // Positions are counted from 1: odd positions are the even indexes.
    sum += i % 2 === 0 ? ODD[ch]! : evenValue(ch);
  }
  return String.fromCharCode(65 + (sum % 26));
}

// Omocodia replaces digits with these letters in the numeric positions.
const PERSONAL = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;

export function isValidPersonalFiscalCode(code: string): boolean {
  const c = code.trim().toUpperCase();
  return PERSONAL.test(c) && personalCheckChar(c.slice(0, 15)) === c[15];
}

/** 11-digit codice fiscale / partita IVA of organisations (Luhn-like check digit). */
export function isValidNumericFiscalCode(code: string): boolean {
  const c = code.trim();
  if (!/^\d{11}$/.test(c)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    let d = Number(c[i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10 === Number(c[10]);
}
