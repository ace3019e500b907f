// The store hands out repositories, either directly or bound to one transaction.
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from './connect.js';
import { AccessRepository } from './repositories/access.js';
import { AuditRepository } from './repositories/audit.js';
import { CredentialRepository, Interner, type RawSqlite } from './repositories/credentials.js';
import { DomainRepository } from './repositories/domains.js';
import { JobRunRepository } from './repositories/job-runs.js';
import { JobScanRepository } from './repositories/job-scans.js';
import { LifecycleNoticeRepository } from './repositories/lifecycle-notices.js';
import { PreparedConnection } from './repositories/prepared.js';
import { addOnSqlite, type CounterAddition, type CounterValues, SendingRepository } from './repositories/sending.js';
import { SessionRepository } from './repositories/sessions.js';
import { TenantRepository } from './repositories/tenants.js';
import { VaultRepository } from './repositories/vault.js';
import { verificationStatsRepository } from './repositories/verification-stats.js';
import { WebhookRepository } from './repositories/webhooks.js';
import type { SharedStatsStore } from '../domain/verification-stats.js';
import type { ReplicaReads } from './replica-reads.js';
import type { Database } from './schema.js';
import type { ReadQuery, Repositories, Transaction } from './repository-set.js';
import { createUsageWrites, type UsageWrites } from './usage-writes.js';

export type { ReadQuery, Repositories };

export interface Store extends Repositories {
  transaction: Transaction;
  /**
   * A long read (a job's table scan) off the event loop: on a SQLite server it runs on the
   * background worker's connection; elsewhere it runs as usual. Committed data only, so never
   * inside a transaction.
   */
  readInBackground<Row>(query: ReadQuery<Row>): Promise<Row[]>;
  /** Batched last-used times and sessions (off the event loop on a SQLite server). */
  usageWrites: UsageWrites;
  /** The whole-table walks of the background jobs (never inside a transaction). */
  scans: JobScanRepository;
  /**
   * Adds to the sending counters, all additions in one atomic transaction; returns each
   * addition's values right after its own change, in order. On SQLite (outside a transaction)
   * one synchronous better-sqlite3 transaction with prepared statements; otherwise a Kysely one.
   */
  addSendingCounters(additions: readonly CounterAddition[], at: string): Promise<CounterValues[][]>;
  /** Every node's per-minute verification counts (runs its own transactions, so never inside one). */
  verificationStats: SharedStatsStore;
  close(): Promise<void>;
}

// `raw` is given only for SQLite; the committed-only reader and the lookup worker only outside a
// transaction, where a read must see the transaction's own writes (so PostgreSQL's verify
// lookups are batched per turn only outside one too).
function repositoriesFor(
  db: Kysely<Database>,
  dialect: DatabaseHandle['dialect'],
  raw: RawSqlite,
  inTransaction: boolean,
  interner: Interner,
  replica: (() => ReplicaReads | null) | null = null,
): Repositories {
  return {
    tenants: new TenantRepository(db),
    domains: new DomainRepository(db),
    credentials: new CredentialRepository(db, dialect, raw, !inTransaction, inTransaction ? null : replica, interner),
    access: new AccessRepository(db),
    audit: new AuditRepository(db, dialect === 'postgres'),
    sending: new SendingRepository(db, raw.writer),
    lifecycleNotices: new LifecycleNoticeRepository(db),
    jobRuns: new JobRunRepository(db),
    sessions: new SessionRepository(db, raw.writer),
    vault: new VaultRepository(db, dialect),
    webhooks: new WebhookRepository(db, dialect),
  };
}

export function createStore(handle: DatabaseHandle): Store {
  // State the store owns for its connections: prepared statements (per raw SQLite connection)
  // and the values shared by the credentials the verify cache holds.
  const interner = new Interner();
  const writer = handle.sqlite ? new PreparedConnection(handle.sqlite) : null;
  let reader: PreparedConnection | null = null;
  const sqliteReader = handle.sqliteReader;
  const readerStatements = sqliteReader
    ? () => {
        const connection = sqliteReader();
        if (!connection) return null;
        if (reader?.connection !== connection) reader = new PreparedConnection(connection);
        return reader;
      }
    : null;
  const transaction: Store['transaction'] = (work) =>
    handle.db
      .transaction()
      .execute((trx) => work(repositoriesFor(trx, handle.dialect, { writer, reader: null, lookups: null }, true, interner)))
      .catch((error: unknown) => {
        // Raw SQLite statements inside the transaction bypass the observed driver: report them too.
        throw handle.health.failed(error) ?? error;
      });
  const writeNow = handle.sqliteWriteNow;
  const addSendingCounters: Store['addSendingCounters'] = async (additions, at) => {
    const now = writer && writeNow ? writeNow(() => additions.map((a) => addOnSqlite(writer, a.keys, a.delta, at))) : null;
    if (now) return now.value;
    return transaction(async (repositories) => {
      const out: CounterValues[][] = [];
      for (const a of additions) out.push(await repositories.sending.add(a.keys, a.delta, at));
      return out;
    });
  };
  const readInBackground: Store['readInBackground'] = async <Row>(query: ReadQuery<Row>) => {
    const background = handle.sqliteBackground?.() ?? null;
    if (!background) return query.execute();
    const { sql, parameters } = query.compile();
    return (await background.read(sql, parameters)) as Row[];
  };
  return {
    ...repositoriesFor(
      handle.db,
      handle.dialect,
      { writer: null, reader: readerStatements, lookups: handle.sqliteLookups ?? null },
      false,
      interner,
      handle.replicaReads ?? null,
    ),
    transaction,
    addSendingCounters,
    readInBackground,
    scans: new JobScanRepository(handle.db, handle.dialect, readInBackground),
    verificationStats: verificationStatsRepository(handle.db),
    usageWrites: createUsageWrites(handle, transaction),
    close: () => handle.close(),
  };
}
