// Authentication-Results (RFC 8601) parsing and the SPEC §3 `dmarc-pass` verdict:
// only the topmost header, only from a trusted authserv-id.
import { describe, expect, it } from 'vitest';
import { parseAuthenticationResults, verifyAuthenticationResults } from '../../src/mail/auth-results.js';

const TRUSTED = ['mx.desk.example.it'];
const FROM = 'anna.rossi@comune.example.it';
const ar = (value: string) => ({ key: 'authentication-results', value });
const hdr = (key: string, value: string) => ({ key, value });
const verify = (headers: Array<{ key: string; value: string }>, from = FROM, trusted = TRUSTED) =>
  verifyAuthenticationResults(headers, from, trusted);

describe('parseAuthenticationResults', () => {
  it('parses authserv-id, methods, reason and properties', () => {
    const r = parseAuthenticationResults(
      'mx.desk.example.it;\r\n\tspf=pass (sender SPF authorized) smtp.mailfrom=anna@comune.example.it;\r\n' +
        '\tdkim=pass (2048-bit key; secure) header.d=comune.example.it header.i=@comune.example.it header.b="Ab+/Cd=";\r\n' +
        '\tdmarc=pass (p=reject dis=none) header.from=comune.example.it; auth=none reason="no SMTP AUTH; plain"',
    );
    expect(r.authservId).toBe('mx.desk.example.it');
    expect(r.results).toEqual([
      { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'anna@comune.example.it' } },
      { method: 'dkim', result: 'pass', props: { 'header.d': 'comune.example.it', 'header.i': '@comune.example.it', 'header.b': 'Ab+/Cd=' } },
      { method: 'dmarc', result: 'pass', props: { 'header.from': 'comune.example.it' } },
      { method: 'auth', result: 'none', props: { reason: 'no SMTP AUTH; plain' } },
    ]);
  });

  it('accepts an authserv-id with a version, "none", and odd spacing / case', () => {
    expect(parseAuthenticationResults('mx.desk.it 1; none')).toEqual({ authservId: 'mx.desk.it', results: [] });
    const r = parseAuthenticationResults(' MX.Desk.IT 1 ; DKIM = PASS Header.D = Example.IT ;');
    expect(r.authservId).toBe('mx.desk.it');
    expect(r.results).toEqual([{ method: 'dkim', result: 'pass', props: { 'header.d': 'Example.IT' } }]);
  });

  it('keeps unquoted "=" inside a value (base64 header.b)', () => {
    expect(parseAuthenticationResults('a; dkim=pass header.b=xY/+ab== header.d=b.it').results[0]!.props).toEqual({
      'header.b': 'xY/+ab==',
      'header.d': 'b.it',
    });
  });

  it('ignores what is inside comments, even nested, with ";" and "="', () => {
    const r = parseAuthenticationResults('mx.desk.example.it (ours; dmarc=pass); dmarc=fail (p=none (nested; dmarc=pass) dis=none) header.from=x.it');
    expect(r.authservId).toBe('mx.desk.example.it');
    expect(r.results).toEqual([{ method: 'dmarc', result: 'fail', props: { 'header.from': 'x.it' } }]);
  });

  it('keeps parentheses and semicolons inside quoted strings', () => {
    const r = parseAuthenticationResults('a; spf=fail reason="not (really); x=y" smtp.mailfrom=a@b.it');
    expect(r.results).toEqual([{ method: 'spf', result: 'fail', props: { reason: 'not (really); x=y', 'smtp.mailfrom': 'a@b.it' } }]);
  });
});

describe('verifyAuthenticationResults', () => {
  it('trusts dmarc=pass from a trusted authserv-id', () => {
    const v = verify([hdr('received', 'from x by mx'), ar('mx.desk.example.it; spf=pass smtp.mailfrom=comune.example.it; dmarc=pass (p=reject) header.from=comune.example.it')]);
    expect(v).toEqual({ level: 'dmarc-pass', reason: 'dmarc=pass by mx.desk.example.it' });
  });

  it('accepts dmarc=pass without header.from', () => {
    expect(verify([ar('mx.desk.example.it; dmarc=pass')]).level).toBe('dmarc-pass');
  });

  it('rejects dmarc=pass evaluated for another From domain', () => {
    const v = verify([ar('mx.desk.example.it; dmarc=pass header.from=other.example')]);
    expect(v.level).toBe('unverified');
    expect(v.reason).toBe('dmarc=pass for other.example is not for comune.example.it');
  });

  it('accepts dkim=pass with header.d the parent of a subdomain From (relaxed alignment)', () => {
    const v = verify([ar('mx.desk.example.it; dkim=pass header.d=example.it; dmarc=none')], 'ufficio@protocollo.comune.example.it');
    expect(v).toEqual({ level: 'dmarc-pass', reason: 'dkim=pass for example.it aligned with protocollo.comune.example.it by mx.desk.example.it' });
  });

  it('accepts dkim=pass identified only by header.i=@sub.domain', () => {
    const v = verify([ar('mx.desk.example.it; dkim=pass header.i=@posta.comune.example.it')]);
    expect(v.level).toBe('dmarc-pass');
    expect(verify([ar('mx.desk.example.it; dkim=pass header.i=anna@comune.example.it')]).level).toBe('dmarc-pass');
  });

  it('handles three-label organisational domains (co.uk style)', () => {
    expect(verify([ar('mx.desk.example.it; dkim=pass header.d=council.gov.uk')], 'a@mail.council.gov.uk').level).toBe('dmarc-pass');
    expect(verify([ar('mx.desk.example.it; dkim=pass header.d=evil.gov.uk')], 'a@council.gov.uk').level).toBe('unverified');
  });

  it('does not accept dkim=pass for a domain not aligned with From', () => {
    const v = verify([ar('mx.desk.example.it; dkim=pass header.d=other.example; dmarc=fail header.from=comune.example.it')]);
    expect(v).toEqual({ level: 'unverified', reason: 'dkim=pass for other.example not aligned with comune.example.it' });
  });

  it('accepts a second, aligned dkim signature after an unaligned one', () => {
    const v = verify([ar('mx.desk.example.it; dkim=pass header.d=esp.example; dkim=pass header.d=comune.example.it')]);
    expect(v.level).toBe('dmarc-pass');
  });

  it('rejects dmarc=fail and dkim=fail', () => {
    expect(verify([ar('mx.desk.example.it; dkim=fail header.d=comune.example.it; dmarc=fail (p=reject) header.from=comune.example.it')])).toEqual({
      level: 'unverified',
      reason: 'dmarc=fail by mx.desk.example.it',
    });
    expect(verify([ar('mx.desk.example.it; spf=pass smtp.mailfrom=comune.example.it')]).reason).toBe('no dmarc or dkim pass from mx.desk.example.it');
  });

  it('ignores a forged pass placed below the trusted topmost header', () => {
    const forged = ar('mx.desk.example.it; dmarc=pass header.from=comune.example.it; dkim=pass header.d=comune.example.it');
    expect(verify([ar('mx.desk.example.it; dmarc=fail header.from=comune.example.it'), hdr('received', 'from evil'), forged]).level).toBe('unverified');
    expect(verify([ar('mx.desk.example.it; none'), forged]).level).toBe('unverified');
  });

  it('is unverified when the topmost header is untrusted, even if a lower one is trusted', () => {
    const v = verify([ar('evil.example; dmarc=fail'), ar('mx.desk.example.it; dmarc=pass header.from=comune.example.it')]);
    expect(v).toEqual({ level: 'unverified', reason: 'topmost Authentication-Results from untrusted authserv-id evil.example' });
  });

  it('never trusts a pass from an untrusted authserv-id', () => {
    const v = verify([ar('evil.example; dmarc=pass header.from=comune.example.it')]);
    expect(v).toEqual({ level: 'unverified', reason: 'topmost Authentication-Results from untrusted authserv-id evil.example' });
    expect(verify([ar('mx.desk.example.it; dmarc=pass')], FROM, []).level).toBe('unverified');
  });

  it('is unverified without any Authentication-Results header', () => {
    expect(verify([hdr('received', 'from a by b'), hdr('dkim-signature', 'v=1; d=comune.example.it')])).toEqual({
      level: 'unverified',
      reason: 'no Authentication-Results',
    });
    expect(verify([])).toEqual({ level: 'unverified', reason: 'no Authentication-Results' });
  });

  it('does not count dmarc=pass written inside a comment', () => {
    const v = verify([ar('mx.desk.example.it; dmarc=fail (dmarc=pass; dkim=pass header.d=comune.example.it) header.from=comune.example.it')]);
    expect(v).toEqual({ level: 'unverified', reason: 'dmarc=fail by mx.desk.example.it' });
    expect(verify([ar('mx.desk.example.it (dmarc=pass); spf=pass')]).level).toBe('unverified');
  });

  it('is case-insensitive for header names, authserv-id, methods, results and domains', () => {
    const v = verifyAuthenticationResults(
      [{ key: 'Authentication-Results', value: 'MX.DESK.Example.IT; DMARC=Pass Header.From=Comune.Example.IT' }],
      'Anna.Rossi@COMUNE.example.it',
      ['mx.desk.EXAMPLE.it'],
    );
    expect(v.level).toBe('dmarc-pass');
  });

  it('reads an authserv-id followed by a version number', () => {
    const v = verify([ar('mx.desk.it 1; dmarc=pass header.from=comune.example.it')], FROM, ['mx.desk.it']);
    expect(v).toEqual({ level: 'dmarc-pass', reason: 'dmarc=pass by mx.desk.it' });
  });

  it('is unverified for a From without a domain', () => {
    expect(verify([ar('mx.desk.example.it; dmarc=pass')], 'nobody').reason).toBe('no From domain');
  });
});
