// session-pruning: sessions of revoked keys or unseen for a week turn inactive; sessions unseen
// for 30 days are deleted, and so are job-run records older than 30 days.
import { DAY } from '../clock.js';
import type { Runtime } from '../runtime.js';
import { JobRunRepository } from '../storage/repositories/job-runs.js';
import type { JobDefinition } from './job.js';

export const SESSION_INACTIVE_AFTER_MS = 7 * DAY;
export const SESSION_DELETE_AFTER_MS = 30 * DAY;
export const JOB_RUNS_KEPT_MS = 30 * DAY;

export async function pruneSessions(runtime: Runtime): Promise<number> {
  const db = runtime.store.db;
  const now = runtime.services.context.clock.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const deleted = await db
    .deleteFrom('credential_sessions')
    .where('last_seen_at', '<', iso(now - SESSION_DELETE_AFTER_MS))
    .executeTakeFirst();
  const deactivated = await db
    .updateTable('credential_sessions')
    .set({ is_active: 0, modified_at: iso(now) })
    .where('is_active', '=', 1)
    .where((eb) =>
      eb.or([
        eb('last_seen_at', '<', iso(now - SESSION_INACTIVE_AFTER_MS)),
        eb('credential_id', 'in', eb.selectFrom('credentials').select('id').where('status', '=', 'revoked')),
      ]),
    )
    .executeTakeFirst();
  await new JobRunRepository(db).pruneBefore(iso(now - JOB_RUNS_KEPT_MS));
  return Number(deleted.numDeletedRows) + Number(deactivated.numUpdatedRows);
}

export const sessionPruningJob: JobDefinition = {
  name: 'session-pruning',
  intervalMs: 3_600_000,
  run: pruneSessions,
};
