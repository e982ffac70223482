// The bare component of the mail workloads: mailparser's simpleParser, with the options pecdesk
// gives mailparser (src/mail/parse.ts, which drives MailParser's stream itself and spills large
// attachments to disk), over every file of the given directories, one after the other — what
// plain parsing costs in a process of its own. Prints { messages, attachmentBytes }.
// Usage: node bench/lib/mailparser-alone.mjs DIR…
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';

let messages = 0;
let attachmentBytes = 0;
for (const dir of process.argv.slice(2)) {
  for (const name of readdirSync(dir).sort()) {
    const m = await simpleParser(readFileSync(path.join(dir, name)), { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
    messages++;
    for (const a of m.attachments) attachmentBytes += a.size;
  }
}
process.stdout.write(JSON.stringify({ messages, attachmentBytes }));
