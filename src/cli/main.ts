#!/usr/bin/env node
// The relaykey command line: `relaykey start` serves; the rest manage the database directly.
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { startServer, stopOnSignals } from '../server.js';
import { registerExtensions } from '../extensions.js';
import { limitHeapGrowth } from '../heap-growth.js';
import { withRuntime } from './context.js';
import { fail } from './context.js';
import { registerCoreCommands } from './core-commands.js';
import { cliCommandRegistrars } from './registry.js';

registerExtensions();

const program = new Command();
program.name('relaykey').description('credential service for multi-tenant email platforms').exitOverride();

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
    await withRuntime(async () => undefined);
    process.stdout.write('migrations applied\n');
  });

registerCoreCommands(program);
for (const register of cliCommandRegistrars) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof ConfigError) fail(error);
  fail(error);
}
