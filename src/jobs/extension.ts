// Plugs the scheduler into the runtime: started with the server unless RELAYKEY_JOBS=off,
// stopped (in-flight runs awaited) before the database closes; admin routes and /metrics.
import type { Services } from '../domain/services.js';
import type { Runtime, RuntimeExtension } from '../runtime.js';
import { registerJobRoutes } from '../surfaces/native/job-routes.js';
import { jobRegistry } from './registry.js';
import { Scheduler } from './scheduler.js';

const byServices = new WeakMap<Services, Scheduler>();

export function schedulerOf(runtime: Runtime | { services: Services }): Scheduler {
  const scheduler = byServices.get(runtime.services);
  if (!scheduler) throw new Error('the jobs extension is not installed in this runtime');
  return scheduler;
}

export const jobsExtension: RuntimeExtension = {
  name: 'jobs',
  install(runtime) {
    byServices.set(runtime.services, new Scheduler(runtime, jobRegistry));
  },
  surfaces: [registerJobRoutes],
  start(runtime) {
    if (runtime.config.jobsEnabled) schedulerOf(runtime).start();
  },
  async stop(runtime) {
    await schedulerOf(runtime).stop();
  },
};
