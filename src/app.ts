// Builds the HTTP application (no listening here: tests inject, server.ts listens).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { Services } from './domain/services.js';
import { AppError } from './errors.js';
import { installAuthorization } from './surfaces/authorization.js';
import { installTextFieldChecks } from './surfaces/text-fields.js';
import { createFastPath } from './surfaces/fast-path.js';
import { sendError } from './surfaces/http-errors.js';
import { installRouteDocumentation } from './surfaces/route-documentation.js';
import { registerAuditRoutes } from './surfaces/native/audit-routes.js';
import { registerAuditVerifyRoute } from './surfaces/native/audit-verify-route.js';
import { registerAdminRoutes } from './surfaces/native/admin-routes.js';
import { registerAuthRoutes } from './surfaces/native/auth-routes.js';
import { registerCredentialRoutes } from './surfaces/native/credential-routes.js';
import { registerDomainRoutes } from './surfaces/native/domain-routes.js';
import { registerTenantRoutes } from './surfaces/native/tenant-routes.js';
import { registerTokenRoutes, registerVerifierTokenRoutes } from './surfaces/native/token-routes.js';
import type { App } from './surfaces/native/types.js';
import type { SurfaceRegistrar } from './surfaces/registrar.js';

export type { App };
import { registerVerifyRoute } from './surfaces/native/verify-route.js';
import { lazySerializerFactory } from './surfaces/serialization.js';
import { formatValidationErrors, installValidation } from './surfaces/validation.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** /readyz: 503 unless ready; `checks` names each dependency's state (database, redis). */
export interface Readiness {
  ready: boolean;
  checks: Record<string, Record<string, unknown>>;
}

/** A surface (native, a seed, a protocol endpoint) adds its routes through one of these. */
export type { SurfaceRegistrar };

export interface AppOptions {
  services: Services;
  logger: FastifyServerOptions['loggerInstance'];
  /** Checks the dependencies for /readyz: ready or not, and a report per dependency. */
  ready: () => Promise<boolean | Readiness>;
  extraSurfaces?: SurfaceRegistrar[];
  /** Answer the two hot endpoints through the lean node:http handlers (default on). */
  fastPath?: boolean;
  /** RELAYKEY_TRUSTED_PROXIES: only these may name the client in X-Forwarded-For (request.ip). */
  trustedProxies?: readonly string[];
  /** RELAYKEY_TLS_CERT_FILE / RELAYKEY_TLS_KEY_FILE read: serve HTTPS (the server's setSecureContext reloads them). */
  tls?: { cert: Buffer; key: Buffer };
}

export const NATIVE_SURFACES: SurfaceRegistrar[] = [
  registerAuthRoutes,
  registerAdminRoutes,
  registerTenantRoutes,
  registerDomainRoutes,
  registerCredentialRoutes,
  registerTokenRoutes,
  registerVerifierTokenRoutes,
  registerAuditRoutes,
  registerAuditVerifyRoute,
  registerVerifyRoute,
];

export async function buildApp(options: AppOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: options.trustedProxies?.length ? [...options.trustedProxies] : false,
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    schemaErrorFormatter: formatValidationErrors,
    // Errors of the router itself (a path parameter over maxParamLength, bad percent-encoding)
    // answer in the one error body, like every other error, instead of Fastify's own shape.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      sendError(request, reply, error);
    },
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory } },
    ...((options.fastPath !== false && options.logger) || options.tls
      ? {
          serverFactory: (handler: (request: IncomingMessage, response: ServerResponse) => void, serverOptions: FastifyServerOptions) => {
            const listener =
              options.fastPath !== false && options.logger
                ? createFastPath({ services: options.services, logger: options.logger as unknown as Logger, bodyLimit: BODY_LIMIT_BYTES }, handler)
                : handler;
            const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createServer(listener);
            server.keepAliveTimeout = serverOptions.keepAliveTimeout ?? 72_000;
            server.requestTimeout = serverOptions.requestTimeout ?? 0;
            server.setTimeout(serverOptions.connectionTimeout ?? 0);
            return server;
          },
        }
      : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidation(app);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // No answer of ours is to be sniffed into another type (ASVS 14.2.1-style header hygiene).
    reply.header('x-content-type-options', 'nosniff');
    // API answers carry keys, secrets, tokens and account data: never kept by a browser or a
    // proxy. One default here rather than a header on each route that answers a secret (a route
    // that forgot it is how a token ends up in a cache).
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });
  // operationIds and error replies for /openapi.json (route-documentation.ts).
  installRouteDocumentation(app);
  // After the headers above, before every route: authenticate and authorize (one policy).
  app.decorate('policyRoutes', installAuthorization(app, options.services));
  installTextFieldChecks(app);
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'relaykey',
        version: '0.1.0',
        description: 'Credential service for multi-tenant email platforms',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative: the document describes the server that serves it.
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          serverApiKey: { type: 'apiKey', in: 'header', name: 'X-Server-API-Key' },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // A Content-Security-Policy with the hashes of the UI's own scripts and styles; without
    // upgrade-insecure-requests, which would break /docs served over plain HTTP on a loopback.
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });

  app.get('/openapi.json', { config: { action: 'public.docs' }, schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/healthz',
    {
      config: { action: 'public.health' },
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process answers (no dependency is checked)',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  const Readiness = Type.Object(
    { status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]) },
    { additionalProperties: true, description: 'status, and one object per dependency (database, redis) saying its state' },
  );
  app.get(
    '/readyz',
    {
      config: { action: 'public.health' },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: 200 when the database (and Redis, if configured) answer, else 503',
        security: [],
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const result = await options.ready().catch(() => false);
      const { ready, checks } = typeof result === 'boolean' ? { ready: result, checks: {} } : result;
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', ...checks });
    },
  );

  for (const register of [...NATIVE_SURFACES, ...(options.extraSurfaces ?? [])]) await register(app, options.services);
  return app;
}
