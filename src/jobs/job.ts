// A background job: runs on an interval; returns how many items it handled.
import type { Config } from '../config.js';
import type { Runtime } from '../runtime.js';

export interface JobDefinition {
  name: string;
  intervalMs: number;
  /** The interval when the configuration sets it (RELAYKEY_JOB_INTERVAL_MS still wins). */
  intervalFor?(config: Config): number;
  /** False: the job is switched off by the configuration and never scheduled. */
  enabled?(config: Config): boolean;
  run(runtime: Runtime): Promise<number>;
}
