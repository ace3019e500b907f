// What the rest of the service sees of the job scheduler (jobs/scheduler.ts): its jobs, their
// intervals, a run on demand. Types only, so the container can name it without an import circle.
import type { JobRun } from '../storage/repositories/job-runs.js';

export interface JobSchedule {
  /** This node, as job_runs records it. */
  readonly nodeId: string;
  readonly jobNames: string[];
  /** Milliseconds between runs of the named job on this node. */
  intervalOf(name: string): number;
  /** Runs one job now (tests call this with the timers off); a run already under way is joined. */
  run(name: string): Promise<JobRun>;
  start(): void;
  /** Stops the timers and waits for the runs under way. */
  stop(): Promise<void>;
}
