// Every route names its action (`config: { action }`); this hook authenticates the caller and
// asks the one policy (domain/policy.ts) before the body is parsed or validated, so a caller
// that may not use a route learns nothing from its validation errors. The routes and their
// actions are recorded for the policy-matrix test.
import type { FastifyRequest } from 'fastify';
import { type Action, authorize, isAction, ruleOf } from '../domain/policy.js';
import type { Services } from '../domain/services.js';
import type { ReauthOutcome } from '../domain/vault.js';
import { AppError, type ErrorCode } from '../errors.js';
import { authenticateVia } from './authentication.js';
import type { App } from './native/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route with its policy action (for the policy-matrix test). */
    policyRoutes: RegisteredRoute[];
  }
  interface FastifyContextConfig {
    /** The policy action of this route (domain/policy.ts). */
    action?: Action;
    /** Called when a re-auth action is refused for want of a valid X-Reauth-Token (to audit it). */
    reauthDenied?: (request: FastifyRequest, outcome: ReauthOutcome) => Promise<void>;
  }
}

export interface RegisteredRoute {
  method: string;
  url: string;
  action: Action | undefined;
}

/** Routes that plugins register (no place for a config of ours) and the action they carry. */
const PLUGIN_ROUTES: readonly [prefix: string, action: Action][] = [
  ['/docs', 'public.docs'],
  ['/console/assets', 'public.console'],
];

export const REAUTH_ERRORS: Record<ReauthOutcome, ErrorCode> = {
  missing: 'REAUTH_REQUIRED',
  invalid: 'REAUTH_INVALID',
  expired: 'REAUTH_EXPIRED',
  foreign: 'REAUTH_SESSION_MISMATCH',
};

function tenantOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, string | undefined> | undefined;
  return params?.tenantId ?? params?.tenant_id;
}

/** Installs the policy hook; call before any route is registered. Returns the route registry. */
export function installAuthorization(app: App, services: Services): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    route.config ??= {};
    const config = route.config as { action?: unknown };
    if (config.action === undefined) {
      const plugin = PLUGIN_ROUTES.find(([prefix]) => route.url.startsWith(prefix));
      if (plugin) config.action = plugin[1];
    }
    if (config.action !== undefined && !isAction(config.action)) throw new Error(`route ${route.url}: unknown policy action ${String(config.action)}`);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, action: config.action as Action | undefined });
  });

  app.addHook('onRequest', async (request) => {
    const action = request.routeOptions.config.action;
    if (!action) return;
    const rule = ruleOf(action);
    if (rule.via === 'none') return;
    const principal = await authenticateVia(services, request, rule.via);
    const decision = authorize(principal, action, { tenantId: tenantOf(request) });
    if (!decision.allowed) throw new AppError(decision.code, decision.message);
    if (rule.reauth) {
      const header = request.headers['x-reauth-token'];
      const presented = typeof header === 'string' ? header.trim() || undefined : undefined;
      const outcome = await services.access.checkReauth(principal, presented);
      if (outcome !== 'ok') {
        await request.routeOptions.config.reauthDenied?.(request, outcome);
        throw new AppError(REAUTH_ERRORS[outcome]);
      }
    }
  });
  return routes;
}
