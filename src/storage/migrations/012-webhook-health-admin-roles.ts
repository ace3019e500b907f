// Issue 27 (console second pass): a webhook endpoint keeps its previous signing secret for an
// overlap after a rotation, and its delivery health (last success and failure, failures in a
// row); an admin has a role (owners manage admins), may be disabled, and holds a TOTP secret
// that is pending until a code from it is confirmed.
import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  const endpoints = () => db.schema.alterTable('webhook_endpoints');
  await endpoints().addColumn('previous_secret_ciphertext', 'text').execute();
  await endpoints().addColumn('previous_secret_nonce', 'text').execute();
  await endpoints().addColumn('previous_root_key_version', 'integer').execute();
  await endpoints().addColumn('previous_secret_expires_at', 'text').execute();
  await endpoints().addColumn('secret_rotated_at', 'text').execute();
  await endpoints().addColumn('last_success_at', 'text').execute();
  await endpoints().addColumn('last_failure_at', 'text').execute();
  await endpoints().addColumn('last_failure_error', 'text').execute();
  await endpoints()
    .addColumn('consecutive_failures', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  // Admins from before roles existed were all-powerful: they stay owners.
  await db.schema
    .alterTable('admins')
    .addColumn('role', 'text', (column) => column.notNull().defaultTo('owner'))
    .execute();
  await db.schema.alterTable('admins').addColumn('disabled_at', 'text').execute();
  await db.schema.alterTable('admins').addColumn('totp_pending_secret', 'text').execute();
}
