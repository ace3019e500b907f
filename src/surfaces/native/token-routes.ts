// Management tokens: tenant bearer tokens and server API keys (per tenant), verifier tokens (platform).
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import { actorOf, requirePrincipal, requireTenantPrincipal } from '../authentication.js';
import { presentToken } from './presenters.js';
import { Name, TenantParams, Uuid } from './schemas.js';
import type { App } from './types.js';
import { IssuedTokenReply, ListOf, NoContent, replies, TokenReply, VerifierTokenReply } from './replies.js';

export function registerTokenRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/tenants/:tenantId/tokens',
    {
      config: { action: 'tokens.list' },
      schema: { tags: ['tokens'], summary: 'List management tokens (admin)', params: TenantParams, response: replies({ 200: ListOf(TokenReply) }) },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      return { data: (await services.access.listTokens(request.params.tenantId)).map(presentToken) };
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/tokens',
    {
      config: { action: 'tokens.create' },
      schema: {
        tags: ['tokens'],
        summary: 'Create a bearer token (optionally bound to a login) or a server API key (admin)',
        params: TenantParams,
        body: Type.Object(
          { kind: Type.Union([Type.Literal('bearer'), Type.Literal('server')]), login_id: Type.Optional(Uuid), name: Type.Optional(Name) },
          { additionalProperties: false },
        ),
        response: replies({ 201: IssuedTokenReply }),
      },
    },
    async (request, reply) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      const { token, secret } = await services.access.createToken(
        {
          kind: request.body.kind,
          tenantId: request.params.tenantId,
          loginId: request.body.login_id ?? null,
          ...(request.body.name ? { name: request.body.name } : {}),
        },
        actorOf(request),
      );
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...presentToken(token), token: secret });
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/tokens/:tokenId',
    {
      config: { action: 'tokens.revoke' },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a management token (admin)',
        params: Type.Object({ tenantId: Uuid, tokenId: Uuid }, { additionalProperties: false }),
        response: replies({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      await services.access.revokeToken(request.params.tenantId, request.params.tokenId, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/verifier-tokens',
    {
      config: { action: 'verifier-tokens.create' },
      schema: {
        tags: ['tokens'],
        summary: 'Create a platform-wide verifier token for a mail server auth hook (admin)',
        body: Type.Optional(Type.Object({ name: Type.Optional(Name) }, { additionalProperties: false })),
        response: replies({ 201: IssuedTokenReply }),
      },
    },
    async (request, reply) => {
      await requirePrincipal(services, request, ['admin']);
      const { token, secret } = await services.access.createToken(
        { kind: 'verifier', ...(request.body?.name ? { name: request.body.name } : {}) },
        actorOf(request),
      );
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...presentToken(token), token: secret });
    },
  );
}

export function registerVerifierTokenRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/verifier-tokens',
    {
      config: { action: 'verifier-tokens.list' },
      schema: {
        tags: ['tokens'],
        summary: 'List verifier tokens, live and revoked, with their last use (admin)',
        response: replies({ 200: ListOf(VerifierTokenReply) }),
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      const tokens = await services.access.listPlatformTokens('verifier');
      return {
        data: tokens.map((token) => ({
          id: token.id,
          name: token.name,
          key_hint: token.keyHint,
          created_at: token.createdAt,
          last_used_at: token.lastUsedAt ?? null,
          revoked_at: token.revokedAt,
        })),
      };
    },
  );

  app.delete(
    '/api/v1/verifier-tokens/:tokenId',
    {
      config: { action: 'verifier-tokens.revoke' },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a verifier token: every node refuses it within a second (admin)',
        params: Type.Object({ tokenId: Uuid }, { additionalProperties: false }),
        response: replies({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      await requirePrincipal(services, request, ['admin']);
      await services.access.revokeToken(null, request.params.tokenId, actorOf(request));
      return reply.status(204).send(null);
    },
  );
}
