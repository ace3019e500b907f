// Read side of `credential_sessions`: the clients seen using a credential (rows written by usage tracking).
import type { Kysely, Selectable } from 'kysely';
import type { CredentialSessionsTable, Database } from '../schema.js';

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

export class SessionReadRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async listForCredential(tenantId: string, credentialId: string, limit: number): Promise<CredentialSession[]> {
    const rows = await this.db
      .selectFrom('credential_sessions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('credential_id', '=', credentialId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toSession);
  }
}
