// CLI: operating an installation (`relaykey backup`, `relaykey doctor`).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { runDoctor } from '../doctor.js';
import { badRequest } from '../errors.js';
import { BackupError, backupSqlite } from '../storage/backup.js';
import { output } from './context.js';

export function registerOperationsCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the embedded SQLite database while it serves (PostgreSQL: use pg_dump, see docs/operations.md); the master key is NOT in the copy')
    .requiredOption('--out <file>', 'the backup file to write (never overwritten)')
    .option('--json', 'print one JSON object')
    .action((options: { out: string; json?: boolean }) => {
      const config = loadConfig();
      if (config.dialect !== 'sqlite') {
        throw badRequest('relaykey backup copies the embedded SQLite database; back up PostgreSQL with pg_dump (docs/operations.md)');
      }
      const source = config.databaseUrl.slice('sqlite:'.length);
      let result: ReturnType<typeof backupSqlite>;
      try {
        result = backupSqlite(source, resolve(options.out));
      } catch (error) {
        if (error instanceof BackupError) throw badRequest(error.message);
        throw error;
      }
      output(
        options.json,
        { file: result.file, bytes: result.bytes, key_check: result.keyCheck, schema: result.schema },
        `backup written to ${result.file} (${result.bytes} bytes, schema ${result.schema ?? 'unknown'}). ` +
          `It does not contain the master key: keep the key (key check ${result.keyCheck ?? 'not recorded'}) safe separately.`,
      );
    });
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check configuration, database and migration level, master key, Redis, file modes, TLS and mail backends without changing anything; exits 1 when something is wrong',
    )
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }) => {
      const results = await runDoctor();
      const failed = results.filter((r) => r.status === 'fail').length;
      const lines = results.map((r) => `${r.status === 'ok' ? 'ok  ' : r.status === 'warn' ? 'warn' : 'FAIL'}  ${r.check}: ${r.message}`);
      output(options.json, { ok: failed === 0, checks: results }, `${lines.join('\n')}\n${failed === 0 ? 'no problems found' : `${failed} problem(s) found`}`);
      if (failed > 0) process.exitCode = 1;
    });
}
