#!/usr/bin/env node
// The relaykey command line: `relaykey start` serves; the rest manage the database directly.
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { startServer, stopOnSignals } from '../server.js';
import { limitHeapGrowth } from '../heap-growth.js';
import { relaykeyVersion } from '../version.js';
import { fail, withRuntime } from './context.js';
import { registerCoreCommands } from './core-commands.js';
import { registerDomainCommands } from './domain-commands.js';
import { registerCredentialCommands } from './credential-commands.js';
import { registerKeysCommands } from './keys-commands.js';
import { registerDoctorCommand, registerOperationsCommands } from './operations-commands.js';
import { registerWebhookCommands } from './webhook-commands.js';

const program = new Command();
program
  .name('relaykey')
  .description('credential service for multi-tenant email platforms')
  .version(relaykeyVersion(), '-V, --version', 'print the version and exit')
  .option('--data-dir <dir>', 'the data directory (the SQLite file and the key file); same as RELAYKEY_DATA_DIR')
  .exitOverride()
  .hook('preAction', (command) => {
    const dataDir = command.opts<{ dataDir?: string }>().dataDir;
    if (dataDir !== undefined) {
      if (!dataDir.trim()) throw new ConfigError('--data-dir must not be empty');
      process.env.RELAYKEY_DATA_DIR = dataDir;
    }
  });

program
  .command('start')
  .description('migrate the database, then serve')
  .action(async () => {
    // A long-running server with a bounded cache: memory over the fewest collections.
    limitHeapGrowth();
    const server = await startServer(loadConfig());
    stopOnSignals(server);
    server.runtime.logger.info({ url: server.url, dialect: server.runtime.config.dialect }, `relaykey listening on ${server.url}`);
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    await withRuntime(async () => undefined, { mayCreate: true });
    process.stdout.write('migrations applied\n');
  });

registerCoreCommands(program);
registerDomainCommands(program);
for (const register of [registerKeysCommands, registerWebhookCommands, registerCredentialCommands, registerOperationsCommands, registerDoctorCommand]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  fail(error);
}
