// Module hooks: append every bare specifier (a package) resolved to the file named by
// PECDESK_RECORD_IMPORTS, so a test can say which libraries a command loaded.
import { appendFileSync } from 'node:fs';

const out = process.env.PECDESK_RECORD_IMPORTS;

export async function resolve(specifier, context, next) {
  if (out && !/^(node:|\.|file:|data:)/.test(specifier)) appendFileSync(out, `${specifier}\n`);
  return next(specifier, context);
}
