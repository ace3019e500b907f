// The tenant's vaulted SMTP account: a retrievable password, stored only as ciphertext under the
// tenant's data key, that also verifies like any credential (a smtp_account credential row holds
// its keyed hash). Reading it opens a 15-minute checkout; every rotation swaps the ciphertext
// and the credential row in one transaction and drops the old password from the verify cache.
import { randomUUID } from 'node:crypto';
import type { Envelope } from '../crypto/envelope.js';
import { parseKey } from '../crypto/key-format.js';
import { AppError, notFound } from '../errors.js';
import { type OpenCheckout, SMTP_ACCOUNT_TARGET, type SmtpAccount, type VaultRepository } from '../storage/repositories/vault.js';
import type { Repositories } from '../storage/store.js';
import { announceCredentialChange, type DomainContext, recordEvent } from './context.js';
import type { CredentialService } from './credentials.js';
import type { TenantProvisioner } from './provisioning.js';
import type { Scope } from './scopes.js';
import { type Actor, type AuditEvent, type Page, SYSTEM_ACTOR, type Severity } from './types.js';

export type RotationType = 'manual' | 'automated' | 'checkout_expiry' | 'checkout_ended' | 'emergency_reset';
export type ReauthOutcome = 'missing' | 'invalid' | 'expired' | 'foreign';

export const CHECKOUT_MINUTES = 15;
export const SMTP_ACCOUNT_SCOPES: Scope[] = ['smtp', 'imap', 'pop3'];
export const AUDIT_PAGE_SIZE = 50;

export const VAULT_EVENTS = {
  created: 'smtp_credentials_created',
  accessed: 'smtp_credentials_accessed',
  accessDenied: 'smtp_credentials_access_denied',
  rotated: 'smtp_credentials_rotated',
  emergencyReset: 'smtp_credentials_emergency_reset',
  decryptionFailed: 'smtp_credentials_decryption_failed',
} as const;

export interface VaultOptions {
  rotationMonths: number;
  checkoutMinutes?: number;
}

export interface RevealedAccount {
  username: string;
  password: string;
  webmailUrl: string | null;
  createdAt: string;
  lastRotated: string;
  nextRotation: string;
  expiresAt: string;
  /** `existing` when a checkout was already open: same password, same expiry (not extended). */
  checkout: 'opened' | 'existing';
}

export interface AccountStatus {
  username: string;
  lastRotated: string;
  nextRotation: string;
  checkout: OpenCheckout | null;
}

/** The root key as an operator checks it (what `relaykey keys status` prints). */
export interface RootKeyStatus {
  /** Whether this node's master key is the one the database was sealed with. */
  masterKey: 'match' | 'mismatch' | 'unrecorded';
  keyCheck: string;
  source: 'key_file' | 'environment';
  currentVersion: number;
  knownVersions: number[];
  dataKeysByVersion: { version: number; count: number }[];
  /** Tenant data keys still wrapped with an older root key version (a re-wrap is due). */
  dataKeysNotCurrent: number;
}

export interface RotationResult {
  rotatedAt: string;
  nextRotation: string;
}

export interface EmergencyResetResult extends RotationResult {
  username: string;
  password: string;
  webmailUrl: string | null;
  expiresAt: string;
  incidentId: string;
}

interface RotatedSecret extends RotationResult {
  password: string;
  oldKeyHash: string | null;
}

/** Calendar months in UTC; the 31st becomes the last day of a shorter month. */
export function addMonths(from: Date, months: number): Date {
  const day = from.getUTCDate();
  const result = new Date(from.getTime());
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

const KEY_LIKE = /[a-z]{2,5}_[0-9A-Za-z]{38}/g;

/** Free text lands in audit details: a pasted key must be refused up front, not leak or crash. */
function assertNoSecret(field: string, value: string): void {
  for (const match of value.matchAll(KEY_LIKE)) {
    if (parseKey(match[0])) throw new AppError('VALIDATION_FAILED', `${field} must not contain a key or password`);
  }
}

export class SmtpAccountService {
  private readonly checkoutMs: number;

  constructor(
    private readonly context: DomainContext,
    private readonly credentials: CredentialService,
    readonly envelope: Envelope,
    private readonly options: VaultOptions,
  ) {
    this.checkoutMs = (options.checkoutMinutes ?? CHECKOUT_MINUTES) * 60_000;
  }

  /** Runs in the tenant-creation transaction: data key, credential row, ciphertext, account. */
  readonly provision: TenantProvisioner = async (tenant, repositories, options) => {
    const vault = repositories.vault;
    const now = this.context.clock.now();
    const nowIso = now.toISOString();
    const dataKey = this.envelope.newDataKey();
    const wrapped = this.envelope.wrapDataKey(tenant.id, 1, dataKey);
    await vault.insertDataKey({ tenantId: tenant.id, version: 1, ...wrapped, createdAt: nowIso });
    const issued = await this.credentials.insertWithin(repositories, this.credentialInput(tenant.id, options.smtpUsername, null), options.actor);
    const accountId = randomUUID();
    const sealed = this.envelope.encrypt(dataKey, issued.secret, { tenantId: tenant.id, accountId, secretVersion: 1 });
    const nextRotation = addMonths(now, this.options.rotationMonths).toISOString();
    await vault.insertAccount({
      id: accountId,
      tenantId: tenant.id,
      username: options.smtpUsername,
      credentialId: issued.credential.id,
      ...sealed,
      dataKeyVersion: 1,
      secretVersion: 1,
      createdAt: nowIso,
      lastRotated: nowIso,
      nextRotation,
      checkoutExpiresAt: null,
      checkoutAdminId: null,
      updatedAt: nowIso,
    });
    await recordEvent(this.context, repositories, {
      tenantId: tenant.id,
      event: VAULT_EVENTS.created,
      actor: options.actor,
      occurredAt: nowIso,
      targetType: SMTP_ACCOUNT_TARGET,
      targetId: accountId,
      details: { username: options.smtpUsername, next_rotation: nextRotation },
    });
  };

  private credentialInput(tenantId: string, username: string, replacesId: string | null) {
    return {
      tenantId,
      surface: 'smtp_account' as const,
      kind: 'SMTP' as const,
      name: `SMTP account ${username}`,
      scopes: SMTP_ACCOUNT_SCOPES,
      metadata: { username },
      replacesId,
    };
  }

  private async account(repositories: Repositories, tenantId: string, lock: 'none' | 'wait'): Promise<{ vault: VaultRepository; account: SmtpAccount }> {
    if (!(await repositories.tenants.findById(tenantId))) throw notFound('tenant');
    const vault = repositories.vault;
    const account = await vault.findByTenant(tenantId, lock);
    if (!account) throw notFound('SMTP account for this tenant');
    return { vault, account };
  }

  private async dataKey(vault: VaultRepository, tenantId: string, version: number): Promise<Buffer> {
    const stored = await vault.findDataKey(tenantId, version);
    if (!stored) throw new AppError('DECRYPTION_FAILED', `the tenant data key v${version} is missing`);
    return this.envelope.unwrapDataKey(tenantId, version, stored);
  }

  private async decryptPassword(vault: VaultRepository, account: SmtpAccount): Promise<string> {
    const key = await this.dataKey(vault, account.tenantId, account.dataKeyVersion);
    return this.envelope.decrypt(key, account, { tenantId: account.tenantId, accountId: account.id, secretVersion: account.secretVersion });
  }

  /**
   * Issues a new password: revokes the old credential row, inserts the new one, stores the new
   * ciphertext (only if nobody rotated since `account` was read) and records the event, all in
   * the caller's transaction.
   */
  private async rotateWithin(
    repositories: Repositories,
    vault: VaultRepository,
    account: SmtpAccount,
    actor: Actor,
    event: { name: string; severity: Severity; details: Record<string, unknown>; checkout: { expiresAt: string; adminId: string } | null },
  ): Promise<RotatedSecret> {
    const now = this.context.clock.now();
    const nowIso = now.toISOString();
    const old = await repositories.credentials.findById(account.tenantId, account.credentialId);
    if (old && old.status === 'active') {
      const revoked = await this.credentials.revokeWithin(repositories, old, `SMTP account password rotated (${String(event.details.rotation_type)})`, actor);
      if (!revoked) throw new AppError('INVALID_STATE', 'the SMTP account was rotated by another request meanwhile; nothing was changed');
    }
    const issued = await this.credentials.insertWithin(repositories, this.credentialInput(account.tenantId, account.username, old?.id ?? null), actor);
    const dataKeyVersion = (await vault.latestDataKeyVersion(account.tenantId)) ?? account.dataKeyVersion;
    const key = await this.dataKey(vault, account.tenantId, dataKeyVersion);
    const secretVersion = account.secretVersion + 1;
    const sealed = this.envelope.encrypt(key, issued.secret, { tenantId: account.tenantId, accountId: account.id, secretVersion });
    const nextRotation = addMonths(now, this.options.rotationMonths).toISOString();
    const replaced = await vault.replaceSecret(account.id, account.secretVersion, {
      credentialId: issued.credential.id,
      ...sealed,
      dataKeyVersion,
      secretVersion,
      lastRotated: nowIso,
      nextRotation,
      checkoutExpiresAt: event.checkout?.expiresAt ?? null,
      checkoutAdminId: event.checkout?.adminId ?? null,
      updatedAt: nowIso,
    });
    // Throwing rolls back the credential rows written above: no half-written rotation.
    if (!replaced) throw new AppError('INVALID_STATE', 'the SMTP account was rotated by another request meanwhile; nothing was changed');
    await recordEvent(this.context, repositories, {
      tenantId: account.tenantId,
      event: event.name,
      actor,
      occurredAt: nowIso,
      severity: event.severity,
      targetType: SMTP_ACCOUNT_TARGET,
      targetId: account.id,
      details: { ...event.details, secret_version: secretVersion, next_rotation: nextRotation },
    });
    return { password: issued.secret, oldKeyHash: old?.keyHash ?? null, rotatedAt: nowIso, nextRotation };
  }

  /** A failed integrity check is recorded as critical in its own transaction, then rethrown. */
  private async failClosed<T>(tenantId: string, actor: Actor, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError && error.code === 'DECRYPTION_FAILED') {
        await this.context.store.transaction(async (repositories) => {
          const account = await repositories.vault.findByTenant(tenantId);
          await recordEvent(this.context, repositories, {
            tenantId,
            event: VAULT_EVENTS.decryptionFailed,
            actor,
            occurredAt: this.context.clock.now().toISOString(),
            severity: 'critical',
            targetType: SMTP_ACCOUNT_TARGET,
            ...(account ? { targetId: account.id } : {}),
            details: { problem: error.message, secret_version: account?.secretVersion ?? null, data_key_version: account?.dataKeyVersion ?? null },
          });
        });
      }
      throw error;
    }
  }

  private announce(tenantId: string, oldKeyHash: string | null): void {
    if (oldKeyHash) announceCredentialChange(this.context, tenantId, [oldKeyHash]);
  }

  /**
   * Reveals the password and opens a checkout. A second read while the checkout is open
   * returns the same password and the SAME expiry: a checkout is never extended, so a
   * revealed password lives at most `checkoutMinutes` after it was first shown.
   */
  async reveal(tenantId: string, actor: Actor): Promise<RevealedAccount> {
    return this.failClosed(tenantId, actor, () =>
      this.context.store.transaction(async (repositories) => {
        const { vault, account } = await this.account(repositories, tenantId, 'wait');
        const password = await this.decryptPassword(vault, account);
        const now = this.context.clock.now();
        const nowIso = now.toISOString();
        const open = account.checkoutExpiresAt !== null && account.checkoutExpiresAt > nowIso;
        const expiresAt = open ? (account.checkoutExpiresAt as string) : new Date(now.getTime() + this.checkoutMs).toISOString();
        if (!open && !(await vault.openCheckout(account.id, account.secretVersion, expiresAt, actor.id, nowIso))) {
          throw new AppError('INVALID_STATE', 'the SMTP account changed while it was being read; try again');
        }
        await recordEvent(this.context, repositories, {
          tenantId,
          event: VAULT_EVENTS.accessed,
          actor,
          occurredAt: nowIso,
          targetType: SMTP_ACCOUNT_TARGET,
          targetId: account.id,
          details: { checkout: open ? 'existing' : 'opened', expires_at: expiresAt, secret_version: account.secretVersion },
        });
        const tenant = await repositories.tenants.findById(tenantId);
        return {
          username: account.username,
          password,
          webmailUrl: tenant?.webmailUrl ?? null,
          createdAt: account.createdAt,
          lastRotated: account.lastRotated,
          nextRotation: account.nextRotation,
          expiresAt,
          checkout: open ? 'existing' : 'opened',
        } satisfies RevealedAccount;
      }),
    );
  }

  /** A refused read (missing, invalid, expired or foreign reauth token) is audited as a warning. */
  async recordAccessDenied(tenantId: string, outcome: ReauthOutcome, actor: Actor): Promise<void> {
    await this.context.store.transaction(async (repositories) => {
      const account = await repositories.vault.findByTenant(tenantId);
      await recordEvent(this.context, repositories, {
        tenantId,
        event: VAULT_EVENTS.accessDenied,
        actor,
        occurredAt: this.context.clock.now().toISOString(),
        severity: 'warning',
        targetType: SMTP_ACCOUNT_TARGET,
        ...(account ? { targetId: account.id } : {}),
        details: { reauth: outcome },
      });
    });
  }

  /** Manual rotation: the old password stops verifying at once; any open checkout ends. `reason` null: none given. */
  async rotate(tenantId: string, reason: string | null, actor: Actor): Promise<RotationResult> {
    if (reason !== null) assertNoSecret('reason', reason);
    const rotated = await this.failClosed(tenantId, actor, () =>
      this.context.store.transaction(async (repositories) => {
        const { vault, account } = await this.account(repositories, tenantId, 'wait');
        return this.rotateWithin(repositories, vault, account, actor, {
          name: VAULT_EVENTS.rotated,
          severity: 'info',
          details: { rotation_type: 'manual' satisfies RotationType, reason },
          checkout: null,
        });
      }),
    );
    this.announce(tenantId, rotated.oldKeyHash);
    return { rotatedAt: rotated.rotatedAt, nextRotation: rotated.nextRotation };
  }

  /**
   * Emergency reset: a new password at once, the old checkout closed, and the new password
   * handed to the caller under a fresh checkout (so it too is rotated when that expires).
   * An incident id resets an account once: repeating it changes nothing and answers
   * INCIDENT_ALREADY_RESET (409).
   */
  async emergencyReset(tenantId: string, input: { incidentId: string; reason: string }, actor: Actor): Promise<EmergencyResetResult> {
    assertNoSecret('incident_id', input.incidentId);
    assertNoSecret('reason', input.reason);
    const result = await this.failClosed(tenantId, actor, () =>
      this.context.store.transaction(async (repositories) => {
        const { vault, account } = await this.account(repositories, tenantId, 'wait');
        const previous = await vault.findIncident(tenantId, input.incidentId);
        if (previous) {
          throw new AppError(
            'INCIDENT_ALREADY_RESET',
            `incident ${input.incidentId} already reset this SMTP account at ${previous.createdAt}; nothing was changed (use a new incident id for a new reset)`,
          );
        }
        const now = this.context.clock.now();
        const nowIso = now.toISOString();
        const expiresAt = new Date(now.getTime() + this.checkoutMs).toISOString();
        const closedCheckout = account.checkoutExpiresAt !== null && account.checkoutExpiresAt > nowIso ? account.checkoutExpiresAt : null;
        const rotated = await this.rotateWithin(repositories, vault, account, actor, {
          name: VAULT_EVENTS.emergencyReset,
          severity: 'critical',
          details: {
            rotation_type: 'emergency_reset' satisfies RotationType,
            incident_id: input.incidentId,
            reason: input.reason,
            closed_checkout_expires_at: closedCheckout,
            expires_at: expiresAt,
          },
          checkout: { expiresAt, adminId: actor.id },
        });
        await vault.insertIncident(tenantId, input.incidentId, nowIso, { rotated_at: rotated.rotatedAt, expires_at: expiresAt, username: account.username });
        const tenant = await repositories.tenants.findById(tenantId);
        return { ...rotated, username: account.username, webmailUrl: tenant?.webmailUrl ?? null, expiresAt };
      }),
    );
    this.announce(tenantId, result.oldKeyHash);
    return {
      username: result.username,
      password: result.password,
      webmailUrl: result.webmailUrl,
      expiresAt: result.expiresAt,
      incidentId: input.incidentId,
      rotatedAt: result.rotatedAt,
      nextRotation: result.nextRotation,
    };
  }

  /** The tenant's SMTP-account events, newest first, 50 a page unless asked otherwise. */
  async auditTrail(tenantId: string, page: number, perPage = AUDIT_PAGE_SIZE): Promise<Page<AuditEvent>> {
    if (!(await this.context.store.tenants.findById(tenantId))) throw notFound('tenant');
    return this.context.store.vault.listEvents(tenantId, { page, perPage });
  }

  /**
   * Rotates one account if it is still due once its row is held. Another process holding the
   * row (SKIP LOCKED) or having rotated it already (the secret_version guard) means: not ours.
   */
  private async rotateIfDue(tenantId: string, type: 'checkout_expiry' | 'automated'): Promise<boolean> {
    const rotated = await this.failClosed(tenantId, SYSTEM_ACTOR, () =>
      this.context.store.transaction(async (repositories) => {
        const vault = repositories.vault;
        const account = await vault.findByTenant(tenantId, 'skip');
        if (!account) return null;
        const nowIso = this.context.clock.now().toISOString();
        const checkoutOpen = account.checkoutExpiresAt !== null && account.checkoutExpiresAt > nowIso;
        const due = type === 'checkout_expiry' ? account.checkoutExpiresAt !== null && !checkoutOpen : account.nextRotation <= nowIso && !checkoutOpen;
        if (!due) return null;
        const details: Record<string, unknown> =
          type === 'checkout_expiry'
            ? { rotation_type: type, checkout_expired_at: account.checkoutExpiresAt }
            : { rotation_type: type, scheduled_for: account.nextRotation };
        return this.rotateWithin(repositories, vault, account, SYSTEM_ACTOR, { name: VAULT_EVENTS.rotated, severity: 'info', details, checkout: null });
      }),
    ).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'INVALID_STATE') return null; // another process won the race
      throw error;
    });
    if (!rotated) return false;
    this.announce(tenantId, rotated.oldKeyHash);
    return true;
  }

  private async rotateEach(tenantIds: string[], type: 'checkout_expiry' | 'automated', onError: (tenantId: string, error: unknown) => void): Promise<number> {
    let handled = 0;
    for (const tenantId of tenantIds) {
      try {
        if (await this.rotateIfDue(tenantId, type)) handled += 1;
      } catch (error) {
        onError(tenantId, error);
      }
    }
    return handled;
  }

  /** Every password checked out right now, soonest expiry first. */
  listOpenCheckouts(limit = 200): Promise<OpenCheckout[]> {
    return this.context.store.vault.listOpenCheckouts(this.context.clock.now().toISOString(), limit);
  }

  /** The account without its password: rotation times and the open checkout, if any (the console's vault card). */
  async accountStatus(tenantId: string): Promise<AccountStatus> {
    const { account } = await this.account(this.context.store, tenantId, 'none');
    const [open] = await this.context.store.vault.listOpenCheckouts(this.context.clock.now().toISOString(), 1, tenantId);
    return { username: account.username, lastRotated: account.lastRotated, nextRotation: account.nextRotation, checkout: open ?? null };
  }

  /**
   * Ends an open checkout before its time: the revealed password is rotated at once (as the
   * checkout's expiry would have), so whoever holds it can no longer use it. No open checkout:
   * INVALID_STATE, nothing changed.
   */
  async endCheckout(tenantId: string, actor: Actor): Promise<RotationResult> {
    const rotated = await this.failClosed(tenantId, actor, () =>
      this.context.store.transaction(async (repositories) => {
        const { vault, account } = await this.account(repositories, tenantId, 'wait');
        const nowIso = this.context.clock.now().toISOString();
        if (account.checkoutExpiresAt === null || account.checkoutExpiresAt <= nowIso) {
          throw new AppError('INVALID_STATE', 'the SMTP account is not checked out; nothing was changed');
        }
        return this.rotateWithin(repositories, vault, account, actor, {
          name: VAULT_EVENTS.rotated,
          severity: 'warning',
          details: {
            rotation_type: 'checkout_ended' satisfies RotationType,
            checkout_expires_at: account.checkoutExpiresAt,
            checked_out_by: account.checkoutAdminId,
          },
          checkout: null,
        });
      }),
    );
    this.announce(tenantId, rotated.oldKeyHash);
    return { rotatedAt: rotated.rotatedAt, nextRotation: rotated.nextRotation };
  }

  /** The root key: whether it matches the database, its versions, and how many data keys each wraps. */
  async rootKeyStatus(): Promise<RootKeyStatus> {
    const counts = await this.countDataKeysByRootVersion();
    const keyCheck = this.envelope.keyCheck();
    const stored = await this.context.store.vault.storedMasterKeyCheck();
    const currentVersion = this.envelope.currentRootVersion;
    const dataKeysByVersion = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([version, count]) => ({ version, count }));
    return {
      masterKey: stored === null ? 'unrecorded' : stored === keyCheck ? 'match' : 'mismatch',
      keyCheck,
      source: this.envelope.rootKeySource,
      currentVersion,
      knownVersions: this.envelope.rootVersions,
      dataKeysByVersion,
      dataKeysNotCurrent: dataKeysByVersion.filter((d) => d.version !== currentVersion).reduce((sum, d) => sum + d.count, 0),
    };
  }

  /** Rotates every password whose checkout has expired (rotation_type checkout_expiry). */
  async expireCheckouts(onError: (tenantId: string, error: unknown) => void, limit = 100): Promise<number> {
    const due = await this.context.store.vault.listCheckoutExpired(this.context.clock.now().toISOString(), limit);
    return this.rotateEach(due, 'checkout_expiry', onError);
  }

  /** Rotates every password whose next_rotation has passed (rotation_type automated, user system). */
  async rotateScheduled(onError: (tenantId: string, error: unknown) => void, limit = 100): Promise<number> {
    const due = await this.context.store.vault.listRotationDue(this.context.clock.now().toISOString(), limit);
    return this.rotateEach(due, 'automated', onError);
  }

  /**
   * Re-wraps every tenant data key with root key `targetVersion`. The data keys themselves do
   * not change, so every ciphertext still decrypts; each swap is a conditional UPDATE, so it
   * can run beside a serving node. Returns the tenants whose data key could not be unwrapped.
   */
  async rewrapDataKeys(targetVersion: number, actor: Actor): Promise<{ rewrapped: number; failedTenants: string[] }> {
    if (!this.envelope.knowsRootVersion(targetVersion)) throw new AppError('INVALID_STATE', `root key v${targetVersion} is not known`);
    const vault = this.context.store.vault;
    let rewrapped = 0;
    const failedTenants: string[] = [];
    let after: { tenantId: string; version: number } | null = null;
    for (;;) {
      const batch = await vault.listDataKeysNotWrappedWith(targetVersion, 200, after);
      if (batch.length === 0) break;
      for (const stored of batch) {
        try {
          const key = await this.failClosed(stored.tenantId, actor, async () => this.envelope.unwrapDataKey(stored.tenantId, stored.version, stored));
          if (await vault.rewrapDataKey(stored, this.envelope.wrapDataKey(stored.tenantId, stored.version, key, targetVersion))) rewrapped += 1;
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'DECRYPTION_FAILED')) throw error;
          failedTenants.push(stored.tenantId);
        }
      }
      const last = batch[batch.length - 1] as { tenantId: string; version: number };
      after = { tenantId: last.tenantId, version: last.version };
    }
    await this.context.store.transaction((repositories) =>
      recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'root_key.rewrapped',
        actor,
        occurredAt: this.context.clock.now().toISOString(),
        severity: failedTenants.length > 0 ? 'critical' : 'info',
        details: { root_key_version: targetVersion, rewrapped, failed_tenants: failedTenants },
      }),
    );
    return { rewrapped, failedTenants };
  }

  countDataKeysByRootVersion(): Promise<Map<number, number>> {
    return this.context.store.vault.countDataKeysByRootVersion();
  }
}
