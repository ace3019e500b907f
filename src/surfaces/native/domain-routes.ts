// A tenant's mail domains (assigned by platform admins only), the aliases of its logins, and
// the platform-wide report of rows that break domain ownership.
import { Type } from 'typebox';
import type { LoginAlias, OwnedDomain } from '../../domain/domains.js';
import type { Services } from '../../domain/services.js';
import { AppError, notFound } from '../../errors.js';
import { actorOf, requirePrincipal, requireTenantPrincipal } from '../authentication.js';
import { TenantParams, Uuid } from './schemas.js';
import type { App } from './types.js';
import { AliasReply, DomainReply, DomainReportReply, ListOf, NoContent, replies } from './replies.js';

const DomainText = Type.String({ minLength: 1, maxLength: 253 });
const AddressText = Type.String({ minLength: 3, maxLength: 320 });
const LoginParams = Type.Object({ tenantId: Uuid, loginId: Uuid }, { additionalProperties: false });

const presentDomain = (d: OwnedDomain) => ({ domain: d.domain, tenant_id: d.tenantId, created_at: d.createdAt });
const presentAlias = (a: LoginAlias) => ({ address: a.address, tenant_id: a.tenantId, login_id: a.loginId, created_at: a.createdAt });

export function registerDomainRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/tenants/:tenantId/domains',
    {
      config: { action: 'domains.list' },
      schema: { response: replies({ 200: ListOf(DomainReply) }), tags: ['domains'], summary: "The tenant's mail domains", params: TenantParams },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer', 'server']);
      return { data: (await services.domains.list(request.params.tenantId)).map(presentDomain) };
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/domains',
    {
      config: { action: 'domains.write' },
      schema: {
        response: replies({ 200: DomainReply, 201: DomainReply }),
        tags: ['domains'],
        summary: 'Assign a mail domain to the tenant (platform admin); 409 DOMAIN_TAKEN when another tenant owns it',
        params: TenantParams,
        body: Type.Object({ domain: DomainText }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      const { domain, created } = await services.domains.assign(request.params.tenantId, request.body.domain, actorOf(request));
      return reply.status(created ? 201 : 200).send(presentDomain(domain));
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/domains/:domain',
    {
      config: { action: 'domains.write' },
      schema: {
        response: replies({ 204: NoContent }),
        tags: ['domains'],
        summary: 'Take a domain from the tenant (platform admin); 409 DOMAIN_IN_USE while logins, aliases or the SMTP account use it',
        params: Type.Object({ tenantId: Uuid, domain: DomainText }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      await services.domains.remove(request.params.tenantId, request.params.domain, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/logins/:loginId/aliases',
    {
      config: { action: 'logins.aliases.read' },
      schema: { response: replies({ 200: ListOf(AliasReply) }), tags: ['logins'], summary: 'Aliases of a mailbox login', params: LoginParams },
    },
    async (request) => {
      const principal = await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      if (principal.type === 'bearer' && principal.loginId && principal.loginId !== request.params.loginId) throw notFound('login');
      return { data: (await services.domains.listAliases(request.params.tenantId, request.params.loginId)).map(presentAlias) };
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/logins/:loginId/aliases',
    {
      config: { action: 'logins.aliases.write' },
      schema: {
        response: replies({ 201: AliasReply }),
        tags: ['logins'],
        summary: "Add an alias address to a login; 422 DOMAIN_NOT_OWNED outside the tenant's domains",
        params: LoginParams,
        body: Type.Object({ address: AddressText }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const principal = await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      if (principal.type === 'bearer' && principal.loginId) throw new AppError('FORBIDDEN', 'a login-bound token cannot add aliases');
      const alias = await services.domains.addAlias(request.params.tenantId, request.params.loginId, request.body.address, actorOf(request));
      return reply.status(201).send(presentAlias(alias));
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/logins/:loginId/aliases/:address',
    {
      config: { action: 'logins.aliases.write' },
      schema: {
        response: replies({ 204: NoContent }),
        tags: ['logins'],
        summary: 'Remove an alias',
        params: Type.Object({ tenantId: Uuid, loginId: Uuid, address: AddressText }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const principal = await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      if (principal.type === 'bearer' && principal.loginId) throw new AppError('FORBIDDEN', 'a login-bound token cannot remove aliases');
      await services.domains.removeAlias(request.params.tenantId, request.params.loginId, request.params.address, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/domain-report',
    {
      config: { action: 'domains.report' },
      schema: {
        response: replies({ 200: DomainReportReply }),
        tags: ['domains'],
        summary: 'Logins, aliases, SMTP usernames and tenant domains that break domain ownership (platform admin)',
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      const report = await services.domains.report();
      return {
        ok: report.total === 0,
        checked: report.checked,
        total: report.total,
        problems: report.problems.map((p) => ({ kind: p.kind, id: p.id, tenant_id: p.tenantId, address: p.address, problem: p.problem })),
      };
    },
  );
}
