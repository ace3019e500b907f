// Who is calling: platform admins (password, optional TOTP, sessions, reauth) and API tokens
// (tenant bearer, server API key, platform verifier). Every token uses the one key format
// and is stored as a keyed hash, like credentials.
import { hash, randomUUID } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { authenticator } from 'otplib';
import { generateKey, KEY_PREFIXES, keyHint, parseKey } from '../crypto/key-format.js';
import { AppError, isDatabaseFault, notFound } from '../errors.js';
import { type DomainContext, recordEvent } from './context.js';
import type { Actor, Admin, ApiToken, TokenKind } from './types.js';

/**
 * TOTP codes of the current 30 s step and the one on either side (RFC 6238 §5.2): a code typed
 * as the step turns, or from a phone a few seconds off, still signs in. A code is a step old at
 * most; older ones are refused.
 */
const totp = authenticator.clone({ window: 1 });

export type Principal =
  | { type: 'admin'; adminId: string; sessionId: string }
  | { type: 'bearer'; tokenId: string; tenantId: string; loginId: string | null }
  | { type: 'server'; tokenId: string; tenantId: string }
  | { type: 'verifier'; tokenId: string };

const TOKEN_PREFIX: Record<TokenKind, (typeof KEY_PREFIXES)[keyof typeof KEY_PREFIXES]> = {
  bearer: KEY_PREFIXES.bearerToken,
  server: KEY_PREFIXES.serverToken,
  verifier: KEY_PREFIXES.verifierToken,
};

/** How long a token lookup is cached (ms): revoking a token takes effect within it. */
const TOKEN_CACHE_MS = 5_000;

const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function actorFor(principal: Principal, ip: string | null): Actor {
  if (principal.type === 'admin') return { type: 'admin', id: principal.adminId, ip };
  return { type: 'token', id: principal.tokenId, ip };
}

export class AccessService {
  /** Token lookups are cached briefly: management calls should not pay a read each. */
  private readonly tokenCache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly context: DomainContext,
    private readonly options: {
      sessionMinutes: number;
      reauthMinutes: number;
      /** While the database is down, a cached token keeps its principal until it is this old (ms). */
      staleMaxMs?: number;
      databaseDown?: () => boolean;
    },
  ) {}

  private now(): Date {
    return this.context.clock.now();
  }

  async createAdmin(input: { email: string; password: string; totpSecret?: string | null }, actor: Actor): Promise<Admin> {
    const email = input.email.trim().toLowerCase();
    if (input.password.length < 12) throw new AppError('VALIDATION_FAILED', 'password must be at least 12 characters');
    const admin: Admin = {
      id: randomUUID(),
      email,
      passwordHash: await argonHash(input.password, ARGON2_OPTIONS),
      totpSecret: input.totpSecret ?? null,
      createdAt: this.now().toISOString(),
    };
    await this.context.store.transaction(async (repositories) => {
      if (await repositories.access.findAdminByEmail(email)) throw new AppError('CONFLICT', `an admin with email ${email} already exists`);
      await repositories.access.insertAdmin(admin);
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'admin.created',
        actor,
        occurredAt: admin.createdAt,
        targetType: 'admin',
        targetId: admin.id,
        details: { email, totp: admin.totpSecret !== null },
      });
    });
    return admin;
  }

  private async checkPassword(admin: Admin | null, password: string, totpCode: string | undefined): Promise<void> {
    // Hash even for an unknown email so timing does not reveal which emails exist.
    if (!admin) {
      await argonHash(password, ARGON2_OPTIONS);
      throw new AppError('INVALID_LOGIN');
    }
    if (!(await argonVerify(admin.passwordHash, password))) throw new AppError('INVALID_LOGIN');
    if (admin.totpSecret) {
      if (!totpCode) throw new AppError('TOTP_REQUIRED');
      if (!totp.check(totpCode, admin.totpSecret)) throw new AppError('INVALID_LOGIN');
    }
  }

  /** Checks password and TOTP; a failure is audited (warning) before it is thrown. */
  private async checkPasswordOrRecord(
    admin: Admin | null,
    input: { password: string; totpCode?: string },
    event: string,
    actor: Actor,
    details?: Record<string, unknown>,
  ): Promise<void> {
    try {
      await this.checkPassword(admin, input.password, input.totpCode);
    } catch (error) {
      await this.context.store.transaction((repositories) =>
        recordEvent(this.context, repositories, {
          tenantId: null,
          event,
          actor,
          occurredAt: this.now().toISOString(),
          severity: 'warning',
          ...(details ? { details } : {}),
        }),
      );
      throw error;
    }
  }

  async login(
    input: { email: string; password: string; totpCode?: string },
    ip: string | null,
  ): Promise<{ token: string; expiresAt: string; adminId: string }> {
    const admin = await this.context.store.access.findAdminByEmail(input.email.trim().toLowerCase());
    await this.checkPasswordOrRecord(
      admin,
      input,
      'admin.login_failed',
      { type: 'admin', id: admin?.id ?? 'unknown', ip },
      { email: input.email.slice(0, 320) },
    );
    const token = generateKey(KEY_PREFIXES.adminSession);
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.options.sessionMinutes * 60_000).toISOString();
    const sessionId = randomUUID();
    const adminId = (admin as Admin).id;
    await this.context.store.transaction(async (repositories) => {
      await repositories.access.insertSession(
        { id: sessionId, adminId, createdAt: now.toISOString(), expiresAt, revokedAt: null },
        this.context.hashSecret(token),
      );
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'admin.login',
        actor: { type: 'admin', id: adminId, ip },
        occurredAt: now.toISOString(),
        targetType: 'admin_session',
        targetId: sessionId,
      });
    });
    return { token, expiresAt, adminId };
  }

  async logout(principal: Principal, ip: string | null): Promise<void> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'only an admin session can be signed out');
    await this.context.store.transaction(async (repositories) => {
      await repositories.access.revokeSession(principal.sessionId, this.now().toISOString());
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'admin.logout',
        actor: actorFor(principal, ip),
        occurredAt: this.now().toISOString(),
        targetType: 'admin_session',
        targetId: principal.sessionId,
      });
    });
    this.tokenCache.clear();
  }

  async reauth(principal: Principal, input: { password: string; totpCode?: string }, ip: string | null): Promise<{ reauthToken: string; expiresAt: string }> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'reauthentication is for admin sessions');
    const admin = await this.context.store.access.findAdminById(principal.adminId);
    await this.checkPasswordOrRecord(admin, input, 'admin.reauth_failed', actorFor(principal, ip));
    const reauthToken = generateKey(KEY_PREFIXES.reauthToken);
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.options.reauthMinutes * 60_000).toISOString();
    await this.context.store.transaction(async (repositories) => {
      const id = randomUUID();
      await repositories.access.insertReauth(id, principal.sessionId, this.context.hashSecret(reauthToken), now.toISOString(), expiresAt);
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'admin.reauth',
        actor: actorFor(principal, ip),
        occurredAt: now.toISOString(),
        targetType: 'admin_session',
        targetId: principal.sessionId,
      });
    });
    return { reauthToken, expiresAt };
  }

  /** True when the reauth token is unexpired and was issued to this very admin session. */
  async checkReauth(principal: Principal, reauthToken: string | undefined): Promise<'ok' | 'missing' | 'invalid' | 'expired' | 'foreign'> {
    if (principal.type !== 'admin') return 'invalid';
    if (!reauthToken) return 'missing';
    if (!parseKey(reauthToken)) return 'invalid';
    const found = await this.context.store.access.findReauthByHash(this.context.hashSecret(reauthToken));
    if (!found) return 'invalid';
    if (found.sessionId !== principal.sessionId) return 'foreign';
    if (found.expiresAt <= this.now().toISOString()) return 'expired';
    return 'ok';
  }

  async createToken(
    input: { kind: TokenKind; tenantId?: string | null; loginId?: string | null; name?: string },
    actor: Actor,
  ): Promise<{ token: ApiToken; secret: string }> {
    if (input.kind === 'verifier' ? input.tenantId : !input.tenantId) {
      throw new AppError(
        'VALIDATION_FAILED',
        input.kind === 'verifier' ? 'a verifier token is platform-wide and takes no tenant' : `a ${input.kind} token needs a tenant`,
      );
    }
    if (input.loginId && input.kind !== 'bearer') throw new AppError('VALIDATION_FAILED', 'only bearer tokens can be bound to a login');
    const secret = generateKey(TOKEN_PREFIX[input.kind]);
    const token: ApiToken = {
      id: randomUUID(),
      kind: input.kind,
      tenantId: input.tenantId ?? null,
      loginId: input.loginId ?? null,
      name: input.name ?? `${input.kind} token`,
      keyHint: keyHint(secret),
      createdAt: this.now().toISOString(),
      revokedAt: null,
    };
    await this.context.store.transaction(async (repositories) => {
      if (token.tenantId && !(await repositories.tenants.findById(token.tenantId))) throw notFound('tenant');
      if (token.loginId && token.tenantId && !(await repositories.tenants.findLogin(token.tenantId, token.loginId))) throw notFound('login');
      await repositories.access.insertToken(token, this.context.hashSecret(secret));
      await recordEvent(this.context, repositories, {
        tenantId: token.tenantId,
        event: 'token.created',
        actor,
        occurredAt: token.createdAt,
        targetType: 'token',
        targetId: token.id,
        details: { kind: token.kind, name: token.name, login_id: token.loginId },
      });
    });
    return { token, secret };
  }

  listTokens(tenantId: string): Promise<ApiToken[]> {
    return this.context.store.access.listTokens(tenantId);
  }

  async revokeToken(tenantId: string, id: string, actor: Actor): Promise<void> {
    await this.context.store.transaction(async (repositories) => {
      const token = await repositories.access.findToken(tenantId, id);
      if (!token) throw notFound('token');
      if (token.revokedAt) throw new AppError('INVALID_STATE', 'the token is already revoked');
      await repositories.access.revokeToken(id, this.now().toISOString());
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'token.revoked',
        actor,
        occurredAt: this.now().toISOString(),
        severity: 'warning',
        targetType: 'token',
        targetId: id,
        details: { kind: token.kind, name: token.name },
      });
    });
    this.tokenCache.clear();
  }

  /** Resolves a presented token to a principal, or null. Garbled tokens never reach the database. */
  async authenticate(presented: string): Promise<Principal | null> {
    const nowMs = this.now().getTime();
    // The cache is keyed by a plain SHA-256 of the token, held in this process's memory only (a
    // token carries >= 160 random bits): a cached token, such as a mail server's verifier token
    // on every verification, costs one hash instead of a key parse and the peppered HMAC.
    const cacheKey = hash('sha256', presented, 'base64url');
    const cached = this.tokenCache.get(cacheKey);
    if (cached && cached.until > nowMs) return cached.principal;
    // A mail server's verifier token must keep working through a database outage (as cached
    // credentials do): a known token answers from the cache for RELAYKEY_VERIFY_STALE_MAX_MS.
    const stale = cached?.principal && cached.until - TOKEN_CACHE_MS + (this.options.staleMaxMs ?? 0) > nowMs ? cached.principal : null;
    if (stale && this.options.databaseDown?.()) return stale;
    try {
      return await this.lookUpToken(presented, cacheKey, nowMs);
    } catch (error) {
      if (stale && isDatabaseFault(error)) return stale;
      throw error;
    }
  }

  private async lookUpToken(presented: string, cacheKey: string, nowMs: number): Promise<Principal | null> {
    const parsed = parseKey(presented);
    if (!parsed) return null;
    const keyHash = this.context.hashSecret(presented);
    let principal: Principal | null = null;
    if (parsed.prefix === KEY_PREFIXES.adminSession) {
      const session = await this.context.store.access.findSessionByHash(keyHash);
      if (session && !session.revokedAt && session.expiresAt > new Date(nowMs).toISOString()) {
        principal = { type: 'admin', adminId: session.adminId, sessionId: session.id };
      }
      // Sessions are not cached: expiry and sign-out must hold to the second.
      return principal;
    }
    const token = await this.context.store.access.findTokenByHash(keyHash);
    if (token && !token.revokedAt) {
      if (token.kind === 'bearer' && token.tenantId) principal = { type: 'bearer', tokenId: token.id, tenantId: token.tenantId, loginId: token.loginId };
      else if (token.kind === 'server' && token.tenantId) principal = { type: 'server', tokenId: token.id, tenantId: token.tenantId };
      else if (token.kind === 'verifier') principal = { type: 'verifier', tokenId: token.id };
    }
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(cacheKey, { principal, until: nowMs + TOKEN_CACHE_MS });
    return principal;
  }
}
