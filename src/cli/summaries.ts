// One line per top-level command: the top-level help lists these without loading the commands'
// modules, and each command module describes itself with the same line.
export const COMMAND_SUMMARIES = {
  migrate: 'apply pending database migrations',
  run: 'run the daemon: watch the mailboxes, process mail, send replies',
  ingest: 'process message files as if they arrived in a mailbox',
  tickets: 'help-desk tickets',
  report: 'reports',
  outbox: 'automatic replies and outgoing messages',
  quarantine: 'messages that could not be processed',
  directory: 'administrations, referents and delegates',
  pec: 'PEC receipts and anomalies',
  verify: 'verify a signed document (CAdES .p7m or PAdES PDF)',
  orders: 'orders: Piano dei Fabbisogni to activation',
  extract: 'extract and check a Piano dei Fabbisogni (PDF, or .p7m around one)',
  pin: 'Help Desk PINs (phone and web channels)',
  trust: 'what is trusted: PEC providers, the provider index, signature anchors, the trusted list',
  doctor: 'check config, database, trust stores and every mailbox server (with login); exit 1 on a failure',
} as const;

export type CommandName = keyof typeof COMMAND_SUMMARIES;
