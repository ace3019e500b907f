// Credential usage sessions: one row per (credential, client IP, raw user agent).
import type { Kysely, Selectable } from 'kysely';
import type { CredentialSessionsTable, Database } from '../schema.js';
import type { WriteStatement } from '../sqlite-background.js';
import type { PreparedConnection } from './prepared.js';

export type SessionRow = CredentialSessionsTable;

export interface CredentialSession {
  id: string;
  credentialId: string;
  tenantId: string;
  ipAddress: string;
  rawUserAgent: string;
  userAgentFamily: string;
  userAgentVersion: string;
  userAgentMajorVersion: string;
  osFamily: string;
  osVersion: string;
  deviceFamily: string;
  deviceBrand: string;
  deviceType: string;
  country: string;
  countryIsoCode: string;
  protocol: string;
  isActive: boolean;
  createdAt: string;
  modifiedAt: string;
  lastSeenAt: string;
}

function toSession(row: Selectable<CredentialSessionsTable>): CredentialSession {
  return {
    id: row.id,
    credentialId: row.credential_id,
    tenantId: row.tenant_id,
    ipAddress: row.ip_address,
    rawUserAgent: row.raw_user_agent,
    userAgentFamily: row.user_agent_family,
    userAgentVersion: row.user_agent_version,
    userAgentMajorVersion: row.user_agent_major_version,
    osFamily: row.os_family,
    osVersion: row.os_version,
    deviceFamily: row.device_family,
    deviceBrand: row.device_brand,
    deviceType: row.device_type,
    country: row.country,
    countryIsoCode: row.country_iso_code,
    protocol: row.protocol,
    isActive: Number(row.is_active) === 1,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
    lastSeenAt: row.last_seen_at,
  };
}

const SESSION_COLUMNS = [
  'id',
  'credential_id',
  'tenant_id',
  'ip_address',
  'raw_user_agent',
  'user_agent_family',
  'user_agent_version',
  'user_agent_major_version',
  'os_family',
  'os_version',
  'device_family',
  'device_brand',
  'device_type',
  'country',
  'country_iso_code',
  'protocol',
  'is_active',
  'created_at',
  'modified_at',
  'last_seen_at',
] as const satisfies readonly (keyof SessionRow)[];

const SQLITE_UPSERT = `INSERT INTO credential_sessions (${SESSION_COLUMNS.join(', ')}) VALUES (${SESSION_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (credential_id, ip_address, raw_user_agent) DO UPDATE SET
  last_seen_at = excluded.last_seen_at, modified_at = excluded.modified_at, protocol = excluded.protocol, is_active = 1`;

/** `upsertMany` as one statement for a SQLite connection of its own (the background worker). */
export function sessionUpsertWrite(rows: readonly SessionRow[]): WriteStatement {
  return { sql: SQLITE_UPSERT, rows: rows.map((row) => SESSION_COLUMNS.map((column) => row[column])) };
}

export class SessionRepository {
  /** `sqliteWriter`: inside a SQLite transaction, the raw connection it holds (see RawSqlite in credentials.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqliteWriter: PreparedConnection | null = null,
  ) {}

  /**
   * Inserts new sessions and moves known ones on: one statement on PostgreSQL, one prepared
   * statement run per row on SQLite. Returns the number of statements run.
   */
  async upsertMany(rows: SessionRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    if (this.sqliteWriter) {
      // Kysely would build and prepare a new multi-row statement (thousands of parameters) for
      // every call; a cached single-row statement is several times cheaper per row.
      const upsert = this.sqliteWriter.prepare(SQLITE_UPSERT);
      for (const row of rows) upsert.run(SESSION_COLUMNS.map((column) => row[column]));
      return rows.length;
    }
    await this.db
      .insertInto('credential_sessions')
      .values(rows)
      .onConflict((conflict) =>
        conflict.columns(['credential_id', 'ip_address', 'raw_user_agent']).doUpdateSet((eb) => ({
          last_seen_at: eb.ref('excluded.last_seen_at'),
          modified_at: eb.ref('excluded.modified_at'),
          protocol: eb.ref('excluded.protocol'),
          is_active: 1,
        })),
      )
      .execute();
    return 1;
  }

  /** One credential's sessions, newest-seen first or oldest-created first. */
  async listForCredential(
    tenantId: string,
    credentialId: string,
    options: { limit: number; order: 'newest_seen' | 'oldest_created' },
  ): Promise<CredentialSession[]> {
    let query = this.db.selectFrom('credential_sessions').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId);
    query = options.order === 'newest_seen' ? query.orderBy('last_seen_at', 'desc') : query.orderBy('created_at', 'asc');
    const rows = await query.orderBy('id', 'asc').limit(options.limit).execute();
    return rows.map(toSession);
  }
}
