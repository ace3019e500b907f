// Every background job of the process; capabilities push their JobDefinitions here (see extensions.ts).
import type { JobDefinition } from './job.js';

export const jobRegistry: JobDefinition[] = [];
