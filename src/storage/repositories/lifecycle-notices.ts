// Once-only lifecycle notices (expired, inactivity warning): the node whose insert wins announces.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export class LifecycleNoticeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Claims the notice for this subject (e.g. the expiry time, or the last-activity time a
   * warning is about). True only for the one caller that recorded it first; a new subject
   * (the expiry moved, the key was used again) can be claimed again.
   */
  async claim(credentialId: string, notice: string, subject: string, now: string): Promise<boolean> {
    const row = await this.db
      .insertInto('lifecycle_notices')
      .values({ credential_id: credentialId, notice, subject, created_at: now })
      .onConflict((oc) =>
        oc
          .columns(['credential_id', 'notice'])
          .doUpdateSet((eb) => ({ subject: eb.ref('excluded.subject'), created_at: eb.ref('excluded.created_at') }))
          .where((eb) => eb('lifecycle_notices.subject', '<>', eb.ref('excluded.subject'))),
      )
      .returning('credential_id')
      .executeTakeFirst();
    return row !== undefined;
  }
}
