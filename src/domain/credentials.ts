// Verify-only credentials: issued once, stored as a keyed hash, held, revoked and rotated.
import { randomUUID } from 'node:crypto';
import { randomBase62 } from '../crypto/base62.js';
import { generateKey, KEY_PREFIXES, type KeyPrefix, keyHint } from '../crypto/key-format.js';
import { widening } from './policy.js';
import { AppError, notFound } from '../errors.js';
import type { CredentialListStatus } from '../storage/repositories/credentials.js';
import type { Repositories } from '../storage/store.js';
import { announceCredentialChange, type DomainContext, recordEvent } from './context.js';
import { type Role, type Scope, scopesForRole } from './scopes.js';
import { checkAllowedSenders } from './sending-policy.js';
import type { Actor, Credential, CredentialKind, Page, PageRequest, SendingLimits, Surface } from './types.js';

export const SURFACE_PREFIX: Record<Surface, KeyPrefix> = {
  native: KEY_PREFIXES.credential,
  seed001: KEY_PREFIXES.seed001,
  seed002: KEY_PREFIXES.seed002,
  seed003: KEY_PREFIXES.seed003Secret,
  smtp_account: KEY_PREFIXES.smtpAccount,
};

/** Seed 003 keys log in with a public Key (the username) plus the secret; the Key is not secret. */
export const PUBLIC_KEY_PREFIX = 'rkk_';

export function generatePublicKey(): string {
  return `${PUBLIC_KEY_PREFIX}${randomBase62(32)}`;
}

export interface CreateCredentialInput {
  tenantId: string;
  loginId?: string | null;
  surface?: Surface;
  kind?: CredentialKind;
  name: string;
  scopes?: Scope[];
  role?: Role | null;
  publicKey?: string | null;
  held?: boolean;
  expiresAt?: string | null;
  allowedNetworks?: string[] | null;
  /** Addresses and @domains inside the tenant's domains; null: the default (domain/sending-policy.ts). */
  allowedSenders?: string[] | null;
  sendingLimits?: SendingLimits | null;
  metadata?: Record<string, string>;
}

export interface IssuedCredential {
  credential: Credential;
  /** The plaintext secret: returned once, never stored. */
  secret: string;
}

export interface CredentialScope {
  tenantId: string;
  /** When set (a login-bound token), only this login's credentials are visible. */
  loginId?: string | null;
  surface?: Surface;
}

export interface UpdateCredentialInput {
  name?: string;
  scopes?: Scope[];
  expiresAt?: string | null;
  allowedNetworks?: string[] | null;
  allowedSenders?: string[] | null;
  sendingLimits?: SendingLimits | null;
}

/** A login-bound caller may name only its login's own addresses as senders (it may not widen). */
async function loginAddresses(repositories: Repositories, tenantId: string, loginId: string): Promise<string[]> {
  const login = await repositories.tenants.findLogin(tenantId, loginId);
  return login ? [login.address, ...(await repositories.sending.aliasesOf(loginId))] : [];
}

export class CredentialService {
  constructor(private readonly context: DomainContext) {}

  private now(): string {
    return this.context.clock.now().toISOString();
  }

  /** Builds and inserts a credential inside a caller's transaction (rotation and the vault reuse it). */
  async insertWithin(
    repositories: Repositories,
    input: CreateCredentialInput & { replacesId?: string | null; sendersBoundToLogin?: boolean },
    actor: Actor,
  ): Promise<IssuedCredential> {
    const surface = input.surface ?? 'native';
    const secret = generateKey(SURFACE_PREFIX[surface]);
    const now = this.now();
    if (input.loginId && !(await repositories.tenants.findLogin(input.tenantId, input.loginId))) throw notFound('login');
    const scopes = input.role ? scopesForRole(input.role) : [...new Set(input.scopes ?? [])];
    // A successor (rotation) keeps its predecessor's senders as they are.
    const allowedSenders =
      input.allowedSenders && !input.replacesId
        ? await checkAllowedSenders(
            repositories,
            input.tenantId,
            input.allowedSenders,
            input.sendersBoundToLogin && input.loginId ? await loginAddresses(repositories, input.tenantId, input.loginId) : undefined,
          )
        : (input.allowedSenders ?? null);
    const credential = await repositories.credentials.insert({
      id: randomUUID(),
      tenantId: input.tenantId,
      loginId: input.loginId ?? null,
      surface,
      kind: input.kind ?? 'SMTP',
      name: input.name,
      scopes,
      role: input.role ?? null,
      publicKey: input.publicKey ?? (surface === 'seed003' ? generatePublicKey() : null),
      keyHash: this.context.hashSecret(secret),
      keyHint: keyHint(secret),
      held: input.held ?? false,
      status: 'active',
      revokedAt: null,
      revokedReason: null,
      graceUntil: null,
      expiresAt: input.expiresAt ?? null,
      allowedNetworks: input.allowedNetworks ?? null,
      allowedSenders,
      sendingLimits: input.sendingLimits ?? null,
      metadata: input.metadata ?? {},
      replacesId: input.replacesId ?? null,
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
    });
    await recordEvent(this.context, repositories, {
      tenantId: credential.tenantId,
      event: 'credential.created',
      actor,
      occurredAt: now,
      targetType: 'credential',
      targetId: credential.id,
      details: {
        name: credential.name,
        surface,
        kind: credential.kind,
        scopes: credential.scopes,
        role: credential.role,
        login_id: credential.loginId,
        held: credential.held,
        replaces_id: credential.replacesId,
        allowed_senders: credential.allowedSenders,
        sending_limits: credential.sendingLimits,
      },
    });
    return { credential, secret };
  }

  async create(input: CreateCredentialInput & { sendersBoundToLogin?: boolean }, actor: Actor): Promise<IssuedCredential> {
    return this.context.store.transaction(async (repositories) => {
      if (!(await repositories.tenants.findById(input.tenantId))) throw notFound('tenant');
      return this.insertWithin(repositories, input, actor);
    });
  }

  private visible(credential: Credential | null, scope: CredentialScope): Credential {
    if (!credential) throw notFound('credential');
    if (scope.loginId && credential.loginId !== scope.loginId) throw notFound('credential');
    if (scope.surface && credential.surface !== scope.surface) throw notFound('credential');
    return credential;
  }

  /** The vaulted SMTP account's row changes only with its ciphertext (domain/vault.ts), never alone. */
  private changeable(credential: Credential): Credential {
    if (credential.surface === 'smtp_account') {
      throw new AppError(
        'INVALID_STATE',
        "this credential is the tenant's vaulted SMTP account; rotate or reset it through /api/v1/platform-admin/tenants/{tenant_id}/smtp-credentials",
      );
    }
    return credential;
  }

  async get(scope: CredentialScope, id: string): Promise<Credential> {
    return this.visible(await this.context.store.credentials.findById(scope.tenantId, id), scope);
  }

  async getByNumId(scope: CredentialScope, numId: number): Promise<Credential> {
    return this.visible(await this.context.store.credentials.findByNumId(scope.tenantId, numId), scope);
  }

  list(scope: CredentialScope, request: PageRequest, status?: CredentialListStatus, now?: string): Promise<Page<Credential>> {
    return this.context.store.credentials.list(
      {
        tenantId: scope.tenantId,
        ...(scope.loginId ? { loginId: scope.loginId } : {}),
        ...(scope.surface ? { surface: scope.surface } : {}),
        ...(status ? { status } : {}),
        ...(now ? { now } : {}),
      },
      request,
    );
  }

  async update(scope: CredentialScope, id: string, changes: UpdateCredentialInput, actor: Actor): Promise<Credential> {
    const updated = await this.context.store.transaction(async (repositories) => {
      const current = this.changeable(this.visible(await repositories.credentials.findById(scope.tenantId, id), scope));
      if (current.status === 'revoked') throw new AppError('INVALID_STATE', 'a revoked credential cannot be changed');
      if (changes.scopes && current.role) throw new AppError('INVALID_STATE', 'scopes of a role-based credential come from its role');
      // A login-bound caller may only narrow (domain/policy.ts).
      const widens = widening(scope.loginId ? 'bound-bearer' : 'admin', current, changes);
      if (widens) throw new AppError('FORBIDDEN', widens);
      if (changes.allowedSenders) {
        const bound = scope.loginId && current.loginId ? await loginAddresses(repositories, scope.tenantId, current.loginId) : undefined;
        changes = { ...changes, allowedSenders: await checkAllowedSenders(repositories, scope.tenantId, changes.allowedSenders, bound) };
      }
      const next = await repositories.credentials.update(id, { ...changes, updatedAt: this.now() });
      if (!next) throw notFound('credential');
      await recordEvent(this.context, repositories, {
        tenantId: scope.tenantId,
        event: 'credential.updated',
        actor,
        occurredAt: next.updatedAt,
        targetType: 'credential',
        targetId: id,
        details: {
          fields: Object.keys(changes).sort(),
          scopes: next.scopes,
          expires_at: next.expiresAt,
          allowed_networks: next.allowedNetworks,
          allowed_senders: next.allowedSenders,
          sending_limits: next.sendingLimits,
        },
      });
      return next;
    });
    announceCredentialChange(this.context, scope.tenantId, [updated.keyHash]);
    return updated;
  }

  async setHeld(scope: CredentialScope, id: string, held: boolean, actor: Actor): Promise<Credential> {
    let ended: string[] = [];
    const updated = await this.context.store.transaction(async (repositories) => {
      const current = this.changeable(this.visible(await repositories.credentials.findById(scope.tenantId, id), scope));
      // Holding the old end of a rotation still in its grace period ends the chain's grace periods.
      if (current.status === 'revoked' && held) {
        ended = await this.endChainGrace(repositories, current, 'held during its grace period', actor);
        if (ended.length > 0) return (await repositories.credentials.findById(scope.tenantId, id)) as Credential;
      }
      if (current.status === 'revoked') throw new AppError('INVALID_STATE', 'a revoked credential cannot be held or released');
      if (current.held === held) return current;
      const next = await repositories.credentials.update(id, { held, updatedAt: this.now() }, { onlyIfActive: true });
      if (!next) throw new AppError('INVALID_STATE', 'the credential was revoked meanwhile');
      await recordEvent(this.context, repositories, {
        tenantId: scope.tenantId,
        event: held ? 'credential.held' : 'credential.unheld',
        actor,
        occurredAt: next.updatedAt,
        severity: held ? 'warning' : 'info',
        targetType: 'credential',
        targetId: id,
        details: { name: next.name },
      });
      return next;
    });
    announceCredentialChange(this.context, scope.tenantId, [updated.keyHash, ...ended]);
    return updated;
  }

  /**
   * Holds credentials the sending policy caught misbehaving (issue 25, auto-hold): reason
   * `abuse_suspected` in the audit event, which sends `credential.locked`. A credential already
   * held, or held meanwhile by another node, is left alone, so each hold is recorded once.
   */
  async holdForAbuse(tenantId: string, ids: readonly string[], details: Record<string, string | number>): Promise<Credential[]> {
    const actor: Actor = { type: 'system', id: 'sending-policy', ip: null };
    const held = await this.context.store.transaction(async (repositories) => {
      const out: Credential[] = [];
      for (const id of ids) {
        const next = await repositories.credentials.update(id, { held: true, updatedAt: this.now() }, { onlyIfActive: true, onlyIfNotHeld: true });
        if (!next) continue;
        await recordEvent(this.context, repositories, {
          tenantId,
          event: 'credential.held',
          actor,
          occurredAt: next.updatedAt,
          severity: 'critical',
          targetType: 'credential',
          targetId: id,
          details: { name: next.name, reason: 'abuse_suspected', ...details },
        });
        out.push(next);
      }
      return out;
    });
    if (held.length > 0)
      announceCredentialChange(
        this.context,
        tenantId,
        held.map((c) => c.keyHash),
      );
    return held;
  }

  /** Revokes inside a caller's transaction; returns null when it was already revoked. */
  async revokeWithin(
    repositories: Repositories,
    credential: Credential,
    reason: string,
    actor: Actor,
    extra: { graceUntil?: string | null; event?: string } = {},
  ): Promise<Credential | null> {
    const now = this.now();
    const next = await repositories.credentials.update(
      credential.id,
      { status: 'revoked', revokedAt: now, revokedReason: reason, graceUntil: extra.graceUntil ?? null, updatedAt: now },
      { onlyIfActive: true },
    );
    if (!next) return null;
    await recordEvent(this.context, repositories, {
      tenantId: credential.tenantId,
      event: extra.event ?? 'credential.revoked',
      actor,
      occurredAt: now,
      severity: 'warning',
      targetType: 'credential',
      targetId: credential.id,
      details: { name: credential.name, reason, grace_until: extra.graceUntil ?? null },
    });
    return next;
  }

  /**
   * Revokes; or, for a credential revoked by a rotation whose grace period still runs, ends it.
   * Either way every grace period of the credential's rotation chain ends at once: after
   * revoking either end of a rotation, no secret of the chain verifies on any node.
   */
  async revoke(scope: CredentialScope, id: string, reason: string, actor: Actor): Promise<Credential> {
    const { revoked, keyHashes } = await this.context.store.transaction(async (repositories) => {
      const current = this.changeable(this.visible(await repositories.credentials.findById(scope.tenantId, id), scope));
      const ended = await this.endChainGrace(repositories, current, reason, actor);
      if (current.status === 'revoked') {
        if (ended.length === 0) throw new AppError('INVALID_STATE', 'the credential is already revoked');
        return { revoked: (await repositories.credentials.findById(scope.tenantId, id)) as Credential, keyHashes: ended };
      }
      const next = await this.revokeWithin(repositories, current, reason, actor);
      if (!next) throw new AppError('INVALID_STATE', 'the credential is already revoked');
      return { revoked: next, keyHashes: [...ended, next.keyHash] };
    });
    announceCredentialChange(this.context, scope.tenantId, keyHashes);
    return revoked;
  }

  /** Ends the running grace periods of every credential in the rotation chain; answers their key hashes. */
  private async endChainGrace(repositories: Repositories, start: Credential, reason: string, actor: Actor): Promise<string[]> {
    const now = this.now();
    const chain = new Map<string, Credential>([[start.id, start]]);
    // Back through the predecessors, then forward through the successors of every member.
    let back: Credential | null = start;
    while (back?.replacesId && !chain.has(back.replacesId)) {
      back = await repositories.credentials.findById(start.tenantId, back.replacesId);
      if (back) chain.set(back.id, back);
    }
    const queue = [...chain.values()];
    while (queue.length > 0) {
      const member = queue.shift() as Credential;
      for (const next of await repositories.credentials.findSuccessors(start.tenantId, member.id)) {
        if (chain.has(next.id)) continue;
        chain.set(next.id, next);
        queue.push(next);
      }
    }
    const ended: string[] = [];
    for (const member of chain.values()) {
      if (member.status !== 'revoked' || !member.graceUntil || member.graceUntil <= now) continue;
      await repositories.credentials.update(member.id, { graceUntil: null, updatedAt: now });
      await recordEvent(this.context, repositories, {
        tenantId: member.tenantId,
        event: 'credential.grace_ended',
        actor,
        occurredAt: now,
        severity: 'warning',
        targetType: 'credential',
        targetId: member.id,
        details: { name: member.name, reason, grace_until_was: member.graceUntil, ended_through: start.id },
      });
      ended.push(member.keyHash);
    }
    return ended;
  }

  /**
   * Issues a new credential with the same name, scopes, role and owner and revokes the old
   * one in one transaction. During `gracePeriodSeconds` the old secret still verifies.
   */
  async rotate(
    scope: CredentialScope,
    id: string,
    /** `release`: the successor is active even if the old credential was held (seed 001 regenerate). */
    options: { gracePeriodSeconds?: number; release?: boolean },
    actor: Actor,
  ): Promise<{ old: Credential; issued: IssuedCredential }> {
    const result = await this.context.store.transaction(async (repositories) => {
      const current = this.changeable(this.visible(await repositories.credentials.findById(scope.tenantId, id), scope));
      if (current.status === 'revoked') throw new AppError('INVALID_STATE', 'a revoked credential cannot be rotated');
      const grace = options.gracePeriodSeconds ?? 0;
      const graceUntil = grace > 0 ? new Date(this.context.clock.now().getTime() + grace * 1000).toISOString() : null;
      const old = await this.revokeWithin(repositories, current, 'rotated', actor, { graceUntil });
      // A concurrent rotation won the race: exactly one successor may exist.
      if (!old) throw new AppError('INVALID_STATE', 'the credential was rotated or revoked meanwhile');
      const issued = await this.insertWithin(
        repositories,
        {
          tenantId: current.tenantId,
          loginId: current.loginId,
          surface: current.surface,
          kind: current.kind,
          name: current.name,
          scopes: current.scopes,
          role: current.role,
          publicKey: current.publicKey,
          held: current.held && options.release !== true,
          expiresAt: current.expiresAt,
          allowedNetworks: current.allowedNetworks,
          allowedSenders: current.allowedSenders,
          sendingLimits: current.sendingLimits,
          metadata: current.metadata,
          replacesId: current.id,
        },
        actor,
      );
      await recordEvent(this.context, repositories, {
        tenantId: current.tenantId,
        event: 'credential.rotated',
        actor,
        occurredAt: issued.credential.createdAt,
        targetType: 'credential',
        targetId: current.id,
        details: { name: current.name, new_credential_id: issued.credential.id, grace_until: graceUntil },
      });
      return { old, issued };
    });
    announceCredentialChange(this.context, scope.tenantId, [result.old.keyHash]);
    return result;
  }
}
