// The store hands out repositories, either directly or bound to one transaction.
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from './connect.js';
import { AccessRepository } from './repositories/access.js';
import { AuditRepository } from './repositories/audit.js';
import { CredentialRepository } from './repositories/credentials.js';
import { TenantRepository } from './repositories/tenants.js';
import type { Database } from './schema.js';

export interface Repositories {
  tenants: TenantRepository;
  credentials: CredentialRepository;
  access: AccessRepository;
  audit: AuditRepository;
  /** The raw Kysely handle for repositories added by later capabilities. */
  db: Kysely<Database>;
  dialect: DatabaseHandle['dialect'];
}

export interface Store extends Repositories {
  transaction<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function repositoriesFor(db: Kysely<Database>, dialect: DatabaseHandle['dialect']): Repositories {
  return {
    tenants: new TenantRepository(db),
    credentials: new CredentialRepository(db),
    access: new AccessRepository(db),
    audit: new AuditRepository(db, dialect === 'postgres'),
    db,
    dialect,
  };
}

export function createStore(handle: DatabaseHandle): Store {
  return {
    ...repositoriesFor(handle.db, handle.dialect),
    transaction: (work) => handle.db.transaction().execute((trx) => work(repositoriesFor(trx, handle.dialect))),
    close: () => handle.close(),
  };
}
