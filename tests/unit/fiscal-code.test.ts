import { describe, expect, it } from 'vitest';
import { isValidNumericFiscalCode, isValidPersonalFiscalCode, personalCheckChar } from '../../src/desk/fiscal-code.js';
import { fiscalCodeFromSerialNumber } from '../../src/signature/x509.js';

describe('codice fiscale', () => {
  it('computes the check character of personal codes', () => {
    expect(personalCheckChar('RSSMRA80A01H501')).toBe('U'); // the textbook example
    expect(isValidPersonalFiscalCode('RSSMRA80A01H501U')).toBe(true);
    expect(isValidPersonalFiscalCode('rssmra80a01h501u')).toBe(true);
    expect(isValidPersonalFiscalCode('RSSMRA80A01H501X')).toBe(false);
    expect(isValidPersonalFiscalCode('RSSMRA80A01H501')).toBe(false);
  });
  it('accepts omocodia letters in the numeric positions', () => {
    const base = 'RSSMRA80A01H50'; // replace the last digit of the place code: 1 → M
    const code = `${base}M`;
    expect(isValidPersonalFiscalCode(`${code}${personalCheckChar(code)}`)).toBe(true);
    expect(isValidPersonalFiscalCode(`RSSMRA8ZA01H501U`)).toBe(false); // Z is not an omocodia letter
  });
  it('validates 11-digit numeric codes', () => {
    expect(isValidNumericFiscalCode('00488410010')).toBe(true); // a real partita IVA shape (check digit 0)
    expect(isValidNumericFiscalCode('00488410011')).toBe(false);
    expect(isValidNumericFiscalCode('0048841001')).toBe(false);
  });
});

describe('the fiscal code in a signer certificate', () => {
  it('is read from every serialNumber form Italian CAs have used, never from an identity-document number', () => {
    const cf = 'RSSNNA80A41H501L';
    expect(isValidPersonalFiscalCode(cf)).toBe(true);
    for (const sn of [`TINIT-${cf}`, `IT:${cf}`, `it:${cf.toLowerCase()}`, `TIN:IT-${cf}`, `TINIT:${cf}`, ` IT: ${cf} `, cf]) {
      expect(fiscalCodeFromSerialNumber(sn), sn).toBe(cf);
    }
    for (const sn of [`IDCIT-${cf}`, `PASIT-YA1234567`, 'IT:12345', `${cf.slice(0, 15)}X`, '', null, 'VATIT-01234567890']) {
      expect(fiscalCodeFromSerialNumber(sn), String(sn)).toBeNull();
    }
  });
});
