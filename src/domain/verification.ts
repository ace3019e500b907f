// The hot path: (username, secret, protocol, client ip) -> allow or deny.
// checksum -> HMAC -> cache or index lookup -> state, expiry, scope, login and network checks.
// A denial never says which check failed.
import { parseKey } from '../crypto/key-format.js';
import type { DomainContext } from './context.js';
import { ipInNetworks } from './network.js';
import { grantedProtocols, isMailProtocol, type Protocol } from './scopes.js';
import type { Credential } from './types.js';

export interface VerifyRequest {
  username: string;
  password: string;
  protocol: Protocol;
  clientIp?: string | null;
  userAgent?: string | null;
}

export type VerifyOutcome = { valid: true; credential: Credential; login: string | null } | { valid: false; credential: Credential | null };

interface CacheEntry {
  credential: Credential | null;
  loginAddress: string | null;
  protocols: Set<Protocol>;
  loadedAt: number;
}

export interface VerifierOptions {
  /** Upper bound on how stale a cached entry may be when no invalidation arrives (ms). */
  cacheTtlMs: number;
  cacheMaxEntries: number;
}

export class Verifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<CacheEntry>>();

  constructor(
    private readonly context: DomainContext,
    private readonly options: VerifierOptions = { cacheTtlMs: 30_000, cacheMaxEntries: 200_000 },
  ) {
    context.onCredentialChange.push(({ keyHashes }) => {
      for (const keyHash of keyHashes) this.invalidate(keyHash);
    });
  }

  invalidate(keyHash: string): void {
    this.cache.delete(keyHash);
    this.loading.delete(keyHash);
  }

  invalidateAll(): void {
    this.cache.clear();
    this.loading.clear();
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  private async load(keyHash: string): Promise<CacheEntry> {
    const found = await this.context.store.credentials.findByKeyHash(keyHash);
    const entry: CacheEntry = {
      credential: found?.credential ?? null,
      loginAddress: found?.loginAddress ?? null,
      protocols: grantedProtocols(found?.credential.scopes ?? []),
      loadedAt: Date.now(),
    };
    return entry;
  }

  private async lookup(keyHash: string): Promise<CacheEntry> {
    const cached = this.cache.get(keyHash);
    if (cached && Date.now() - cached.loadedAt < this.options.cacheTtlMs) return cached;
    let pending = this.loading.get(keyHash);
    if (!pending) {
      pending = this.load(keyHash);
      this.loading.set(keyHash, pending);
    }
    try {
      const entry = await pending;
      // Only cache what is still wanted: an invalidation during the load removed `pending`.
      if (this.loading.get(keyHash) === pending) {
        if (this.cache.size >= this.options.cacheMaxEntries) {
          const oldest = this.cache.keys().next().value;
          if (oldest !== undefined) this.cache.delete(oldest);
        }
        this.cache.set(keyHash, entry);
      }
      return entry;
    } finally {
      if (this.loading.get(keyHash) === pending) this.loading.delete(keyHash);
    }
  }

  async verify(request: VerifyRequest): Promise<VerifyOutcome> {
    if (!parseKey(request.password)) return { valid: false, credential: null };
    const entry = await this.lookup(this.context.hashSecret(request.password));
    const credential = entry.credential;
    if (!credential) return { valid: false, credential: null };
    const allowed = this.allows(credential, entry, request);
    return allowed ? { valid: true, credential, login: entry.loginAddress } : { valid: false, credential };
  }

  private allows(credential: Credential, entry: CacheEntry, request: VerifyRequest): boolean {
    const now = this.context.clock.now().toISOString();
    if (credential.held) return false;
    if (credential.status !== 'active' && !(credential.graceUntil && credential.graceUntil > now)) return false;
    if (credential.expiresAt && credential.expiresAt <= now) return false;
    if (!entry.protocols.has(request.protocol)) return false;
    if (credential.allowedNetworks?.length) {
      if (!request.clientIp || !ipInNetworks(request.clientIp, credential.allowedNetworks)) return false;
    }
    return usernameMatches(credential, entry.loginAddress, request);
  }
}

/**
 * Which username a credential accepts:
 * - bound to a mailbox login: that address (case-insensitive);
 * - seed 003 keys: the public Key;
 * - seed 001 SMTP credentials: any username, as Postal's do;
 * - the tenant's vaulted SMTP account: its username (kept in metadata);
 * - other unbound credentials: their own id for mail protocols; API protocols ignore it.
 */
export function usernameMatches(credential: Credential, loginAddress: string | null, request: VerifyRequest): boolean {
  const username = request.username.trim();
  if (credential.surface === 'seed003') return credential.publicKey !== null && username === credential.publicKey;
  if (loginAddress !== null) return username.toLowerCase() === loginAddress;
  if (credential.surface === 'seed001') return true;
  if (credential.surface === 'smtp_account') return username.toLowerCase() === (credential.metadata.username ?? '').toLowerCase();
  if (!isMailProtocol(request.protocol)) return true;
  return username === credential.id;
}
