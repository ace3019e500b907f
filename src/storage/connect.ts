// Opens the database for either dialect; code above this file never asks which one it is on
// except through `dialect` where SQL really differs (row locks).
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { CompiledQuery, type DatabaseConnection, Kysely, Migrator, SqliteDialect, type SqliteDialectConfig, SqliteDriver, sql } from 'kysely';
import { DatabaseHealth } from './database-health.js';
import { migrationProvider } from './migrations/index.js';
import { observedDialect } from './observed-dialect.js';
import { CurrentSchemaPostgresDialect } from './postgres-dialect.js';
import { DEFAULT_POSTGRES_TIMEOUTS, FailoverPool, type PostgresTimeouts } from './postgres-pool.js';
import { ReplicaReads } from './replica-reads.js';
import type { Database } from './schema.js';
import { type SqliteBackground, startSqliteBackground } from './sqlite-background.js';
import { type SqliteLookups, startSqliteLookups } from './sqlite-lookups.js';
import { type TurnSnapshot, turnSnapshot } from './turn-snapshot.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  /**
   * SQLite only: the raw better-sqlite3 handles for the few places where Kysely's per-query
   * compile and prepare cost matters (the verify lookup, bulk import). `sqlite` is the one
   * connection Kysely writes through (use it only inside a Kysely transaction, which holds it);
   * `sqliteReader()` is a second, read-only connection that sees only committed rows (WAL),
   * so hot-path reads never wait for a writer nor see its uncommitted changes. It returns it
   * inside the current turn's read transaction (turn-snapshot.ts): call it for every read.
   */
  sqlite?: SQLite.Database;
  /**
   * SQLite only: runs `work` at once as one synchronous BEGIN IMMEDIATE transaction on the
   * writer connection (`sqlite`), for short hot writes whose Kysely transaction would cost
   * several event-loop turns of CPU. Returns null without running it while a Kysely transaction
   * holds that connection (the caller then takes its Kysely path). Health and the hot-path
   * reader's turn snapshot hear of it as of a Kysely transaction.
   */
  sqliteWriteNow?: <T>(work: () => T) => { value: T } | null;
  sqliteReader?: () => SQLite.Database | null;
  /**
   * SQLite file databases only: WAL checkpoints, batched usage writes and long job reads move
   * from this process's event loop to a worker thread with its own connection (the server calls it;
   * short-lived CLI commands keep SQLite's auto-checkpoint). `onError` hears why the worker
   * failed; auto-checkpoint is then back on.
   */
  startSqliteBackground?: (onError: (message: string) => void) => SqliteBackground | null;
  /** The worker started above while it still answers, else null. */
  sqliteBackground?: () => SqliteBackground | null;
  /**
   * SQLite file databases only: the server's hot-path lookups (verify cache misses) on a worker
   * thread with a read-only connection of its own (sqlite-lookups.ts). `onError` hears why it
   * failed; lookups then run on `sqliteReader()` again.
   */
  startSqliteLookups?: (onError: (message: string) => void) => SqliteLookups | null;
  /** The lookup worker started above while it still answers, else null. */
  sqliteLookups?: () => SqliteLookups | null;
  /** PostgreSQL only: the pool (created with the first connection), for LISTEN and the primary's name. */
  postgresPool?: () => Promise<FailoverPool>;
  /** PostgreSQL with RELAYKEY_DATABASE_REPLICA_URLS: the standbys reads may go to (once the pool exists). */
  replicaReads?: () => ReplicaReads | null;
  /** Ok, or the fault that stops the database now (every statement reports to it). */
  health: DatabaseHealth;
  /**
   * Checks the database once for /readyz and start-up: a read on either dialect; while the disk
   * is full, whether there is room again (a read proves nothing about room for writes).
   */
  probe(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL schema to use (tests give each run a fresh one). */
  schema?: string | undefined;
  poolSize?: number;
  timeouts?: PostgresTimeouts;
  /** A pooled PostgreSQL connection was lost and will be replaced (for the log). */
  onConnectionLost?: (error: Error) => void;
  /** Hot standbys for cold verify lookups and list reads, and the staleness bound (ms). */
  replicaUrls?: string[];
  replicaMaxLagMs?: number;
}

/** Free bytes below which a full disk is still taken to be full. */
const DISK_ROOM_BYTES = 1024 * 1024;

/** Page cache of the hot-path reader connection (KiB): bounded, counted in the server's RSS. */
const READER_CACHE_KIB = 16 * 1024;
/**
 * Page cache of the lookup worker's connection (KiB): the interior pages of the key_hash index
 * and the credentials table (~2 MB at 1M keys); leaves are rarely read twice, and every commit
 * of another connection empties the cache anyway. Cold lookups at 1M keys ran as fast with 4 MB
 * as with 16 MB, at ~12 MB less peak RSS.
 */
const LOOKUP_CACHE_KIB = 4 * 1024;
/**
 * Transactions take the write lock when they begin (BEGIN IMMEDIATE), waiting up to the busy
 * timeout for another writer (the background worker, a CLI command). A deferred BEGIN would
 * read first and could then not write at all once another connection had committed in between
 * (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
 *
 * `onRelease` runs whenever Kysely hands the connection back: after a transaction's COMMIT or
 * ROLLBACK and after any statement outside one, i.e. after anything this connection may have
 * committed. The hot-path reader's turn snapshot (turn-snapshot.ts) starts afresh after it.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  private readonly database: SQLite.Database;

  constructor(
    config: SqliteDialectConfig,
    private readonly onRelease: () => void,
  ) {
    super(config);
    this.database = config.database as SQLite.Database;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.onRelease();
  }

  // SQLite rolls a transaction back by itself after some errors (SQLITE_FULL, SQLITE_IOERR):
  // a ROLLBACK then fails with "no transaction is active" and would hide the real error.
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.database.inTransaction) return;
    await super.rollbackTransaction(connection);
  }

  override async releaseConnection(): Promise<void> {
    this.onRelease();
    await super.releaseConnection();
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly driverConfig: SqliteDialectConfig,
    private readonly onRelease: () => void,
  ) {
    super(driverConfig);
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.driverConfig, this.onRelease);
  }
}

/** How often the checkpoint worker copies the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 250;
/** SQLite's own default auto-checkpoint threshold (pages), restored if the worker fails. */
const AUTO_CHECKPOINT_PAGES = 1000;
/** A WAL file larger than this is cut back to it once fully checkpointed (bytes). */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * The database holds every key hash and the vault: its directory is 0700 and its files 0600.
 * The umask is narrowed while the file is created; SQLite creates the -wal and -shm files with
 * the database file's own mode, and files left wider by an older version are narrowed here.
 */
function openPrivately(file: string): SQLite.Database {
  const previous = process.umask(0o077);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    return new SQLite(file);
  } finally {
    process.umask(previous);
  }
}

function restrictFiles(file: string): void {
  // A shared sticky directory (/tmp) is left alone: only a directory of the database's own is narrowed.
  if ((statSync(dirname(file)).mode & 0o1000) === 0) chmodSync(dirname(file), 0o700);
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
}

export function openDatabase(url: string, options: OpenOptions = {}): DatabaseHandle {
  const health = new DatabaseHealth();
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    const sqlite = file === ':memory:' ? new SQLite(file) : openPrivately(file);
    sqlite.pragma('journal_mode = WAL');
    if (file !== ':memory:') restrictFiles(file);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    // Moves on after anything the writer may have committed (see ImmediateSqliteDriver).
    let writerGeneration = 0;
    const db = new Kysely<Database>({
      dialect: observedDialect(
        new ImmediateSqliteDialect({ database: sqlite }, () => {
          writerGeneration += 1;
        }),
        health,
      ),
    });
    let reader: SQLite.Database | null = null;
    let snapshot: TurnSnapshot | null = null;
    const sqliteReader = () => {
      // An in-memory database cannot be opened twice; callers fall back to Kysely.
      if (file === ':memory:' || file === '') return null;
      if (!snapshot) {
        reader = new SQLite(file, { readonly: true, fileMustExist: true });
        reader.pragma('busy_timeout = 5000');
        // The upper levels of the key_hash index and hot rows stay cached (default: 2 MB).
        reader.pragma(`cache_size = -${READER_CACHE_KIB}`);
        snapshot = turnSnapshot(reader, () => writerGeneration);
      }
      return snapshot.enter();
    };
    let background: SqliteBackground | null = null;
    const startBackground = (onError: (message: string) => void) => {
      if (file === ':memory:' || file === '' || background) return background;
      sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      sqlite.pragma('wal_autocheckpoint = 0');
      background = startSqliteBackground({
        file,
        checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
        onError: (message) => {
          if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
          onError(message);
        },
      });
      return background;
    };
    let lookups: SqliteLookups | null = null;
    const startLookups = (onError: (message: string) => void) => {
      if (file === ':memory:' || file === '' || lookups) return lookups;
      lookups = startSqliteLookups({ file, cacheKib: LOOKUP_CACHE_KIB, onError });
      return lookups;
    };
    const writeNow = sqlite.transaction((work: () => unknown) => work()).immediate;
    const sqliteWriteNow = <T>(work: () => T): { value: T } | null => {
      // Inside an open Kysely transaction better-sqlite3 would nest this as a savepoint of it.
      if (!sqlite.open || sqlite.inTransaction) return null;
      let value: T;
      try {
        value = writeNow(work) as T;
      } catch (error) {
        throw health.failed(error) ?? error;
      } finally {
        writerGeneration += 1;
      }
      if (!health.ok) health.succeeded(true);
      return { value };
    };
    return {
      db,
      dialect: 'sqlite',
      sqlite,
      sqliteWriteNow,
      sqliteReader,
      startSqliteBackground: startBackground,
      sqliteBackground: () => (background?.writable ? background : null),
      startSqliteLookups: startLookups,
      sqliteLookups: () => (lookups?.alive ? lookups : null),
      health,
      probe: async () => {
        if (health.state === 'DISK_FULL' && file !== ':memory:' && file !== '') {
          const { bavail, bsize } = statfsSync(dirname(file));
          if (bavail * bsize >= DISK_ROOM_BYTES) health.succeeded(true);
          return;
        }
        await sql`select 1`.execute(db);
      },
      close: async () => {
        await lookups?.stop();
        lookups = null;
        await background?.stop();
        background = null;
        reader?.close();
        reader = null;
        snapshot = null;
        await db.destroy();
      },
    };
  }
  // pg is loaded with the first connection, so the SQLite default never pays for loading it.
  let failover: Promise<FailoverPool> | null = null;
  let replicas: ReplicaReads | null = null;
  const timeouts = options.timeouts ?? DEFAULT_POSTGRES_TIMEOUTS;
  const onConnectionLost = options.onConnectionLost ?? (() => undefined);
  const pool = () => {
    failover ??= import('pg').then(({ default: pg }) => {
      const created = new FailoverPool(pg, url, { poolSize: options.poolSize ?? 10, timeouts, schema: options.schema, onConnectionLost });
      if (options.replicaUrls?.length) {
        replicas = new ReplicaReads(pg, {
          urls: options.replicaUrls,
          maxLagMs: options.replicaMaxLagMs ?? 1_000,
          poolSize: options.poolSize ?? 10,
          timeouts,
          schema: options.schema,
          onConnectionLost,
          primaryLsn: async () => {
            const { rows } = await sql<{ lsn: string }>`select pg_current_wal_insert_lsn()::text as lsn`.execute(db);
            return rows[0]?.lsn ?? '0/0';
          },
        });
        replicas.start();
      }
      return created;
    });
    return failover;
  };
  const db = new Kysely<Database>({ dialect: observedDialect(new CurrentSchemaPostgresDialect({ pool }), health) });
  // A write refused as read-only: the host was demoted or a failover is under way; look again.
  health.onChange(({ state }) => {
    if (state === 'DATABASE_READ_ONLY') failover?.then((p) => p.forgetPrimary()).catch(() => undefined);
  });
  return {
    db,
    dialect: 'postgres',
    postgresPool: pool,
    replicaReads: () => replicas,
    health,
    probe: async () => {
      // A read clears unreachable and timed out; read-only clears once the host the pool now
      // writes to is a primary (after a failover), disk full with the next write that succeeds.
      const { rows } = await sql<{ standby: boolean }>`select pg_is_in_recovery() as standby`.execute(db);
      if (health.state === 'DATABASE_READ_ONLY' && rows[0]?.standby === false) health.succeeded(true);
    },
    close: async () => {
      await replicas?.close();
      replicas = null;
      await db.destroy();
    },
  };
}

export async function migrateToLatest(handle: DatabaseHandle): Promise<string[]> {
  // Pin Kysely's own tables to the schema we write to (the dialect's introspection sees only
  // that schema; see postgres-dialect.ts).
  let migrationTableSchema: string | undefined;
  if (handle.dialect === 'postgres') {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db);
    migrationTableSchema = rows[0]?.schema;
  }
  const migrator = new Migrator({
    db: handle.db,
    provider: migrationProvider(handle.dialect),
    // Migrations are numbered per change and may land in another order than their names sort
    // (008b after 009): a database that ran a later-named one still gets the earlier-named one.
    // Each migration stands alone (no migration depends on one with a later name).
    allowUnorderedMigrations: true,
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
