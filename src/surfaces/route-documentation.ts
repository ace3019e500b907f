// What every documented route gets in /openapi.json without repeating it in each route file: an
// operationId made from its method and path (unless it names one), and the error body for 4xx
// and 5xx answers (unless its surface declares its own errors, as seed 001's envelope does).
import type { RouteOptions } from 'fastify';
import { ERROR_REPLIES, ErrorReply } from './native/replies.js';
import type { App } from './native/types.js';

const capitalize = (word: string) => (word ? word[0]?.toUpperCase() + word.slice(1) : '');

/** `GET /api/v1/tenants/:tenantId/credentials` -> `getTenantsByTenantIdCredentials`. */
export function operationIdOf(method: string, url: string): string {
  const segments = url
    .replace(/^\/api(\/v1)?\//, '/')
    .split('/')
    .filter(Boolean);
  const words = segments.map((segment) =>
    segment.startsWith(':')
      ? `By${capitalize(segment.slice(1).replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase()))}`
      : segment
          .split(/[^A-Za-z0-9]+/)
          .map(capitalize)
          .join(''),
  );
  return method.toLowerCase() + words.join('');
}

function declaresErrors(response: Record<string, unknown>): boolean {
  return Object.keys(response).some((status) => status.startsWith('4'));
}

/** Installs the onRoute hook; call before any route is registered. */
export function installRouteDocumentation(app: App): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = (route.schema ?? {}) as Record<string, unknown> & { hide?: boolean; response?: Record<string, unknown> };
    if (schema.hide) return;
    const methods = [route.method].flat();
    if (methods.length === 1 && methods[0] === 'HEAD') return;
    schema.operationId ??= operationIdOf(String(methods[0]), route.url);
    if (!schema.response || !declaresErrors(schema.response)) schema.response = { ...schema.response, ...ERROR_REPLIES };
    // The router itself answers a path parameter over 200 characters (414, the native error
    // body) before any surface sees the request, so a surface with its own errors has it too.
    else if (route.url.includes(':') && !('414' in schema.response) && !('4xx' in schema.response)) schema.response = { ...schema.response, 414: ErrorReply };
    route.schema = schema;
  });
}
