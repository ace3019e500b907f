// Which backend mail server an authenticated client is sent to: RELAYKEY_MAIL_BACKENDS,
// overridden per tenant by the tenant's mail_backends. Tenant lookups are cached briefly.
import { type MailBackendAddress, type MailBackendAddresses, type MailProtocol, parseBackendAddress } from '../config.js';
import type { DomainContext } from './context.js';

const TENANT_CACHE_MS = 30_000;

export class MailRouter {
  private readonly tenantCache = new Map<string, { backends: MailBackendAddresses; until: number }>();

  constructor(
    private readonly context: DomainContext,
    private readonly defaults: MailBackendAddresses,
  ) {}

  async backendFor(tenantId: string, protocol: MailProtocol): Promise<MailBackendAddress | null> {
    const overrides = await this.tenantBackends(tenantId);
    return overrides[protocol] ?? this.defaults[protocol] ?? null;
  }

  private async tenantBackends(tenantId: string): Promise<MailBackendAddresses> {
    const now = this.context.clock.now().getTime();
    const cached = this.tenantCache.get(tenantId);
    if (cached && cached.until > now) return cached.backends;
    const tenant = await this.context.store.tenants.findById(tenantId);
    const backends: MailBackendAddresses = {};
    for (const protocol of ['smtp', 'imap', 'pop3'] as const) {
      const raw = tenant?.mailBackends?.[protocol];
      const parsed = raw ? parseBackendAddress(raw) : null;
      if (parsed) backends[protocol] = parsed;
    }
    if (this.tenantCache.size > 10_000) this.tenantCache.clear();
    this.tenantCache.set(tenantId, { backends, until: now + TENANT_CACHE_MS });
    return backends;
  }
}
