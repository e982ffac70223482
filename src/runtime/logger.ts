// Logs: pino, JSON lines on stderr. Level from PECDESK_LOG_LEVEL (default info).
// Secrets never reach a log line: config objects are not logged, and these paths are redacted.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.PECDESK_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { name: 'pecdesk' },
      redact: { paths: ['pass', '*.pass', '*.*.pass', 'password', '*.password', 'pin', '*.pin'], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
