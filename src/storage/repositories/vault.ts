// The vault's rows: tenant SMTP accounts (ciphertext only), wrapped tenant data keys and
// handled emergency-reset incidents. Every state change is a conditional UPDATE so that a
// racing process loses cleanly instead of writing half a rotation.
import type { Kysely, Selectable } from 'kysely';
import type { AuditEvent, Page, PageRequest } from '../../domain/types.js';
import type { Database, SmtpAccountsTable } from '../schema.js';
import { toAuditEvent } from './audit.js';
import { readFact } from '../instance-facts.js';

export interface SmtpAccount {
  id: string;
  tenantId: string;
  username: string;
  credentialId: string;
  ciphertext: string;
  nonce: string;
  dataKeyVersion: number;
  secretVersion: number;
  createdAt: string;
  lastRotated: string;
  nextRotation: string;
  checkoutExpiresAt: string | null;
  checkoutAdminId: string | null;
  updatedAt: string;
}

export interface TenantDataKey {
  tenantId: string;
  version: number;
  wrappedKey: string;
  rootKeyVersion: number;
  createdAt: string;
}

export type SecretChange = Pick<
  SmtpAccount,
  | 'credentialId'
  | 'ciphertext'
  | 'nonce'
  | 'dataKeyVersion'
  | 'secretVersion'
  | 'lastRotated'
  | 'nextRotation'
  | 'checkoutExpiresAt'
  | 'checkoutAdminId'
  | 'updatedAt'
>;

/** An open checkout as the vault page lists it. */
export interface OpenCheckout {
  tenantId: string;
  tenantName: string;
  username: string;
  adminId: string | null;
  adminEmail: string | null;
  expiresAt: string;
  lastRotated: string;
}

export const SMTP_ACCOUNT_TARGET = 'smtp_account';

function toAccount(row: Selectable<SmtpAccountsTable>): SmtpAccount {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    username: row.username,
    credentialId: row.credential_id,
    ciphertext: row.ciphertext,
    nonce: row.nonce,
    dataKeyVersion: Number(row.data_key_version),
    secretVersion: Number(row.secret_version),
    createdAt: row.created_at,
    lastRotated: row.last_rotated,
    nextRotation: row.next_rotation,
    checkoutExpiresAt: row.checkout_expires_at,
    checkoutAdminId: row.checkout_admin_id,
    updatedAt: row.updated_at,
  };
}

export class VaultRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  /** The check value of the master key the database was sealed with (instance_facts), or null before one was recorded. */
  async storedMasterKeyCheck(): Promise<string | null> {
    return readFact(this.db, 'master_key_check');
  }

  async insertAccount(account: SmtpAccount): Promise<void> {
    await this.db
      .insertInto('smtp_accounts')
      .values({
        id: account.id,
        tenant_id: account.tenantId,
        username: account.username,
        credential_id: account.credentialId,
        ciphertext: account.ciphertext,
        nonce: account.nonce,
        data_key_version: account.dataKeyVersion,
        secret_version: account.secretVersion,
        created_at: account.createdAt,
        last_rotated: account.lastRotated,
        next_rotation: account.nextRotation,
        checkout_expires_at: account.checkoutExpiresAt,
        checkout_admin_id: account.checkoutAdminId,
        updated_at: account.updatedAt,
      })
      .execute();
  }

  /**
   * Reads the tenant's account. `lock: 'wait'` row-locks it on PostgreSQL (concurrent admin
   * actions queue up); `lock: 'skip'` returns null when another process holds it (jobs).
   * SQLite serialises write transactions already.
   */
  async findByTenant(tenantId: string, lock: 'none' | 'wait' | 'skip' = 'none'): Promise<SmtpAccount | null> {
    let query = this.db.selectFrom('smtp_accounts').selectAll().where('tenant_id', '=', tenantId);
    if (this.dialect === 'postgres' && lock === 'wait') query = query.forUpdate();
    if (this.dialect === 'postgres' && lock === 'skip') query = query.forUpdate().skipLocked();
    const row = await query.executeTakeFirst();
    return row ? toAccount(row) : null;
  }

  /** Replaces the secret only if nobody else did since `expectedSecretVersion` was read. */
  async replaceSecret(id: string, expectedSecretVersion: number, change: SecretChange): Promise<boolean> {
    const result = await this.db
      .updateTable('smtp_accounts')
      .set({
        credential_id: change.credentialId,
        ciphertext: change.ciphertext,
        nonce: change.nonce,
        data_key_version: change.dataKeyVersion,
        secret_version: change.secretVersion,
        last_rotated: change.lastRotated,
        next_rotation: change.nextRotation,
        checkout_expires_at: change.checkoutExpiresAt,
        checkout_admin_id: change.checkoutAdminId,
        updated_at: change.updatedAt,
      })
      .where('id', '=', id)
      .where('secret_version', '=', expectedSecretVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Opens a checkout unless one is open already (or the secret changed meanwhile). */
  async openCheckout(id: string, secretVersion: number, expiresAt: string, adminId: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('smtp_accounts')
      .set({ checkout_expires_at: expiresAt, checkout_admin_id: adminId, updated_at: now })
      .where('id', '=', id)
      .where('secret_version', '=', secretVersion)
      .where((eb) => eb.or([eb('checkout_expires_at', 'is', null), eb('checkout_expires_at', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Tenants whose revealed password outlived its checkout. */
  async listCheckoutExpired(now: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('smtp_accounts')
      .select('tenant_id')
      .where('checkout_expires_at', 'is not', null)
      .where('checkout_expires_at', '<=', now)
      .orderBy('checkout_expires_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.tenant_id);
  }

  /** Accounts whose password is checked out right now, soonest expiry first, with the tenant's name and the admin's email. */
  async listOpenCheckouts(now: string, limit: number, tenantId?: string): Promise<OpenCheckout[]> {
    let query = this.db
      .selectFrom('smtp_accounts')
      .innerJoin('tenants', 'tenants.id', 'smtp_accounts.tenant_id')
      .leftJoin('admins', 'admins.id', 'smtp_accounts.checkout_admin_id')
      .select([
        'smtp_accounts.tenant_id',
        'tenants.name as tenant_name',
        'smtp_accounts.username',
        'smtp_accounts.checkout_admin_id',
        'admins.email as admin_email',
        'smtp_accounts.checkout_expires_at',
        'smtp_accounts.last_rotated',
      ])
      .where('smtp_accounts.checkout_expires_at', 'is not', null)
      .where('smtp_accounts.checkout_expires_at', '>', now)
      .orderBy('smtp_accounts.checkout_expires_at')
      .limit(limit);
    if (tenantId !== undefined) query = query.where('smtp_accounts.tenant_id', '=', tenantId);
    const rows = await query.execute();
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      tenantName: r.tenant_name,
      username: r.username,
      adminId: r.checkout_admin_id,
      adminEmail: r.admin_email ?? null,
      expiresAt: r.checkout_expires_at as string,
      lastRotated: r.last_rotated,
    }));
  }

  /** Tenants whose scheduled rotation is due and whose password is not checked out right now. */
  async listRotationDue(now: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('smtp_accounts')
      .select('tenant_id')
      .where('next_rotation', '<=', now)
      .where((eb) => eb.or([eb('checkout_expires_at', 'is', null), eb('checkout_expires_at', '<=', now)]))
      .orderBy('next_rotation')
      .limit(limit)
      .execute();
    return rows.map((r) => r.tenant_id);
  }

  async insertDataKey(key: TenantDataKey): Promise<void> {
    await this.db
      .insertInto('tenant_data_keys')
      .values({
        tenant_id: key.tenantId,
        version: key.version,
        wrapped_key: key.wrappedKey,
        root_key_version: key.rootKeyVersion,
        created_at: key.createdAt,
      })
      .execute();
  }

  async findDataKey(tenantId: string, version: number): Promise<TenantDataKey | null> {
    const row = await this.db.selectFrom('tenant_data_keys').selectAll().where('tenant_id', '=', tenantId).where('version', '=', version).executeTakeFirst();
    return row
      ? {
          tenantId: row.tenant_id,
          version: Number(row.version),
          wrappedKey: row.wrapped_key,
          rootKeyVersion: Number(row.root_key_version),
          createdAt: row.created_at,
        }
      : null;
  }

  async latestDataKeyVersion(tenantId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('tenant_data_keys')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return row?.version === null || row?.version === undefined ? null : Number(row.version);
  }

  /** Data keys not yet wrapped with `rootKeyVersion` (the re-wrap work list), oldest first. */
  async listDataKeysNotWrappedWith(rootKeyVersion: number, limit: number, after: { tenantId: string; version: number } | null): Promise<TenantDataKey[]> {
    let query = this.db.selectFrom('tenant_data_keys').selectAll().where('root_key_version', '!=', rootKeyVersion);
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('tenant_id', '>', after.tenantId), eb.and([eb('tenant_id', '=', after.tenantId), eb('version', '>', after.version)])]),
      );
    }
    const rows = await query.orderBy('tenant_id').orderBy('version').limit(limit).execute();
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      version: Number(row.version),
      wrappedKey: row.wrapped_key,
      rootKeyVersion: Number(row.root_key_version),
      createdAt: row.created_at,
    }));
  }

  async countDataKeysByRootVersion(): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('tenant_data_keys')
      .select(['root_key_version', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('root_key_version')
      .execute();
    return new Map(rows.map((r) => [Number(r.root_key_version), Number(r.count)]));
  }

  /** Swaps the wrapping only if the row still holds what was read (a concurrent re-wrap wins otherwise). */
  async rewrapDataKey(current: TenantDataKey, next: { wrappedKey: string; rootKeyVersion: number }): Promise<boolean> {
    const result = await this.db
      .updateTable('tenant_data_keys')
      .set({ wrapped_key: next.wrappedKey, root_key_version: next.rootKeyVersion })
      .where('tenant_id', '=', current.tenantId)
      .where('version', '=', current.version)
      .where('wrapped_key', '=', current.wrappedKey)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async findIncident(tenantId: string, incidentId: string): Promise<{ createdAt: string; response: string } | null> {
    const row = await this.db
      .selectFrom('incident_resets')
      .select(['created_at', 'response'])
      .where('tenant_id', '=', tenantId)
      .where('incident_id', '=', incidentId)
      .executeTakeFirst();
    return row ? { createdAt: row.created_at, response: row.response } : null;
  }

  async insertIncident(tenantId: string, incidentId: string, createdAt: string, response: Record<string, unknown>): Promise<void> {
    await this.db
      .insertInto('incident_resets')
      .values({ tenant_id: tenantId, incident_id: incidentId, created_at: createdAt, response: JSON.stringify(response) })
      .execute();
  }

  /** The tenant's SMTP-account events, newest first. */
  async listEvents(tenantId: string, request: PageRequest): Promise<Page<AuditEvent>> {
    const base = this.db.selectFrom('audit_events').where('tenant_id', '=', tenantId).where('target_type', '=', SMTP_ACCOUNT_TARGET);
    const countRow = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(request.perPage)
      .offset((request.page - 1) * request.perPage)
      .execute();
    return { items: rows.map(toAuditEvent), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }
}
