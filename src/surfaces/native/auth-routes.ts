// Admin sign-in, re-authentication and sign-out.
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import { requirePrincipal } from '../authentication.js';
import type { App } from './types.js';
import { AdminTokenReply, NoContent, ReauthTokenReply, replies } from './replies.js';

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

  app.post(
    '/api/v1/auth/logout',
    { config: { action: 'auth.logout' }, schema: { tags: ['auth'], summary: 'Sign out this admin session', response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      const principal = await requirePrincipal(services, request, ['admin']);
      await services.access.logout(principal, request.ip);
      return reply.status(204).send(null);
    },
  );
}
