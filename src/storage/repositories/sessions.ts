// Credential usage sessions: one row per (credential, client IP, raw user agent).
import type { Kysely } from 'kysely';
import type { CredentialSessionsTable, Database } from '../schema.js';

export type SessionRow = CredentialSessionsTable;

export class SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts new sessions and moves known ones on; one statement per call. */
  async upsertMany(rows: SessionRow[]): Promise<void> {
    if (rows.length === 0) return;
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
  }

  async listForCredential(credentialId: string, limit = 500): Promise<SessionRow[]> {
    return this.db
      .selectFrom('credential_sessions')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .orderBy('last_seen_at', 'desc')
      .limit(limit)
      .execute();
  }
}
