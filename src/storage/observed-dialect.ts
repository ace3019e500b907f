// Wraps a Kysely dialect so that every connection, statement and transaction reports to the
// node's DatabaseHealth, and a database fault (unreachable, timeout, read-only, disk full)
// leaves as the 503 AppError that names it, the original error kept as its cause.
// A failed ROLLBACK never hides the error that caused it (SQLite rolls a transaction back by
// itself on SQLITE_FULL, and ROLLBACK then fails with "no transaction is active").
import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import type { DatabaseHealth } from './database-health.js';

const WRITE_KINDS = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);
const WRITE_SQL = /^\s*(insert|update|delete|merge|commit)\b/i;

function isWrite(query: CompiledQuery): boolean {
  const kind = query.query?.kind;
  if (kind && WRITE_KINDS.has(kind)) return true;
  return kind === 'RawNode' && WRITE_SQL.test(query.sql);
}

class ObservedConnection implements DatabaseConnection {
  /** Inside a transaction a write that succeeded proves nothing until COMMIT does. */
  inTransaction = false;
  wrote = false;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly health: DatabaseHealth,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.inner.executeQuery<R>(query);
      const write = isWrite(query);
      if (this.inTransaction) this.wrote ||= write;
      // A transaction that wrote nothing commits even on a full disk: only a committed write
      // clears disk full or read-only.
      if (!this.health.ok) this.health.succeeded(write && !this.inTransaction);
      return result;
    } catch (error) {
      throw this.health.failed(error) ?? error;
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

const unwrap = (connection: DatabaseConnection) => (connection instanceof ObservedConnection ? connection.inner : connection);

class ObservedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly health: DatabaseHealth,
  ) {}

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.health.failed(error) ?? error;
    }
  }

  init(): Promise<void> {
    return this.guard(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new ObservedConnection(await this.guard(() => this.inner.acquireConnection()), this.health);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.guard(() => this.inner.beginTransaction(unwrap(connection), settings));
    if (connection instanceof ObservedConnection) {
      connection.inTransaction = true;
      connection.wrote = false;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const observed = connection instanceof ObservedConnection ? connection : null;
    if (observed) observed.inTransaction = false;
    await this.guard(() => this.inner.commitTransaction(unwrap(connection)));
    if (!this.health.ok) this.health.succeeded(observed?.wrote === true);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof ObservedConnection) connection.inTransaction = false;
    // Kysely throws what rollback throws instead of the transaction's own error: keep the
    // latter. A connection that cannot roll back is broken and the pool drops it.
    try {
      await this.inner.rollbackTransaction(unwrap(connection));
    } catch (error) {
      this.health.failed(error);
    }
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.guard(async () => this.inner.savepoint?.(unwrap(connection), name, compile));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.guard(async () => this.inner.rollbackToSavepoint?.(unwrap(connection), name, compile));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.guard(async () => this.inner.releaseSavepoint?.(unwrap(connection), name, compile));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

export function observedDialect(dialect: Dialect, health: DatabaseHealth): Dialect {
  return {
    createDriver: () => new ObservedDriver(dialect.createDriver(), health),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}
