// pecdesk migrate: apply pending database migrations (opening the desk migrates) and list them.
import type { Command } from 'commander';
import { isJson, withDesk } from './common.js';
import { printJson } from './output.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(COMMAND_SUMMARIES.migrate)
    .action(async (_o, cmd: Command) =>
      withDesk(cmd, (desk) => {
        const applied = desk.db.prepare('SELECT name, applied_at AS appliedAt FROM schema_migrations ORDER BY version').all();
        if (isJson(cmd)) printJson({ migrations: applied });
        else process.stdout.write(`database ${desk.cfg.dataDir}: ${applied.length} migration(s) applied, schema up to date\n`);
      }, { syncDirectory: false }),
    );
}
