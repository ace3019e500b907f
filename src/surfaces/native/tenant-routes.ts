// Tenants and their mailbox logins.
import { isIP } from 'node:net';
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import type { TenantInput } from '../../domain/tenants.js';
import { type ConnectionInfo, DEFAULT_AUTO_HOLD, type MailBackends } from '../../domain/types.js';
import { AppError, notFound } from '../../errors.js';
import { actorOf, requirePrincipal, requireTenantPrincipal } from '../authentication.js';
import { presentLogin, presentPage, presentTenant, type SendingLimitsBody, toSendingLimits } from './presenters.js';
import { ConnectionInfoPatch, MailBackendsSchema, Name, PageQuery, TenantParams, TenantSettingsSchema, Uuid } from './schemas.js';
import type { App } from './types.js';
import { CreatedTenantReply, LoginReply, PageOf, replies, TenantReply } from './replies.js';

// Checked and put in canonical form (IDNA, lower case) by the domain service.
const Domain = Type.String({ minLength: 1, maxLength: 253 });
const WebmailUrl = Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://' });
const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' });

const TenantFields = {
  name: Name,
  domain: Type.Optional(Type.Union([Domain, Type.Null()])),
  webmail_url: Type.Optional(Type.Union([WebmailUrl, Type.Null()])),
  connection_info: Type.Optional(ConnectionInfoPatch),
  mail_backends: Type.Optional(MailBackendsSchema),
  settings: Type.Optional(TenantSettingsSchema),
};

type ConnectionPatchBody = Partial<Record<'smtp' | 'imap' | 'pop3', Partial<{ server_name: string; port: number; secure_port: number; enabled: boolean }>>>;
type SettingsBody = {
  inactivity_days?: number;
  inactivity_days_by_role?: Record<string, number | undefined>;
  sending_limits?: SendingLimitsBody;
  default_allowed_senders?: string[] | null;
  auto_hold?: { enabled: boolean; quota_multiple?: number; max_new_countries_per_hour?: number | null };
};

function toConnectionPatch(body: ConnectionPatchBody | undefined): TenantInput['connectionInfo'] {
  if (!body) return undefined;
  const patch: Partial<{ [K in keyof ConnectionInfo]: Partial<ConnectionInfo[K]> }> = {};
  for (const protocol of ['smtp', 'imap', 'pop3'] as const) {
    const p = body[protocol];
    if (!p) continue;
    patch[protocol] = {
      ...(p.server_name !== undefined ? { serverName: p.server_name } : {}),
      ...(p.port !== undefined ? { port: p.port } : {}),
      ...(p.secure_port !== undefined ? { securePort: p.secure_port } : {}),
      ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
    };
  }
  return patch;
}

function toSettings(body: SettingsBody | undefined): TenantInput['settings'] {
  if (!body) return undefined;
  return {
    ...(body.inactivity_days !== undefined ? { inactivityDays: body.inactivity_days } : {}),
    ...(body.inactivity_days_by_role ? { inactivityDaysByRole: body.inactivity_days_by_role } : {}),
    ...(body.sending_limits ? { sendingLimits: toSendingLimits(body.sending_limits) ?? {} } : {}),
    // null: back to the default (checked against the tenant's domains by the tenant service).
    ...(body.default_allowed_senders !== undefined ? { defaultAllowedSenders: body.default_allowed_senders ?? undefined } : {}),
    // Fields left out keep their defaults (not the previous values): the object is the whole setting.
    ...(body.auto_hold
      ? {
          autoHold: {
            enabled: body.auto_hold.enabled,
            quotaMultiple: body.auto_hold.quota_multiple ?? DEFAULT_AUTO_HOLD.quotaMultiple,
            maxNewCountriesPerHour: body.auto_hold.max_new_countries_per_hour ?? null,
          },
        }
      : {}),
  };
}

/** Each backend is an IP address (canonical text, IPv6 in brackets) and a port 1-65535. */
function checkBackends(backends: Record<string, string | undefined> | null): MailBackends | null {
  for (const [protocol, value] of Object.entries(backends ?? {})) {
    if (value === undefined) continue;
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value);
    const port = Number(match?.[2]);
    if (!match || isIP(match[1] as string) === 0 || (isIP(match[1] as string) === 6 && !value.startsWith('['))) {
      throw new AppError('VALIDATION_FAILED', `mail_backends.${protocol}: "${value.slice(0, 60)}" is not an IP address and port (IPv6 in brackets)`);
    }
    if (port < 1 || port > 65535) throw new AppError('VALIDATION_FAILED', `mail_backends.${protocol}: port ${port} is not between 1 and 65535`);
  }
  return backends as MailBackends | null;
}

export function registerTenantRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/tenants',
    {
      config: { action: 'tenants.list' },
      schema: {
        tags: ['tenants'],
        summary: 'List tenants (admin)',
        querystring: Type.Object({ ...PageQuery.properties, search: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
        response: replies({ 200: PageOf(TenantReply) }),
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      const page = await services.tenants.list({
        page: request.query.page,
        perPage: request.query.per_page,
        ...(request.query.search ? { search: request.query.search } : {}),
      });
      return presentPage(page, presentTenant);
    },
  );

  app.post(
    '/api/v1/tenants',
    {
      config: { action: 'tenants.create' },
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant (admin); provisions its vaulted SMTP account',
        body: Type.Object({ ...TenantFields, smtp_username: Type.Optional(Email) }, { additionalProperties: false }),
        response: replies({ 201: CreatedTenantReply }),
      },
    },
    async (request, reply) => {
      await requirePrincipal(services, request, ['admin']);
      const body = request.body;
      const { tenant, smtpUsername } = await services.provisioning.createTenant(
        {
          name: body.name,
          domain: body.domain ?? null,
          webmailUrl: body.webmail_url ?? null,
          connectionInfo: toConnectionPatch(body.connection_info),
          mailBackends: checkBackends(body.mail_backends ?? null),
          settings: toSettings(body.settings as SettingsBody | undefined) ?? {},
          ...(body.smtp_username ? { smtpUsername: body.smtp_username } : {}),
        },
        actorOf(request),
      );
      return reply.status(201).send({ ...presentTenant(tenant), smtp_username: smtpUsername });
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId',
    {
      config: { action: 'tenants.read' },
      schema: { tags: ['tenants'], summary: 'Get a tenant', params: TenantParams, response: replies({ 200: TenantReply }) },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      return presentTenant(await services.tenants.get(request.params.tenantId));
    },
  );

  app.patch(
    '/api/v1/tenants/:tenantId',
    {
      config: { action: 'tenants.update' },
      schema: {
        tags: ['tenants'],
        summary: 'Change tenant settings (admin)',
        params: TenantParams,
        body: Type.Partial(Type.Object(TenantFields, { additionalProperties: false }), { additionalProperties: false, minProperties: 1 }),
        response: replies({ 200: TenantReply }),
      },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      const body = request.body;
      const patch: Partial<TenantInput> = {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.domain !== undefined ? { domain: body.domain } : {}),
        ...(body.webmail_url !== undefined ? { webmailUrl: body.webmail_url } : {}),
        ...(body.connection_info !== undefined ? { connectionInfo: toConnectionPatch(body.connection_info) } : {}),
        ...(body.mail_backends !== undefined ? { mailBackends: checkBackends(body.mail_backends) } : {}),
        ...(body.settings !== undefined ? { settings: toSettings(body.settings as SettingsBody) } : {}),
      };
      return presentTenant(await services.tenants.update(request.params.tenantId, patch, actorOf(request)));
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/logins',
    {
      config: { action: 'logins.list' },
      schema: {
        tags: ['logins'],
        summary: 'List mailbox logins',
        params: TenantParams,
        querystring: PageQuery,
        response: replies({ 200: PageOf(LoginReply) }),
      },
    },
    async (request) => {
      const principal = await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      if (principal.type === 'bearer' && principal.loginId) {
        const own = await services.tenants.getLogin(request.params.tenantId, principal.loginId);
        return { data: [presentLogin(own)], pagination: { page: 1, per_page: request.query.per_page, total: 1 } };
      }
      return presentPage(
        await services.tenants.listLogins(request.params.tenantId, { page: request.query.page, perPage: request.query.per_page }),
        presentLogin,
      );
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/logins',
    {
      config: { action: 'logins.create' },
      schema: {
        tags: ['logins'],
        summary: 'Create a mailbox login',
        params: TenantParams,
        body: Type.Object({ address: Email }, { additionalProperties: false }),
        response: replies({ 201: LoginReply }),
      },
    },
    async (request, reply) => {
      const principal = await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      if (principal.type === 'bearer' && principal.loginId) throw new AppError('FORBIDDEN', 'a login-bound token cannot create logins');
      const login = await services.tenants.createLogin(request.params.tenantId, request.body.address, actorOf(request));
      return reply.status(201).send(presentLogin(login));
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/logins/:loginId',
    {
      config: { action: 'logins.read' },
      schema: {
        tags: ['logins'],
        summary: 'Get a mailbox login',
        params: Type.Object({ tenantId: Uuid, loginId: Uuid }, { additionalProperties: false }),
        response: replies({ 200: LoginReply }),
      },
    },
    async (request) => {
      const principal = await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      if (principal.type === 'bearer' && principal.loginId && principal.loginId !== request.params.loginId) throw notFound('login');
      return presentLogin(await services.tenants.getLogin(request.params.tenantId, request.params.loginId));
    },
  );
}
