// Starts the real relaykey server on a random loopback port over a fresh SQLite file or a
// fresh PostgreSQL schema, and runs the real CLI against the same database.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { type RunningServer, startServer } from '../../src/server.js';

const execFileAsync = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '../..');

/** The real CLI (a new Node process through tsx) with `env`: its output and exit code. */
export async function runCli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      env,
      cwd: ROOT,
      timeout: 60_000,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

export type DialectName = 'sqlite' | 'postgres';

export const POSTGRES_URL = process.env.DATABASE_URL;
if (!POSTGRES_URL) {
  console.warn('\n*** DATABASE_URL is not set: the PostgreSQL half of the suite is SKIPPED. CI sets it; set it locally to run both dialects. ***\n');
}
export const DIALECTS: DialectName[] = POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestServer extends RunningServer {
  dialect: DialectName;
  env: NodeJS.ProcessEnv;
  databaseUrl: string;
  logs: string[];
  /** Runs the real CLI (through tsx) against this server's database. */
  cli(args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  cliJson<T = Record<string, unknown>>(args: string[]): Promise<T>;
  /** Raw SQL against the same database (for tampering tests and counting rows). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `rk_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const url = new URL(POSTGRES_URL as string);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

export interface StartOptions {
  clock?: Clock;
  env?: Record<string, string>;
}

export async function startTestServer(dialect: DialectName, options: StartOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaykey-test-'));
  let databaseUrl: string;
  let dropSchema = async () => {};
  if (dialect === 'postgres') {
    const created = await createPostgresSchema();
    databaseUrl = created.url;
    dropSchema = created.drop;
  } else {
    databaseUrl = `sqlite:${join(dataDir, 'relaykey.db')}`;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RELAYKEY_DATABASE_URL: databaseUrl,
    RELAYKEY_DATA_DIR: dataDir,
    RELAYKEY_MASTER_KEY: randomBytes(32).toString('base64'),
    RELAYKEY_HOST: '127.0.0.1',
    RELAYKEY_PORT: '0',
    RELAYKEY_LOG_LEVEL: 'info',
    // Suites that fail logins on purpose from 127.0.0.1 must not trip the login throttle;
    // the throttle's own tests set their limits explicitly.
    RELAYKEY_THROTTLE_IP_LIMIT: '100000',
    RELAYKEY_THROTTLE_USERNAME_LIMIT: '100000',
    // Likewise the admin sign-in throttle (its tests set it), and the admin idle timeout for
    // suites that move their clock by hours or days.
    RELAYKEY_ADMIN_THROTTLE_AFTER: '100000',
    RELAYKEY_ADMIN_IDLE_MINUTES: '43200',
    // Background job timers make writes a test did not ask for; tests run jobs directly
    // (or set RELAYKEY_JOBS=on, as the multi-process tests do).
    RELAYKEY_JOBS: 'off',
    ...options.env,
  };
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, destination });
  const server = await startServer(config, { logger, ...(options.clock ? { clock: options.clock } : {}) });

  const sqlHandle = server.runtime.handle;
  const cli = (args: string[]) => runCli(env, args);
  return {
    ...server,
    dialect,
    env,
    databaseUrl,
    logs,
    cli,
    async cliJson<T>(args: string[]): Promise<T> {
      const result = await cli([...args, '--json']);
      if (result.code !== 0) throw new Error(`relaykey ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    async sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
      let index = 0;
      const dialectText = dialect === 'postgres' ? text.replace(/\?/g, () => `$${++index}`) : text;
      const result = await sqlHandle.db.executeQuery<T>(CompiledQuery.raw(dialectText, params));
      return result.rows as T[];
    },
    async close() {
      await server.stop();
      await dropSchema();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
