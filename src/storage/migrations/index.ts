// The ordered migration set, shared by both dialects.
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import * as core from './001-core.js';
import * as jobsWebhooks from './003-jobs-webhooks.js';
import * as jobIndexes from './004-job-indexes.js';
import * as tenantDomains from './005-tenant-domains.js';
import * as webhookOrder from './006-webhook-order.js';
import * as adminSecurity from './007-admin-security.js';
import * as auditHmac from './007b-audit-hmac.js';
import * as instanceFacts from './008-instance-facts.js';
import * as verificationStats from './008b-verification-stats.js';
import * as tenantCredentialNumbers from './009-tenant-credential-numbers.js';
import * as sendingPolicy from './010-sending-policy.js';
import * as auditCheckpoints from './011-audit-checkpoints.js';
import * as webhookHealthAdminRoles from './012-webhook-health-admin-roles.js';
import * as verificationOutcomes from './013-verification-outcomes.js';

type Dialect = 'sqlite' | 'postgres';
type DialectMigration = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '001-core': core,
  '003-jobs-webhooks': jobsWebhooks,
  '004-job-indexes': jobIndexes,
  '005-tenant-domains': tenantDomains,
  '006-webhook-order': webhookOrder,
  '007-admin-security': adminSecurity,
  '007b-audit-hmac': auditHmac,
  '008-instance-facts': instanceFacts,
  '008b-verification-stats': verificationStats,
  '009-tenant-credential-numbers': tenantCredentialNumbers,
  '010-sending-policy': sendingPolicy,
  '011-audit-checkpoints': auditCheckpoints,
  '012-webhook-health-admin-roles': webhookHealthAdminRoles,
  '013-verification-outcomes': verificationOutcomes,
};

/** Every migration this build knows, in order (the schema guard compares the database with it). */
export const KNOWN_MIGRATIONS: readonly string[] = Object.keys(MIGRATIONS).sort();

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      const result: Record<string, Migration> = {};
      for (const [name, migration] of Object.entries(MIGRATIONS)) {
        result[name] = { up: (db) => migration.up(db, dialect) };
      }
      return result;
    },
  };
}
