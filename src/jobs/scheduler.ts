// Runs every registered job on its interval inside this process and records each run.
// Jobs make their own items safe across nodes (conditional updates, SKIP LOCKED); the
// scheduler only makes sure one process never overlaps a job with itself.
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Runtime } from '../runtime-types.js';
import type { Config } from '../config.js';
import type { JobRun } from '../storage/repositories/job-runs.js';
import type { JobDefinition } from './job.js';
import type { JobSchedule } from './schedule.js';

const KEY_LIKE = /[A-Za-z]{2,6}_[0-9A-Za-z+/=]{20,}/g;

/** Error text for job_runs and logs: short, and with anything key-shaped blanked out. */
export function safeErrorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(KEY_LIKE, '[redacted]').split('\n')[0]?.slice(0, 500) ?? 'error';
}

export class Scheduler implements JobSchedule {
  readonly nodeId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<JobRun>>();
  private stopped = true;

  /**
   * `runtime` is asked for when a job runs, never before: the scheduler is part of the
   * container the runtime is built from.
   */
  constructor(
    private readonly config: Config,
    private readonly jobs: readonly JobDefinition[],
    private readonly runtimeOf: () => Runtime,
  ) {}

  private get runtime(): Runtime {
    return this.runtimeOf();
  }

  get jobNames(): string[] {
    return this.jobs.map((j) => j.name);
  }

  intervalOf(job: JobDefinition | string): number {
    const definition = typeof job === 'string' ? this.jobs.find((j) => j.name === job) : job;
    if (!definition) throw new Error(`no job named ${String(job)}`);
    return this.config.jobIntervalMs ?? definition.intervalFor?.(this.config) ?? definition.intervalMs;
  }

  definitions(): readonly JobDefinition[] {
    return this.jobs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const job of this.jobs) {
      if (job.enabled && !job.enabled(this.config)) continue;
      // A short random first delay spreads the nodes of a cluster and lets a restart catch up soon.
      this.schedule(job, Math.floor(Math.random() * Math.min(this.intervalOf(job), 2_000)));
    }
  }

  private schedule(job: JobDefinition, delay: number): void {
    if (this.stopped) return;
    const timer = setTimeout(async () => {
      this.timers.delete(job.name);
      await this.run(job.name).catch(() => undefined);
      this.schedule(job, this.intervalOf(job));
    }, delay);
    timer.unref();
    this.timers.set(job.name, timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Runs one job now (tests call this with the timers off); a run already under way is joined. */
  run(name: string): Promise<JobRun> {
    const existing = this.running.get(name);
    if (existing) return existing;
    const job = this.jobs.find((j) => j.name === name);
    if (!job) return Promise.reject(new Error(`no job named ${name}`));
    const pending = this.execute(job).finally(() => this.running.delete(name));
    this.running.set(name, pending);
    return pending;
  }

  private async execute(job: JobDefinition): Promise<JobRun> {
    const metrics = this.runtime.services.metrics;
    const startedAt = this.runtime.services.context.clock.now().toISOString();
    const started = performance.now();
    let items = 0;
    let error: string | null = null;
    try {
      items = await job.run(this.runtime);
    } catch (caught) {
      error = safeErrorMessage(caught);
      this.runtime.logger.error({ job: job.name, error }, 'job run failed');
    }
    const durationMs = Math.round(performance.now() - started);
    const run: JobRun = { id: randomUUID(), job: job.name, nodeId: this.nodeId, startedAt, durationMs, items, outcome: error ? 'error' : 'ok', error };
    metrics.jobRuns.inc({ job: job.name, outcome: run.outcome });
    metrics.jobDuration.observe({ job: job.name }, durationMs / 1000);
    metrics.jobItems.inc({ job: job.name }, items);
    try {
      await this.runtime.store.jobRuns.insert(run);
    } catch (caught) {
      // The database may be gone at shutdown; the run itself already happened.
      this.runtime.logger.warn({ job: job.name, error: safeErrorMessage(caught) }, 'could not record job run');
    }
    return run;
  }
}
