// Starts the scheduler with the server unless RELAYKEY_JOBS=off, and stops it (in-flight runs
// awaited) before the database closes; the admin job routes and /metrics.
import type { RuntimeExtension } from '../runtime-types.js';
import { registerJobRoutes } from '../surfaces/native/job-routes.js';

export const jobsExtension: RuntimeExtension = {
  name: 'jobs',
  surfaces: [registerJobRoutes],
  start(runtime) {
    if (runtime.config.jobsEnabled) runtime.scheduler.start();
  },
  async stop(runtime) {
    await runtime.scheduler.stop();
  },
};
