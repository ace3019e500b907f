// Admin security (issue 22): the TOTP step last accepted per admin (a code works once), and
// what an admin session needs for an idle timeout and a sessions list (last use, client IP).
import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('admins').addColumn('totp_last_step', 'bigint').execute();
  await db.schema.alterTable('admin_sessions').addColumn('last_seen_at', 'text').execute();
  await db.schema.alterTable('admin_sessions').addColumn('client_ip', 'text').execute();
}
