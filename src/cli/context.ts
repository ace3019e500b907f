// Shared plumbing for CLI commands: open the runtime, print results, fail with one clear line.
import pino from 'pino';
import { existsSync } from 'node:fs';
import { type Config, ConfigError, EXIT_CONFIG, loadConfig } from '../config.js';
import { CLI_ACTOR } from '../domain/types.js';
import { AppError } from '../errors.js';
import { CAPABILITIES } from '../extensions.js';
import { createLogger } from '../logging.js';
import { createRuntime, type Runtime } from '../runtime.js';

export const cliActor = CLI_ACTOR;

export interface CliRuntimeOptions {
  /** The command may create a new database (migrate); others refuse one that is not there yet. */
  mayCreate?: boolean;
  /** Open even with a master key other than the stored one (keys status reports it). */
  enforceMasterKey?: boolean;
}

/**
 * A command run from the wrong directory would quietly create a new database and key in ./data
 * there: with neither RELAYKEY_DATA_DIR nor RELAYKEY_DATABASE_URL set, the database must exist.
 */
export function refuseAccidentalDatabase(config: Config, env: NodeJS.ProcessEnv = process.env): void {
  if (config.dialect !== 'sqlite' || env.RELAYKEY_DATA_DIR || env.RELAYKEY_DATABASE_URL || env.RELAYKEY_DATABASE_URL_FILE) return;
  const file = config.databaseUrl.slice('sqlite:'.length);
  if (existsSync(file)) return;
  throw new ConfigError(
    `no relaykey database at ${file} (RELAYKEY_DATA_DIR is not set, so ./data of the current directory is used): pass --data-dir DIR or set RELAYKEY_DATA_DIR or RELAYKEY_DATABASE_URL; relaykey start or relaykey migrate creates a new one`,
  );
}

/** Opens the runtime (migrating first), runs the command, always closes. */
export async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>, options: CliRuntimeOptions = {}): Promise<T> {
  const config = loadConfig();
  if (!options.mayCreate) refuseAccidentalDatabase(config);
  // Logs go to stderr so that --json output on stdout stays one JSON object.
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: pino.destination(2) });
  const runtime = await createRuntime(config, CAPABILITIES, { logger, ...(options.enforceMasterKey === false ? { enforceMasterKey: false } : {}) });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

export function output(json: boolean | undefined, value: Record<string, unknown>, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`);
}

export function fail(error: unknown): never {
  const message = error instanceof AppError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`relaykey: error: ${message.split('\n')[0]}\n`);
  process.exit(error instanceof ConfigError ? EXIT_CONFIG : error instanceof AppError && error.status < 500 ? 2 : 1);
}
