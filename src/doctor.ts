// `relaykey doctor`: checks an installation without changing it (no migration, no key file
// created) and says what is wrong in plain words: configuration, database and migration level,
// master key, Redis, the change feed's channels, file modes, TLS files and the mail backends.
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { type Config, loadConfig } from './config.js';
import { keyFilePath, loadRootSecret, type RootKeyRing } from './crypto/root-secret.js';
import { appliedMigrations, masterKeyMatch, mismatchMessage } from './startup-checks.js';
import { type DatabaseHandle, openDatabase } from './storage/connect.js';
import { pingDatabase } from './storage/instance-facts.js';
import { KNOWN_MIGRATIONS } from './storage/migrations/index.js';
import { readTls } from './tls.js';
import { relaykeyVersion } from './version.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  check: string;
  status: CheckStatus;
  message: string;
}

const TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function fileModes(config: Config): CheckResult[] {
  const results: CheckResult[] = [];
  const octal = (m: number) => m.toString(8).padStart(4, '0');
  const secretFiles: [string, string][] = [];
  if (config.dialect === 'sqlite') {
    const keyFile = keyFilePath(config.dataDir);
    if (existsSync(keyFile)) secretFiles.push(['master key file', keyFile]);
    const db = config.databaseUrl.slice('sqlite:'.length);
    if (existsSync(db)) secretFiles.push(['database file', db]);
  }
  if (config.tls) secretFiles.push(['TLS key', config.tls.keyFile]);
  for (const variable of ['RELAYKEY_MASTER_KEY_FILE', 'RELAYKEY_DATABASE_URL_FILE', 'RELAYKEY_DATABASE_PASSWORD_FILE', 'RELAYKEY_REDIS_URL_FILE']) {
    const file = process.env[variable];
    if (file && existsSync(file)) secretFiles.push([variable, file]);
  }
  if (existsSync(config.dataDir) && mode(config.dataDir) & 0o007) {
    results.push({
      check: 'file modes',
      status: 'warn',
      message: `data directory ${config.dataDir} is open to other users (${octal(mode(config.dataDir))}); chmod 700 it`,
    });
  }
  for (const [what, file] of secretFiles) {
    if (!existsSync(file)) continue;
    const m = mode(file);
    if (!(m & 0o077)) continue;
    // Key hashes and sealed secrets: worth fixing; a readable key or password file is a leak.
    const status = what === 'database file' ? 'warn' : 'fail';
    results.push({ check: 'file modes', status, message: `${what} ${file} can be read by others (${octal(m)}); chmod 600 it` });
  }
  if (!results.some((r) => r.status === 'fail'))
    results.push({ check: 'file modes', status: 'ok', message: `${secretFiles.length} secret file(s) readable by their owner only` });
  return results;
}

async function databaseChecks(config: Config, ring: RootKeyRing | null): Promise<CheckResult[]> {
  if (config.dialect === 'sqlite') {
    const file = config.databaseUrl.slice('sqlite:'.length);
    if (!existsSync(file))
      return [{ check: 'database', status: 'fail', message: `no database at ${file} (relaykey start creates one; wrong --data-dir or RELAYKEY_DATA_DIR?)` }];
  }
  let handle: DatabaseHandle | null = null;
  const results: CheckResult[] = [];
  try {
    handle = openDatabase(config.databaseUrl, { poolSize: 1 });
    await withTimeout(pingDatabase(handle.db), 'the database');
    results.push({ check: 'database', status: 'ok', message: `${config.dialect} reachable` });
    const applied = await appliedMigrations(handle);
    const unknown = applied.filter((name) => !KNOWN_MIGRATIONS.includes(name));
    const pending = KNOWN_MIGRATIONS.filter((name) => !applied.includes(name));
    if (unknown.length) {
      results.push({
        check: 'schema',
        status: 'fail',
        message: `the database is at ${unknown.at(-1)}, newer than this relaykey ${relaykeyVersion()} (${KNOWN_MIGRATIONS.at(-1)}): it refuses to start`,
      });
    } else if (applied.length === 0) {
      results.push({ check: 'schema', status: 'warn', message: 'the database is empty: the next start creates the schema' });
    } else if (pending.length) {
      results.push({
        check: 'schema',
        status: 'warn',
        message: `${pending.length} migration(s) pending (${pending.join(', ')}): the next start applies them; back up first`,
      });
    } else {
      results.push({ check: 'schema', status: 'ok', message: `at ${applied.at(-1)}` });
    }
    if (ring && applied.includes('008-instance-facts')) {
      const match = await masterKeyMatch(handle, ring);
      if (match.status === 'match') results.push({ check: 'master key', status: 'ok', message: `matches the database (key check ${match.check})` });
      else if (match.status === 'mismatch') results.push({ check: 'master key', status: 'fail', message: mismatchMessage(match) });
      else results.push({ check: 'master key', status: 'warn', message: `no key check stored yet (this key gives ${match.check}); the next start records it` });
    }
  } catch (error) {
    results.push({ check: 'database', status: 'fail', message: `cannot reach the database: ${(error as Error).message.split('\n')[0]}` });
  } finally {
    await handle?.close().catch(() => undefined);
  }
  return results;
}

async function redisCheck(url: string): Promise<CheckResult> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await withTimeout(client.connect(), 'Redis');
    await withTimeout(client.ping(), 'Redis');
    return { check: 'redis', status: 'ok', message: 'reachable (PING answered)' };
  } catch (error) {
    return {
      check: 'redis',
      status: 'fail',
      message: `cannot reach Redis: ${(error as Error).message} (logins go on with per-node throttling while it is away)`,
    };
  } finally {
    client.disconnect();
  }
}

/**
 * How credential changes made on one node (or by the CLI) would reach the others' verify caches:
 * PostgreSQL LISTEN/NOTIFY and Redis pub/sub when reachable, else only the cache TTL ("polling").
 * A running node reports the same live in /metrics (relaykey_change_feed_up, _polling).
 */
function changeFeedCheck(config: Config, earlier: CheckResult[]): CheckResult {
  const ttl = `RELAYKEY_VERIFY_CACHE_TTL_MS, ${config.verifyCacheTtlMs / 1000} s`;
  const reachable = (check: string) => earlier.some((r) => r.check === check && r.status === 'ok');
  const channels: string[] = [];
  const missing: string[] = [];
  if (config.dialect === 'postgres') (reachable('database') ? channels : missing).push('PostgreSQL LISTEN/NOTIFY');
  if (config.redisUrl) (reachable('redis') ? channels : missing).push('Redis pub/sub');
  if (channels.length === 0 && missing.length === 0)
    return {
      check: 'change feed',
      status: 'ok',
      message: `none (one SQLite node): changes made by the CLI reach a running node within the cache TTL (${ttl})`,
    };
  if (channels.length === 0)
    return {
      check: 'change feed',
      status: 'warn',
      message: `${missing.join(' and ')} not reachable: nodes would only poll, other nodes' changes (a revocation) reaching each within the cache TTL (${ttl})`,
    };
  return {
    check: 'change feed',
    status: 'ok',
    message: `${channels.join(' and ')}: changes reach every node at once${missing.length ? ` (${missing.join(' and ')} not reachable)` : ''}`,
  };
}

function tcpCheck(name: string, host: string, port: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: TIMEOUT_MS });
    const done = (result: CheckResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done({ check: 'mail backend', status: 'ok', message: `${name} ${host}:${port} accepts connections` }));
    socket.once('timeout', () =>
      done({ check: 'mail backend', status: 'fail', message: `${name} ${host}:${port} did not answer within ${TIMEOUT_MS / 1000} s` }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({ check: 'mail backend', status: 'fail', message: `${name} ${host}:${port}: ${error.code ?? error.message}` }),
    );
  });
}

export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    return [{ check: 'configuration', status: 'fail', message: (error as Error).message }];
  }
  const results: CheckResult[] = [
    {
      check: 'configuration',
      status: 'ok',
      message: `relaykey ${relaykeyVersion()}, ${config.dialect}, listening on ${config.host}:${config.port}${config.tls ? ' (HTTPS)' : ''}`,
    },
  ];
  let ring: RootKeyRing | null = null;
  if (!config.masterKey && config.dialect === 'sqlite' && !existsSync(keyFilePath(config.dataDir))) {
    const hasDatabase = existsSync(config.databaseUrl.slice('sqlite:'.length));
    results.push({
      check: 'master key',
      status: hasDatabase ? 'fail' : 'warn',
      message: hasDatabase
        ? `neither RELAYKEY_MASTER_KEY nor ${keyFilePath(config.dataDir)} is there, but the database is: restore the key file or set the key`
        : `no master key yet: the first start creates ${keyFilePath(config.dataDir)}; set RELAYKEY_MASTER_KEY (or _FILE) in production`,
    });
  } else {
    try {
      ring = loadRootSecret({ masterKey: config.masterKey, dataDir: config.dataDir, allowKeyFile: config.dialect === 'sqlite' }).ring;
    } catch (error) {
      results.push({ check: 'master key', status: 'fail', message: (error as Error).message });
    }
  }
  results.push(...(await databaseChecks(config, ring)));
  results.push(
    config.redisUrl
      ? await redisCheck(config.redisUrl)
      : { check: 'redis', status: 'ok', message: 'not configured (optional: shared throttling and cache invalidation across nodes)' },
  );
  results.push(changeFeedCheck(config, results));
  results.push(...fileModes(config));
  if (config.tls) {
    try {
      readTls(config.tls);
      results.push({ check: 'tls', status: 'ok', message: `certificate ${config.tls.certFile} and its key are usable` });
    } catch (error) {
      results.push({ check: 'tls', status: 'fail', message: (error as Error).message });
    }
  }
  const backends = Object.entries(config.mailBackends);
  if (backends.length === 0)
    results.push({
      check: 'mail backend',
      status: 'warn',
      message: 'RELAYKEY_MAIL_BACKENDS is not set: nginx gets no backend unless tenants set mail_backends',
    });
  for (const [name, address] of backends) if (address) results.push(await tcpCheck(name, address.host, address.port));
  return results;
}
