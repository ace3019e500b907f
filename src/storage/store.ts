// The store hands out repositories, either directly or bound to one transaction.
import type SQLite from 'better-sqlite3';
import type { CompiledQuery, Kysely } from 'kysely';
import type { DatabaseHandle } from './connect.js';
import { AccessRepository } from './repositories/access.js';
import { AuditRepository } from './repositories/audit.js';
import { CredentialRepository, type RawSqlite } from './repositories/credentials.js';
import { DomainRepository } from './repositories/domains.js';
import { SendingRepository } from './repositories/sending.js';
import { TenantRepository } from './repositories/tenants.js';
import type { ReplicaReads } from './replica-reads.js';
import type { Database } from './schema.js';
import { createUsageWrites, type UsageWrites } from './usage-writes.js';

export interface Repositories {
  tenants: TenantRepository;
  domains: DomainRepository;
  credentials: CredentialRepository;
  access: AccessRepository;
  audit: AuditRepository;
  /** Sending policy: identities behind mail-server logins, shared quota counters. */
  sending: SendingRepository;
  /** The raw Kysely handle for repositories added by later capabilities. */
  db: Kysely<Database>;
  /** SQLite, inside a transaction only: the raw connection the transaction holds (prepared statements). */
  sqliteWriter: SQLite.Database | null;
  dialect: DatabaseHandle['dialect'];
}

/** A Kysely SELECT (anything that compiles to SQL and can also run itself). */
export interface ReadQuery<Row> {
  compile(): CompiledQuery<Row>;
  execute(): Promise<Row[]>;
}

export interface Store extends Repositories {
  transaction<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>;
  /**
   * A long read (a job's table scan) off the event loop: on a SQLite server it runs on the
   * background worker's connection; elsewhere it runs as usual. Committed data only, so never
   * inside a transaction.
   */
  readInBackground<Row>(query: ReadQuery<Row>): Promise<Row[]>;
  /** Batched last-used times and sessions (off the event loop on a SQLite server). */
  usageWrites: UsageWrites;
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
  replica: (() => ReplicaReads | null) | null = null,
): Repositories {
  return {
    tenants: new TenantRepository(db),
    domains: new DomainRepository(db),
    credentials: new CredentialRepository(db, dialect, raw, !inTransaction, inTransaction ? null : replica),
    access: new AccessRepository(db),
    audit: new AuditRepository(db, dialect === 'postgres'),
    sending: new SendingRepository(db, raw.writer),
    db,
    sqliteWriter: raw.writer,
    dialect,
  };
}

export function createStore(handle: DatabaseHandle): Store {
  const writer = handle.sqlite ?? null;
  const transaction: Store['transaction'] = (work) =>
    handle.db
      .transaction()
      .execute((trx) => work(repositoriesFor(trx, handle.dialect, { writer, reader: null, lookups: null }, true)))
      .catch((error: unknown) => {
        // Raw SQLite statements inside the transaction bypass the observed driver: report them too.
        throw handle.health.failed(error) ?? error;
      });
  return {
    ...repositoriesFor(
      handle.db,
      handle.dialect,
      { writer: null, reader: handle.sqliteReader ?? null, lookups: handle.sqliteLookups ?? null },
      false,
      handle.replicaReads ?? null,
    ),
    transaction,
    readInBackground: async <Row>(query: ReadQuery<Row>) => {
      const background = handle.sqliteBackground?.() ?? null;
      if (!background) return query.execute();
      const { sql, parameters } = query.compile();
      return (await background.read(sql, parameters)) as Row[];
    },
    usageWrites: createUsageWrites(handle, transaction),
    close: () => handle.close(),
  };
}
