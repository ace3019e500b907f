// Verify-only credentials: stored as keyed hashes, looked up by hash on the hot path.
import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Credential, Page, PageRequest, Surface } from '../../domain/types.js';
import type { CredentialsTable, Database } from '../schema.js';
import { parseJson } from './json.js';

export interface CredentialWithLogin {
  credential: Credential;
  loginAddress: string | null;
}

export function toCredential(row: Selectable<CredentialsTable>): Credential {
  return {
    numId: Number(row.num_id),
    id: row.id,
    tenantId: row.tenant_id,
    loginId: row.login_id,
    surface: row.surface as Surface,
    kind: row.kind as Credential['kind'],
    name: row.name,
    scopes: parseJson(row.scopes, []),
    role: row.role as Credential['role'],
    publicKey: row.public_key,
    keyHash: row.key_hash,
    keyHint: row.key_hint,
    held: row.held === 1,
    status: row.status as Credential['status'],
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    graceUntil: row.grace_until,
    expiresAt: row.expires_at,
    allowedNetworks: parseJson(row.allowed_networks, null),
    metadata: parseJson(row.metadata, {}),
    replacesId: row.replaces_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
  };
}

export type NewCredential = Omit<Credential, 'numId'>;
export type CredentialChanges = Partial<
  Pick<
    Credential,
    'name' | 'scopes' | 'held' | 'status' | 'revokedAt' | 'revokedReason' | 'graceUntil' | 'expiresAt' | 'allowedNetworks' | 'metadata' | 'updatedAt'
  >
>;

export interface CredentialFilter {
  tenantId: string;
  loginId?: string;
  surface?: Surface;
  status?: 'active' | 'revoked';
}

export class CredentialRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(credential: NewCredential): Promise<Credential> {
    const row = await this.db
      .insertInto('credentials')
      .values({
        id: credential.id,
        tenant_id: credential.tenantId,
        login_id: credential.loginId,
        surface: credential.surface,
        kind: credential.kind,
        name: credential.name,
        scopes: JSON.stringify(credential.scopes),
        role: credential.role,
        public_key: credential.publicKey,
        key_hash: credential.keyHash,
        key_hint: credential.keyHint,
        held: credential.held ? 1 : 0,
        status: credential.status,
        revoked_at: credential.revokedAt,
        revoked_reason: credential.revokedReason,
        grace_until: credential.graceUntil,
        expires_at: credential.expiresAt,
        allowed_networks: credential.allowedNetworks ? JSON.stringify(credential.allowedNetworks) : null,
        metadata: JSON.stringify(credential.metadata),
        replaces_id: credential.replacesId,
        created_at: credential.createdAt,
        updated_at: credential.updatedAt,
        last_used_at: credential.lastUsedAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toCredential(row);
  }

  /** Applies changes; returns the updated row, or null when `onlyIfActive` and it was already revoked. */
  async update(id: string, changes: CredentialChanges, options: { onlyIfActive?: boolean } = {}): Promise<Credential | null> {
    const set: Updateable<CredentialsTable> = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.scopes !== undefined) set.scopes = JSON.stringify(changes.scopes);
    if (changes.held !== undefined) set.held = changes.held ? 1 : 0;
    if (changes.status !== undefined) set.status = changes.status;
    if (changes.revokedAt !== undefined) set.revoked_at = changes.revokedAt;
    if (changes.revokedReason !== undefined) set.revoked_reason = changes.revokedReason;
    if (changes.graceUntil !== undefined) set.grace_until = changes.graceUntil;
    if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
    if (changes.allowedNetworks !== undefined) set.allowed_networks = changes.allowedNetworks ? JSON.stringify(changes.allowedNetworks) : null;
    if (changes.metadata !== undefined) set.metadata = JSON.stringify(changes.metadata);
    if (changes.updatedAt !== undefined) set.updated_at = changes.updatedAt;
    let query = this.db.updateTable('credentials').set(set).where('id', '=', id);
    if (options.onlyIfActive) query = query.where('status', '=', 'active');
    const row = await query.returningAll().executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  async findById(tenantId: string, id: string): Promise<Credential | null> {
    const row = await this.db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  async findByNumId(tenantId: string, numId: number): Promise<Credential | null> {
    const row = await this.db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('num_id', '=', numId).executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  async findByKeyHash(keyHash: string): Promise<CredentialWithLogin | null> {
    const row = await this.db
      .selectFrom('credentials')
      .leftJoin('logins', 'logins.id', 'credentials.login_id')
      .selectAll('credentials')
      .select('logins.address as login_address')
      .where('credentials.key_hash', '=', keyHash)
      .executeTakeFirst();
    if (!row) return null;
    const { login_address, ...credentialRow } = row;
    return { credential: toCredential(credentialRow), loginAddress: login_address };
  }

  async list(filter: CredentialFilter, request: PageRequest): Promise<Page<Credential>> {
    let base = this.db.selectFrom('credentials').where('tenant_id', '=', filter.tenantId);
    if (filter.loginId) base = base.where('login_id', '=', filter.loginId);
    if (filter.surface) base = base.where('surface', '=', filter.surface);
    if (filter.status) base = base.where('status', '=', filter.status);
    const countRow = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy('num_id', 'asc')
      .limit(request.perPage)
      .offset((request.page - 1) * request.perPage)
      .execute();
    return { items: rows.map(toCredential), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }

  async recordLastUsed(lastUsed: Map<string, string>): Promise<void> {
    for (const [id, at] of lastUsed) {
      await this.db
        .updateTable('credentials')
        .set({ last_used_at: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
        .execute();
    }
  }
}
