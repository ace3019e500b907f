// The PostgreSQL connection pool: every pool and client error handled (a dropped connection is
// replaced, never an unhandled 'error' event that ends the process), connect, statement and
// lock timeouts, and several hosts in RELAYKEY_DATABASE_URL of which the one that accepts
// writes is used (as libpq's target_session_attrs=read-write does), found again after a
// failover without a restart.
import type pg from 'pg';
import { AppError } from '../errors.js';

export interface PostgresTimeouts {
  /** Giving up on opening a connection (ms). */
  connectTimeoutMs: number;
  /** PostgreSQL's statement_timeout (ms); the client also stops waiting a second after it. */
  statementTimeoutMs: number;
  /** PostgreSQL's lock_timeout (ms). */
  lockTimeoutMs: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = { connectTimeoutMs: 5_000, statementTimeoutMs: 15_000, lockTimeoutMs: 5_000 };

export interface PostgresPoolOptions {
  poolSize: number;
  timeouts: PostgresTimeouts;
  /** search_path for every connection (tests give each run a schema). */
  schema?: string | undefined;
  /** A pooled connection was lost (terminated, server restarted): the pool replaces it. */
  onConnectionLost(error: Error): void;
}

/**
 * `postgres://u:p@h1:5432,h2:5433/db?x=y` -> one connection string per host, in order.
 * `target_session_attrs` is dropped: relaykey always looks for the host that accepts writes.
 */
export function splitPostgresHosts(url: string): string[] {
  const match = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/.exec(url);
  if (!match) return [url];
  const [, scheme, auth = '', hostList = '', rest = ''] = match;
  const clean = rest.replace(/([?&])target_session_attrs=[^&#]*&?/, '$1').replace(/[?&]$/, '');
  const hosts = hostList.split(',').filter(Boolean);
  if (hosts.length <= 1) return [`${scheme}${auth}${hostList}${clean}`];
  return hosts.map((host) => `${scheme}${auth}${host}${clean}`);
}

/** Where a URL points, without its password (for logs and /readyz). */
export function describeHost(url: string): string {
  const match = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(url);
  return match?.[1] || 'localhost';
}

type PgModule = typeof pg;

export function clientConfig(url: string, options: Pick<PostgresPoolOptions, 'timeouts' | 'schema'>): pg.ClientConfig {
  const { connectTimeoutMs, statementTimeoutMs, lockTimeoutMs } = options.timeouts;
  return {
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    lock_timeout: lockTimeoutMs,
    // A server that stops answering (hung, or gone without a FIN) is given up on by the client.
    query_timeout: statementTimeoutMs + 1_000,
    idle_in_transaction_session_timeout: statementTimeoutMs * 2,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  };
}

const READ_TIMEOUT = /Query read timeout/;
/** Pooled clients whose query_timeout fired: they go back to the pool as broken. */
const abandoned = new WeakSet<pg.PoolClient>();
const watched = new WeakSet<pg.PoolClient>();

/**
 * A client whose statement was given up on (query_timeout: the server hangs) still has that
 * statement on the wire; node-postgres keeps the connection and runs whatever is queued behind
 * it once the server answers. A BEGIN given up on would then run late and leave the pooled
 * connection inside a transaction that the next user's writes join and lose. So the
 * connection is closed at once (queued statements fail fast instead of waiting for the hung
 * one) and the pool discards the client when it comes back.
 */
function abandonOnReadTimeout(client: pg.PoolClient): pg.PoolClient {
  if (!watched.has(client)) {
    watched.add(client);
    const query = client.query as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = function (this: pg.PoolClient, ...args: unknown[]) {
      const result = query.apply(this, args);
      if (result instanceof Promise) {
        result.catch((error: unknown) => {
          if (!(error instanceof Error) || !READ_TIMEOUT.test(error.message) || abandoned.has(client)) return;
          abandoned.add(client);
          (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        });
      }
      return result;
    };
  }
  // pg-pool sets a fresh release on every checkout.
  const release = client.release;
  client.release = (error?: Error | boolean) =>
    release.call(client, error || (abandoned.has(client) ? new Error('abandoned after a query timeout') : undefined));
  return client;
}

/** The pool Kysely's PostgresDialect uses: connect() and end(). */
export class FailoverPool {
  readonly urls: string[];
  readonly #pg: PgModule;
  readonly #options: PostgresPoolOptions;
  readonly #pools: (pg.Pool | undefined)[];
  /** Clients already seen to be on a primary (a new physical connection is checked once). */
  readonly #checked = new WeakSet<pg.PoolClient>();
  #primary: number | null = 0;
  #discovering: Promise<number> | null = null;
  #ended = false;

  constructor(pgModule: PgModule, url: string, options: PostgresPoolOptions) {
    this.#pg = pgModule;
    this.#options = options;
    this.urls = splitPostgresHosts(url);
    this.#pools = this.urls.map(() => undefined);
  }

  /** The host writes go to now (index into urls), or null while none is known. */
  get primary(): number | null {
    return this.#primary;
  }

  get primaryHost(): string | null {
    return this.#primary === null ? null : describeHost(this.urls[this.#primary] as string);
  }

  #pool(index: number): pg.Pool {
    let pool = this.#pools[index];
    if (!pool) {
      pool = new this.#pg.Pool({ ...clientConfig(this.urls[index] as string, this.#options), max: this.#options.poolSize });
      // An idle pooled client that errors (terminated backend, restart): the pool drops it.
      pool.on('error', (error) => this.#options.onConnectionLost(error));
      // A checked-out client can error between statements too; without a listener that would
      // be an unhandled 'error' event. The statement in flight, if any, rejects by itself.
      pool.on('connect', (client) => {
        client.on('error', (error) => this.#options.onConnectionLost(error));
      });
      this.#pools[index] = pool;
    }
    return pool;
  }

  async connect(): Promise<pg.PoolClient> {
    return abandonOnReadTimeout(await this.#connect());
  }

  async #connect(): Promise<pg.PoolClient> {
    if (this.#ended) throw new AppError('DATABASE_UNAVAILABLE', 'the database pool is closed');
    if (this.urls.length === 1) return this.#pool(0).connect();
    let lastError: unknown = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      const index = this.#primary ?? (await this.#discover());
      let client: pg.PoolClient;
      try {
        client = await this.#pool(index).connect();
      } catch (error) {
        lastError = error;
        if (this.#primary === index) this.#primary = null;
        continue;
      }
      if (this.#checked.has(client)) return client;
      try {
        if (await this.#inRecovery(client)) {
          client.release(true);
          if (this.#primary === index) this.#primary = null;
          lastError = new AppError('DATABASE_READ_ONLY', `${describeHost(this.urls[index] as string)} is a standby`);
          continue;
        }
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        lastError = error;
        if (this.#primary === index) this.#primary = null;
        continue;
      }
      this.#checked.add(client);
      return client;
    }
    throw lastError;
  }

  /** Forget the primary (a write was refused as read-only): the next connect looks again. */
  forgetPrimary(): void {
    if (this.urls.length > 1) this.#primary = null;
  }

  async #inRecovery(client: pg.PoolClient): Promise<boolean> {
    const { rows } = await client.query<{ recovery: boolean }>('select pg_is_in_recovery() as recovery');
    return rows[0]?.recovery === true;
  }

  #discover(): Promise<number> {
    this.#discovering ??= (async () => {
      let lastError: unknown = new AppError('DATABASE_UNAVAILABLE', 'no PostgreSQL host answered');
      let sawStandby = false;
      for (let index = 0; index < this.urls.length; index++) {
        let client: pg.PoolClient | null = null;
        try {
          client = await this.#pool(index).connect();
          if (await this.#inRecovery(client)) {
            sawStandby = true;
            client.release();
            continue;
          }
          this.#checked.add(client);
          client.release();
          this.#primary = index;
          return index;
        } catch (error) {
          client?.release(true);
          lastError = error;
        }
      }
      if (sawStandby) throw new AppError('DATABASE_READ_ONLY', 'every PostgreSQL host reachable is a standby (a failover may be under way)');
      throw lastError;
    })().finally(() => {
      this.#discovering = null;
    });
    return this.#discovering;
  }

  /** A connected client of its own (not pooled) on the host that accepts writes: LISTEN needs one. */
  async dedicatedClient(): Promise<pg.Client> {
    const index = this.urls.length === 1 ? 0 : (this.#primary ?? (await this.#discover()));
    const client = new this.#pg.Client(clientConfig(this.urls[index] as string, this.#options));
    // Until the caller adds its own: an error before then must not end the process.
    const early = (error: Error) => this.#options.onConnectionLost(error);
    client.on('error', early);
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
    client.removeListener('error', early);
    return client;
  }

  async end(): Promise<void> {
    this.#ended = true;
    await Promise.all(this.#pools.map((pool) => pool?.end()));
  }
}
