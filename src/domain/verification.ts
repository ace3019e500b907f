// The hot path: (username, secret, protocol, client ip) -> allow or deny.
// checksum -> HMAC -> cache or index lookup -> state, expiry, scope, login and network checks.
// A denial never says which check failed.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../bounded-lru.js';
import { parseKey } from '../crypto/key-format.js';
import { AppError, isDatabaseFault } from '../errors.js';
import type { DomainContext } from './context.js';
import { credentialState, epochMs, isUsable } from './credential-state.js';
import { canonicalCredentialIdentity } from './domain-names.js';
import { ipInNetworks } from './network.js';
import { grantedProtocols, isMailProtocol, type Protocol, type Scope } from './scopes.js';
import type { Credential, CredentialStatus, Surface } from './types.js';
import type { DenialReason, VerificationSurface } from './verification-outcomes.js';

/** Distinct scope lists whose protocol sets a verifier keeps (see Verifier.grants). */
const MAX_SCOPE_LISTS = 1024;

export interface VerifyRequest {
  username: string;
  password: string;
  protocol: Protocol;
  clientIp?: string | null;
  userAgent?: string | null;
  /** Where the attempt came in (metrics and the denied-login log); the JSON verify API when unset. */
  surface?: VerificationSurface;
}

/** What a successful verification hands back: what callers use, nothing more. */
export interface VerifiedCredential {
  readonly id: string;
  readonly tenantId: string;
  readonly scopes: readonly Scope[];
  /**
   * The name a mail server must use for this login, never the client's string: the login's
   * address, the vaulted SMTP account's username, or (credentials bound to no mailbox)
   * `<credential id>@<tenant id>.relaykey.invalid`.
   */
  readonly identity: string;
}

export type VerifyOutcome =
  | { valid: true; credential: VerifiedCredential; login: string | null }
  | { valid: false; credential: VerifiedCredential | null; reason: DenialReason };

/**
 * A cached credential: only what the checks and the answer need (one fixed-shape object per
 * key, a few hundred bytes; tenant ids, scope lists and protocol sets are shared by the
 * repository's interner). Not-found keys are cached as MissingEntry.
 */
class CachedCredential implements VerifiedCredential {
  constructor(
    readonly id: string,
    readonly tenantId: string,
    readonly scopes: readonly Scope[],
    readonly protocols: ReadonlySet<Protocol>,
    readonly surface: Surface,
    readonly held: boolean,
    readonly status: CredentialStatus,
    /** Epoch ms (numbers compare without formatting the current time on every request). */
    readonly graceUntilMs: number | null,
    readonly expiresAtMs: number | null,
    readonly allowedNetworks: readonly string[] | null,
    /** seed 003: the public Key that is the username. */
    readonly publicKey: string | null,
    /** the vaulted SMTP account's username (metadata.username). */
    readonly accountUsername: string | null,
    readonly loginAddress: string | null,
    readonly loadedAt: number,
  ) {
    this.identity = loginAddress ?? (surface === 'smtp_account' && accountUsername ? accountUsername.toLowerCase() : canonicalCredentialIdentity(id, tenantId));
  }

  readonly identity: string;
}

interface MissingEntry {
  readonly id: null;
  readonly loadedAt: number;
}

type CacheEntry = CachedCredential | MissingEntry;

/** The fields usernameMatches reads. */
export type UsernameRule = Pick<Credential, 'id' | 'surface' | 'publicKey'> & { accountUsername: string | null; identity?: string };

export interface VerifierOptions {
  /** Upper bound on how stale a cached entry may be when no invalidation arrives (ms). */
  cacheTtlMs: number;
  /** When full, the least recently used entry makes room. */
  cacheMaxEntries: number;
  /**
   * While the database is down, a cached credential keeps answering until it is this old (ms):
   * no revocation can be written meanwhile. Keys not cached fail closed with a database fault.
   */
  staleMaxMs?: number;
  /** Is the database known to be down now? Then cold lookups fail at once instead of waiting for it. */
  databaseDown?: () => boolean;
  /**
   * With read replicas: a key invalidated less than this long ago (ms) is looked up on the
   * primary, so a standby within its lag bound never brings back a row from before a revocation.
   */
  freshReadWindowMs?: number;
}

export class Verifier {
  // Least recently used goes first when full (bounded-lru.ts).
  private readonly cache: LRUCache<string, CacheEntry>;
  private readonly loading = new Map<string, Promise<CacheEntry>>();
  /**
   * The protocol set of each scope list, shared by every cached credential with that list: the
   * cache holds up to hundreds of thousands of entries and a Set each would cost more than the
   * rest of the entry. Keyed by the list itself: the store hands out one frozen list per distinct
   * value (its interner), and an identity lookup costs a fraction of joining the list into a key.
   * Entries only read the set. Bounded: the interner starts again now and then with new lists.
   */
  private readonly grants = new Map<readonly Scope[], ReadonlySet<Protocol>>();

  private grantsOf(scopes: readonly Scope[]): ReadonlySet<Protocol> {
    const known = this.grants.get(scopes);
    if (known) return known;
    const granted = grantedProtocols(scopes);
    // Only shared (frozen) lists are worth remembering; another list is seen once.
    if (Object.isFrozen(scopes)) {
      if (this.grants.size >= MAX_SCOPE_LISTS) this.grants.clear();
      this.grants.set(scopes, granted);
    }
    return granted;
  }

  constructor(
    private readonly context: DomainContext,
    private readonly options: VerifierOptions = { cacheTtlMs: 30_000, cacheMaxEntries: 200_000 },
  ) {
    this.cache = boundedLru(options.cacheMaxEntries);
    context.onCredentialChange.push(({ keyHashes }) => {
      for (const keyHash of keyHashes) this.invalidate(keyHash);
    });
  }

  /** Key hashes invalidated within the fresh-read window, with when; and a whole-cache drop. */
  private readonly changedAt = new Map<string, number>();
  private allChangedAt = 0;

  private changedRecently(keyHash: string): boolean {
    const window = this.options.freshReadWindowMs ?? 0;
    if (window <= 0) return false;
    const now = Date.now();
    if (now - this.allChangedAt < window) return true;
    const at = this.changedAt.get(keyHash);
    if (at === undefined) return false;
    if (now - at < window) return true;
    this.changedAt.delete(keyHash);
    return false;
  }

  private noteChange(keyHash: string | null): void {
    const window = this.options.freshReadWindowMs ?? 0;
    if (window <= 0) return;
    const now = Date.now();
    if (keyHash === null) {
      this.allChangedAt = now;
      this.changedAt.clear();
      return;
    }
    // Bounded: when it grows, drop what is past the window (every entry is read at most once per that many changes).
    if (this.changedAt.size >= 10_000) {
      for (const [hash, at] of this.changedAt) if (now - at >= window) this.changedAt.delete(hash);
      if (this.changedAt.size >= 10_000) {
        this.allChangedAt = now;
        this.changedAt.clear();
        return;
      }
    }
    this.changedAt.set(keyHash, now);
  }

  invalidate(keyHash: string): void {
    this.noteChange(keyHash);
    this.invalidations += 1;
    this.cache.delete(keyHash);
    this.loading.delete(keyHash);
  }

  invalidateAll(): void {
    this.noteChange(null);
    this.cacheResets += 1;
    this.cache.clear();
    this.loading.clear();
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /** Lookups answered from the cache / from the database since start (metrics). */
  cacheHits = 0;
  cacheMisses = 0;
  /** Single-key invalidations (change feed, local writes) and whole-cache drops (feed reconnects). */
  invalidations = 0;
  cacheResets = 0;

  private async load(keyHash: string): Promise<CacheEntry> {
    const found = await this.context.store.credentials.findForVerification(keyHash, { fresh: this.changedRecently(keyHash) });
    if (!found) return { id: null, loadedAt: Date.now() };
    const c = found.credential;
    return new CachedCredential(
      c.id,
      c.tenantId,
      c.scopes,
      this.grantsOf(c.scopes),
      c.surface,
      c.held,
      c.status,
      epochMs(c.graceUntil),
      epochMs(c.expiresAt),
      c.allowedNetworks?.length ? c.allowedNetworks : null,
      c.publicKey,
      c.metadata.username ?? null,
      found.loginAddress,
      Date.now(),
    );
  }

  private async lookup(keyHash: string): Promise<CacheEntry> {
    const cached = this.cache.get(keyHash);
    if (cached && Date.now() - cached.loadedAt < this.options.cacheTtlMs) {
      this.cacheHits += 1;
      return cached;
    }
    this.cacheMisses += 1;
    if (this.options.databaseDown?.()) {
      // Known down: answer from what is cached, or fail closed at once (no wait per request).
      if (this.servesStale(cached)) return cached as CachedCredential;
      throw new AppError('DATABASE_UNAVAILABLE', 'The database is unreachable and this key is not cached; try again shortly', { retryAfterSeconds: 1 });
    }
    let pending = this.loading.get(keyHash);
    if (!pending) {
      pending = this.load(keyHash);
      this.loading.set(keyHash, pending);
    }
    try {
      const entry = await pending;
      // Only cache what is still wanted: an invalidation during the load removed `pending`.
      if (this.loading.get(keyHash) === pending) this.cache.set(keyHash, entry);
      return entry;
    } catch (error) {
      if (isDatabaseFault(error) && this.servesStale(cached)) return cached as CachedCredential;
      throw error;
    } finally {
      if (this.loading.get(keyHash) === pending) this.loading.delete(keyHash);
    }
  }

  /** A known credential young enough to answer while the database cannot (never a cached "not found"). */
  private servesStale(cached: CacheEntry | undefined): boolean {
    return cached !== undefined && cached.id !== null && Date.now() - cached.loadedAt < (this.options.staleMaxMs ?? 0);
  }

  async verify(request: VerifyRequest): Promise<VerifyOutcome> {
    if (!parseKey(request.password)) return { valid: false, credential: null, reason: 'unknown_key' };
    const entry = await this.lookup(this.context.hashSecret(request.password));
    if (entry.id === null) return { valid: false, credential: null, reason: 'unknown_key' };
    const reason = this.denialOf(entry, request);
    return reason === null ? { valid: true, credential: entry, login: entry.loginAddress } : { valid: false, credential: entry, reason };
  }

  /** null when the credential allows this login, else the first check that failed. */
  private denialOf(entry: CachedCredential, request: VerifyRequest): DenialReason | null {
    const state = credentialState(entry, this.context.clock.now().getTime());
    if (!isUsable(state)) return state as Exclude<typeof state, 'active' | 'grace'>;
    if (!entry.protocols.has(request.protocol)) return 'scope';
    if (entry.allowedNetworks) {
      if (!request.clientIp || !ipInNetworks(request.clientIp, entry.allowedNetworks)) return 'network';
    }
    return usernameMatches(entry, entry.loginAddress, request) ? null : 'wrong_user';
  }
}

/**
 * Which username a credential accepts (case-insensitively everywhere: mail servers fold user
 * names, e.g. Dovecot's default auth_username_format %Lu; the secret alone is the credential and
 * stays case-sensitive):
 * - always its canonical identity, which is what a mail server behind relaykey (Dovecot behind
 *   nginx, Postfix through XCLIENT) presents when it checks the password again;
 * - bound to a mailbox login: that address;
 * - seed 003 keys: the public Key;
 * - seed 001 SMTP credentials: any username, as Postal's do (the identity given to the mail
 *   server is still the canonical one, never the client's string);
 * - the tenant's vaulted SMTP account: its username (kept in metadata);
 * - other unbound credentials: their own id for mail protocols; API protocols ignore it.
 * An empty username on an API protocol (api:read, api:write) matches any credential: a REST
 * client sends only the key, and the answer names the login the key belongs to.
 */
export function usernameMatches(credential: UsernameRule, loginAddress: string | null, request: VerifyRequest): boolean {
  const username = request.username.trim().toLowerCase();
  if (username === '' && !isMailProtocol(request.protocol)) return true;
  if (credential.identity !== undefined && username === credential.identity) return true;
  if (credential.surface === 'seed003') return credential.publicKey !== null && username === credential.publicKey.toLowerCase();
  if (loginAddress !== null) return username === loginAddress;
  if (credential.surface === 'seed001') return true;
  if (credential.surface === 'smtp_account') return username === (credential.accountUsername ?? '').toLowerCase();
  if (!isMailProtocol(request.protocol)) return true;
  return username === credential.id.toLowerCase();
}
