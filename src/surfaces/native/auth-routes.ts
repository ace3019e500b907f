// Admin sign-in, re-authentication and sign-out.
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import { requirePrincipal } from '../authentication.js';
import { presentAdmin } from './admin-routes.js';
import type { App } from './types.js';
import { AdminReply, AdminSessionReply, AdminTokenReply, ListOf, NoContent, ReauthTokenReply, replies } from './replies.js';

const TotpCode = Type.String({ pattern: '^[0-9]{6,8}$' });

export function registerAuthRoutes(app: App, services: Services): void {
  app.post(
    '/api/v1/auth/login',
    {
      config: { action: 'auth.login' },
      schema: {
        tags: ['auth'],
        summary: 'Sign in as a platform admin',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 320 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            totp_code: Type.Optional(TotpCode),
          },
          { additionalProperties: false },
        ),
        response: replies({ 200: AdminTokenReply }),
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { token, expiresAt } = await services.access.login(
        { email: request.body.email, password: request.body.password, ...(request.body.totp_code ? { totpCode: request.body.totp_code } : {}) },
        request.ip,
      );
      return { token, expires_at: expiresAt };
    },
  );

  app.post(
    '/api/v1/auth/reauth',
    {
      config: { action: 'auth.reauth' },
      schema: {
        tags: ['auth'],
        summary: 'Re-authenticate for sensitive reads; the token is bound to this session',
        body: Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }), totp_code: Type.Optional(TotpCode) }, { additionalProperties: false }),
        response: replies({ 200: ReauthTokenReply }),
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const principal = await requirePrincipal(services, request, ['admin']);
      const { reauthToken, expiresAt } = await services.access.reauth(
        principal,
        { password: request.body.password, ...(request.body.totp_code ? { totpCode: request.body.totp_code } : {}) },
        request.ip,
      );
      return { reauth_token: reauthToken, expires_at: expiresAt };
    },
  );

  app.get(
    '/api/v1/auth/sessions',
    {
      config: { action: 'auth.sessions.list' },
      schema: { tags: ['auth'], summary: "List this admin's sessions (the caller's is marked current)", response: replies({ 200: ListOf(AdminSessionReply) }) },
    },
    async (request) => {
      const principal = await requirePrincipal(services, request, ['admin']);
      const sessions = await services.access.listSessions(principal);
      return {
        data: sessions.map((session) => ({
          id: session.id,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
          last_seen_at: session.lastSeenAt,
          client_ip: session.clientIp,
          revoked_at: session.revokedAt,
          live: session.live,
          current: session.current,
        })),
      };
    },
  );

  app.delete(
    '/api/v1/auth/sessions/:sessionId',
    {
      config: { action: 'auth.sessions.revoke' },
      schema: {
        tags: ['auth'],
        summary: 'End one session of this admin (on every node at once)',
        params: Type.Object({ sessionId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
        response: replies({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const principal = await requirePrincipal(services, request, ['admin']);
      await services.access.endSessions(principal, { id: request.params.sessionId }, request.ip);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/sessions/end-all',
    {
      config: { action: 'auth.sessions.revoke' },
      schema: {
        tags: ['auth'],
        summary: 'Sign out everywhere: end every session of this admin (keep_current=true keeps the caller’s)',
        querystring: Type.Object({ keep_current: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: replies({ 200: Type.Object({ ended: Type.Integer() }, { additionalProperties: false }) }),
      },
    },
    async (request) => {
      const principal = await requirePrincipal(services, request, ['admin']);
      const ended = await services.access.endSessions(principal, { all: true, keepCurrent: request.query.keep_current ?? false }, request.ip);
      return { ended };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { action: 'auth.logout' }, schema: { tags: ['auth'], summary: 'Sign out this admin session', response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      const principal = await requirePrincipal(services, request, ['admin']);
      await services.access.logout(principal, request.ip);
      return reply.status(204).send(null);
    },
  );

  // The platform's admins, without secrets: the console names an audit event's admin actor by email.
  app.get(
    '/api/v1/admins',
    {
      config: { action: 'admins.list' },
      schema: { tags: ['auth'], summary: 'List the platform admins (email, TOTP on or off)', response: replies({ 200: ListOf(AdminReply) }) },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      // A read of the admins table only: no rule of the domain applies, so the store answers directly.
      const admins = await services.context.store.access.listAdmins();
      return { data: admins.map(presentAdmin) };
    },
  );
}
