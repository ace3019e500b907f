// One row per background job run on any node: when, how long, how many items, how it ended.
import type { Kysely, Selectable } from 'kysely';
import type { Page, PageRequest } from '../../domain/types.js';
import type { Database, JobRunsTable } from '../schema.js';

export interface JobRun {
  id: string;
  job: string;
  nodeId: string;
  startedAt: string;
  durationMs: number;
  items: number;
  outcome: 'ok' | 'error';
  error: string | null;
}

function toJobRun(row: Selectable<JobRunsTable>): JobRun {
  return {
    id: row.id,
    job: row.job,
    nodeId: row.node_id,
    startedAt: row.started_at,
    durationMs: Number(row.duration_ms),
    items: Number(row.items),
    outcome: row.outcome as JobRun['outcome'],
    error: row.error,
  };
}

export class JobRunRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(run: JobRun): Promise<void> {
    await this.db
      .insertInto('job_runs')
      .values({
        id: run.id,
        job: run.job,
        node_id: run.nodeId,
        started_at: run.startedAt,
        duration_ms: run.durationMs,
        items: run.items,
        outcome: run.outcome,
        error: run.error,
      })
      .execute();
  }

  async lastRun(job: string): Promise<JobRun | null> {
    const row = await this.db
      .selectFrom('job_runs')
      .selectAll()
      .where('job', '=', job)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toJobRun(row) : null;
  }

  async list(job: string | undefined, request: PageRequest): Promise<Page<JobRun>> {
    let base = this.db.selectFrom('job_runs');
    if (job) base = base.where('job', '=', job);
    const countRow = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(request.perPage)
      .offset((request.page - 1) * request.perPage)
      .execute();
    return { items: rows.map(toJobRun), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }

  async pruneBefore(cutoff: string): Promise<number> {
    const result = await this.db.deleteFrom('job_runs').where('started_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
