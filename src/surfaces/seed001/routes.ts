// Seed 001: server credentials under /api/v1/credentials/{list,create,regenerate,revoke}, all POST,
// authenticated by the X-Server-API-Key header (a tenant's `server` token).
// Every reply, failures included, is the envelope {"status": ..., ...}.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../domain/access.js';
import type { CredentialScope } from '../../domain/credentials.js';
import { scopesForKind } from '../../domain/scopes.js';
import type { Services } from '../../domain/services.js';
import { AppError } from '../../errors.js';
import { actorOf } from '../authentication.js';
import { listAllCredentials } from '../compat.js';
import { readEmptyBodyAsObject } from '../empty-body.js';
import { toAppError } from '../http-errors.js';
import type { App } from '../native/types.js';
import { presentCreated, presentCredential } from './presenters.js';
import { CreateBody, CreateReply, ERROR_REPLIES, ListBody, ListReply, RegenerateReply, RevokeReply, TAG, UuidBody } from './schemas.js';

export const SERVER_KEY_HEADER = 'x-server-api-key';

function sendEnvelopeError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const appError = toAppError(error);
  if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
  if (appError.retryAfterSeconds !== undefined) reply.header('retry-after', String(appError.retryAfterSeconds));
  return reply.status(appError.status).send({ status: 'error', message: appError.message, code: appError.code, request_id: String(request.id) });
}

async function authenticateServer(services: Services, request: FastifyRequest): Promise<Extract<Principal, { type: 'server' }>> {
  const header = request.headers[SERVER_KEY_HEADER];
  const presented = Array.isArray(header) ? header[0] : header;
  if (!presented) throw new AppError('UNAUTHENTICATED', 'The X-Server-API-Key header is required');
  const principal = await services.access.authenticate(presented.trim());
  if (!principal) throw new AppError('UNAUTHENTICATED', 'The X-Server-API-Key is not valid or has been revoked');
  if (principal.type !== 'server') throw new AppError('FORBIDDEN', 'X-Server-API-Key must be a server API key');
  request.principal = principal;
  return principal;
}

export async function registerSeed001(app: App, services: Services): Promise<void> {
  await app.register(
    async (scoped: App) => {
      scoped.setErrorHandler((error, request, reply) => sendEnvelopeError(request, reply, error));
      scoped.setNotFoundHandler((request, reply) =>
        sendEnvelopeError(request, reply, new AppError('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`)),
      );
      // Authenticate before the body is looked at: an unauthenticated caller learns nothing else.
      scoped.addHook('onRequest', async (request) => {
        await authenticateServer(services, request);
      });
      // Clients call `list` with no body at all (or an empty JSON one); validate that as `{}`.
      readEmptyBodyAsObject(scoped);

      const scopeOf = (request: FastifyRequest): CredentialScope => {
        const principal = request.principal;
        if (principal?.type !== 'server') throw new AppError('UNAUTHENTICATED');
        return { tenantId: principal.tenantId, surface: 'seed001' };
      };
      const security = [{ serverApiKey: [] }];

      scoped.post(
        '/list',
        {
          config: { action: 'seed001.credentials' },
          schema: {
            tags: [TAG],
            summary: 'List all credentials for the authenticated server',
            security,
            body: ListBody,
            response: { 200: ListReply, ...ERROR_REPLIES },
          },
        },
        async (request) => {
          const credentials = await listAllCredentials(services, scopeOf(request), 'active');
          return { status: 'success' as const, data: credentials.map(presentCredential) };
        },
      );

      scoped.post(
        '/create',
        {
          config: { action: 'seed001.credentials' },
          schema: {
            tags: [TAG],
            summary: 'Create a credential; the key (vml_...) is in this response only',
            description:
              'An SMTP credential (default) authenticates SMTP with its key as password and any username; an API credential gets the api:read and api:write scopes only. `hold: true` creates it held: it cannot authenticate until released.',
            security,
            body: CreateBody,
            response: { 200: CreateReply, ...ERROR_REPLIES },
          },
        },
        async (request, reply) => {
          const scope = scopeOf(request);
          const kind = request.body.type ?? 'SMTP';
          const issued = await services.credentials.create(
            {
              tenantId: scope.tenantId,
              surface: 'seed001',
              kind,
              name: request.body.name.trim(),
              scopes: scopesForKind(kind),
              held: request.body.hold ?? false,
            },
            actorOf(request),
          );
          reply.header('cache-control', 'no-store');
          return { status: 'success' as const, data: presentCreated(issued.credential, issued.secret) };
        },
      );

      scoped.post(
        '/regenerate',
        {
          config: { action: 'seed001.credentials' },
          schema: {
            tags: [TAG],
            summary: 'Create a new credential and revoke the old one (key rotation), atomically',
            description:
              'The old key stops working at once. The new credential is active, also when the old one was held: regenerate is how a client recovers after a leak. Triggers a CredentialLocked webhook for the old credential.',
            security,
            body: UuidBody,
            response: { 200: RegenerateReply, ...ERROR_REPLIES },
          },
        },
        async (request, reply) => {
          const scope = scopeOf(request);
          const { old, issued } = await services.credentials.rotate(scope, request.body.uuid, { gracePeriodSeconds: 0, release: true }, actorOf(request));
          reply.header('cache-control', 'no-store');
          return {
            status: 'success' as const,
            data: { old_id: old.tenantNum, old_uuid: old.id, new_id: issued.credential.tenantNum, new_uuid: issued.credential.id, key: issued.secret },
          };
        },
      );

      scoped.post(
        '/revoke',
        {
          config: { action: 'seed001.credentials' },
          schema: {
            tags: [TAG],
            summary: 'Mark a credential as held (revoked): it cannot be used for authentication',
            description: 'Triggers a CredentialLocked webhook. Holding an already held credential changes nothing and answers the same.',
            security,
            body: UuidBody,
            response: { 200: RevokeReply, ...ERROR_REPLIES },
          },
        },
        async (request) => {
          const scope = scopeOf(request);
          const held = await services.credentials.setHeld(scope, request.body.uuid, true, actorOf(request));
          return { status: 'success' as const, data: { id: held.tenantNum, uuid: held.id, hold: true as const } };
        },
      );
    },
    { prefix: '/api/v1/credentials' },
  );
}
