// Who is calling: platform admins (password, optional TOTP, sessions, reauth) and API tokens
// (tenant bearer, server API key, platform verifier). Every token uses the one key format
// and is stored as a keyed hash, like credentials.
import { hash, randomUUID } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { authenticator } from 'otplib';
import { generateKey, KEY_PREFIXES, keyHint, parseKey } from '../crypto/key-format.js';
import { PLAIN_TOTP_BOX, type TotpBox } from '../crypto/totp-box.js';
import { AppError, isDatabaseFault, notFound } from '../errors.js';
import { AdminThrottle } from './admin-throttle.js';
import { type DomainContext, recordEvent } from './context.js';
import { canonicalIp } from './network.js';
import type { Actor, Admin, AdminRole, AdminSession, ApiToken, TokenKind } from './types.js';

/**
 * TOTP codes of the current 30 s step and the one on either side (RFC 6238 §5.2): a code typed
 * as the step turns, or from a phone a few seconds off, still signs in. A code is a step old at
 * most; older ones are refused.
 */
const totp = authenticator.clone({ window: 1 });

export type Principal =
  | { type: 'admin'; adminId: string; sessionId: string; role: AdminRole }
  | { type: 'bearer'; tokenId: string; tenantId: string; loginId: string | null }
  | { type: 'server'; tokenId: string; tenantId: string }
  | { type: 'verifier'; tokenId: string };

const TOKEN_PREFIX: Record<TokenKind, (typeof KEY_PREFIXES)[keyof typeof KEY_PREFIXES]> = {
  bearer: KEY_PREFIXES.bearerToken,
  server: KEY_PREFIXES.serverToken,
  verifier: KEY_PREFIXES.verifierToken,
};

/**
 * How long a token lookup is cached (ms). One second at most: a revocation reaches every node
 * through the change feed at once, and through this TTL where there is no feed (a CLI revoking
 * on a shared SQLite file).
 */
const TOKEN_CACHE_MS = 1_000;

const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function actorFor(principal: Principal, ip: string | null): Actor {
  if (principal.type === 'admin') return { type: 'admin', id: principal.adminId, ip };
  return { type: 'token', id: principal.tokenId, ip };
}

export interface AccessOptions {
  sessionMinutes: number;
  reauthMinutes: number;
  /** An admin session unused this long ends (RELAYKEY_ADMIN_IDLE_MINUTES). */
  idleMinutes?: number;
  /** Live sessions per admin; signing in beyond it ends the least recently used (RELAYKEY_ADMIN_MAX_SESSIONS). */
  maxSessions?: number;
  /** Seals TOTP secrets at rest (crypto/totp-box.ts). */
  totpBox?: TotpBox;
  throttle?: AdminThrottle;
  /** While the database is down, a cached token keeps its principal until it is this old (ms). */
  staleMaxMs?: number;
  databaseDown?: () => boolean;
}

/** A session's last use is written at most this often (each request would be a write otherwise). */
const TOUCH_EVERY_MS = 60_000;

/** Failed sign-ins are audited as one event per account and window, again at 10, 100, 1000... failures. */
function worthAuditing(count: number): boolean {
  return count === 1 || (count >= 10 && 10 ** Math.round(Math.log10(count)) === count);
}

export class AccessService {
  /** Token lookups are cached briefly: management calls should not pay a read each. */
  private readonly tokenCache = new Map<string, { principal: Principal | null; until: number }>();
  /** Lookups in flight by cache key: concurrent requests with one token share one read (and one touch). */
  private readonly tokenLookups = new Map<string, Promise<Principal | null>>();
  /** Bumped by every clear: a lookup begun before a revocation does not cache what it read. */
  private tokenGeneration = 0;
  /** Failed attempts per account (or session) and window, for the aggregated audit events. */
  private readonly failureCounts = new Map<string, { startedMs: number; count: number }>();
  readonly throttle: AdminThrottle;
  private readonly totpBox: TotpBox;

  constructor(
    private readonly context: DomainContext,
    private readonly options: AccessOptions,
  ) {
    this.throttle = options.throttle ?? new AdminThrottle(context.clock);
    this.totpBox = options.totpBox ?? PLAIN_TOTP_BOX;
  }

  /** Forget every cached token (a revocation here or on another node). */
  clearTokenCache(): void {
    this.tokenCache.clear();
    this.tokenLookups.clear();
    this.tokenGeneration += 1;
  }

  /**
   * A token or session was revoked: this node forgets its cached principals at once, and the
   * change feed (cluster/credential-changes.ts) tells every other node to do the same.
   */
  private async announceAccessChange(): Promise<void> {
    this.clearTokenCache();
    for (const listener of this.context.onAccessChange ?? []) listener();
  }

  private now(): Date {
    return this.context.clock.now();
  }

  /** Creates an admin; without a role an owner (the CLI's bootstrap admin must be able to add others). */
  async createAdmin(input: { email: string; password: string; totpSecret?: string | null; role?: AdminRole }, actor: Actor): Promise<Admin> {
    const email = input.email.trim().toLowerCase();
    if (input.password.length < 12) throw new AppError('VALIDATION_FAILED', 'password must be at least 12 characters');
    const id = randomUUID();
    const admin: Admin = {
      id,
      email,
      passwordHash: await argonHash(input.password, ARGON2_OPTIONS),
      totpSecret: input.totpSecret ? this.totpBox.seal(id, input.totpSecret) : null,
      createdAt: this.now().toISOString(),
      role: input.role ?? 'owner',
      disabledAt: null,
      totpPendingSecret: null,
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
        details: { email, totp: admin.totpSecret !== null, role: admin.role },
      });
    });
    return admin;
  }

  /**
   * Disables an admin (no sign-in; every session ends at once, on every node) or enables it
   * again. An owner cannot disable itself, nor the last enabled owner.
   */
  async setAdminDisabled(principal: Principal, adminId: string, disabled: boolean, ip: string | null): Promise<Admin> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'only an admin may manage admins');
    if (disabled && adminId === principal.adminId) throw new AppError('INVALID_STATE', 'you cannot disable your own account: ask another owner');
    const now = this.now().toISOString();
    let ended: string[] = [];
    const admin = await this.context.store.transaction(async (repositories) => {
      const found = await repositories.access.findAdminById(adminId);
      if (!found) throw notFound('admin');
      if (disabled === (found.disabledAt !== null)) throw new AppError('INVALID_STATE', `the admin is already ${disabled ? 'disabled' : 'enabled'}`);
      if (disabled && found.role === 'owner' && (await repositories.access.countActiveOwners(adminId)) === 0) {
        throw new AppError('INVALID_STATE', 'the last enabled owner cannot be disabled');
      }
      await repositories.access.setAdminDisabled(adminId, disabled ? now : null);
      if (disabled) {
        ended = (await repositories.access.listSessions(adminId)).filter((s) => !s.revokedAt).map((s) => s.id);
        for (const id of ended) await repositories.access.revokeSession(id, now);
      }
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: disabled ? 'admin.disabled' : 'admin.enabled',
        actor: actorFor(principal, ip),
        occurredAt: now,
        severity: disabled ? 'warning' : 'info',
        targetType: 'admin',
        targetId: adminId,
        details: { email: found.email, ...(disabled ? { ended_sessions: ended } : {}) },
      });
      return { ...found, disabledAt: disabled ? now : null };
    });
    if (disabled) await this.announceAccessChange();
    return admin;
  }

  /**
   * Starts TOTP enrolment for the calling admin: after the password again, a fresh secret is kept
   * sealed as pending and returned once (with its otpauth:// URI for a QR code). Sign-in does not
   * ask for a code until confirmTotpEnrolment proves the authenticator holds it.
   */
  async startTotpEnrolment(principal: Principal, password: string, ip: string | null): Promise<{ secret: string; otpauthUri: string }> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'TOTP is for admin accounts');
    const admin = await this.context.store.access.findAdminById(principal.adminId);
    if (!admin) throw new AppError('UNAUTHENTICATED');
    if (admin.totpSecret) throw new AppError('INVALID_STATE', 'two-factor sign-in (TOTP) is already on for this admin');
    await this.checkPasswordOrRecord(admin, { password }, 'admin.reauth_failed', actorFor(principal, ip), {
      account: admin.email,
      ip,
      session: principal.sessionId,
    });
    const secret = totp.generateSecret(20);
    await this.context.store.transaction(async (repositories) => {
      await repositories.access.setPendingTotpSecret(admin.id, this.totpBox.seal(admin.id, secret));
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'admin.totp_enrolment_started',
        actor: actorFor(principal, ip),
        occurredAt: this.now().toISOString(),
        targetType: 'admin',
        targetId: admin.id,
      });
    });
    return { secret, otpauthUri: totp.keyuri(admin.email, 'relaykey', secret) };
  }

  /** Confirms enrolment with a code from the authenticator: TOTP is on from now (that code is used up). */
  async confirmTotpEnrolment(principal: Principal, code: string, ip: string | null): Promise<Admin> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'TOTP is for admin accounts');
    const keys = { account: principal.adminId, ip, session: principal.sessionId };
    const wait = this.throttle.check(keys);
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many failed attempts; try again in ${wait} s`, { retryAfterSeconds: wait });
    const admin = await this.context.store.access.findAdminById(principal.adminId);
    if (!admin) throw new AppError('UNAUTHENTICATED');
    if (admin.totpSecret) throw new AppError('INVALID_STATE', 'two-factor sign-in (TOTP) is already on for this admin');
    if (!admin.totpPendingSecret) throw new AppError('INVALID_STATE', 'no TOTP enrolment is in progress: start one first');
    const delta = totp.checkDelta(code, this.totpBox.open(admin.id, admin.totpPendingSecret));
    if (delta === null) {
      this.throttle.recordFailure(keys);
      throw new AppError('TOTP_CODE_WRONG');
    }
    this.throttle.recordSuccess(keys);
    const step = Math.floor(Date.now() / 1000 / (totp.options.step ?? 30)) + delta;
    const now = this.now().toISOString();
    await this.context.store.transaction(async (repositories) => {
      if (!(await repositories.access.activatePendingTotp(admin.id, step)))
        throw new AppError('INVALID_STATE', 'no TOTP enrolment is in progress: start one first');
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'admin.totp_enabled',
        actor: actorFor(principal, ip),
        occurredAt: now,
        targetType: 'admin',
        targetId: admin.id,
      });
    });
    return { ...admin, totpSecret: admin.totpPendingSecret, totpPendingSecret: null };
  }

  /** Checks password and TOTP; answers the TOTP step the code belongs to (null without TOTP). */
  private async checkPassword(admin: Admin | null, password: string, totpCode: string | undefined): Promise<number | null> {
    // Hash even for an unknown email so timing does not reveal which emails exist.
    if (!admin) {
      await argonHash(password, ARGON2_OPTIONS);
      throw new AppError('INVALID_LOGIN');
    }
    if (!(await argonVerify(admin.passwordHash, password))) throw new AppError('INVALID_LOGIN');
    if (!admin.totpSecret) return null;
    if (!totpCode) throw new AppError('TOTP_REQUIRED');
    const delta = totp.checkDelta(totpCode, this.totpBox.open(admin.id, admin.totpSecret));
    if (delta === null) throw new AppError('INVALID_LOGIN');
    const step = Math.floor(Date.now() / 1000 / (totp.options.step ?? 30)) + delta;
    // Each code is accepted once per admin: a step at or before the last accepted one is refused.
    if (!(await this.context.store.access.consumeTotpStep(admin.id, step))) throw new AppError('INVALID_LOGIN');
    return step;
  }

  /**
   * Checks password and TOTP behind the admin throttle. A throttled attempt is refused (429)
   * before anything is checked; a failure is counted and audited (warning), aggregated per
   * account or session and window so that failures cannot grow the audit chain without bound.
   */
  private async checkPasswordOrRecord(
    admin: Admin | null,
    input: { password: string; totpCode?: string },
    event: string,
    actor: Actor,
    keys: { account: string; ip: string | null; session?: string },
    details: Record<string, unknown> = {},
  ): Promise<void> {
    const wait = this.throttle.check(keys);
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many failed attempts; try again in ${wait} s`, { retryAfterSeconds: wait });
    try {
      await this.checkPassword(admin, input.password, input.totpCode);
      this.throttle.recordSuccess(keys);
    } catch (error) {
      if (error instanceof AppError && (error.code === 'INVALID_LOGIN' || error.code === 'TOTP_REQUIRED')) {
        if (error.code === 'INVALID_LOGIN') this.throttle.recordFailure(keys);
        const now = this.now();
        // A window opens with the first failure of its bucket and lasts windowMs: failures a few
        // minutes apart are one event whatever the wall clock (not split by a boundary of a fixed grid).
        const windowMs = this.throttle.policy.windowMs;
        const bucket = `${event}:${keys.session ?? admin?.id ?? 'unknown'}`;
        const counted = this.failureCounts.get(bucket);
        const open = counted !== undefined && now.getTime() - counted.startedMs < windowMs;
        const startedMs = open ? counted.startedMs : now.getTime();
        const count = open ? counted.count + 1 : 1;
        if (this.failureCounts.size > 10_000) this.failureCounts.clear();
        this.failureCounts.set(bucket, { startedMs, count });
        if (error.code === 'INVALID_LOGIN' && worthAuditing(count)) {
          await this.context.store.transaction((repositories) =>
            recordEvent(this.context, repositories, {
              tenantId: null,
              event,
              actor,
              occurredAt: now.toISOString(),
              severity: 'warning',
              details: { ...details, failures_in_window: count, window_started_at: new Date(startedMs).toISOString() },
            }),
          );
        }
      }
      throw error;
    }
  }

  async login(
    input: { email: string; password: string; totpCode?: string },
    ip: string | null,
  ): Promise<{ token: string; expiresAt: string; adminId: string }> {
    const email = input.email.trim().toLowerCase();
    const admin = await this.context.store.access.findAdminByEmail(email);
    await this.checkPasswordOrRecord(
      admin,
      input,
      'admin.login_failed',
      { type: 'admin', id: admin?.id ?? 'unknown', ip },
      { account: email, ip },
      // The email of an account that exists; never the raw text of an unknown one (it may be a
      // password typed in the wrong field, or anything else an attacker sends).
      { email: admin ? admin.email : null, known_account: admin !== null },
    );
    // Said only to someone who knows the password: the account exists but may not sign in.
    if (admin?.disabledAt) throw new AppError('ADMIN_DISABLED', 'This admin account is disabled: ask an owner to enable it');
    const token = generateKey(KEY_PREFIXES.adminSession);
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.options.sessionMinutes * 60_000).toISOString();
    const sessionId = randomUUID();
    const adminId = (admin as Admin).id;
    await this.context.store.transaction(async (repositories) => {
      await repositories.access.insertSession(
        {
          id: sessionId,
          adminId,
          createdAt: now.toISOString(),
          expiresAt,
          revokedAt: null,
          lastSeenAt: now.toISOString(),
          clientIp: ip ? canonicalIp(ip) : null,
        },
        this.context.hashSecret(token),
      );
      const ended = await this.endSessionsBeyondLimit(repositories.access, adminId, now);
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'admin.login',
        actor: { type: 'admin', id: adminId, ip },
        occurredAt: now.toISOString(),
        targetType: 'admin_session',
        targetId: sessionId,
        ...(ended.length > 0 ? { details: { ended_sessions: ended } } : {}),
      });
    });
    return { token, expiresAt, adminId };
  }

  /** Beyond the session limit, the least recently used live sessions of the admin end. */
  private async endSessionsBeyondLimit(repository: DomainContext['store']['access'], adminId: string, now: Date): Promise<string[]> {
    const max = this.options.maxSessions;
    if (!max) return [];
    const live = (await repository.listSessions(adminId)).filter((session) => this.isLive(session, now.getTime()));
    if (live.length <= max) return [];
    const oldest = live.sort((a, b) => (a.lastSeenAt ?? a.createdAt).localeCompare(b.lastSeenAt ?? b.createdAt)).slice(0, live.length - max);
    for (const session of oldest) await repository.revokeSession(session.id, now.toISOString());
    return oldest.map((session) => session.id);
  }

  /** Unrevoked, unexpired and used within the idle timeout. */
  isLive(session: AdminSession, nowMs: number): boolean {
    if (session.revokedAt) return false;
    if (session.expiresAt <= new Date(nowMs).toISOString()) return false;
    const idle = this.options.idleMinutes;
    if (idle) {
      const lastSeen = Date.parse(session.lastSeenAt ?? session.createdAt);
      if (lastSeen + idle * 60_000 <= nowMs) return false;
    }
    return true;
  }

  /** The admin's sessions, newest first, with which one is the caller's. */
  async listSessions(principal: Principal): Promise<Array<AdminSession & { current: boolean; live: boolean }>> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'only an admin has sessions');
    const nowMs = this.now().getTime();
    const sessions = await this.context.store.access.listSessions(principal.adminId);
    return sessions
      .map((session) => ({ ...session, current: session.id === principal.sessionId, live: this.isLive(session, nowMs) }))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Ends one session of the caller's admin (404 for another admin's), or all of them but none kept. */
  async endSessions(principal: Principal, which: { id: string } | { all: true; keepCurrent: boolean }, ip: string | null): Promise<number> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'only an admin has sessions');
    const now = this.now().toISOString();
    let ended: string[] = [];
    await this.context.store.transaction(async (repositories) => {
      const sessions = await repositories.access.listSessions(principal.adminId);
      if ('id' in which) {
        const session = sessions.find((s) => s.id === which.id);
        if (!session) throw notFound('session');
        if (session.revokedAt) throw new AppError('INVALID_STATE', 'the session has already ended');
        ended = [session.id];
      } else {
        ended = sessions.filter((s) => !s.revokedAt && !(which.keepCurrent && s.id === principal.sessionId)).map((s) => s.id);
      }
      for (const id of ended) await repositories.access.revokeSession(id, now);
      await recordEvent(this.context, repositories, {
        tenantId: null,
        event: 'id' in which ? 'admin.session_ended' : 'admin.sessions_ended',
        actor: actorFor(principal, ip),
        occurredAt: now,
        targetType: 'admin_session',
        targetId: 'id' in which ? which.id : principal.sessionId,
        details: { ended_sessions: ended },
      });
    });
    await this.announceAccessChange();
    return ended.length;
  }

  /** Seals TOTP secrets stored in plain text before sealing existed (run at start-up). */
  async sealLegacyTotpSecrets(): Promise<number> {
    const admins = await this.context.store.access.listAdmins();
    let sealed = 0;
    for (const admin of admins) {
      if (!admin.totpSecret || this.totpBox.isSealed(admin.totpSecret)) continue;
      await this.context.store.access.setTotpSecret(admin.id, this.totpBox.seal(admin.id, admin.totpSecret));
      sealed += 1;
    }
    return sealed;
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
    await this.announceAccessChange();
  }

  async reauth(principal: Principal, input: { password: string; totpCode?: string }, ip: string | null): Promise<{ reauthToken: string; expiresAt: string }> {
    if (principal.type !== 'admin') throw new AppError('FORBIDDEN', 'reauthentication is for admin sessions');
    const admin = await this.context.store.access.findAdminById(principal.adminId);
    await this.checkPasswordOrRecord(admin, input, 'admin.reauth_failed', actorFor(principal, ip), {
      account: admin?.email ?? principal.adminId,
      ip,
      session: principal.sessionId,
    });
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

  listPlatformTokens(kind: TokenKind = 'verifier'): Promise<ApiToken[]> {
    return this.context.store.access.listPlatformTokens(kind);
  }

  /** Revokes a tenant's token (tenantId) or a platform token (null); on every node within a second. */
  async revokeToken(tenantId: string | null, id: string, actor: Actor): Promise<void> {
    await this.context.store.transaction(async (repositories) => {
      const token = tenantId === null ? await repositories.access.findPlatformToken(id) : await repositories.access.findToken(tenantId, id);
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
    await this.announceAccessChange();
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
      let lookup = this.tokenLookups.get(cacheKey);
      if (!lookup) {
        const started = this.lookUpToken(presented, cacheKey, nowMs).finally(() => {
          if (this.tokenLookups.get(cacheKey) === started) this.tokenLookups.delete(cacheKey);
        });
        lookup = started;
        this.tokenLookups.set(cacheKey, lookup);
      }
      return await lookup;
    } catch (error) {
      if (stale && isDatabaseFault(error)) return stale;
      throw error;
    }
  }

  private async lookUpToken(presented: string, cacheKey: string, nowMs: number): Promise<Principal | null> {
    const parsed = parseKey(presented);
    if (!parsed) return null;
    const generation = this.tokenGeneration;
    const keyHash = this.context.hashSecret(presented);
    let principal: Principal | null = null;
    if (parsed.prefix === KEY_PREFIXES.adminSession) {
      const session = await this.context.store.access.findSessionByHash(keyHash);
      // The admin is read with the session: a disabled admin's session answers nothing (its
      // sessions are revoked when it is disabled; this holds even for one missed).
      const admin = session && this.isLive(session, nowMs) ? await this.context.store.access.findAdminById(session.adminId) : null;
      if (session && admin && !admin.disabledAt) {
        principal = { type: 'admin', adminId: session.adminId, sessionId: session.id, role: admin.role };
        // The idle timeout counts from the last use, written at most once a minute.
        if (Date.parse(session.lastSeenAt ?? session.createdAt) + TOUCH_EVERY_MS <= nowMs) {
          await this.context.store.access.touchSession(session.id, new Date(nowMs).toISOString());
        }
      }
      // Sessions are not cached: expiry, idle timeout and sign-out hold to the second on every node.
      return principal;
    }
    const token = await this.context.store.access.findTokenByHash(keyHash);
    if (token && !token.revokedAt && (!token.lastUsedAt || Date.parse(token.lastUsedAt) + TOUCH_EVERY_MS <= nowMs)) {
      await this.context.store.access.touchToken(token.id, new Date(nowMs).toISOString());
    }
    if (token && !token.revokedAt) {
      if (token.kind === 'bearer' && token.tenantId) principal = { type: 'bearer', tokenId: token.id, tenantId: token.tenantId, loginId: token.loginId };
      else if (token.kind === 'server' && token.tenantId) principal = { type: 'server', tokenId: token.id, tenantId: token.tenantId };
      else if (token.kind === 'verifier') principal = { type: 'verifier', tokenId: token.id };
    }
    if (generation !== this.tokenGeneration) return principal;
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    // One second at most: a revocation reaches every node through the change feed at once, and
    // through this TTL where there is no feed (a CLI revoking on a shared SQLite file).
    this.tokenCache.set(cacheKey, { principal, until: nowMs + TOKEN_CACHE_MS });
    return principal;
  }
}
