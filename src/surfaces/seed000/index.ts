// Seed 000: the platform-admin vault API for tenant SMTP accounts.
import type { SurfaceRegistrar } from '../registrar.js';
import { registerAuditRoute } from './audit-route.js';
import { registerEmergencyResetRoute } from './emergency-reset-route.js';
import { registerRevealRoute } from './reveal-route.js';
import { registerRotateRoute } from './rotate-route.js';

export const registerSeed000: SurfaceRegistrar = async (app, services) => {
  registerRevealRoute(app, services);
  await registerRotateRoute(app, services);
  registerEmergencyResetRoute(app, services);
  registerAuditRoute(app, services);
};
