// A background job: runs on an interval; returns how many items it handled.
import type { Runtime } from '../runtime.js';

export interface JobDefinition {
  name: string;
  intervalMs: number;
  run(runtime: Runtime): Promise<number>;
}
