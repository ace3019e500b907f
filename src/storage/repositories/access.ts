// Management access: API tokens (bearer, server, verifier), admins, admin sessions, reauth tokens.
import type { Kysely, Selectable } from 'kysely';
import type { Admin, AdminSession, ApiToken, TokenKind } from '../../domain/types.js';
import type { AdminSessionsTable, AdminsTable, ApiTokensTable, Database } from '../schema.js';

function toToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    loginId: row.login_id,
    name: row.name,
    keyHint: row.key_hint,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

function toSession(row: Selectable<AdminSessionsTable>): AdminSession {
  return {
    id: row.id,
    adminId: row.admin_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastSeenAt: row.last_seen_at,
    clientIp: row.client_ip,
  };
}

function toAdmin(row: Selectable<AdminsTable>): Admin {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    totpSecret: row.totp_secret,
    createdAt: row.created_at,
    role: row.role === 'admin' ? 'admin' : 'owner',
    disabledAt: row.disabled_at,
    totpPendingSecret: row.totp_pending_secret,
  };
}

export class AccessRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertToken(token: ApiToken, keyHash: string): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: token.id,
        kind: token.kind,
        tenant_id: token.tenantId,
        login_id: token.loginId,
        name: token.name,
        key_hash: keyHash,
        key_hint: token.keyHint,
        created_at: token.createdAt,
        revoked_at: token.revokedAt,
      })
      .execute();
  }

  async findTokenByHash(keyHash: string): Promise<ApiToken | null> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async listTokens(tenantId: string): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').execute();
    return rows.map(toToken);
  }

  /** Platform tokens (verifier), oldest first. */
  async listPlatformTokens(kind: TokenKind): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().where('tenant_id', 'is', null).where('kind', '=', kind).orderBy('created_at').execute();
    return rows.map(toToken);
  }

  async findPlatformToken(id: string): Promise<ApiToken | null> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('tenant_id', 'is', null).where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async findTokenById(id: string): Promise<ApiToken | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async touchToken(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async findToken(tenantId: string, id: string): Promise<ApiToken | null> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async revokeToken(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async insertAdmin(admin: Admin): Promise<void> {
    await this.db
      .insertInto('admins')
      .values({
        id: admin.id,
        email: admin.email,
        password_hash: admin.passwordHash,
        totp_secret: admin.totpSecret,
        created_at: admin.createdAt,
        role: admin.role,
        disabled_at: admin.disabledAt,
        totp_pending_secret: admin.totpPendingSecret,
      })
      .execute();
  }

  async findAdminByEmail(email: string): Promise<Admin | null> {
    const row = await this.db.selectFrom('admins').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? toAdmin(row) : null;
  }

  async findAdminById(id: string): Promise<Admin | null> {
    const row = await this.db.selectFrom('admins').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAdmin(row) : null;
  }

  async insertSession(session: AdminSession, tokenHash: string): Promise<void> {
    await this.db
      .insertInto('admin_sessions')
      .values({
        id: session.id,
        admin_id: session.adminId,
        token_hash: tokenHash,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
        revoked_at: null,
        last_seen_at: session.lastSeenAt,
        client_ip: session.clientIp,
      })
      .execute();
  }

  async listSessions(adminId: string): Promise<AdminSession[]> {
    const rows = await this.db.selectFrom('admin_sessions').selectAll().where('admin_id', '=', adminId).orderBy('created_at').execute();
    return rows.map(toSession);
  }

  async touchSession(id: string, at: string): Promise<void> {
    await this.db.updateTable('admin_sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
  }

  /** Records the TOTP step as used; false when it (or a later one) was used already. */
  async consumeTotpStep(adminId: string, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable('admins')
      .set({ totp_last_step: step })
      .where('id', '=', adminId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async listAdmins(): Promise<Admin[]> {
    const rows = await this.db.selectFrom('admins').selectAll().orderBy('created_at').execute();
    return rows.map(toAdmin);
  }

  async setAdminDisabled(adminId: string, disabledAt: string | null): Promise<void> {
    await this.db.updateTable('admins').set({ disabled_at: disabledAt }).where('id', '=', adminId).execute();
  }

  async setPendingTotpSecret(adminId: string, stored: string | null): Promise<void> {
    await this.db.updateTable('admins').set({ totp_pending_secret: stored }).where('id', '=', adminId).execute();
  }

  /** The pending secret becomes the admin's TOTP secret; the confirming code's step counts as used. */
  async activatePendingTotp(adminId: string, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable('admins')
      .set((eb) => ({ totp_secret: eb.ref('totp_pending_secret'), totp_pending_secret: null, totp_last_step: step }))
      .where('id', '=', adminId)
      .where('totp_pending_secret', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Live owners other than `exceptId` (an owner may not disable the last one). */
  async countActiveOwners(exceptId: string): Promise<number> {
    const row = await this.db
      .selectFrom('admins')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('role', '=', 'owner')
      .where('disabled_at', 'is', null)
      .where('id', '!=', exceptId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async setTotpSecret(adminId: string, stored: string): Promise<void> {
    await this.db.updateTable('admins').set({ totp_secret: stored }).where('id', '=', adminId).execute();
  }

  async findSessionByHash(tokenHash: string): Promise<AdminSession | null> {
    const row = await this.db.selectFrom('admin_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async revokeSession(id: string, at: string): Promise<void> {
    await this.db.updateTable('admin_sessions').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async insertReauth(id: string, sessionId: string, tokenHash: string, createdAt: string, expiresAt: string): Promise<void> {
    await this.db
      .insertInto('reauth_tokens')
      .values({ id, session_id: sessionId, token_hash: tokenHash, created_at: createdAt, expires_at: expiresAt })
      .execute();
  }

  async findReauthByHash(tokenHash: string): Promise<{ id: string; sessionId: string; expiresAt: string } | null> {
    const row = await this.db.selectFrom('reauth_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row ? { id: row.id, sessionId: row.session_id, expiresAt: row.expires_at } : null;
  }
}
