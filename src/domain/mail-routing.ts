// Which backend mail server an authenticated client is sent to: RELAYKEY_MAIL_BACKENDS,
// overridden per tenant by the tenant's mail_backends. Tenant lookups are cached briefly; a
// change drops the entry at once on this node and, through the change feed, on every other
// (the cache lifetime is only the backstop).
import { type MailBackendAddress, type MailBackendAddresses, type MailProtocol, parseBackendAddress } from '../config.js';
import type { DomainContext } from './context.js';

const TENANT_CACHE_MS = 30_000;

export class MailRouter {
  private readonly tenantCache = new Map<string, { backends: MailBackendAddresses; until: number }>();

  /** Bumped by every invalidation: a lookup that overlapped one does not fill the cache. */
  private generation = 0;

  constructor(
    private readonly context: DomainContext,
    private readonly defaults: MailBackendAddresses,
  ) {
    context.onTenantChange.push(({ tenantId }) => this.invalidateTenant(tenantId));
  }

  invalidateTenant(tenantId: string): void {
    this.generation += 1;
    this.tenantCache.delete(tenantId);
  }

  invalidateAll(): void {
    this.generation += 1;
    this.tenantCache.clear();
  }

  async backendFor(tenantId: string, protocol: MailProtocol): Promise<MailBackendAddress | null> {
    const overrides = await this.tenantBackends(tenantId);
    return overrides[protocol] ?? this.defaults[protocol] ?? null;
  }

  private async tenantBackends(tenantId: string): Promise<MailBackendAddresses> {
    const now = this.context.clock.now().getTime();
    const cached = this.tenantCache.get(tenantId);
    if (cached && cached.until > now) return cached.backends;
    const generation = this.generation;
    const tenant = await this.context.store.tenants.findById(tenantId);
    const backends: MailBackendAddresses = {};
    for (const protocol of ['smtp', 'imap', 'pop3'] as const) {
      const raw = tenant?.mailBackends?.[protocol];
      const parsed = raw ? parseBackendAddress(raw) : null;
      if (parsed) backends[protocol] = parsed;
    }
    if (generation !== this.generation) return backends;
    if (this.tenantCache.size > 10_000) this.tenantCache.clear();
    this.tenantCache.set(tenantId, { backends, until: now + TENANT_CACHE_MS });
    return backends;
  }
}
