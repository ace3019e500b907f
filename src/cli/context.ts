// Shared plumbing for CLI commands: open the runtime, print results, fail with one clear line.
import pino from 'pino';
import { loadConfig } from '../config.js';
import { CLI_ACTOR } from '../domain/types.js';
import { AppError } from '../errors.js';
import { createLogger } from '../logging.js';
import { createRuntime, type Runtime } from '../runtime.js';

export const cliActor = CLI_ACTOR;

/** Opens the runtime (migrating first), runs the command, always closes. */
export async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // Logs go to stderr so that --json output on stdout stays one JSON object.
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: pino.destination(2) });
  const runtime = await createRuntime(config, { logger });
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
  process.exit(error instanceof AppError && error.status < 500 ? 2 : 1);
}
