// The service container: built once at start and handed to every adapter.
import type { Clock } from '../clock.js';
import type { SecretHasher } from '../crypto/hashing.js';
import type { Store } from '../storage/store.js';
import { AccessService } from './access.js';
import type { DomainContext } from './context.js';
import { CredentialService } from './credentials.js';
import { ProvisioningService } from './provisioning.js';
import { TenantService } from './tenants.js';
import { UsageRecorder } from './usage.js';
import { Verifier } from './verification.js';

export interface Services {
  context: DomainContext;
  tenants: TenantService;
  provisioning: ProvisioningService;
  credentials: CredentialService;
  access: AccessService;
  verifier: Verifier;
  usage: UsageRecorder;
}

export interface ServiceOptions {
  store: Store;
  clock: Clock;
  hashSecret: SecretHasher;
  sessionMinutes: number;
  reauthMinutes: number;
}

export function createServices(options: ServiceOptions): Services {
  const context: DomainContext = {
    store: options.store,
    clock: options.clock,
    hashSecret: options.hashSecret,
    onCredentialChange: [],
    onRecordedEvent: [],
  };
  const tenants = new TenantService(context);
  return {
    context,
    tenants,
    provisioning: new ProvisioningService(tenants),
    credentials: new CredentialService(context),
    access: new AccessService(context, { sessionMinutes: options.sessionMinutes, reauthMinutes: options.reauthMinutes }),
    verifier: new Verifier(context),
    usage: new UsageRecorder(context),
  };
}
