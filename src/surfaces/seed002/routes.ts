// Seed 002: per-user SMTP credentials under /api/smtp-credentials for a Bearer token bound to a
// mailbox login: connection info, the login's keys, create, revoke, rotate and mobile keys.
import type { FastifyRequest } from 'fastify';
import type { CredentialScope } from '../../domain/credentials.js';
import { MOBILE_SCOPES, type Scope } from '../../domain/scopes.js';
import type { Services } from '../../domain/services.js';
import { AppError, badRequest, notFound } from '../../errors.js';
import { actorOf, requirePrincipal } from '../authentication.js';
import { listAllCredentials } from '../compat.js';
import type { App } from '../native/types.js';
import { presentConnectionInfo, presentIssued, presentKey } from './presenters.js';
import { SEED002_LIMITS, Seed002Limits } from './rate-limits.js';
import { CreateBody, ERROR_REPLIES, IssuedKey, KeyParams, ListReply, MOBILE_SCOPES_TEXT, MobileBody, TAG } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route issues a key: it counts against the stricter key-creation budget. */
    seed002IssuesKey?: boolean;
  }
}

const BASE = '/api/smtp-credentials';
const LIMIT_NOTE = `Rate limited per token and per IP: ${SEED002_LIMITS.requestsPerTokenPerMinute}/${SEED002_LIMITS.requestsPerIpPerMinute} requests a minute; key creation (create, rotate, mobile) ${SEED002_LIMITS.issuesPerTokenPerMinute}/${SEED002_LIMITS.issuesPerIpPerMinute} a minute. Over the limit: 429 with Retry-After.`;

function scopeOf(request: FastifyRequest): CredentialScope {
  const principal = request.principal;
  if (principal?.type !== 'bearer' || !principal.loginId) throw new AppError('UNAUTHENTICATED');
  return { tenantId: principal.tenantId, loginId: principal.loginId, surface: 'seed002' };
}

export async function registerSeed002(app: App, services: Services): Promise<void> {
  const limits = new Seed002Limits(services.context.clock);
  const now = () => services.context.clock.now();

  /** A new rm_ key in the caller's scope (tenant, and login for login-bound tokens), presented once. */
  async function issueKey(request: FastifyRequest, key: { name: string; scopes: readonly Scope[]; metadata?: Record<string, string> }) {
    const scope = scopeOf(request);
    const issued = await services.credentials.create(
      {
        tenantId: scope.tenantId,
        loginId: scope.loginId ?? null,
        surface: 'seed002',
        name: key.name.trim(),
        scopes: [...key.scopes],
        ...(key.metadata ? { metadata: key.metadata } : {}),
      },
      actorOf(request),
    );
    return presentIssued(issued.credential, issued.secret, now());
  }

  await app.register(async (scoped: App) => {
    scoped.addHook('onRequest', async (request) => {
      const issuesKey = request.routeOptions.config.seed002IssuesKey === true;
      limits.checkIp(request.ip, issuesKey);
      const principal = await requirePrincipal(services, request, ['bearer']);
      if (!principal.loginId) throw new AppError('FORBIDDEN', 'this endpoint needs a Bearer token bound to a mailbox login');
      limits.checkToken(principal.tokenId, issuesKey);
    });

    /** A key of this login on this surface that is not revoked; anything else is 404. */
    const liveKey = async (scope: CredentialScope, keyId: string) => {
      const credential = await services.credentials.get(scope, keyId);
      if (credential.status === 'revoked') throw notFound('key');
      return credential;
    };

    scoped.get(
      BASE,
      {
        config: { action: 'seed002.credentials' },
        schema: {
          tags: [TAG],
          summary: 'Protocol connection info (SMTP, POP3, IMAP) and the active API keys of this login',
          description: LIMIT_NOTE,
          response: { 200: ListReply, ...ERROR_REPLIES },
        },
      },
      async (request) => {
        const scope = scopeOf(request);
        const tenant = await services.tenants.get(scope.tenantId);
        const keys = await listAllCredentials(services, scope, 'active');
        const at = now();
        return { connectionInfo: presentConnectionInfo(tenant.connectionInfo), keys: keys.map((k) => presentKey(k, at)) };
      },
    );

    scoped.post(
      BASE,
      {
        config: { seed002IssuesKey: true, action: 'seed002.credentials' },
        schema: {
          tags: [TAG],
          summary: 'Create an API key (rm_...) with scopes; the key is in this response only',
          description: LIMIT_NOTE,
          body: CreateBody,
          response: { 201: IssuedKey, ...ERROR_REPLIES },
        },
      },
      async (request, reply) => {
        const issued = await issueKey(request, { name: request.body.name, scopes: request.body.scopes as Scope[] });
        return reply.header('cache-control', 'no-store').status(201).send(issued);
      },
    );

    scoped.post(
      `${BASE}/mobile`,
      {
        config: { seed002IssuesKey: true, action: 'seed002.credentials' },
        schema: {
          tags: [TAG],
          summary: 'Create an API key for a mobile app; platform and device id are kept with it',
          description: `Mobile keys get the scopes ${MOBILE_SCOPES_TEXT}. ${LIMIT_NOTE}`,
          body: MobileBody,
          response: { 201: IssuedKey, ...ERROR_REPLIES },
        },
      },
      async (request, reply) => {
        // The original's mobile clients send `deviceName`; `name` wins when both are given.
        const name = request.body.name ?? request.body.deviceName;
        if (name === undefined) throw badRequest('body must have name (or deviceName)');
        const issued = await issueKey(request, {
          name,
          scopes: MOBILE_SCOPES,
          metadata: { platform: request.body.platform, device_id: request.body.deviceId },
        });
        return reply.header('cache-control', 'no-store').status(201).send(issued);
      },
    );

    scoped.delete(
      `${BASE}/:keyId`,
      {
        config: { action: 'seed002.credentials' },
        schema: {
          tags: [TAG],
          summary: 'Revoke an API key for good; clients using it lose access at once',
          description: LIMIT_NOTE,
          params: KeyParams,
          response: { 204: { description: 'Revoked', type: 'null' }, ...ERROR_REPLIES },
        },
      },
      async (request, reply) => {
        const scope = scopeOf(request);
        const key = await liveKey(scope, request.params.keyId);
        await services.credentials.revoke(scope, key.id, 'revoked through /api/smtp-credentials', actorOf(request));
        return reply.status(204).send(null);
      },
    );

    scoped.post(
      `${BASE}/:keyId/rotate`,
      {
        config: { seed002IssuesKey: true, action: 'seed002.credentials' },
        schema: {
          tags: [TAG],
          summary: 'Issue a new key with the same name and scopes and revoke the old one in one transaction',
          description: LIMIT_NOTE,
          params: KeyParams,
          response: { 200: IssuedKey, ...ERROR_REPLIES },
        },
      },
      async (request, reply) => {
        const scope = scopeOf(request);
        const key = await liveKey(scope, request.params.keyId);
        const { issued } = await services.credentials.rotate(scope, key.id, { gracePeriodSeconds: 0 }, actorOf(request));
        reply.header('cache-control', 'no-store');
        return presentIssued(issued.credential, issued.secret, now());
      },
    );
  });
}
