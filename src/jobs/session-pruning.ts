// session-pruning: sessions of revoked keys or unseen for a week turn inactive; sessions unseen
// for 30 days are deleted, and so are job-run records older than 30 days.
import { DAY } from '../clock.js';
import type { Runtime } from '../runtime-types.js';
import type { SessionPruningOptions } from '../storage/repositories/job-scans.js';
import type { JobDefinition } from './job.js';

export const SESSION_INACTIVE_AFTER_MS = 7 * DAY;
export const SESSION_DELETE_AFTER_MS = 30 * DAY;
export const JOB_RUNS_KEPT_MS = 30 * DAY;

export type { SessionPruningOptions };

export async function pruneSessions(runtime: Runtime, options: SessionPruningOptions = {}): Promise<number> {
  const now = runtime.services.context.clock.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const deleteBefore = iso(now - SESSION_DELETE_AFTER_MS);
  const inactiveBefore = iso(now - SESSION_INACTIVE_AFTER_MS);
  const pruned = await runtime.store.scans.pruneSessions({ nowIso: iso(now), deleteBefore, inactiveBefore }, options);
  await runtime.store.jobRuns.pruneBefore(iso(now - JOB_RUNS_KEPT_MS));
  return pruned;
}

export const sessionPruningJob: JobDefinition = {
  name: 'session-pruning',
  intervalMs: 3_600_000,
  run: (runtime) => pruneSessions(runtime),
};
