// pecdesk CLI entry point (SPEC §8.1). Exit codes: 0 success, 1 verified-but-negative,
// 2 usage or I/O error. Errors are one clear line on stderr, never a stack trace.
//
// Commands are a registry: only the module of the command being run is imported, so that
// `--help`, `tickets list` or `outbox list` do not pay for the PDF, mail and schema libraries of
// the others. The top-level help lists every command from the registry's one-line summaries.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { DirectoryError } from '../directory/errors.js';
import { NegativeOutcome, UsageError } from './output.js';
import { COMMAND_SUMMARIES, type CommandName } from './summaries.js';

type Register = (program: Command) => void;

/** How to load each top-level command's module. */
const LOADERS: Record<CommandName, () => Promise<Register>> = {
  migrate: async () => (await import('./migrate.js')).registerMigrate,
  run: async () => (await import('./run.js')).registerRun,
  ingest: async () => (await import('./ingest.js')).registerIngest,
  tickets: async () => (await import('./tickets.js')).registerTickets,
  report: async () => (await import('./report.js')).registerReport,
  outbox: async () => (await import('./outbox.js')).registerOutbox,
  quarantine: async () => (await import('./quarantine.js')).registerQuarantine,
  directory: async () => (await import('./directory.js')).registerDirectory,
  pec: async () => (await import('./pec.js')).registerPec,
  verify: async () => (await import('./verify.js')).registerVerify,
  orders: async () => (await import('./orders.js')).registerOrders,
  extract: async () => (await import('./orders.js')).registerExtract,
  pin: async () => (await import('./orders.js')).registerPin,
  trust: async () => (await import('./trust.js')).registerTrust,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
};

function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_SUMMARIES, name);
}

/** The command an argument vector names: the first operand after the global options. */
export function commandNamed(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (a === '--config') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    // `pecdesk help tickets` shows the help of tickets, so tickets is the one to load.
    return a === 'help' && isCommandName(args[i + 1]) ? args[i + 1] : a;
  }
  return undefined;
}

/**
 * The program with the named command fully registered and every other command as a summary
 * only. Without a known command (help, a typo), all are summaries: commander still lists them
 * and suggests the nearest name.
 */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('pecdesk')
    .description('PEC and e-mail help desk for a public-administration cloud service')
    .option('--config <file>', 'configuration file (default: config/pecdesk.yaml, else config/default.yaml)')
    .option('--json', 'print one JSON document on stdout')
    .showHelpAfterError()
    .exitOverride();
  const wanted = commandNamed(args);
  for (const name of Object.keys(COMMAND_SUMMARIES) as CommandName[]) {
    if (name === wanted) (await LOADERS[name]())(program);
    else program.command(name).description(COMMAND_SUMMARIES[name]);
  }
  for (const c of program.commands) c.exitOverride();
  return program;
}

/**
 * The top-level commands the modules register when all are loaded: the registry must name
 * exactly these (a command a module adds without a registry entry would be unreachable).
 */
export async function commandsOfAllModules(): Promise<string[]> {
  const program = new Command('pecdesk');
  for (const load of new Set(Object.values(LOADERS))) (await load())(program);
  return program.commands.map((c) => c.name());
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv.slice(2));
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are successes; anything else commander refused is a usage error.
      return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(e.code) ? 0 : 2;
    }
    if (e instanceof NegativeOutcome) {
      if (e.message) process.stderr.write(`pecdesk: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UsageError || e instanceof ConfigError || e instanceof DirectoryError) {
      process.stderr.write(`pecdesk: ${e.message}\n`);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`pecdesk: ${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}\n`);
    if (process.env.PECDESK_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 2;
  }
}
