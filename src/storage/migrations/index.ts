// The ordered migration set, shared by both dialects.
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import * as core from './001-core.js';
import * as jobsWebhooks from './003-jobs-webhooks.js';
import * as jobIndexes from './004-job-indexes.js';

type Dialect = 'sqlite' | 'postgres';
type DialectMigration = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '001-core': core,
  '003-jobs-webhooks': jobsWebhooks,
  '004-job-indexes': jobIndexes,
};

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
