// The set of repositories a store hands out (directly or bound to one transaction), as types
// only: the store builds them (store.ts), and code beside it (usage-writes.ts, job-scans.ts)
// names them without importing the store.
import type { CompiledQuery } from 'kysely';
import type { AccessRepository } from './repositories/access.js';
import type { AuditRepository } from './repositories/audit.js';
import type { CredentialRepository } from './repositories/credentials.js';
import type { DomainRepository } from './repositories/domains.js';
import type { JobRunRepository } from './repositories/job-runs.js';
import type { LifecycleNoticeRepository } from './repositories/lifecycle-notices.js';
import type { SendingRepository } from './repositories/sending.js';
import type { SessionRepository } from './repositories/sessions.js';
import type { TenantRepository } from './repositories/tenants.js';
import type { VaultRepository } from './repositories/vault.js';
import type { WebhookRepository } from './repositories/webhooks.js';

export interface Repositories {
  tenants: TenantRepository;
  domains: DomainRepository;
  credentials: CredentialRepository;
  access: AccessRepository;
  audit: AuditRepository;
  /** Sending policy: identities behind mail-server logins, shared quota counters. */
  sending: SendingRepository;
  /** Once-only lifecycle notices (expiry, inactivity warning). */
  lifecycleNotices: LifecycleNoticeRepository;
  /** The record of background job runs. */
  jobRuns: JobRunRepository;
  /** The clients seen using each credential. */
  sessions: SessionRepository;
  /** The tenants' vaulted SMTP accounts, their data keys and audit (seed 000). */
  vault: VaultRepository;
  /** Webhook endpoints and the delivery outbox. */
  webhooks: WebhookRepository;
}

/** Runs `work` in one transaction with repositories bound to it. */
export type Transaction = <T>(work: (repositories: Repositories) => Promise<T>) => Promise<T>;

/** A Kysely SELECT (anything that compiles to SQL and can also run itself). */
export interface ReadQuery<Row> {
  compile(): CompiledQuery<Row>;
  execute(): Promise<Row[]>;
}
