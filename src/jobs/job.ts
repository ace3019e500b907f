// A background job: runs on an interval; returns how many items it handled (declared with the
// runtime's types, which list the jobs a runtime is built with).
export type { JobDefinition } from '../runtime-types.js';
