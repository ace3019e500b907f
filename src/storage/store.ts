// The store hands out repositories, either directly or bound to one transaction.
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from './connect.js';
import { AccessRepository } from './repositories/access.js';
import { AuditRepository } from './repositories/audit.js';
import { CredentialRepository, type RawSqlite } from './repositories/credentials.js';
import { TenantRepository } from './repositories/tenants.js';
import type { Database } from './schema.js';
import { createUsageWrites, type UsageWrites } from './usage-writes.js';

export interface Repositories {
  tenants: TenantRepository;
  credentials: CredentialRepository;
  access: AccessRepository;
  audit: AuditRepository;
  /** The raw Kysely handle for repositories added by later capabilities. */
  db: Kysely<Database>;
  /** SQLite, inside a transaction only: the raw connection the transaction holds (prepared statements). */
  sqliteWriter: SQLite.Database | null;
  dialect: DatabaseHandle['dialect'];
}

export interface Store extends Repositories {
  transaction<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>;
  /** Batched last-used times and sessions (off the event loop on a SQLite server). */
  usageWrites: UsageWrites;
  close(): Promise<void>;
}

// `raw` is given only for SQLite; the committed-only reader only outside a transaction,
// where a read must see the transaction's own writes.
function repositoriesFor(db: Kysely<Database>, dialect: DatabaseHandle['dialect'], raw: RawSqlite): Repositories {
  return {
    tenants: new TenantRepository(db),
    credentials: new CredentialRepository(db, dialect, raw),
    access: new AccessRepository(db),
    audit: new AuditRepository(db, dialect === 'postgres'),
    db,
    sqliteWriter: raw.writer,
    dialect,
  };
}

export function createStore(handle: DatabaseHandle): Store {
  const writer = handle.sqlite ?? null;
  const transaction: Store['transaction'] = (work) =>
    handle.db.transaction().execute((trx) => work(repositoriesFor(trx, handle.dialect, { writer, reader: null })));
  return {
    ...repositoriesFor(handle.db, handle.dialect, { writer: null, reader: handle.sqliteReader ?? null }),
    transaction,
    usageWrites: createUsageWrites(handle, transaction),
    close: () => handle.close(),
  };
}
