// The service container: built once at start and handed to every adapter.
import type { Clock } from '../clock.js';
import type { SecretHasher } from '../crypto/hashing.js';
import type { Store } from '../storage/store.js';
import { type AuditKeys, type CheckpointSigner, createCheckpointSigner } from '../crypto/audit-keys.js';
import type { Envelope } from '../crypto/envelope.js';
import type { RootKeyRing } from '../crypto/root-secret.js';
import type { TotpBox } from '../crypto/totp-box.js';
import { createMetrics, type Metrics } from '../jobs/metrics.js';
import type { JobSchedule } from '../jobs/schedule.js';
import { writeOutbox } from '../webhooks/outbox.js';
import { WebhookService } from '../webhooks/service.js';
import { AccessService } from './access.js';
import { AdminThrottle, type AdminThrottlePolicy, DEFAULT_ADMIN_THROTTLE } from './admin-throttle.js';
import type { DomainContext } from './context.js';
import { CredentialService } from './credentials.js';
import { DomainService } from './domains.js';
import type { MailBackendAddresses } from '../config.js';
import { MailRouter } from './mail-routing.js';
import { LoginGate, type LoginGateHooks } from './login-gate.js';
import { ProvisioningService } from './provisioning.js';
import { TenantService } from './tenants.js';
import { type LoginThrottle, MemoryThrottle, type ThrottlePolicy } from './throttle.js';
import { SessionReads } from './session-reads.js';
import type { SendingCounters } from './sending-counters.js';
import { SendingPolicy } from './sending-policy.js';
import { UsageRecorder } from './usage.js';
import { SmtpAccountService } from './vault.js';
import { Verifier, type VerifierOptions } from './verification.js';
import { type SharedVerificationStats, VerificationStats } from './verification-stats.js';

export interface Services {
  context: DomainContext;
  tenants: TenantService;
  domains: DomainService;
  provisioning: ProvisioningService;
  credentials: CredentialService;
  access: AccessService;
  verifier: Verifier;
  usage: UsageRecorder;
  /** The clients seen using a credential, for whoever may see the credential. */
  sessions: SessionReads;
  throttle: LoginThrottle;
  stats: VerificationStats;
  /** The stats of every node on the database (set by the runtime; tests without one read `stats`). */
  sharedStats?: SharedVerificationStats;
  /** Throttle + verify + bookkeeping: what protocol adapters call for a login. */
  logins: LoginGate;
  mailRouter: MailRouter;
  /** Allowed senders and quotas, asked by the mail server (protocol/postfix). */
  sendingPolicy: SendingPolicy;
  /** The tenants' vaulted SMTP accounts (seed 000). */
  vault: SmtpAccountService;
  /** Webhook endpoints, deliveries and the outbox. */
  webhooks: WebhookService;
  /** This container's Prometheus registry and instruments. */
  metrics: Metrics;
  /** The background jobs of this node. */
  jobs: JobSchedule;
  /** Signs and checks audit checkpoints (Ed25519 keys derived from the root secret). */
  checkpointSigner: CheckpointSigner;
}

export interface ServiceOptions {
  store: Store;
  clock: Clock;
  hashSecret: SecretHasher;
  sessionMinutes: number;
  reauthMinutes: number;
  adminIdleMinutes?: number;
  adminMaxSessions?: number;
  adminThrottle?: AdminThrottlePolicy;
  totpBox?: TotpBox;
  auditKeys?: AuditKeys;
  verifierOptions?: VerifierOptions;
  usageFlushMs?: number;
  mailBackends?: MailBackendAddresses;
  throttlePolicy?: ThrottlePolicy;
  /** Shared counters (Redis) when several nodes serve; in memory otherwise. */
  throttle?: LoginThrottle;
  loginHooks?: LoginGateHooks;
  /** How long cached answers keep answering while the database is down (ms; 0: not at all). */
  verifyStaleMaxMs?: number;
  /** Is the database known to be down now (storage's DatabaseHealth)? */
  databaseDown?: () => boolean;
  /** Quota counters shared by every node (Redis); the database's when not given. */
  sendingCounters?: SendingCounters;
  /** RELAYKEY_TRUSTED_PROXIES (CIDRs). */
  trustedProxies?: readonly string[];
  /** Seals the vaulted SMTP passwords (and webhook secrets use the root keys). */
  envelope: Envelope;
  rootKeys: RootKeyRing;
  /** Months between scheduled rotations of a tenant's vaulted SMTP account. */
  smtpRotationMonths: number;
  /** RELAYKEY_WEBHOOK_ALLOW_NETWORKS (CIDRs). */
  webhookAllowNetworks: readonly string[];
  jobs: JobSchedule;
}

export function createServices(options: ServiceOptions): Services {
  const context: DomainContext = {
    store: options.store,
    clock: options.clock,
    hashSecret: options.hashSecret,
    onCredentialChange: [],
    onTenantChange: [],
    onRecordedEvent: [],
    ...(options.auditKeys ? { auditKeys: options.auditKeys } : {}),
  };
  const tenants = new TenantService(context);
  const credentials = new CredentialService(context);
  const outage = { staleMaxMs: options.verifyStaleMaxMs ?? 0, ...(options.databaseDown ? { databaseDown: options.databaseDown } : {}) };
  const verifier = new Verifier(context, { ...(options.verifierOptions ?? { cacheTtlMs: 30_000, cacheMaxEntries: 200_000 }), ...outage });
  const usage = new UsageRecorder(context, options.usageFlushMs);
  const throttle = options.throttle ?? new MemoryThrottle(options.clock, options.throttlePolicy);
  const stats = new VerificationStats(options.clock);
  const provisioning = new ProvisioningService(tenants);
  const vault = new SmtpAccountService(context, credentials, options.envelope, { rotationMonths: options.smtpRotationMonths });
  // Every new tenant gets its vaulted SMTP account.
  provisioning.provisioners.push(vault.provision);
  // Webhook deliveries come from an outbox written in the transaction of the change.
  context.onRecordedEvent.push(writeOutbox);
  return {
    context,
    tenants,
    domains: new DomainService(context),
    provisioning,
    credentials,
    access: new AccessService(context, {
      sessionMinutes: options.sessionMinutes,
      reauthMinutes: options.reauthMinutes,
      ...outage,
      ...(options.adminIdleMinutes ? { idleMinutes: options.adminIdleMinutes } : {}),
      ...(options.adminMaxSessions ? { maxSessions: options.adminMaxSessions } : {}),
      ...(options.totpBox ? { totpBox: options.totpBox } : {}),
      throttle: new AdminThrottle(options.clock, options.adminThrottle ?? DEFAULT_ADMIN_THROTTLE),
    }),
    verifier,
    usage,
    sessions: new SessionReads(context, credentials),
    throttle,
    stats,
    logins: new LoginGate(verifier, throttle, usage, stats, options.clock, options.loginHooks, { trustedProxies: options.trustedProxies ?? [] }),
    mailRouter: new MailRouter(context, options.mailBackends ?? {}),
    sendingPolicy: new SendingPolicy(context, {
      ...(options.sendingCounters ? { counters: options.sendingCounters } : {}),
      hold: async (subject, trigger) =>
        (
          await credentials.holdForAbuse(
            subject.tenantId,
            subject.credentials.map((c) => c.id),
            trigger,
          )
        ).length,
    }),
    vault,
    webhooks: new WebhookService(context, options.rootKeys, [...options.webhookAllowNetworks]),
    metrics: createMetrics(),
    jobs: options.jobs,
    checkpointSigner: createCheckpointSigner(options.rootKeys),
  };
}
