// pecdesk CLI entry point (SPEC §8.1). Exit codes: 0 success, 1 verified-but-negative,
// 2 usage or I/O error. Errors are one clear line on stderr, never a stack trace.
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { DirectoryError } from '../directory/load.js';
import { openDesk } from '../runtime/context.js';
import { isJson, type GlobalOptions } from './common.js';
import { createLogger } from '../runtime/logger.js';
import { registerDirectory } from './directory.js';
import { registerIngest } from './ingest.js';
import { registerOutbox } from './outbox.js';
import { NegativeOutcome, UsageError } from './output.js';
import { registerQuarantine } from './quarantine.js';
import { registerRun } from './run.js';
import { registerTickets } from './tickets.js';

export function buildProgram(): Command {
  const program = new Command('pecdesk')
    .description('PEC and e-mail help desk for a public-administration cloud service')
    .option('--config <file>', 'configuration file (default: config/pecdesk.yaml, else config/default.yaml)')
    .option('--json', 'print one JSON document on stdout')
    .showHelpAfterError()
    .exitOverride();
  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async (_o, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const cfg = loadConfig(g.config);
      const desk = openDesk(cfg, { log: createLogger(), syncDirectory: false });
      const applied = desk.db.prepare('SELECT name, applied_at AS appliedAt FROM schema_migrations ORDER BY version').all();
      desk.close();
      if (isJson(cmd)) printJsonSafe({ migrations: applied });
      else process.stdout.write(`database ${cfg.dataDir}: ${applied.length} migration(s) applied, schema up to date\n`);
    });
  registerRun(program);
  registerIngest(program);
  registerTickets(program);
  registerOutbox(program);
  registerQuarantine(program);
  registerDirectory(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

function printJsonSafe(v: unknown) {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are successes; anything else commander refused is a usage error.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (e.code === 'commander.executeSubCommandAsync') return 2;
      return 2;
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

