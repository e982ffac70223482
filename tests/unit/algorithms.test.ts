// The algorithm policy (ETSI TS 119 312 / TS 102 176-1 dates): pure function of the algorithm and
// the time the signature provably existed.
import { describe, expect, it } from 'vitest';
import { algorithmFindings } from '../../src/signature/algorithms.js';

const at = (iso: string) => new Date(iso);
const rsa = (bits: number, digest = 'sha256') => ({ digest, keyType: 'rsa', keyBits: bits });

describe('algorithmFindings', () => {
  it('MD5 is broken whenever the signature was made', () => {
    expect(algorithmFindings(rsa(2048, 'md5'), at('2005-01-01T00:00:00Z')).map((f) => f.severity)).toEqual(['broken']);
  });
  it('SHA-1 is weak for signatures after 2009, fine before (a timestamp of 2009 proves it)', () => {
    expect(algorithmFindings(rsa(2048, 'sha1'), at('2009-12-31T23:59:59Z'))).toEqual([]);
    expect(algorithmFindings(rsa(2048, 'sha1'), at('2010-01-01T00:00:00Z')).map((f) => f.severity)).toEqual(['weak']);
  });
  it('RSA below 2048 bits is weak after 2010, below 1024 broken; 2048 and up fine', () => {
    expect(algorithmFindings(rsa(1024), at('2010-06-01T00:00:00Z'))).toEqual([]);
    expect(algorithmFindings(rsa(1024), at('2026-06-01T00:00:00Z')).map((f) => f.severity)).toEqual(['weak']);
    expect(algorithmFindings(rsa(512), at('2000-01-01T00:00:00Z')).map((f) => f.severity)).toEqual(['broken']);
    expect(algorithmFindings(rsa(2048), at('2026-06-01T00:00:00Z'))).toEqual([]);
    expect(algorithmFindings({ digest: 'sha256', keyType: 'ec', keyBits: 256 }, at('2026-06-01T00:00:00Z'))).toEqual([]);
    expect(algorithmFindings({ digest: 'sha256', keyType: 'ec', keyBits: 192 }, at('2026-06-01T00:00:00Z')).map((f) => f.severity)).toEqual(['weak']);
  });
});
