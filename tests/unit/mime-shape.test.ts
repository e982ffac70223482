// The MIME limits' counter: every body part at every level, nested messages included, and the
// deepest multipart nesting — read from boundary lines, without parsing.
import { describe, expect, it } from 'vitest';
import { mimeShape } from '../../src/mail/parse.js';

const msg = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'));

describe('mimeShape', () => {
  it('a plain message has no parts', () => {
    expect(mimeShape(msg('From: a@b.it\nSubject: x\n\nciao\n'))).toEqual({ parts: 0, depth: 0 });
  });
  it('counts leaves, nested multiparts and the parts of an attached message; ignores look-alike lines', () => {
    const m = msg(`Content-Type: multipart/mixed; boundary="out"

--out
Content-Type: multipart/alternative;
 boundary=alt

--alt
Content-Type: text/plain

--alternative is not a delimiter
--alt
Content-Type: text/html

<p>x</p>
--alt--
--out
Content-Type: message/rfc822

From: c@d.it
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain

dentro
--inner--
--out--
`);
    // out: 2 parts; alt: 2; inner: 1. Deepest: out > alt, or out > (message) > inner.
    expect(mimeShape(m)).toEqual({ parts: 5, depth: 2 });
  });
});
