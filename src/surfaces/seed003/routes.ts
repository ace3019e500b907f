// Seed 003: account API keys under /api/v1/account/api_key for a tenant Bearer token: role-based
// Key (public, the username) + Secret (shown once, the password), sessions per key, revoke.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { CredentialScope } from '../../domain/credentials.js';
import type { Role } from '../../domain/scopes.js';
import type { Services } from '../../domain/services.js';
import { AppError } from '../../errors.js';
import { actorOf, loginScopeOf, requirePrincipal } from '../authentication.js';
import { listAllCredentials } from '../compat.js';
import type { App } from '../native/types.js';
import { presentCreated, presentKey, presentSession } from './presenters.js';
import { CreateBody, CreatedReply, ERROR_REPLIES, KeyParams, KeyRecord, SessionRecord, TAG } from './schemas.js';

const BASE = '/api/v1/account/api_key';

export async function registerSeed003(app: App, services: Services): Promise<void> {
  const sessions = services.sessions;
  const now = () => services.context.clock.now();

  /** A token bound to a login sees only that login's keys; an account token sees all of the tenant's. */
  function scopeOf(request: FastifyRequest): CredentialScope {
    const principal = request.principal;
    if (principal?.type !== 'bearer') throw new AppError('UNAUTHENTICATED');
    return { tenantId: principal.tenantId, loginId: loginScopeOf(principal), surface: 'seed003' };
  }

  await app.register(async (scoped: App) => {
    // Authenticate before the body is looked at: an unauthenticated caller learns nothing else.
    // The seed's document names the header `Authentication: Bearer {access_token}`; its clients
    // send that, others send Authorization (which wins when both come).
    scoped.addHook('onRoute', (route) => {
      route.config = { ...route.config, acceptAuthenticationHeader: true };
    });
    scoped.addHook('onRequest', async (request) => {
      await requirePrincipal(services, request, ['bearer']);
    });

    scoped.post(
      BASE,
      {
        config: { action: 'seed003.api-keys' },
        schema: {
          tags: [TAG],
          summary: 'Generate a new API key; the Secret is visible only in this response',
          description: 'Protocol login uses Key as the username and Secret as the password, for the protocols of the role only.',
          body: CreateBody,
          response: { 201: CreatedReply, ...ERROR_REPLIES },
        },
      },
      async (request, reply) => {
        const scope = scopeOf(request);
        const issued = await services.credentials.create(
          { tenantId: scope.tenantId, loginId: scope.loginId ?? null, surface: 'seed003', name: request.body.name.trim(), role: request.body.role as Role },
          actorOf(request),
        );
        reply.header('cache-control', 'no-store');
        return reply.status(201).send(presentCreated(issued.credential, issued.secret));
      },
    );

    scoped.get(
      BASE,
      {
        config: { action: 'seed003.api-keys' },
        schema: { tags: [TAG], summary: 'Get all API keys (revoked ones with is_active false)', response: { 200: Type.Array(KeyRecord), ...ERROR_REPLIES } },
      },
      async (request) => {
        const keys = await listAllCredentials(services, scopeOf(request));
        const at = now();
        return keys.map((k) => presentKey(k, at));
      },
    );

    scoped.get(
      `${BASE}/:id`,
      {
        config: { action: 'seed003.api-keys' },
        schema: { tags: [TAG], summary: 'Get an API key by ID', params: KeyParams, response: { 200: KeyRecord, ...ERROR_REPLIES } },
      },
      async (request) => presentKey(await services.credentials.get(scopeOf(request), request.params.id), now()),
    );

    scoped.get(
      `${BASE}/:id/sessions`,
      {
        config: { action: 'seed003.api-keys' },
        schema: {
          tags: [TAG],
          summary: 'Get API key sessions by ID: the clients seen using the key',
          params: KeyParams,
          response: { 200: Type.Array(SessionRecord), ...ERROR_REPLIES },
        },
      },
      async (request) => (await sessions.listForCredential(scopeOf(request), request.params.id)).map(presentSession),
    );

    scoped.put(
      `${BASE}/:id/revoke`,
      {
        config: { action: 'seed003.api-keys' },
        schema: {
          tags: [TAG],
          summary: 'Revoke an API key: it stops working at once; the reply body is empty',
          description: 'Revoking a key that is already revoked changes nothing and answers 200 as well.',
          params: KeyParams,
          response: { 200: { description: 'Revoked (empty body)', type: 'null' }, ...ERROR_REPLIES },
        },
      },
      async (request, reply) => {
        const scope = scopeOf(request);
        const key = await services.credentials.get(scope, request.params.id);
        if (key.status !== 'revoked') await services.credentials.revoke(scope, key.id, 'revoked through /api/v1/account/api_key', actorOf(request));
        // No payload at all (not `null`): the seed documents an empty body.
        return reply.status(200).send(undefined as unknown as null);
      },
    );
  });
}
