// Credentials of a tenant: create (secret shown once), list, get, change, hold, revoke, rotate.
import { Type } from 'typebox';
import type { Principal } from '../../domain/access.js';
import type { CredentialScope } from '../../domain/credentials.js';
import { isValidCidr } from '../../domain/network.js';
import type { Role, Scope } from '../../domain/scopes.js';
import type { Services } from '../../domain/services.js';
import { AppError } from '../../errors.js';
import { readEmptyBodyAsObject } from '../empty-body.js';
import { actorOf, loginScopeOf, type requirePrincipal, requireTenantPrincipal } from '../authentication.js';
import { presentCredential, presentPage, type SendingLimitsBody, toSendingLimits } from './presenters.js';
import {
  AllowedSenders,
  Metadata,
  Name,
  Networks,
  NullableSendingLimits,
  NullableTimestamp,
  PageQuery,
  Reason,
  RoleSchema,
  Scopes,
  TenantParams,
  Uuid,
} from './schemas.js';
import type { App } from './types.js';
import { CredentialReply, IssuedCredentialReply, PageOf, RotatedCredentialReply, replies } from './replies.js';

const CredentialParams = Type.Object({ tenantId: Uuid, credentialId: Uuid }, { additionalProperties: false });

function checkNetworks(networks: string[] | null | undefined): void {
  for (const cidr of networks ?? []) {
    if (!isValidCidr(cidr)) throw new AppError('VALIDATION_FAILED', `allowed_networks: "${cidr}" is not a valid CIDR`);
  }
}

/** Quotas are the tenant's to set: a login-bound token may not raise its own. */
function checkLimitsAllowed(scope: CredentialScope, limits: unknown): void {
  if (limits !== undefined && scope.loginId) throw new AppError('FORBIDDEN', 'a login-bound token may not set sending_limits');
}

function checkExpiry(expiresAt: string | null | undefined, now: Date): void {
  if (expiresAt && new Date(expiresAt).getTime() <= now.getTime()) {
    throw new AppError('VALIDATION_FAILED', 'expires_at must be in the future');
  }
}

export async function registerCredentialRoutes(app: App, services: Services): Promise<void> {
  async function scopeFor(request: Parameters<typeof requirePrincipal>[1], tenantId: string): Promise<{ principal: Principal; scope: CredentialScope }> {
    const principal = await requireTenantPrincipal(services, request, tenantId, ['admin', 'bearer']);
    return { principal, scope: { tenantId, loginId: loginScopeOf(principal) } };
  }
  const now = () => services.context.clock.now().toISOString();

  app.get(
    '/api/v1/tenants/:tenantId/credentials',
    {
      config: { action: 'credentials.list' },
      schema: {
        tags: ['credentials'],
        summary: 'List credentials',
        params: TenantParams,
        querystring: Type.Object(
          {
            ...PageQuery.properties,
            status: Type.Optional(
              Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('held'), Type.Literal('expired')], {
                description: 'active: not revoked; held, expired: not revoked and in that state now',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: replies({ 200: PageOf(CredentialReply) }),
      },
    },
    async (request) => {
      const { scope } = await scopeFor(request, request.params.tenantId);
      const at = now();
      const page = await services.credentials.list(scope, { page: request.query.page, perPage: request.query.per_page }, request.query.status, at);
      return presentPage(page, (c) => presentCredential(c, at));
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/credentials',
    {
      config: { action: 'credentials.create' },
      schema: {
        tags: ['credentials'],
        summary: 'Create a credential; the secret is in this response only',
        params: TenantParams,
        body: Type.Object(
          {
            name: Name,
            login_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
            kind: Type.Optional(Type.Union([Type.Literal('SMTP'), Type.Literal('API')])),
            scopes: Type.Optional(Scopes),
            role: Type.Optional(RoleSchema),
            expires_at: Type.Optional(NullableTimestamp),
            allowed_networks: Type.Optional(Networks),
            allowed_senders: Type.Optional(AllowedSenders),
            sending_limits: Type.Optional(NullableSendingLimits),
            held: Type.Optional(Type.Boolean()),
            metadata: Type.Optional(Metadata),
          },
          { additionalProperties: false },
        ),
        response: replies({ 201: IssuedCredentialReply }),
      },
    },
    async (request, reply) => {
      const { principal, scope } = await scopeFor(request, request.params.tenantId);
      const body = request.body;
      if (!body.scopes === !body.role) throw new AppError('VALIDATION_FAILED', 'give exactly one of scopes or role');
      checkNetworks(body.allowed_networks);
      checkExpiry(body.expires_at, services.context.clock.now());
      checkLimitsAllowed(scope, body.sending_limits);
      let loginId = body.login_id ?? null;
      if (principal.type === 'bearer' && principal.loginId) {
        if (loginId && loginId !== principal.loginId) throw new AppError('NOT_FOUND', 'login not found');
        loginId = principal.loginId;
      }
      const issued = await services.credentials.create(
        {
          tenantId: scope.tenantId,
          loginId,
          name: body.name.trim(),
          ...(body.kind ? { kind: body.kind } : {}),
          ...(body.scopes ? { scopes: body.scopes as Scope[] } : {}),
          ...(body.role ? { role: body.role as Role } : {}),
          expiresAt: body.expires_at ? new Date(body.expires_at).toISOString() : null,
          allowedNetworks: body.allowed_networks ?? null,
          allowedSenders: body.allowed_senders ?? null,
          sendingLimits: toSendingLimits(body.sending_limits as SendingLimitsBody | null | undefined) ?? null,
          sendersBoundToLogin: scope.loginId !== null && scope.loginId !== undefined,
          held: body.held ?? false,
          metadata: (body.metadata ?? {}) as Record<string, string>,
        },
        actorOf(request),
      );
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...presentCredential(issued.credential, now()), secret: issued.secret });
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/credentials/:credentialId',
    {
      config: { action: 'credentials.read' },
      schema: { tags: ['credentials'], summary: 'Get a credential', params: CredentialParams, response: replies({ 200: CredentialReply }) },
    },
    async (request) => {
      const { scope } = await scopeFor(request, request.params.tenantId);
      return presentCredential(await services.credentials.get(scope, request.params.credentialId), now());
    },
  );

  app.patch(
    '/api/v1/tenants/:tenantId/credentials/:credentialId',
    {
      config: { action: 'credentials.update' },
      schema: {
        tags: ['credentials'],
        summary: 'Rename, change scopes, expiry, allowed networks, allowed senders or sending limits',
        params: CredentialParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            scopes: Type.Optional(Scopes),
            expires_at: Type.Optional(NullableTimestamp),
            allowed_networks: Type.Optional(Networks),
            allowed_senders: Type.Optional(AllowedSenders),
            sending_limits: Type.Optional(NullableSendingLimits),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: replies({ 200: CredentialReply }),
      },
    },
    async (request) => {
      const { scope } = await scopeFor(request, request.params.tenantId);
      const body = request.body;
      checkNetworks(body.allowed_networks);
      checkExpiry(body.expires_at, services.context.clock.now());
      checkLimitsAllowed(scope, body.sending_limits);
      const updated = await services.credentials.update(
        scope,
        request.params.credentialId,
        {
          ...(body.name !== undefined ? { name: body.name.trim() } : {}),
          ...(body.scopes !== undefined ? { scopes: body.scopes as Scope[] } : {}),
          ...(body.expires_at !== undefined ? { expiresAt: body.expires_at ? new Date(body.expires_at).toISOString() : null } : {}),
          ...(body.allowed_networks !== undefined ? { allowedNetworks: body.allowed_networks } : {}),
          ...(body.allowed_senders !== undefined ? { allowedSenders: body.allowed_senders } : {}),
          ...(body.sending_limits !== undefined ? { sendingLimits: toSendingLimits(body.sending_limits as SendingLimitsBody | null) ?? null } : {}),
        },
        actorOf(request),
      );
      return presentCredential(updated, now());
    },
  );

  for (const [action, held] of [
    ['hold', true],
    ['unhold', false],
  ] as const) {
    app.post(
      `/api/v1/tenants/:tenantId/credentials/:credentialId/${action}`,
      {
        config: { action: held ? 'credentials.hold' : 'credentials.unhold' },
        schema: {
          tags: ['credentials'],
          summary: held ? 'Hold: the credential stops verifying until released' : 'Release a held credential',
          params: CredentialParams,
          response: replies({ 200: CredentialReply }),
        },
      },
      async (request) => {
        const { scope } = await scopeFor(request, request.params.tenantId);
        return presentCredential(await services.credentials.setHeld(scope, request.params.credentialId, held, actorOf(request)), now());
      },
    );
  }

  app.post(
    '/api/v1/tenants/:tenantId/credentials/:credentialId/revoke',
    {
      config: { action: 'credentials.revoke' },
      schema: {
        tags: ['credentials'],
        summary: 'Revoke for good, with a reason',
        params: CredentialParams,
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: replies({ 200: CredentialReply }),
      },
    },
    async (request) => {
      const { scope } = await scopeFor(request, request.params.tenantId);
      return presentCredential(await services.credentials.revoke(scope, request.params.credentialId, request.body.reason.trim(), actorOf(request)), now());
    },
  );

  // The options are optional: no body, or an empty JSON one, means `{}` (no grace period).
  await app.register(async (scoped: App) => {
    readEmptyBodyAsObject(scoped);
    scoped.post(
      '/api/v1/tenants/:tenantId/credentials/:credentialId/rotate',
      {
        config: { action: 'credentials.rotate' },
        schema: {
          tags: ['credentials'],
          summary: 'Issue a successor and revoke this one in one transaction; the old secret may keep working for a grace period',
          params: CredentialParams,
          body: Type.Optional(
            Type.Object({ grace_period_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86400 })) }, { additionalProperties: false }),
          ),
          response: replies({ 201: RotatedCredentialReply }),
        },
      },
      async (request, reply) => {
        const { scope } = await scopeFor(request, request.params.tenantId);
        const grace = request.body?.grace_period_seconds ?? 0;
        const { old, issued } = await services.credentials.rotate(scope, request.params.credentialId, { gracePeriodSeconds: grace }, actorOf(request));
        reply.header('cache-control', 'no-store');
        return reply.status(201).send({ ...presentCredential(issued.credential, now()), secret: issued.secret, replaced: presentCredential(old, now()) });
      },
    );
  });
}
