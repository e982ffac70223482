// pecdesk CLI entry point (SPEC §8.1). Exit codes: 0 success, 1 verified-but-negative,
// 2 usage or I/O error. Errors are one clear line on stderr, never a stack trace.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { DirectoryError } from '../directory/load.js';
import { isJson, withDesk } from './common.js';
import { registerDirectory } from './directory.js';
import { registerIngest } from './ingest.js';
import { registerOrders } from './orders.js';
import { registerOutbox } from './outbox.js';
import { NegativeOutcome, printJson, UsageError } from './output.js';
import { registerPec } from './pec.js';
import { registerQuarantine } from './quarantine.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerTickets } from './tickets.js';
import { registerDoctor } from './doctor.js';
import { registerTrust } from './trust.js';
import { registerVerify } from './verify.js';

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
    .action(async (_o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const applied = desk.db.prepare('SELECT name, applied_at AS appliedAt FROM schema_migrations ORDER BY version').all();
        if (isJson(cmd)) printJson({ migrations: applied });
        else process.stdout.write(`database ${desk.cfg.dataDir}: ${applied.length} migration(s) applied, schema up to date\n`);
      }, { syncDirectory: false }),
    );
  registerRun(program);
  registerIngest(program);
  registerTickets(program);
  registerReport(program);
  registerOutbox(program);
  registerQuarantine(program);
  registerDirectory(program);
  registerPec(program);
  registerVerify(program);
  registerOrders(program);
  registerTrust(program);
  registerDoctor(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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

