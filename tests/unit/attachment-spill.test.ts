// Attachments above limits.attachmentMemoryBytes are streamed to the raw store while the message
// is parsed and read back by reference: the parsed message does not hold them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage, type AttachmentSpill } from '../../src/mail/parse.js';
import { RawStore } from '../../src/store/raw-store.js';

let dir: string;
let spill: AttachmentSpill & { stored: string[] };
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pecdesk-spill-'));
  const store = new RawStore(dir);
  const stored: string[] = [];
  spill = {
    aboveBytes: 1024 * 1024,
    stored,
    putStream: async (s) => {
      const r = await store.putStream(s);
      stored.push(r.sha256);
      return r;
    },
    get: (sha) => store.get(sha),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function messageWith(attachments: Array<{ name: string; bytes: Buffer }>): Buffer {
  const parts = attachments.map(
    (a) => `--b\r\nContent-Type: application/octet-stream; name=${a.name}\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; filename=${a.name}\r\n\r\n${a.bytes.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`,
  );
  return Buffer.from(
    'From: Utente <utente@comune.esempio.it>\r\nTo: helpdesk@cloudpa-desk.example.it\r\nSubject: allegati\r\nMessage-ID: <spill@x.it>\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nIn allegato.\r\n' +
      `${parts.join('')}--b--\r\n`,
  );
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('attachment spill', () => {
  it('a large attachment goes to the store and is read back by reference; a small one stays in memory', async () => {
    const big = randomBytes(3 * 1024 * 1024);
    const small = randomBytes(10_000);
    const m = await parseMessage(messageWith([{ name: 'dump.bin', bytes: big }, { name: 'note.bin', bytes: small }]), undefined, spill);
    expect(m.text.trim()).toBe('In allegato.');
    const [a, b] = m.attachments;
    expect(a!.filename).toBe('dump.bin');
    expect(a!.size).toBe(big.length);
    expect(a!.sha256).toBe(sha(big));
    expect(spill.stored).toEqual([sha(big)]);
    // Read back from the store on each access: the parsed message keeps no copy.
    expect(a!.content.equals(big)).toBe(true);
    expect(a!.content === a!.content).toBe(false);
    expect(b!.sha256).toBe(sha(small));
    expect(b!.content === b!.content).toBe(true);
    expect(b!.content.equals(small)).toBe(true);
  });

  it('without a spill everything is parsed in memory, with the same hashes', async () => {
    const big = randomBytes(2 * 1024 * 1024);
    const m = await parseMessage(messageWith([{ name: 'dump.bin', bytes: big }]));
    expect(m.attachments[0]!.sha256).toBe(sha(big));
    expect(m.attachments[0]!.content.equals(big)).toBe(true);
  });
});
